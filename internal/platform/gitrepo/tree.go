package gitrepo

import (
	"errors"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/cubit-dev/cubit/internal/errs"
)

// deleted marks a path to remove in buildTree's changes.
var deleted = plumbing.ZeroHash

// writeBlob stores data as a blob and returns its hash.
func (r *Repo) writeBlob(data []byte) (plumbing.Hash, error) {
	obj := r.r.Storer.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, errs.Wrap(errs.KindInternal, err, "write blob")
	}
	if _, err := w.Write(data); err != nil {
		return plumbing.ZeroHash, errs.Wrap(errs.KindInternal, err, "write blob")
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, errs.Wrap(errs.KindInternal, err, "write blob")
	}
	h, err := r.store(obj)
	if err != nil {
		return plumbing.ZeroHash, errs.Wrap(errs.KindInternal, err, "write blob")
	}
	return h, nil
}

// buildTree stores the tree that is base (nil for an empty tree) with changes applied, and
// returns its hash. changes maps a path below base to the hash of its new blob, or to
// deleted. Subtrees left empty by a deletion are dropped, as Git has no empty directories.
// prefix is base's own path, for error messages.
func (r *Repo) buildTree(base *object.Tree, changes map[string]plumbing.Hash, prefix []string) (plumbing.Hash, error) {
	entries := map[string]object.TreeEntry{}
	if base != nil {
		for _, e := range base.Entries {
			entries[e.Name] = e
		}
	}
	sub := map[string]map[string]plumbing.Hash{}
	for path, h := range changes {
		first, rest, nested := strings.Cut(path, "/")
		if nested {
			if sub[first] == nil {
				sub[first] = map[string]plumbing.Hash{}
			}
			sub[first][rest] = h
			continue
		}
		full := strings.Join(append(slices.Clone(prefix), first), "/")
		old, exists := entries[first]
		switch {
		case exists && old.Mode == filemode.Dir:
			return plumbing.ZeroHash, errs.Invalid("%s is a directory, not a file", full)
		case h == deleted && !exists:
			return plumbing.ZeroHash, &errs.Error{Kind: errs.KindNotFound, Message: "no file " + full}
		case h == deleted:
			delete(entries, first)
		default:
			mode := filemode.Regular
			if exists && old.Mode == filemode.Executable {
				mode = old.Mode // keep the executable bit of a file that had it
			}
			entries[first] = object.TreeEntry{Name: first, Mode: mode, Hash: h}
		}
	}
	for name, changes := range sub {
		full := append(slices.Clone(prefix), name)
		var subtree *object.Tree
		if old, exists := entries[name]; exists {
			if old.Mode != filemode.Dir {
				return plumbing.ZeroHash, errs.Invalid("%s is a file, not a directory", strings.Join(full, "/"))
			}
			t, err := r.r.TreeObject(old.Hash)
			if err != nil {
				return plumbing.ZeroHash, errs.Wrap(errs.KindInternal, err, "read tree %s", strings.Join(full, "/"))
			}
			subtree = t
		} else if missing, ok := firstDelete(changes); ok {
			return plumbing.ZeroHash, &errs.Error{Kind: errs.KindNotFound, Message: "no file " + strings.Join(full, "/") + "/" + missing}
		}
		h, err := r.buildTree(subtree, changes, full)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if h == emptyTree {
			delete(entries, name)
		} else {
			entries[name] = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: h}
		}
	}

	tree := &object.Tree{}
	for _, e := range entries {
		tree.Entries = append(tree.Entries, e)
	}
	// Git orders entries by name as if a directory's name ended in '/'; any other order makes
	// a tree that git fsck rejects and whose hash differs from the one git would compute.
	slices.SortFunc(tree.Entries, func(a, b object.TreeEntry) int {
		return strings.Compare(sortKey(a), sortKey(b))
	})
	obj := r.r.Storer.NewEncodedObject()
	if err := tree.Encode(obj); err != nil {
		return plumbing.ZeroHash, errs.Wrap(errs.KindInternal, err, "encode tree")
	}
	h, err := r.store(obj)
	if err != nil {
		return plumbing.ZeroHash, errs.Wrap(errs.KindInternal, err, "write tree")
	}
	return h, nil
}

// emptyTree is the hash of the tree with no entries, the same in every Git repository.
var emptyTree = plumbing.NewHash("4b825dc642cb6eb9a060e54bf8d69288fbee4904")

func sortKey(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

// firstDelete returns the first path (in sorted order, for a stable message) that changes
// deletes, if any.
func firstDelete(changes map[string]plumbing.Hash) (string, bool) {
	var paths []string
	for p, h := range changes {
		if h == deleted {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return "", false
	}
	return slices.Min(paths), true
}

// commit stores a commit of tree with the given parent (nil for a root commit) and returns
// its hash; it does not move any branch.
func (r *Repo) commit(parent *object.Commit, tree plumbing.Hash, author Signature, message string) (plumbing.Hash, error) {
	sig := author.object()
	c := &object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: tree}
	if parent != nil {
		c.ParentHashes = []plumbing.Hash{parent.Hash}
	}
	obj := r.r.Storer.NewEncodedObject()
	if err := c.Encode(obj); err != nil {
		return plumbing.ZeroHash, errs.Wrap(errs.KindInternal, err, "encode commit")
	}
	h, err := r.store(obj)
	if err != nil {
		return plumbing.ZeroHash, errs.Wrap(errs.KindInternal, err, "write commit")
	}
	return h, nil
}

// isNotFound reports whether err is go-git's "no such entry" from a tree lookup.
func isNotFound(err error) bool {
	return errors.Is(err, object.ErrFileNotFound) || errors.Is(err, object.ErrDirectoryNotFound) ||
		errors.Is(err, object.ErrEntryNotFound)
}
