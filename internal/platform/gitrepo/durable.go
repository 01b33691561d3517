package gitrepo

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/cubit-dev/cubit/internal/errs"
)

// An acknowledged write must survive the process being killed and the machine losing power,
// as the store's commits do. go-git's filesystem storage gives neither on its own:
//
//   - it moves a ref by truncating the ref file and writing the new hash into it, so a process
//     killed between the two leaves an empty ref file; go-git then reads the branch as missing,
//     and listing the branches fails outright;
//   - it never fsyncs, so after a power loss a ref may point at objects that never reached the
//     disk.
//
// So the repository stores objects through store, which remembers them, and moves a branch
// with moveBranch, which fsyncs those objects, writes the ref to a temporary file, fsyncs it
// and renames it over the ref: the ref is always the old hash or the new one, and the new one
// only names objects on disk.

// store writes obj as a loose object and remembers it for the next moveBranch to fsync.
// The caller holds r.mu (or owns r alone, as Init does).
func (r *Repo) store(obj plumbing.EncodedObject) (plumbing.Hash, error) {
	h, err := r.r.Storer.SetEncodedObject(obj)
	if err == nil {
		r.unsynced = append(r.unsynced, h)
	}
	return h, err
}

// moveBranch points branch at to, if it points at from now (from zero: if it does not
// exist), durably. The caller holds r.mu.
//
// The compare and the rename are not one atomic step against another process: the mutex
// orders the writers of this Repo, the platform holds one Repo per directory, and the
// compare still refuses a commit that something else (a git push) made since head was read.
func (r *Repo) moveBranch(branch string, to, from plumbing.Hash) error {
	name := plumbing.NewBranchReferenceName(branch)
	cur, err := r.r.Storer.Reference(name)
	switch {
	case errors.Is(err, plumbing.ErrReferenceNotFound) && from.IsZero():
	case err != nil:
		return errs.Wrap(errs.KindInternal, err, "read branch %s", branch)
	case cur.Hash() != from:
		return errs.Conflict("branch %s moved to %s meanwhile (expected %s)", branch, cur.Hash(), from)
	}
	if err := r.syncObjects(); err != nil {
		return errs.Wrap(errs.KindInternal, err, "update branch %s", branch)
	}
	if err := r.writeRef(name, to); err != nil {
		return errs.Wrap(errs.KindInternal, err, "update branch %s", branch)
	}
	return nil
}

// syncObjects fsyncs the loose objects stored since the last call and their directories.
func (r *Repo) syncObjects() error {
	dirs := map[string]bool{}
	for _, h := range r.unsynced {
		hex := h.String()
		path := filepath.Join(r.dir, "objects", hex[:2], hex[2:])
		if err := syncPath(path); err != nil {
			// An object that was already in a pack is not written loose again.
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return err
		}
		dirs[filepath.Dir(path)] = true
	}
	if len(dirs) > 0 {
		// A new objects/xx directory is an entry of objects/.
		dirs[filepath.Join(r.dir, "objects")] = true
	}
	for d := range dirs {
		if err := syncPath(d); err != nil {
			return err
		}
	}
	r.unsynced = r.unsynced[:0]
	return nil
}

// writeRef replaces the loose ref name with to through a fsynced temporary file. The
// temporary file lives in the repository's root, not under refs/: go-git reads every file
// under refs/ as a ref, so one left there by a crash would break listing the branches.
func (r *Repo) writeRef(name plumbing.ReferenceName, to plumbing.Hash) error {
	path := filepath.Join(r.dir, filepath.FromSlash(name.String()))
	refsDir := filepath.Join(r.dir, "refs")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(r.dir, ".cubit-ref-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	_, err = f.WriteString(to.String() + "\n")
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	// The rename is durable once the directory holding the new entry is; a branch name with
	// a slash may have made directories below refs/heads, each an entry of its parent.
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		if err := syncPath(d); err != nil {
			return err
		}
		if d == refsDir || len(d) <= len(refsDir) {
			return nil
		}
	}
}

// syncNew fsyncs every file and directory below dir, and dir's parent: a repository that
// Init or Clone just made through go-git, which fsyncs nothing.
func syncNew(dir string) error {
	if err := syncPath(filepath.Dir(dir)); err != nil {
		return err
	}
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() && !d.IsDir() {
			return nil
		}
		return syncPath(path)
	})
}

// syncPath fsyncs the file or directory at path.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
