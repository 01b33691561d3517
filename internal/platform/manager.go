package platform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/platform/gitrepo"
	"github.com/cubit-dev/cubit/internal/store"
)

// Runtime builds what serves one model version; the server implements it with the engine.
type Runtime interface {
	// Build compiles the model in model (the branch snapshot's model/ folder) for env and
	// returns the serving instance, or an error (a model error carries file:line text).
	Build(ctx context.Context, model fs.FS, version string, env store.Environment, secrets map[string][]byte) (Instance, error)
}

// Instance is one compiled model version bound to its data source.
type Instance interface {
	// Ping reports whether the data source answers.
	Ping(ctx context.Context) error
	// Close releases the instance; the Manager calls it once, after the last user.
	Close() error
}

// DefaultHeartbeatInterval is how often Run checks the running deployments.
const DefaultHeartbeatInterval = 10 * time.Second

// Options configure a Manager.
type Options struct {
	Store *store.Store
	// Repos returns the repository of project; the Manager never opens one itself, so
	// the caller keeps one Repo per directory as gitrepo requires.
	Repos   func(project string) (*gitrepo.Repo, error)
	Runtime Runtime
	// Clock is the time idle timeouts are measured with; time.Now when nil. The store
	// has its own clock for the timestamps it records.
	Clock func() time.Time
	// HeartbeatInterval is Run's period; DefaultHeartbeatInterval when zero.
	HeartbeatInterval time.Duration
	Logger            *slog.Logger
	// OnRunning, when set, is called after a load has swapped in a new RUNNING instance
	// (the platform generates a deployment's credentials the first time). An error is
	// logged; it does not undo the swap.
	OnRunning func(ctx context.Context, project, branch string) error
}

// Status is a deployment's status as the store has it, plus what this node serves.
type Status struct {
	State       store.DeploymentState
	Since       time.Time
	HeartbeatAt time.Time // zero before the first heartbeat
	// Version is the model version the state is about: being compiled (PENDING), serving
	// (RUNNING), failed or with its source down (ERROR), last served (STOPPED).
	Version string
	Error   string
	// ServingVersion is the version this node answers with now, "" when none.
	ServingVersion string
	// ServingPrevious is true when this node keeps answering with an earlier instance
	// than the latest load: during a restart, and after a restart that failed.
	ServingPrevious bool
}

// Manager runs the deployments of one node. It is safe for concurrent use.
type Manager struct {
	opt Options
	log *slog.Logger

	// base outlives callers' contexts: an on-demand start begun by one request goes on
	// when that request gives up, until Close.
	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	deps   map[key]*deployment
	closed bool
}

type key struct{ project, branch string }

// deployment is one (project, branch) on this node.
type deployment struct {
	key
	// op serialises Start, Stop and Restart; Acquire never takes it, so it is served
	// by the old instance while a restart compiles.
	op sync.Mutex
	// windowSeen and windowOpen are the window state the scheduled mode last acted on
	// (see Schedule); guarded by op.
	windowSeen, windowOpen bool

	mu      sync.Mutex // guards the fields below
	serving *served
	loading bool // a load is compiling
	gen     int  // counts loads, so Status can tell a previous instance
	// state and version are where this node is: what it last wrote to the store, or
	// reached following another node's write (see Reconcile).
	state   store.DeploymentState
	version string
	// srcDown is true when the ERROR is the data source's, found by a load or the
	// heartbeat: the heartbeat clears it when the source answers.
	srcDown bool
	// followFailed is the store version Reconcile failed to follow here, so that it does
	// not rebuild it every round.
	followFailed string
	lastUsed     time.Time     // the last Acquire or release
	changed      chan struct{} // closed and replaced on every change, for waiters
}

// served is one instance with its users.
type served struct {
	inst    Instance
	version string
	gen     int
	env     string // the environment it was built for, for error messages
	refs    int    // guarded by deployment.mu
	retired bool   // replaced or stopped: closed when refs drops to 0
	// unreached is true while the instance's data source has never answered: it was
	// built while the source was down. Acquire refuses it and the heartbeat turns it
	// RUNNING when the source answers; guarded by deployment.mu.
	unreached bool
}

// NewManager returns a Manager. Store, Repos and Runtime are required.
func NewManager(opt Options) *Manager {
	if opt.Store == nil || opt.Repos == nil || opt.Runtime == nil {
		panic("platform.NewManager: Store, Repos and Runtime are required")
	}
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if opt.HeartbeatInterval <= 0 {
		opt.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	base, cancel := context.WithCancel(context.Background())
	return &Manager{opt: opt, log: opt.Logger, base: base, cancel: cancel, deps: map[key]*deployment{}}
}

func (m *Manager) deployment(project, branch string) (*deployment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errs.Wrap(errs.KindUnavailable, nil, "the platform is shutting down")
	}
	k := key{project, branch}
	d := m.deps[k]
	if d == nil {
		d = &deployment{key: k, changed: make(chan struct{})}
		m.deps[k] = d
	}
	return d, nil
}

func (m *Manager) all() []*deployment {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*deployment, 0, len(m.deps))
	for _, d := range m.deps {
		out = append(out, d)
	}
	return out
}

// notify wakes the waiters of d; d.mu must be held.
func (d *deployment) notify() {
	close(d.changed)
	d.changed = make(chan struct{})
}

// config reads the deployment settings of project.
func (m *Manager) config(ctx context.Context, project string) (Config, store.Project, error) {
	p, err := m.opt.Store.GetProject(ctx, project)
	if err != nil {
		return Config{}, store.Project{}, err
	}
	c, err := ParseConfig(p.Deployment)
	if err != nil {
		return Config{}, store.Project{}, fmt.Errorf("project %q: %w", project, err)
	}
	return c, p, nil
}

// setStatus writes st to d's mirror, which is what this node does, and to the store. Writes use a
// context without the caller's cancellation: a state this node has reached must be
// recorded even when the request that caused it has gone.
func (m *Manager) setStatus(ctx context.Context, d *deployment, st store.Status, srcDown bool) error {
	m.mirror(d, st, srcDown)
	_, err := m.opt.Store.SetDeploymentStatus(context.WithoutCancel(ctx), d.project, d.branch, st)
	if err != nil {
		m.log.Error("recording deployment status", "project", d.project, "branch", d.branch, "state", st.State, "err", err)
		return err
	}
	m.log.Info("deployment", "project", d.project, "branch", d.branch, "state", st.State, "version", st.Version, "error", st.Error)
	return nil
}

// mirror writes st to d's mirror only: what this node does, when the store already says it
// (see Reconcile).
func (m *Manager) mirror(d *deployment, st store.Status, srcDown bool) {
	d.mu.Lock()
	d.state, d.version, d.srcDown = st.State, st.Version, srcDown
	d.notify()
	d.mu.Unlock()
}

// Start starts the deployment of branch of project: PENDING while the branch head's model
// compiles and its data source is checked, then RUNNING, or ERROR with the message (which
// Start also returns). A deployment this node already runs is left as it is. An unknown
// project or branch is an error that changes no state.
func (m *Manager) Start(ctx context.Context, project, branch string) error {
	d, err := m.deployment(project, branch)
	if err != nil {
		return err
	}
	d.op.Lock()
	defer d.op.Unlock()
	return m.startLocked(ctx, d)
}

// startLocked is Start with d.op held.
func (m *Manager) startLocked(ctx context.Context, d *deployment) error {
	d.mu.Lock()
	running := d.serving != nil && d.state == store.StateRunning
	d.mu.Unlock()
	if running {
		return nil
	}
	return m.load(ctx, d, false)
}

// Restart reloads the deployment from its branch head. The new version compiles beside the
// instance serving now, which keeps answering until the swap; a version that fails leaves
// the deployment ERROR with the message and the old instance serving (Status says so).
func (m *Manager) Restart(ctx context.Context, project, branch string) error {
	d, err := m.deployment(project, branch)
	if err != nil {
		return err
	}
	d.op.Lock()
	defer d.op.Unlock()
	return m.load(ctx, d, false)
}

// load compiles the branch head and swaps it in; d.op must be held. A quiet load records
// its states in d's mirror only and skips OnRunning: it follows a state that another node
// has already written (see Reconcile), which this node's PENDING would only blur.
func (m *Manager) load(ctx context.Context, d *deployment, quiet bool) error {
	record := func(st store.Status, srcDown bool) error {
		if quiet {
			m.mirror(d, st, srcDown)
			return nil
		}
		return m.setStatus(ctx, d, st, srcDown)
	}
	_, p, err := m.config(ctx, d.project)
	if err != nil {
		return err
	}
	repo, err := m.opt.Repos(d.project)
	if err != nil {
		return err
	}
	// The snapshot comes first so that an unknown branch is refused without recording a
	// deployment of it.
	snap, version, err := repo.Snapshot(d.branch)
	if err != nil {
		return err
	}
	model, err := fs.Sub(snap, gitrepo.StarterDir)
	if err != nil {
		return errs.Wrap(errs.KindInternal, err, "model folder of %s/%s", d.project, d.branch)
	}
	env, err := m.opt.Store.GetEnvironment(ctx, p.Environment)
	if err != nil {
		return err
	}
	secrets, err := m.opt.Store.EnvironmentSecrets(ctx, p.Environment)
	if err != nil {
		return err
	}
	if _, err := m.opt.Store.GetDeployment(ctx, d.project, d.branch); errs.KindOf(err) == errs.KindNotFound {
		_, err = m.opt.Store.CreateDeployment(ctx, d.project, d.branch)
		if err != nil && errs.KindOf(err) != errs.KindInvalid { // Invalid: another node created it
			return err
		}
	} else if err != nil {
		return err
	}

	d.mu.Lock()
	d.gen++
	gen := d.gen
	d.loading = true
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.loading = false
		d.notify()
		d.mu.Unlock()
	}()
	if err := record(store.Status{State: store.StatePending, Version: version}, false); err != nil {
		return err
	}

	inst, err := m.opt.Runtime.Build(ctx, model, version, env, secrets)
	if err == nil {
		if perr := inst.Ping(ctx); perr != nil {
			cause := errs.Wrap(errs.KindUnavailable, perr, "data source of environment %q does not answer", p.Environment)
			serr := record(store.Status{State: store.StateError, Error: cause.Error(), Version: version}, true)
			m.keepUnreached(d, &served{inst: inst, version: version, gen: gen, env: p.Environment, unreached: true})
			if serr != nil {
				return errors.Join(cause, serr)
			}
			return cause
		}
	}
	if err != nil {
		d.mu.Lock()
		old := d.serving
		unreached := old != nil && old.unreached
		if unreached {
			// An instance whose source never answered serves nobody; once the heartbeat no
			// longer watches it (this ERROR is not the source's), it would only hold the
			// deployment in a misleading "source down" refusal.
			d.serving = nil
		}
		d.mu.Unlock()
		msg := err.Error()
		if old != nil && !unreached {
			msg += fmt.Sprintf(" (version %s keeps serving)", short(old.version))
		}
		serr := record(store.Status{State: store.StateError, Error: msg, Version: version}, false)
		if unreached {
			m.retire(d, old)
		}
		if serr != nil {
			return errors.Join(err, serr)
		}
		return err
	}

	// RUNNING is recorded before the swap, so that a request let in by the swap finds the
	// status it waited for. A store that fails to record it does not stop the swap: the
	// new version is good, and the caller learns that the status is stale.
	serr := record(store.Status{State: store.StateRunning, Version: version}, false)
	s := &served{inst: inst, version: version, gen: gen}
	d.mu.Lock()
	old := d.serving
	d.serving = s
	d.lastUsed = m.opt.Clock()
	d.mu.Unlock()
	m.retire(d, old)
	if serr == nil && !quiet && m.opt.OnRunning != nil {
		if err := m.opt.OnRunning(context.WithoutCancel(ctx), d.project, d.branch); err != nil {
			m.log.Error("after reaching RUNNING", "project", d.project, "branch", d.branch, "err", err)
		}
	}
	return serr
}

// keepUnreached swaps in s, a model version that compiled but whose data source did not
// answer, as the serving instance, unreached, so that the heartbeat can turn it RUNNING
// when the source answers; the caller has recorded ERROR. Keeping the previous version
// instead would not help: it reads the same source (unless the environment changed, and
// then the restart was asked for to leave the old one), and nothing would ever retry the
// new one.
func (m *Manager) keepUnreached(d *deployment, s *served) {
	d.mu.Lock()
	old := d.serving
	d.serving = s
	d.lastUsed = m.opt.Clock()
	d.notify()
	d.mu.Unlock()
	m.retire(d, old)
}

// Stop stops the deployment: STOPPED at once, and the instance is closed when its last
// in-flight user releases it.
func (m *Manager) Stop(ctx context.Context, project, branch string) error {
	d, err := m.deployment(project, branch)
	if err != nil {
		return err
	}
	d.op.Lock()
	defer d.op.Unlock()
	return m.stop(ctx, d, nil)
}

// stop detaches the instance and records STOPPED; d.op must be held. When only is not nil
// the instance is detached only if only approves it, checked under d.mu so that no Acquire
// slips in between.
func (m *Manager) stop(ctx context.Context, d *deployment, only func(*served) bool) error {
	cur, err := m.opt.Store.GetDeployment(ctx, d.project, d.branch)
	if err != nil {
		return err
	}
	d.mu.Lock()
	old := d.serving
	if only != nil && (old == nil || !only(old)) {
		d.mu.Unlock()
		return nil
	}
	d.serving = nil
	d.mu.Unlock()
	m.retire(d, old)
	return m.setStatus(ctx, d, store.Status{State: store.StateStopped, Version: cur.Version}, false)
}

// retire marks s replaced and closes it now if nobody uses it.
func (m *Manager) retire(d *deployment, s *served) {
	if s == nil {
		return
	}
	d.mu.Lock()
	s.retired = true
	last := s.refs == 0
	d.mu.Unlock()
	if last {
		m.closeInstance(d, s.inst)
	}
}

func (m *Manager) closeInstance(d *deployment, inst Instance) {
	if err := inst.Close(); err != nil {
		m.log.Warn("closing instance", "project", d.project, "branch", d.branch, "err", err)
	}
}

// Status returns the deployment's status from the store, with what this node serves.
func (m *Manager) Status(ctx context.Context, project, branch string) (Status, error) {
	dep, err := m.opt.Store.GetDeployment(ctx, project, branch)
	if err != nil {
		return Status{}, err
	}
	st := Status{State: dep.State, Since: dep.Since, HeartbeatAt: dep.HeartbeatAt, Version: dep.Version, Error: dep.Error}
	m.mu.Lock()
	d := m.deps[key{project, branch}]
	m.mu.Unlock()
	if d != nil {
		d.mu.Lock()
		if s := d.serving; s != nil && !s.unreached {
			st.ServingVersion = s.version
			st.ServingPrevious = s.gen != d.gen
		}
		d.mu.Unlock()
	}
	return st, nil
}

// Acquire returns the instance serving the deployment now and the function that gives it
// back; the caller must call release exactly once (later calls do nothing). During a
// restart it is the old instance until the swap. When nothing serves: a deployment being
// started is waited for; a STOPPED or ERROR on-demand deployment is started and waited for;
// any other is an error. An instance whose data source has not answered since it was
// built is refused (errs.KindUnavailable) without starting anything: the heartbeat retries
// its source. Waiting ends with ctx; the start goes on without it.
func (m *Manager) Acquire(ctx context.Context, project, branch string) (Instance, func(), error) {
	d, err := m.deployment(project, branch)
	if err != nil {
		return nil, nil, err
	}
	woke := false
	for {
		d.mu.Lock()
		if s := d.serving; s != nil && s.unreached {
			d.mu.Unlock()
			return nil, nil, errs.Wrap(errs.KindUnavailable, nil,
				"deployment %s/%s is ERROR: the data source of environment %q does not answer; it is checked again every %s",
				project, branch, s.env, m.opt.HeartbeatInterval)
		} else if s != nil {
			s.refs++
			d.lastUsed = m.opt.Clock()
			d.mu.Unlock()
			return s.inst, m.releaser(d, s), nil
		}
		loading, changed, state := d.loading, d.changed, d.state
		d.mu.Unlock()

		if loading {
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		}
		if woke {
			// Our own start finished and something (a Stop) took the instance away.
			return nil, nil, errs.Conflict("deployment %s/%s was stopped while starting", project, branch)
		}
		c, _, err := m.config(ctx, project)
		if err != nil {
			return nil, nil, err
		}
		if c.Mode != ModeOnDemand {
			if state == "" {
				state = store.StateStopped
			}
			return nil, nil, errs.Conflict("deployment %s/%s is %s, not serving; start it", project, branch, state)
		}
		woke = true
		done := make(chan error, 1)
		if err := m.goStart(project, branch, done); err != nil {
			return nil, nil, err
		}
		select {
		case err := <-done:
			if err != nil {
				return nil, nil, err
			}
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

// goStart starts the deployment in the background, with the Manager's context, and sends
// the result on done. Close waits for it.
func (m *Manager) goStart(project, branch string, done chan<- error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errs.Wrap(errs.KindUnavailable, nil, "the platform is shutting down")
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		done <- m.Start(m.base, project, branch)
	}()
	return nil
}

func (m *Manager) releaser(d *deployment, s *served) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			d.mu.Lock()
			s.refs--
			d.lastUsed = m.opt.Clock()
			last := s.retired && s.refs == 0
			d.mu.Unlock()
			if last {
				m.closeInstance(d, s.inst)
			}
		})
	}
}

// Heartbeat runs one round: it pings the data source of each instance this node serves and
// records heartbeat_at. A source that fails turns a RUNNING deployment ERROR (the instance
// is kept); when it answers again the deployment returns to RUNNING by itself, and so does
// one whose source was down when it was built (OnRunning runs then). A deployment
// in the middle of a start, stop or restart is skipped this round: that operation decides
// its state.
func (m *Manager) Heartbeat(ctx context.Context) {
	for _, d := range m.all() {
		if ctx.Err() != nil {
			return
		}
		if !d.op.TryLock() {
			continue
		}
		m.beat(ctx, d)
		d.op.Unlock()
	}
}

func (m *Manager) beat(ctx context.Context, d *deployment) {
	d.mu.Lock()
	s := d.serving
	if s == nil {
		d.mu.Unlock()
		return
	}
	s.refs++ // so that the instance is not closed under the ping
	state, srcDown := d.state, d.srcDown
	d.mu.Unlock()
	release := func() {
		d.mu.Lock()
		s.refs--
		last := s.retired && s.refs == 0
		d.mu.Unlock()
		if last {
			m.closeInstance(d, s.inst)
		}
	}
	defer release()

	err := s.inst.Ping(ctx)
	switch {
	case err != nil && state == store.StateRunning:
		msg := fmt.Sprintf("data source does not answer: %v", err)
		_ = m.setStatus(ctx, d, store.Status{State: store.StateError, Error: msg, Version: s.version}, true)
	case err == nil && state == store.StateError && srcDown:
		serr := m.setStatus(ctx, d, store.Status{State: store.StateRunning, Version: s.version}, false)
		d.mu.Lock()
		first := s.unreached
		s.unreached = false
		d.mu.Unlock()
		if first && serr == nil && m.opt.OnRunning != nil {
			if err := m.opt.OnRunning(context.WithoutCancel(ctx), d.project, d.branch); err != nil {
				m.log.Error("after reaching RUNNING", "project", d.project, "branch", d.branch, "err", err)
			}
		}
	}
	if err := m.opt.Store.Heartbeat(context.WithoutCancel(ctx), d.project, d.branch); err != nil {
		m.log.Error("recording heartbeat", "project", d.project, "branch", d.branch, "err", err)
	}
}

// StopIdle stops the on-demand deployments that nobody has used for longer than their
// project's idle timeout, by the Manager's clock. An instance in use is never idle.
func (m *Manager) StopIdle(ctx context.Context) {
	now := m.opt.Clock()
	for _, d := range m.all() {
		if ctx.Err() != nil {
			return
		}
		c, _, err := m.config(ctx, d.project)
		if err != nil || c.Mode != ModeOnDemand {
			continue
		}
		if !d.op.TryLock() {
			continue
		}
		idle := func(s *served) bool { return s.refs == 0 && now.Sub(d.lastUsed) > c.IdleTimeout }
		if err := m.stop(ctx, d, idle); err != nil {
			m.log.Error("stopping idle deployment", "project", d.project, "branch", d.branch, "err", err)
		}
		d.op.Unlock()
	}
}

// Run runs Reconcile, Heartbeat, StopIdle and Schedule every HeartbeatInterval until ctx
// ends.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(m.opt.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.Reconcile(ctx)
			m.Heartbeat(ctx)
			m.StopIdle(ctx)
			m.Schedule(ctx)
		}
	}
}

// StartAll is for boot. It starts the always_on deployments (every recorded one that was
// not STOPPED on purpose, and the main branch of a project that has none) and the scheduled
// ones inside one of their windows (every recorded one, and the main branch of a project
// that has none), and records as STOPPED the on-demand ones that claim to run, since
// nothing serves them after a restart until a request wakes them, and the scheduled ones
// outside their windows. It goes on past failures (already recorded as ERROR) and returns
// them joined.
func (m *Manager) StartAll(ctx context.Context) error {
	projects, err := m.opt.Store.ListProjects(ctx)
	if err != nil {
		return err
	}
	var all []error
	for _, p := range projects {
		c, err := ParseConfig(p.Deployment)
		if err != nil {
			all = append(all, fmt.Errorf("project %q: %w", p.Name, err))
			continue
		}
		if c.Mode == ModeScheduled {
			all = append(all, m.startScheduled(ctx, p.Name, c.Schedule))
			continue
		}
		deps, err := m.opt.Store.ListDeployments(ctx, p.Name)
		if err != nil {
			all = append(all, err)
			continue
		}
		var branches []string
		for _, dep := range deps {
			if dep.State == store.StateStopped {
				continue
			}
			if c.Mode == ModeOnDemand {
				_, err := m.opt.Store.SetDeploymentStatus(ctx, p.Name, dep.Branch,
					store.Status{State: store.StateStopped, Version: dep.Version})
				all = append(all, err)
				continue
			}
			branches = append(branches, dep.Branch)
		}
		if c.Mode == ModeAlwaysOn && len(deps) == 0 {
			branches = append(branches, gitrepo.MainBranch)
		}
		for _, b := range branches {
			if err := m.Start(ctx, p.Name, b); err != nil {
				all = append(all, fmt.Errorf("starting %s/%s: %w", p.Name, b, err))
			}
		}
	}
	return errors.Join(all...)
}

// startScheduled is StartAll for one scheduled project.
func (m *Manager) startScheduled(ctx context.Context, project string, sched *Schedule) error {
	branches, err := m.branches(ctx, project)
	if err != nil {
		return err
	}
	open := sched.Open(m.opt.Clock())
	var all []error
	for _, b := range branches {
		d, err := m.deployment(project, b)
		if err != nil {
			return err
		}
		d.op.Lock()
		if err := m.followWindow(ctx, d, open, true); err != nil {
			all = append(all, fmt.Errorf("scheduling %s/%s: %w", project, b, err))
		}
		d.op.Unlock()
	}
	return errors.Join(all...)
}

// Close stops serving on this node: it waits for the on-demand starts in flight, then
// closes every instance once its users release it. Recorded states are left as they are,
// so that StartAll on the next boot restores them.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	m.cancel()
	m.wg.Wait()
	for _, d := range m.all() {
		d.op.Lock()
		d.mu.Lock()
		s := d.serving
		d.serving = nil
		d.notify()
		d.mu.Unlock()
		m.retire(d, s)
		d.op.Unlock()
	}
	return nil
}

func short(version string) string {
	if len(version) > 12 {
		return version[:12]
	}
	return version
}
