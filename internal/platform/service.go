package platform

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"
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

// Platform is the control plane of one node: environments (service_environments.go),
// projects and their repositories, branches and model files (service_projects.go),
// deployments and their credentials and security settings (service_deployments.go), and
// the audit log. Every change made through it is audited. Who may do what is
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

// Close stops serving on this node (see Manager.Close).
func (p *Platform) Close() error {
	return errors.Join(p.mgr.Close())
}
