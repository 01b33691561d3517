package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/platform/gitrepo"
	"github.com/cubit-dev/cubit/internal/store"
)

// Actor is who asks for an operation, for the audit log: an admin token's name and the
// client's address.
type Actor struct {
	Name    string
	Address string
}

// Checker is implemented by a Runtime that can check a model and an environment without
// deploying them. With it, the Platform refuses a model file write that would leave the
// branch's model broken, and environment settings that cannot connect.
type Checker interface {
	// CheckModel compiles model (a branch's model/ folder) and returns its problems.
	CheckModel(model fs.FS) error
	// CheckEnvironment connects to env's data source once.
	CheckEnvironment(ctx context.Context, env store.Environment, secrets map[string][]byte) error
}

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

// PlatformOptions configure a Platform.
type PlatformOptions struct {
	Store *store.Store
	// DataDir holds the repositories (DataDir/repos/<project>.git).
	DataDir string
	// Starter is the model a managed repository starts with (its files go under model/).
	Starter fs.FS
	Runtime Runtime
	Keeper  *Keeper
	// Sealer seals environment secrets; the Runtime receives them unsealed.
	Sealer *Sealer
	// Disconnect closes the live SQL sessions of a deployment's username after its password
	// was rotated; nil when this node serves no SQL.
	Disconnect func(username string)
	// Clock and HeartbeatInterval go to the Manager.
	Clock             func() time.Time
	HeartbeatInterval time.Duration
	Logger            *slog.Logger
}

// Platform is the control plane of one node: environments, projects and their
// repositories, branches and model files, deployments and their credentials, security
// settings and the audit log. Every change made through it is audited. Who may do what is
// the API's decision: Platform trusts its caller.
type Platform struct {
	opt PlatformOptions
	mgr *Manager
	log *slog.Logger

	mu    sync.Mutex
	repos map[string]*gitrepo.Repo
}

// NewPlatform returns a Platform and its deployment Manager.
func NewPlatform(opt PlatformOptions) *Platform {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Platform{opt: opt, log: opt.Logger, repos: map[string]*gitrepo.Repo{}}
	p.mgr = NewManager(Options{
		Store:             opt.Store,
		Repos:             p.repo,
		Runtime:           unsealing{opt.Runtime, p},
		Clock:             opt.Clock,
		HeartbeatInterval: opt.HeartbeatInterval,
		Logger:            opt.Logger,
		OnRunning:         opt.Keeper.Ensure,
	})
	return p
}

// Manager is the deployment manager, for the request paths (Acquire) and the node's
// lifecycle (StartAll, Run, Close).
func (p *Platform) Manager() *Manager { return p.mgr }

// Keeper is the credentials keeper, for the request paths (CheckToken, SQLLogin, Security).
func (p *Platform) Keeper() *Keeper { return p.opt.Keeper }

func (p *Platform) repoDir(project string) string {
	return filepath.Join(p.opt.DataDir, "repos", project+".git")
}

// repo returns the one Repo of project, opening it on first use.
func (p *Platform) repo(project string) (*gitrepo.Repo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.repos[project]; ok {
		return r, nil
	}
	r, err := gitrepo.Open(p.repoDir(project))
	if errs.KindOf(err) == errs.KindNotFound {
		r, err = p.repair(project)
	}
	if err != nil {
		return nil, err
	}
	p.repos[project] = r
	return r, nil
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

// projectRepo checks that project exists and returns it with its repository.
func (p *Platform) projectRepo(ctx context.Context, project string) (store.Project, *gitrepo.Repo, error) {
	pr, err := p.opt.Store.GetProject(ctx, project)
	if err != nil {
		return store.Project{}, nil, err
	}
	r, err := p.repo(project)
	return pr, r, err
}

func (p *Platform) audit(ctx context.Context, a Actor, action, target string, details any) {
	raw, _ := json.Marshal(details) // details are maps and structs of plain values
	if details == nil {
		raw = nil
	}
	_, err := p.opt.Store.AppendAudit(context.WithoutCancel(ctx), store.AuditEntry{
		Actor: a.Name, Action: action, Target: target, Address: a.Address, Details: raw,
	})
	if err != nil {
		p.log.Error("writing the audit log", "action", action, "target", target, "err", err)
	}
}

// Audit records an event the APIs see (an authentication failure, a credential view).
func (p *Platform) Audit(ctx context.Context, a Actor, action, target string, details any) {
	p.audit(ctx, a, action, target, details)
}

// ListAudit returns audit entries, newest first.
func (p *Platform) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	return p.opt.Store.ListAudit(ctx, f)
}

// EnvironmentInput is what creates or changes an environment. Secrets are plaintext here
// and sealed before they reach the store; on a change, nil Secrets keeps them.
type EnvironmentInput struct {
	Name     string
	Type     store.EnvironmentType
	Settings json.RawMessage
	Secrets  map[string]string
	// SkipCheck saves settings without connecting first (a data source that is down
	// for now); by default settings that cannot connect are refused.
	SkipCheck bool
}

// checkEnvironment connects with in's settings when the Runtime can, and says why not.
// On a change without new secrets, the stored ones are used.
func (p *Platform) checkEnvironment(ctx context.Context, in EnvironmentInput) error {
	c, ok := p.opt.Runtime.(Checker)
	if !ok || in.SkipCheck {
		return nil
	}
	secrets := map[string][]byte{}
	if in.Secrets == nil {
		sealed, err := p.opt.Store.EnvironmentSecrets(ctx, in.Name)
		if err != nil && errs.KindOf(err) != errs.KindNotFound {
			return err
		}
		if secrets, err = p.unseal(in.Name, sealed); err != nil {
			return err
		}
	} else {
		for name, v := range in.Secrets {
			secrets[name] = []byte(v)
		}
	}
	err := c.CheckEnvironment(ctx, store.Environment{Name: in.Name, Type: in.Type, Settings: in.Settings}, secrets)
	if err == nil || errs.KindOf(err) == errs.KindInvalid {
		return err
	}
	return errs.Invalid("environment %q cannot connect with these settings: %v (save them anyway with check=false)", in.Name, err)
}

var envNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$`)

func checkName(what, name string) error {
	if !envNameRE.MatchString(name) {
		return errs.Invalid("%s name %q must be 1 to 50 characters: letters, digits, '-', '_' or '.', starting with a letter or digit", what, name)
	}
	return nil
}

func (p *Platform) sealSecrets(env string, secrets map[string]string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(secrets))
	for name, v := range secrets {
		if name != SecretPassword {
			return nil, errs.Invalid("environment %q: unknown secret %q (want %q)", env, name, SecretPassword)
		}
		out[name] = p.opt.Sealer.Seal([]byte(v), envSecretLabel(env, name))
	}
	return out, nil
}

func envSecretLabel(env, name string) string { return "environment-secret " + env + " " + name }

// unsealing is the Runtime the Manager sees: the store hands it sealed secrets, which it
// unseals for the real Runtime.
type unsealing struct {
	Runtime
	p *Platform
}

func (u unsealing) Build(ctx context.Context, model fs.FS, version string, env store.Environment, sealed map[string][]byte) (Instance, error) {
	secrets, err := u.p.unseal(env.Name, sealed)
	if err != nil {
		return nil, err
	}
	return u.Runtime.Build(ctx, model, version, env, secrets)
}

// unseal opens an environment's sealed secrets.
func (p *Platform) unseal(env string, sealed map[string][]byte) (map[string][]byte, error) {
	out := make(map[string][]byte, len(sealed))
	for name, v := range sealed {
		plain, err := p.opt.Sealer.Open(v, envSecretLabel(env, name))
		if err != nil {
			return nil, errs.Wrap(errs.KindInternal, err, "unsealing secret %q of environment %q (was the key changed?)", name, env)
		}
		out[name] = plain
	}
	return out, nil
}

// CreateEnvironment stores a new environment.
func (p *Platform) CreateEnvironment(ctx context.Context, a Actor, in EnvironmentInput) (store.Environment, error) {
	if err := checkName("environment", in.Name); err != nil {
		return store.Environment{}, err
	}
	if _, err := ParseEnvSettings(in.Type, in.Settings); err != nil {
		return store.Environment{}, err
	}
	if _, err := p.opt.Store.GetEnvironment(ctx, in.Name); err == nil {
		return store.Environment{}, errs.Conflict("environment %q already exists", in.Name)
	}
	if err := p.checkEnvironment(ctx, in); err != nil {
		return store.Environment{}, err
	}
	secrets, err := p.sealSecrets(in.Name, in.Secrets)
	if err != nil {
		return store.Environment{}, err
	}
	env, err := p.opt.Store.CreateEnvironment(ctx, store.Environment{Name: in.Name, Type: in.Type, Settings: in.Settings}, secrets)
	if err == nil {
		p.audit(ctx, a, "environment.create", "environment/"+in.Name, map[string]any{"type": in.Type, "secrets": env.SecretNames})
	}
	return env, err
}

// UpdateEnvironment changes an environment's type and settings (both given) and, when
// Secrets is not nil, replaces its secrets. Deployments pick the change up on their next
// start or restart.
func (p *Platform) UpdateEnvironment(ctx context.Context, a Actor, in EnvironmentInput) (store.Environment, error) {
	if _, err := ParseEnvSettings(in.Type, in.Settings); err != nil {
		return store.Environment{}, err
	}
	if err := p.checkEnvironment(ctx, in); err != nil {
		return store.Environment{}, err
	}
	var secrets map[string][]byte
	if in.Secrets != nil {
		var err error
		if secrets, err = p.sealSecrets(in.Name, in.Secrets); err != nil {
			return store.Environment{}, err
		}
	}
	env, err := p.opt.Store.UpdateEnvironment(ctx, in.Name, in.Type, in.Settings)
	if err != nil {
		return store.Environment{}, err
	}
	if secrets != nil {
		if err := p.opt.Store.SetEnvironmentSecrets(ctx, in.Name, secrets); err != nil {
			return store.Environment{}, err
		}
		if env, err = p.opt.Store.GetEnvironment(ctx, in.Name); err != nil {
			return store.Environment{}, err
		}
	}
	p.audit(ctx, a, "environment.update", "environment/"+in.Name, map[string]any{"type": in.Type, "secrets_changed": secrets != nil})
	return env, nil
}

// DeleteEnvironment deletes an environment no project uses.
func (p *Platform) DeleteEnvironment(ctx context.Context, a Actor, name string) error {
	err := p.opt.Store.DeleteEnvironment(ctx, name)
	if err == nil {
		p.audit(ctx, a, "environment.delete", "environment/"+name, nil)
	}
	return err
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

// Status is a deployment's status. A branch that was never started is STOPPED.
func (p *Platform) Status(ctx context.Context, project, branch string) (Status, error) {
	st, err := p.mgr.Status(ctx, project, branch)
	if errs.KindOf(err) != errs.KindNotFound {
		return st, err
	}
	// No deployment recorded: say STOPPED if the branch exists, else why not.
	_, r, rerr := p.projectRepo(ctx, project)
	if rerr != nil {
		return Status{}, rerr
	}
	if _, _, rerr := r.Snapshot(branch); rerr != nil {
		return Status{}, rerr
	}
	return Status{State: store.StateStopped}, nil
}

// Lifecycle operations on a deployment.
type Operation string

// Operations.
const (
	OpStart   Operation = "start"
	OpStop    Operation = "stop"
	OpRestart Operation = "restart"
)

// Valid reports whether o is a known operation.
func (o Operation) Valid() bool {
	switch o {
	case OpStart, OpStop, OpRestart:
		return true
	}
	return false
}

// Lifecycle starts, stops or restarts a deployment and returns its status after. A start
// or restart waits until the deployment is RUNNING or ERROR; when it ends in ERROR, the
// status comes back with the error (a model error, or a data source that does not
// answer), so that the caller can show both.
func (p *Platform) Lifecycle(ctx context.Context, a Actor, project, branch string, op Operation) (Status, error) {
	if _, _, err := p.projectRepo(ctx, project); err != nil {
		return Status{}, err
	}
	var err error
	switch op {
	case OpStart:
		err = p.mgr.Start(ctx, project, branch)
	case OpStop:
		err = p.mgr.Stop(ctx, project, branch)
	case OpRestart:
		err = p.mgr.Restart(ctx, project, branch)
	default:
		return Status{}, errs.Invalid("unknown operation %q (want start, stop or restart)", op)
	}
	if err != nil && !isBuildFailure(err) {
		return Status{}, err
	}
	p.audit(ctx, a, "deployment."+string(op), "deployment/"+project+"/"+branch, nil)
	st, serr := p.Status(ctx, project, branch)
	if serr != nil {
		return Status{}, serr
	}
	return st, err
}

// isBuildFailure reports whether err is a load that ended in ERROR (recorded in the
// status) rather than a request that could not be made.
func isBuildFailure(err error) bool {
	switch errs.KindOf(err) {
	case errs.KindModel, errs.KindUnavailable, errs.KindSource, errs.KindTimeout:
		return true
	}
	return false
}

// notRunning is the error for credentials asked of a deployment that is not RUNNING.
func notRunning(project, branch string, st Status) error {
	msg := fmt.Sprintf("deployment %s/%s is %s: credentials are shown only while it is RUNNING", project, branch, st.State)
	switch st.State {
	case store.StateStopped:
		msg += "; start it first"
	case store.StatePending:
		msg += "; wait for it to finish starting"
	case store.StateError:
		msg += "; fix the error (" + st.Error + ") and restart it"
	}
	return &errs.Error{Kind: errs.KindConflict, Message: msg}
}

// Credentials returns a deployment's credentials, only while it is RUNNING. The view is
// audited.
func (p *Platform) Credentials(ctx context.Context, a Actor, project, branch string) (Credentials, error) {
	st, err := p.Status(ctx, project, branch)
	if err != nil {
		return Credentials{}, err
	}
	if st.State != store.StateRunning {
		return Credentials{}, notRunning(project, branch, st)
	}
	c, err := p.opt.Keeper.Show(ctx, project, branch)
	if errs.KindOf(err) == errs.KindNotFound {
		// RUNNING on a node whose OnRunning hook failed or was racing: make them now.
		if err = p.opt.Keeper.Ensure(ctx, project, branch); err == nil {
			c, err = p.opt.Keeper.Show(ctx, project, branch)
		}
	}
	if err == nil {
		p.audit(ctx, a, "credentials.view", "deployment/"+project+"/"+branch, nil)
	}
	return c, err
}

// Rotate replaces a deployment's SQL password and/or REST token; the old ones stop working
// at once, and live SQL sessions that logged in with the old password are closed.
func (p *Platform) Rotate(ctx context.Context, a Actor, project, branch string, sql, rest bool) (Credentials, error) {
	st, err := p.Status(ctx, project, branch)
	if err != nil {
		return Credentials{}, err
	}
	if st.State != store.StateRunning {
		return Credentials{}, notRunning(project, branch, st)
	}
	c, err := p.opt.Keeper.Rotate(ctx, project, branch, sql, rest)
	if err != nil {
		return Credentials{}, err
	}
	if sql && p.opt.Disconnect != nil {
		p.opt.Disconnect(c.SQL.Username)
	}
	p.audit(ctx, a, "credentials.rotate", "deployment/"+project+"/"+branch, map[string]any{"sql": sql, "rest": rest})
	return c, nil
}

// Security returns a deployment's security settings.
func (p *Platform) Security(ctx context.Context, project, branch string) (Security, error) {
	if _, _, err := p.projectRepo(ctx, project); err != nil {
		return Security{}, err
	}
	return p.opt.Keeper.Security(ctx, project, branch)
}

// SetSecurity replaces a deployment's security settings. A new token lifetime applies to
// the next token (rotate the token to apply it now).
func (p *Platform) SetSecurity(ctx context.Context, a Actor, project, branch string, sec Security) (Security, error) {
	_, r, err := p.projectRepo(ctx, project)
	if err != nil {
		return Security{}, err
	}
	if _, _, err := r.Snapshot(branch); err != nil {
		return Security{}, err
	}
	out, err := p.opt.Keeper.SetSecurity(ctx, project, branch, sec)
	if err == nil {
		p.audit(ctx, a, "security.update", "deployment/"+project+"/"+branch, out)
	}
	return out, err
}

// Close stops serving on this node (see Manager.Close).
func (p *Platform) Close() error {
	return errors.Join(p.mgr.Close())
}

// ListEnvironments lists the environments (never their secrets).
func (p *Platform) ListEnvironments(ctx context.Context) ([]store.Environment, error) {
	return p.opt.Store.ListEnvironments(ctx)
}

// GetEnvironment returns one environment (never its secrets).
func (p *Platform) GetEnvironment(ctx context.Context, name string) (store.Environment, error) {
	return p.opt.Store.GetEnvironment(ctx, name)
}

// ListProjects lists the projects.
func (p *Platform) ListProjects(ctx context.Context) ([]store.Project, error) {
	return p.opt.Store.ListProjects(ctx)
}

// GetProject returns one project.
func (p *Platform) GetProject(ctx context.Context, name string) (store.Project, error) {
	return p.opt.Store.GetProject(ctx, name)
}
