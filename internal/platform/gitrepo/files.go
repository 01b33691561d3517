package gitrepo

import (
	"errors"
	"io"
	"slices"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/cubit-dev/cubit/internal/errs"
)

// ReadFile returns the content of the file at path (relative to the repository root) at the
// head of branch.
func (r *Repo) ReadFile(branch, path string) ([]byte, error) {
	if err := checkFilePath(path); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	tree, err := r.headTree(branch)
	if err != nil {
		return nil, err
	}
	e, err := tree.FindEntry(path)
	switch {
	case isNotFound(err):
		return nil, &errs.Error{Kind: errs.KindNotFound, Message: "no file " + path + " on branch " + branch}
	case err != nil:
		return nil, errs.Wrap(errs.KindInternal, err, "read %s on branch %s", path, branch)
	case e.Mode == filemode.Dir:
		return nil, errs.Invalid("%s on branch %s is a directory, not a file", path, branch)
	case e.Mode == filemode.Submodule:
		return nil, errs.Invalid("%s on branch %s is a submodule, not a file", path, branch)
	}
	return r.readBlob(e.Hash, path)
}

func (r *Repo) readBlob(h plumbing.Hash, path string) ([]byte, error) {
	blob, err := r.r.BlobObject(h)
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "read %s", path)
	}
	rd, err := blob.Reader()
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "read %s", path)
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "read %s", path)
	}
	return data, nil
}

// ListFiles returns the paths (relative to the repository root, sorted) of every file under
// dir, at any depth, at the head of branch. An empty dir or "." is the whole repository.
func (r *Repo) ListFiles(branch, dir string) ([]string, error) {
	if err := checkDirPath(dir); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	tree, err := r.headTree(branch)
	if err != nil {
		return nil, err
	}
	prefix := ""
	if dir != "" && dir != "." {
		e, err := tree.FindEntry(dir)
		switch {
		case isNotFound(err):
			return nil, &errs.Error{Kind: errs.KindNotFound, Message: "no directory " + dir + " on branch " + branch}
		case err != nil:
			return nil, errs.Wrap(errs.KindInternal, err, "list %s on branch %s", dir, branch)
		case e.Mode != filemode.Dir:
			return nil, errs.Invalid("%s on branch %s is a file, not a directory", dir, branch)
		}
		if tree, err = r.r.TreeObject(e.Hash); err != nil {
			return nil, errs.Wrap(errs.KindInternal, err, "list %s on branch %s", dir, branch)
		}
		prefix = dir + "/"
	}
	files := []string{}
	err = tree.Files().ForEach(func(f *object.File) error {
		files = append(files, prefix+f.Name)
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "list %s on branch %s", dir, branch)
	}
	slices.Sort(files)
	return files, nil
}

// WriteFile sets the file at path on branch to data, creating it and its directories if
// needed, in one new commit on that branch by author with message, and returns the commit's
// hash. The branch need not be checked out: nothing is. A write that changes nothing is still
// a commit, so that every acknowledged write shows in the history.
func (r *Repo) WriteFile(branch, path string, data []byte, author Signature, message string) (string, error) {
	if err := checkFilePath(path); err != nil {
		return "", err
	}
	if err := checkAuthor(author); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	head, err := r.head(branch)
	if err != nil {
		return "", err
	}
	blob, err := r.writeBlob(data)
	if err != nil {
		return "", err
	}
	return r.commitChange(branch, head, map[string]plumbing.Hash{path: blob}, author, message)
}

// DeleteFile removes the file at path from branch in one new commit by author with message,
// and returns the commit's hash. Directories left empty disappear, as Git keeps none.
func (r *Repo) DeleteFile(branch, path string, author Signature, message string) (string, error) {
	if err := checkFilePath(path); err != nil {
		return "", err
	}
	if err := checkAuthor(author); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	head, err := r.head(branch)
	if err != nil {
		return "", err
	}
	return r.commitChange(branch, head, map[string]plumbing.Hash{path: deleted}, author, message)
}

// commitChange applies changes to head's tree, commits the result on top of head and moves
// branch to it. The caller holds r.mu.
func (r *Repo) commitChange(branch string, head *object.Commit, changes map[string]plumbing.Hash, author Signature, message string) (string, error) {
	base, err := head.Tree()
	if err != nil {
		return "", errs.Wrap(errs.KindInternal, err, "read tree of branch %s", branch)
	}
	tree, err := r.buildTree(base, changes, nil)
	var e *errs.Error
	if errors.As(err, &e) && e.Kind == errs.KindNotFound {
		e.Message += " on branch " + branch
	}
	if err != nil {
		return "", err
	}
	c, err := r.commit(head, tree, author, message)
	if err != nil {
		return "", err
	}
	// The mutex orders writes within this process; the compare refuses to lose a commit that
	// something outside it (a git push) made meanwhile.
	if err := r.moveBranch(branch, c, head.Hash); err != nil {
		return "", err
	}
	return c.String(), nil
}

// headTree returns the tree of branch's head commit.
func (r *Repo) headTree(branch string) (*object.Tree, error) {
	head, err := r.head(branch)
	if err != nil {
		return nil, err
	}
	tree, err := head.Tree()
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "read tree of branch %s", branch)
	}
	return tree, nil
}
