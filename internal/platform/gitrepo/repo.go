package gitrepo

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/cubit-dev/cubit/internal/errs"
)

// MainBranch is the branch that Init creates and that holds the starter model.
const MainBranch = "main"

// StarterDir is the directory of a managed repository that Init puts the starter model in.
const StarterDir = "model"

// Signature is who made a commit and when. A zero When means now.
type Signature struct {
	Name  string
	Email string
	When  time.Time
}

func (s Signature) object() object.Signature {
	when := s.When
	if when.IsZero() {
		when = time.Now()
	}
	return object.Signature{Name: s.Name, Email: s.Email, When: when}
}

// Branch is one branch of a repository and its head commit.
type Branch struct {
	Name string
	// Commit is the head commit's hash, in hex.
	Commit string
	// Time is the head commit's committer time.
	Time time.Time
}

// Repo is one project's repository in the data directory.
//
// A Repo serialises its own operations with a mutex, so two writes to one branch land one
// after the other and neither is lost. The lock is per value: the platform must hold one Repo
// per repository directory, not open the same directory twice.
type Repo struct {
	dir string
	// mu guards every operation, reads included: go-git's filesystem storage keeps caches
	// and open pack files that are not safe for concurrent use.
	mu sync.Mutex
	r  *git.Repository
	// unsynced are the objects stored since the last branch move, which fsyncs them first.
	unsynced []plumbing.Hash
}

// Init creates a managed repository in dir (which must not hold one already) whose main
// branch's first commit, authored by author, holds every file of starter under model/.
// A nil starter gives a first commit with an empty tree.
func Init(dir string, starter fs.FS, author Signature) (*Repo, error) {
	if err := checkAuthor(author); err != nil {
		return nil, err
	}
	r, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{
		Bare:        true,
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName(MainBranch)},
	})
	if errors.Is(err, git.ErrRepositoryAlreadyExists) {
		return nil, errs.Conflict("a repository already exists in %s", dir)
	}
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "init repository in %s", dir)
	}
	repo := &Repo{dir: dir, r: r}
	changes := map[string]plumbing.Hash{}
	if starter != nil {
		err = fs.WalkDir(starter, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			data, err := fs.ReadFile(starter, path)
			if err != nil {
				return err
			}
			h, err := repo.writeBlob(data)
			changes[StarterDir+"/"+path] = h
			return err
		})
		if err != nil {
			return nil, errs.Wrap(errs.KindInternal, err, "read starter model")
		}
	}
	tree, err := repo.buildTree(nil, changes, nil)
	if err != nil {
		return nil, err
	}
	c, err := repo.commit(nil, tree, author, "Starter model")
	if err != nil {
		return nil, err
	}
	if err := repo.moveBranch(MainBranch, c, plumbing.ZeroHash); err != nil {
		return nil, err
	}
	// HEAD, config and the directories go-git made are not fsynced yet; the repository's own
	// entry is one of its parent's.
	if err := syncNew(dir); err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "sync repository %s", dir)
	}
	return repo, nil
}

// Clone imports the repository at url (a Git URL or a local path) into dir as a bare
// repository with a local branch for each of the source's branches.
func Clone(ctx context.Context, dir, url string) (*Repo, error) {
	r, err := git.PlainCloneContext(ctx, dir, true, &git.CloneOptions{URL: url, Tags: git.NoTags})
	if err != nil {
		// A failed clone leaves a half-made repository; remove it so that a retry starts clean.
		if !errors.Is(err, git.ErrRepositoryAlreadyExists) {
			_ = os.RemoveAll(dir)
		}
		switch {
		case errors.Is(err, git.ErrRepositoryAlreadyExists):
			return nil, errs.Conflict("a repository already exists in %s", dir)
		case ctx.Err() != nil:
			return nil, ctx.Err()
		}
		return nil, errs.Wrap(errs.KindUnavailable, err, "clone %s", url)
	}
	// A clone makes a local branch for the remote's HEAD only; the project wants them all.
	refs, err := r.References()
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "list references of %s", dir)
	}
	prefix := "refs/remotes/" + git.DefaultRemoteName + "/"
	err = refs.ForEach(func(ref *plumbing.Reference) error {
		name, ok := strings.CutPrefix(ref.Name().String(), prefix)
		if !ok || name == "HEAD" || ref.Type() != plumbing.HashReference {
			return nil
		}
		local := plumbing.NewBranchReferenceName(name)
		if _, err := r.Storer.Reference(local); err == nil {
			return nil
		}
		return r.Storer.SetReference(plumbing.NewHashReference(local, ref.Hash()))
	})
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "create local branches in %s", dir)
	}
	// A clone killed half-way is never acknowledged and the next attempt clears it, so its
	// go-git refs can be written in place; once it is acknowledged it must be on disk.
	if err := syncNew(dir); err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "sync repository %s", dir)
	}
	return &Repo{dir: dir, r: r}, nil
}

// Open opens the repository in dir made by Init or Clone.
func Open(dir string) (*Repo, error) {
	r, err := git.PlainOpen(dir)
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, &errs.Error{Kind: errs.KindNotFound, Message: "no repository in " + dir}
	}
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "open repository in %s", dir)
	}
	return &Repo{dir: dir, r: r}, nil
}

// Dir is the repository's directory.
func (r *Repo) Dir() string { return r.dir }

// Branches lists the repository's branches, sorted by name.
func (r *Repo) Branches() ([]Branch, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.branches()
}

func (r *Repo) branches() ([]Branch, error) {
	iter, err := r.r.Branches()
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "list branches")
	}
	var out []Branch
	err = iter.ForEach(func(ref *plumbing.Reference) error {
		c, err := r.r.CommitObject(ref.Hash())
		if err != nil {
			return err
		}
		out = append(out, Branch{Name: ref.Name().Short(), Commit: c.Hash.String(), Time: c.Committer.When})
		return nil
	})
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "list branches")
	}
	slices.SortFunc(out, func(a, b Branch) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// CreateBranch creates branch name at the head of branch from.
func (r *Repo) CreateBranch(name, from string) (Branch, error) {
	if err := checkBranchName(name); err != nil {
		return Branch{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	head, err := r.head(from)
	if err != nil {
		return Branch{}, err
	}
	ref := plumbing.NewBranchReferenceName(name)
	if _, err := r.r.Storer.Reference(ref); err == nil {
		return Branch{}, errs.Conflict("branch %s already exists", name)
	}
	if err := r.moveBranch(name, head.Hash, plumbing.ZeroHash); err != nil {
		return Branch{}, err
	}
	return Branch{Name: name, Commit: head.Hash.String(), Time: head.Committer.When}, nil
}

// head returns the head commit of branch, or a not-found error naming it and the nearest
// existing branch.
func (r *Repo) head(branch string) (*object.Commit, error) {
	if checkBranchName(branch) == nil {
		ref, err := r.r.Storer.Reference(plumbing.NewBranchReferenceName(branch))
		if err == nil {
			c, err := r.r.CommitObject(ref.Hash())
			if err != nil {
				return nil, errs.Wrap(errs.KindInternal, err, "read head of branch %s", branch)
			}
			return c, nil
		}
		if !errors.Is(err, plumbing.ErrReferenceNotFound) {
			return nil, errs.Wrap(errs.KindInternal, err, "read branch %s", branch)
		}
	}
	var names []string
	if all, err := r.branches(); err == nil {
		for _, b := range all {
			names = append(names, b.Name)
		}
	}
	return nil, &errs.Error{
		Kind:       errs.KindNotFound,
		Message:    "unknown branch " + branch,
		Member:     branch,
		Suggestion: errs.Nearest(branch, names),
	}
}
