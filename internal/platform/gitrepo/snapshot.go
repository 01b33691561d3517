package gitrepo

import (
	"bytes"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/cubit-dev/cubit/internal/errs"
)

// Snapshot returns the tree of branch's head commit as a read-only fs.FS, and that commit's
// hash, which is the model version: the same commit always gives the same hash and files.
//
// The files are copied into memory when Snapshot is called (a model is small), so the FS
// stays valid and unchanged whatever is written to the branch afterwards, and it can be read
// from any goroutine without the repository's lock. Symbolic links are left out: a model
// compiled from a snapshot must not reach outside the commit.
func (r *Repo) Snapshot(branch string) (fs.FS, string, error) {
	return r.snapshot(branch, "", nil)
}

// SnapshotWith is Snapshot of the tree branch would have after writing data at path (or
// deleting path when data is nil), without committing anything: what a write would deploy,
// to check it first. The hash is the current head's.
func (r *Repo) SnapshotWith(branch, path string, data []byte) (fs.FS, string, error) {
	if err := checkFilePath(path); err != nil {
		return nil, "", err
	}
	return r.snapshot(branch, path, data)
}

// snapshot copies branch's head, with the file at changed (when not "") replaced by data
// or left out when data is nil.
func (r *Repo) snapshot(branch, changed string, data []byte) (fs.FS, string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	head, err := r.head(branch)
	if err != nil {
		return nil, "", err
	}
	tree, err := head.Tree()
	if err != nil {
		return nil, "", errs.Wrap(errs.KindInternal, err, "read tree of branch %s", branch)
	}
	snap := &snapshotFS{
		files: map[string][]byte{},
		dirs:  map[string][]fs.DirEntry{".": nil},
		when:  head.Committer.When,
	}
	err = tree.Files().ForEach(func(f *object.File) error {
		if f.Mode != filemode.Regular && f.Mode != filemode.Executable && f.Mode != filemode.Deprecated || f.Name == changed {
			return nil
		}
		data, err := r.readBlob(f.Hash, f.Name)
		if err != nil {
			return err
		}
		snap.add(f.Name, data)
		return nil
	})
	if err != nil {
		return nil, "", errs.Wrap(errs.KindInternal, err, "snapshot branch %s", branch)
	}
	if changed != "" && data != nil {
		snap.add(changed, slices.Clone(data))
	}
	for _, entries := range snap.dirs {
		slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	}
	return snap, head.Hash.String(), nil
}

// snapshotFS is an in-memory copy of one commit's tree.
type snapshotFS struct {
	files map[string][]byte
	// dirs maps every directory ("." for the root) to its entries, sorted by name.
	dirs map[string][]fs.DirEntry
	when time.Time
}

// add records a file and any of its parent directories not seen yet.
func (s *snapshotFS) add(name string, data []byte) {
	s.files[name] = data
	child := fs.DirEntry(&info{name: path.Base(name), size: int64(len(data)), mode: 0o444, when: s.when})
	for dir := path.Dir(name); ; dir = path.Dir(dir) {
		_, seen := s.dirs[dir]
		s.dirs[dir] = append(s.dirs[dir], child)
		if seen || dir == "." {
			return
		}
		child = &info{name: path.Base(dir), mode: fs.ModeDir | 0o555, when: s.when}
	}
}

// Open implements fs.FS.
func (s *snapshotFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if data, ok := s.files[name]; ok {
		fi := &info{name: path.Base(name), size: int64(len(data)), mode: 0o444, when: s.when}
		return &file{info: fi, Reader: bytes.NewReader(data)}, nil
	}
	if entries, ok := s.dirs[name]; ok {
		fi := &info{name: path.Base(name), mode: fs.ModeDir | 0o555, when: s.when}
		return &dir{info: fi, entries: entries}, nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

// ReadFile implements fs.ReadFileFS; the caller gets its own copy.
func (s *snapshotFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	data, ok := s.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return slices.Clone(data), nil
}

// info is both the fs.FileInfo and the fs.DirEntry of a snapshot file or directory.
type info struct {
	name string
	size int64
	mode fs.FileMode
	when time.Time
}

func (i *info) Name() string               { return i.name }
func (i *info) Size() int64                { return i.size }
func (i *info) Mode() fs.FileMode          { return i.mode }
func (i *info) ModTime() time.Time         { return i.when }
func (i *info) IsDir() bool                { return i.mode.IsDir() }
func (i *info) Sys() any                   { return nil }
func (i *info) Type() fs.FileMode          { return i.mode.Type() }
func (i *info) Info() (fs.FileInfo, error) { return i, nil }

type file struct {
	*info
	*bytes.Reader
}

func (f *file) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *file) Close() error               { return nil }

type dir struct {
	*info
	entries []fs.DirEntry
	next    int
}

func (d *dir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dir) Close() error               { return nil }
func (d *dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: fs.ErrInvalid}
}

// ReadDir implements fs.ReadDirFile.
func (d *dir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.next:]
	if n <= 0 {
		d.next = len(d.entries)
		return slices.Clone(rest), nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	rest = rest[:min(n, len(rest))]
	d.next += len(rest)
	return slices.Clone(rest), nil
}
