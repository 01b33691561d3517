package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/platform/gitrepo"
	"github.com/cubit-dev/cubit/internal/store"
)

// ModelProblem is one problem of a branch's model, at its file (relative to the model
// folder) and line.
type ModelProblem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// Problems returns the problems of the model at the head of a branch (none when it
// compiles), one by one, for a UI that shows each at its line. Without a Checker Runtime
// it reports none.
func (p *Platform) Problems(ctx context.Context, project, branch string) ([]ModelProblem, error) {
	_, r, err := p.projectRepo(ctx, project)
	if err != nil {
		return nil, err
	}
	snap, _, err := r.Snapshot(branch)
	if err != nil {
		return nil, err
	}
	c, ok := p.opt.Runtime.(Checker)
	if !ok {
		return []ModelProblem{}, nil
	}
	model, err := fs.Sub(snap, gitrepo.StarterDir)
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "model folder of branch %s", branch)
	}
	err = c.CheckModel(model)
	var listed interface{ ModelProblems() []ModelProblem }
	switch {
	case err == nil:
		return []ModelProblem{}, nil
	case errors.As(err, &listed):
		return listed.ModelProblems(), nil
	case errs.KindOf(err) == errs.KindModel:
		return []ModelProblem{{Message: err.Error()}}, nil
	}
	return nil, err
}

// newRepo makes a project's repository in a temporary directory under repos/ (managed: the
// starter model on main; imported: a clone) and returns that directory, which holds it as
// repo.git.
func (p *Platform) newRepo(ctx context.Context, project string, repo store.Repository) (string, error) {
	parent := filepath.Join(p.opt.DataDir, "repos")
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return "", errs.Wrap(errs.KindInternal, err, "creating %s", parent)
	}
	tmp, err := os.MkdirTemp(parent, "."+project+".new-")
	if err != nil {
		return "", errs.Wrap(errs.KindInternal, err, "creating the repository of %s", project)
	}
	dir := filepath.Join(tmp, "repo.git")
	switch repo.Type {
	case store.RepositoryManaged:
		_, err = gitrepo.Init(dir, p.opt.Starter, gitrepo.Signature{Name: "Cubit", Email: "cubit@localhost"})
	case store.RepositoryImported:
		if repo.URL == "" {
			err = errs.Invalid("project %q: an imported repository needs a url", project)
		} else {
			_, err = gitrepo.Clone(ctx, dir, repo.URL)
		}
	default:
		err = errs.Invalid("project %q: unknown repository type %q (want managed or imported)", project, repo.Type)
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return "", err
	}
	return tmp, nil
}

// place moves a repository made by newRepo to the project's directory, which the caller
// owns (its store row is the caller's), replacing anything a project of that name deleted
// half-way left there, and opens it.
func (p *Platform) place(project, made string) (*gitrepo.Repo, error) {
	dir := p.repoDir(project)
	if err := os.RemoveAll(dir); err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "clearing %s", dir)
	}
	if err := os.Rename(made, dir); err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "moving the repository of %s into place", project)
	}
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "moving the repository of %s into place", project)
	}
	return gitrepo.Open(dir)
}

// repair remakes the repository of a project whose row exists without one: the process
// stopped between the row and the move (nothing was written to that repository yet, so
// the starter or a fresh clone is what it held). The caller holds p.mu.
func (p *Platform) repair(project string) (*gitrepo.Repo, error) {
	ctx := context.Background()
	pr, err := p.opt.Store.GetProject(ctx, project)
	if err != nil {
		return nil, err
	}
	p.log.Warn("the repository of a project is missing; making it again", "project", project)
	tmp, err := p.newRepo(ctx, project, pr.Repository)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	return p.place(project, filepath.Join(tmp, "repo.git"))
}

// syncDir makes the entries of directory dir durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// ProjectInput creates or changes a project. On a change, zero fields keep their values
// (nil ProtectedBranches keeps them; an empty non-nil slice clears them).
type ProjectInput struct {
	Name              string
	Repository        store.Repository
	Environment       string
	Deployment        json.RawMessage
	ProtectedBranches []string
}

// CreateProject creates a project and its repository: a managed one starts with the
// starter model on main; an imported one is cloned from its URL (or local path). An
// always_on project's main branch is started in the background.
func (p *Platform) CreateProject(ctx context.Context, a Actor, in ProjectInput) (store.Project, error) {
	if err := checkName("project", in.Name); err != nil {
		return store.Project{}, err
	}
	cfg, err := ParseConfig(in.Deployment)
	if err != nil {
		return store.Project{}, err
	}
	if len(in.Deployment) == 0 {
		in.Deployment = json.RawMessage(`{"mode":"always_on"}`)
	}
	for _, b := range in.ProtectedBranches {
		if b == "" {
			return store.Project{}, errs.Invalid("protected_branches: empty branch name")
		}
	}
	if _, err := p.opt.Store.GetEnvironment(ctx, in.Environment); err != nil {
		if in.Environment == "" {
			return store.Project{}, errs.Invalid("project %q: environment is required", in.Name)
		}
		return store.Project{}, err
	}
	if _, err := p.opt.Store.GetProject(ctx, in.Name); err == nil {
		return store.Project{}, errs.Conflict("project %q already exists", in.Name)
	} else if errs.KindOf(err) != errs.KindNotFound {
		return store.Project{}, err
	}
	// The repository is made beside its final place and moved there only once the store
	// row is ours: another node creating the same project at the same moment loses at the
	// row and removes only its own copy.
	tmp, err := p.newRepo(ctx, in.Name, in.Repository)
	if err != nil {
		return store.Project{}, err
	}
	defer os.RemoveAll(tmp)
	pr, err := p.opt.Store.CreateProject(ctx, store.Project{
		Name: in.Name, Repository: in.Repository, Environment: in.Environment,
		Deployment: in.Deployment, ProtectedBranches: in.ProtectedBranches,
	})
	if err != nil {
		return store.Project{}, err
	}
	repo, err := p.place(in.Name, filepath.Join(tmp, "repo.git"))
	if err != nil {
		return store.Project{}, err
	}
	p.mu.Lock()
	p.repos[in.Name] = repo
	p.mu.Unlock()
	p.audit(ctx, a, "project.create", "project/"+in.Name, map[string]any{
		"repository": in.Repository.Type, "environment": in.Environment, "mode": cfg.Mode})
	if cfg.Mode == ModeAlwaysOn {
		p.startInBackground(in.Name, gitrepo.MainBranch)
	}
	return pr, nil
}

// startInBackground starts a deployment without a caller to wait for it; the outcome is
// its status.
func (p *Platform) startInBackground(project, branch string) {
	go func() {
		if err := p.mgr.Start(p.mgr.base, project, branch); err != nil {
			p.log.Warn("starting deployment", "project", project, "branch", branch, "err", err)
		}
	}()
}

// UpdateProject changes a project's environment, deployment settings or protected
// branches. The repository and the name cannot change.
func (p *Platform) UpdateProject(ctx context.Context, a Actor, in ProjectInput) (store.Project, error) {
	cur, err := p.opt.Store.GetProject(ctx, in.Name)
	if err != nil {
		return store.Project{}, err
	}
	if in.Repository.Type != "" && in.Repository != cur.Repository {
		return store.Project{}, errs.Invalid("project %q: the repository cannot be changed; create a new project", in.Name)
	}
	next := cur
	if in.Environment != "" {
		next.Environment = in.Environment
	}
	if len(in.Deployment) > 0 {
		if _, err := ParseConfig(in.Deployment); err != nil {
			return store.Project{}, err
		}
		next.Deployment = in.Deployment
	}
	if in.ProtectedBranches != nil {
		next.ProtectedBranches = in.ProtectedBranches
	}
	pr, err := p.opt.Store.UpdateProject(ctx, in.Name, next)
	if err == nil {
		p.audit(ctx, a, "project.update", "project/"+in.Name, map[string]any{
			"environment": next.Environment, "deployment": next.Deployment, "protected_branches": next.ProtectedBranches})
	}
	return pr, err
}

// DeleteProject stops the project's deployments on this node, deletes it with its
// deployments and credentials, and removes its repository.
func (p *Platform) DeleteProject(ctx context.Context, a Actor, name string) error {
	if _, err := p.opt.Store.GetProject(ctx, name); err != nil {
		return err
	}
	deps, err := p.opt.Store.ListDeployments(ctx, name)
	if err != nil {
		return err
	}
	for _, d := range deps {
		if err := p.mgr.Stop(ctx, name, d.Branch); err != nil {
			return err
		}
	}
	if err := p.opt.Store.DeleteProject(ctx, name); err != nil {
		return err
	}
	p.mu.Lock()
	delete(p.repos, name)
	p.mu.Unlock()
	if err := os.RemoveAll(p.repoDir(name)); err != nil {
		p.log.Warn("removing the repository of a deleted project", "project", name, "err", err)
	}
	p.audit(ctx, a, "project.delete", "project/"+name, nil)
	return nil
}

// Branches lists the branches of a project.
func (p *Platform) Branches(ctx context.Context, project string) ([]gitrepo.Branch, error) {
	_, r, err := p.projectRepo(ctx, project)
	if err != nil {
		return nil, err
	}
	return r.Branches()
}

// CreateBranch creates branch name from the head of branch from (main when empty).
func (p *Platform) CreateBranch(ctx context.Context, a Actor, project, name, from string) (gitrepo.Branch, error) {
	_, r, err := p.projectRepo(ctx, project)
	if err != nil {
		return gitrepo.Branch{}, err
	}
	if from == "" {
		from = gitrepo.MainBranch
	}
	b, err := r.CreateBranch(name, from)
	if err == nil {
		p.audit(ctx, a, "branch.create", "project/"+project+"/branch/"+name, map[string]any{"from": from, "commit": b.Commit})
	}
	return b, err
}

// ListFiles lists the files under dir on a branch.
func (p *Platform) ListFiles(ctx context.Context, project, branch, dir string) ([]string, error) {
	_, r, err := p.projectRepo(ctx, project)
	if err != nil {
		return nil, err
	}
	return r.ListFiles(branch, dir)
}

// ReadFile reads a file on a branch.
func (p *Platform) ReadFile(ctx context.Context, project, branch, path string) ([]byte, error) {
	_, r, err := p.projectRepo(ctx, project)
	if err != nil {
		return nil, err
	}
	return r.ReadFile(branch, path)
}

// FileChange is a write or delete of one model file: one commit.
type FileChange struct {
	Path    string
	Data    []byte // nil deletes the file
	Author  gitrepo.Signature
	Message string
	// Force commits a change that leaves the branch's model broken; by default such a
	// change is refused with the model's problems.
	Force bool
}

// checkChange compiles the model the branch would have after ch, when the Runtime can and
// ch touches the model folder.
func (p *Platform) checkChange(r *gitrepo.Repo, branch string, ch FileChange) error {
	c, ok := p.opt.Runtime.(Checker)
	if !ok || ch.Force || !strings.HasPrefix(ch.Path, gitrepo.StarterDir+"/") {
		return nil
	}
	snap, _, err := r.SnapshotWith(branch, ch.Path, ch.Data)
	if err != nil {
		return err
	}
	model, err := fs.Sub(snap, gitrepo.StarterDir)
	if err != nil {
		return errs.Wrap(errs.KindInternal, err, "model folder of branch %s", branch)
	}
	if err := c.CheckModel(model); err != nil {
		return errs.Wrap(errs.KindModel, err, "the change would break the model of branch %s, so it was not committed (commit it anyway with force)", branch)
	}
	return nil
}

// ChangeFile writes or deletes a file on a branch as one commit and returns the commit.
// It is refused on a protected branch. The deployment is not restarted: a restart picks
// the commit up.
func (p *Platform) ChangeFile(ctx context.Context, a Actor, project, branch string, ch FileChange) (string, error) {
	pr, r, err := p.projectRepo(ctx, project)
	if err != nil {
		return "", err
	}
	if slices.Contains(pr.ProtectedBranches, branch) {
		return "", &errs.Error{Kind: errs.KindForbidden,
			Message: fmt.Sprintf("branch %s of project %s is protected: model files cannot be changed on it; change them on another branch", branch, project)}
	}
	if err := p.checkChange(r, branch, ch); err != nil {
		return "", err
	}
	if ch.Message == "" {
		ch.Message = "Update " + ch.Path
		if ch.Data == nil {
			ch.Message = "Delete " + ch.Path
		}
	}
	var commit string
	action := "file.write"
	if ch.Data == nil {
		action = "file.delete"
		commit, err = r.DeleteFile(branch, ch.Path, ch.Author, ch.Message)
	} else {
		commit, err = r.WriteFile(branch, ch.Path, ch.Data, ch.Author, ch.Message)
	}
	if err == nil {
		p.audit(ctx, a, action, "project/"+project+"/branch/"+branch, map[string]any{"path": ch.Path, "commit": commit})
	}
	return commit, err
}

// ListProjects lists the projects.
func (p *Platform) ListProjects(ctx context.Context) ([]store.Project, error) {
	return p.opt.Store.ListProjects(ctx)
}

// GetProject returns one project.
func (p *Platform) GetProject(ctx context.Context, name string) (store.Project, error) {
	return p.opt.Store.GetProject(ctx, name)
}
