package platform_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/platform"
	"github.com/cubit-dev/cubit/internal/platform/gitrepo"
	"github.com/cubit-dev/cubit/internal/store"
)

var ctx = context.Background()

var alice = gitrepo.Signature{Name: "Alice", Email: "alice@example.com", When: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}

const modelErr = "model/cubes/orders.yml:3: unknown member"

// clock is a settable clock shared by the store and the Manager.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeRuntime builds fakeInstances. Builds fail with fail when it is set, and block until
// gate is closed when it is set, after sending their version on started.
type fakeRuntime struct {
	mu      sync.Mutex
	fail    error
	gate    chan struct{}
	started chan string
	built   []*fakeInstance
	calls   int // builds asked for, failed ones too
	// what the last Build got
	env     store.Environment
	secrets map[string][]byte
	model   fs.FS
}

func (r *fakeRuntime) Build(ctx context.Context, model fs.FS, version string, env store.Environment, secrets map[string][]byte) (platform.Instance, error) {
	r.mu.Lock()
	fail, gate, started := r.fail, r.gate, r.started
	r.env, r.secrets, r.model = env, secrets, model
	r.calls++
	r.mu.Unlock()
	if gate != nil {
		started <- version
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if fail != nil {
		return nil, fail
	}
	inst := &fakeInstance{version: version, pinged: make(chan struct{}, 1)}
	r.mu.Lock()
	r.built = append(r.built, inst)
	r.mu.Unlock()
	return inst, nil
}

func (r *fakeRuntime) set(fn func(r *fakeRuntime)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r)
}

// block makes the next builds wait; the returned function lets them go.
func (r *fakeRuntime) block() func() {
	gate := make(chan struct{})
	r.set(func(r *fakeRuntime) { r.gate, r.started = gate, make(chan string) })
	return func() {
		r.set(func(r *fakeRuntime) { r.gate = nil })
		close(gate)
	}
}

func (r *fakeRuntime) builds() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.built)
}

func (r *fakeRuntime) attempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// last is the instance built last.
func (r *fakeRuntime) last() *fakeInstance {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.built[len(r.built)-1]
}

type fakeInstance struct {
	version string
	pinged  chan struct{}

	mu      sync.Mutex
	pingErr error
	closes  int
}

func (i *fakeInstance) Ping(context.Context) error {
	select {
	case i.pinged <- struct{}{}:
	default:
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.pingErr
}

func (i *fakeInstance) Close() error {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.closes++
	return nil
}

func (i *fakeInstance) setPing(err error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.pingErr = err
}

func (i *fakeInstance) closed() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.closes
}

type fixture struct {
	t     *testing.T
	dsn   string
	clock *clock
	store *store.Store
	repo  *gitrepo.Repo
	rt    *fakeRuntime
	m     *platform.Manager
}

// setup makes a real SQLite store with one environment and a project "shop" whose
// deployment settings are deployment, a real managed repository with a starter model, and
// a Manager over them.
func setup(t *testing.T, deployment string) *fixture {
	t.Helper()
	f := &fixture{t: t, dsn: filepath.Join(t.TempDir(), "cubit.db"), clock: &clock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}, rt: &fakeRuntime{}}
	var err error
	f.store, err = store.Open(ctx, f.dsn, store.WithClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.store.Close() })
	_, err = f.store.CreateEnvironment(ctx, store.Environment{Name: "warehouse", Type: store.EnvironmentDuckDB, Settings: json.RawMessage(`{}`)},
		map[string][]byte{"password": []byte("sealed")})
	if err != nil {
		t.Fatal(err)
	}
	f.addProject("shop", deployment)
	f.repo, err = gitrepo.Init(filepath.Join(t.TempDir(), "repo"), fstest.MapFS{
		"cubes/orders.yml": {Data: []byte("cubes:\n  - name: orders\n    sql_table: orders\n")},
	}, alice)
	if err != nil {
		t.Fatal(err)
	}
	f.m = f.manager()
	return f
}

func (f *fixture) addProject(name, deployment string) {
	f.t.Helper()
	_, err := f.store.CreateProject(ctx, store.Project{Name: name, Repository: store.Repository{Type: store.RepositoryManaged},
		Environment: "warehouse", Deployment: json.RawMessage(deployment)})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) manager() *platform.Manager {
	m := platform.NewManager(platform.Options{
		Store: f.store,
		Repos: func(project string) (*gitrepo.Repo, error) {
			return f.repo, nil // every project of a test shares the one repository
		},
		Runtime: f.rt,
		Clock:   f.clock.Now,
	})
	f.t.Cleanup(func() { _ = m.Close() })
	return m
}

// commit writes a change to main and returns the new version.
func (f *fixture) commit(content string) string {
	f.t.Helper()
	v, err := f.repo.WriteFile("main", "model/cubes/orders.yml", []byte(content), alice, "change orders")
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

func (f *fixture) head() string {
	f.t.Helper()
	bs, err := f.repo.Branches()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, b := range bs {
		if b.Name == "main" {
			return b.Commit
		}
	}
	f.t.Fatal("no main branch")
	return ""
}

func (f *fixture) status(project string) platform.Status {
	f.t.Helper()
	st, err := f.m.Status(ctx, project, "main")
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// stored reads the deployment through a second Store on the same file, as another node or
// a restarted process would.
func (f *fixture) stored(project string) store.Deployment {
	f.t.Helper()
	s, err := store.Open(ctx, f.dsn)
	if err != nil {
		f.t.Fatal(err)
	}
	defer s.Close()
	d, err := s.GetDeployment(ctx, project, "main")
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

func (f *fixture) wantState(project string, state store.DeploymentState, version string) platform.Status {
	f.t.Helper()
	st := f.status(project)
	if st.State != state || st.Version != version {
		f.t.Fatalf("status %+v, want %s at %s", st, state, version)
	}
	if d := f.stored(project); d.State != state || d.Version != version || d.Error != st.Error {
		f.t.Fatalf("stored %+v, want %s at %s", d, state, version)
	}
	return st
}

func (f *fixture) acquire(project string) (*fakeInstance, func()) {
	f.t.Helper()
	inst, release, err := f.m.Acquire(ctx, project, "main")
	if err != nil {
		f.t.Fatal(err)
	}
	return inst.(*fakeInstance), release
}

func wantKind(t *testing.T, err error, kind errs.Kind, mention string) {
	t.Helper()
	if errs.KindOf(err) != kind || !strings.Contains(err.Error(), mention) {
		t.Fatalf("error %v (kind %q), want kind %q mentioning %q", err, errs.KindOf(err), kind, mention)
	}
}

func TestStartPendingThenRunning(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	v1 := f.head()
	open := f.rt.block()
	done := make(chan error)
	go func() { done <- f.m.Start(ctx, "shop", "main") }()
	if got := <-f.rt.started; got != v1 {
		t.Fatalf("building %s, want the branch head %s", got, v1)
	}
	st := f.wantState("shop", store.StatePending, v1)
	if st.ServingVersion != "" || st.ServingPrevious {
		t.Fatalf("pending first start serves: %+v", st)
	}
	open()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st = f.wantState("shop", store.StateRunning, v1)
	if st.ServingVersion != v1 || st.ServingPrevious || st.Error != "" || st.Since.IsZero() {
		t.Fatalf("running status %+v", st)
	}
	// Build got the model folder of the snapshot, the environment and its secrets.
	if _, err := fs.ReadFile(f.rt.model, "cubes/orders.yml"); err != nil {
		t.Fatalf("model folder: %v", err)
	}
	if f.rt.env.Name != "warehouse" || string(f.rt.secrets["password"]) != "sealed" {
		t.Fatalf("build got env %+v, secrets %q", f.rt.env, f.rt.secrets)
	}
	// Starting a running deployment builds nothing.
	if err := f.m.Start(ctx, "shop", "main"); err != nil || f.rt.builds() != 1 {
		t.Fatalf("second Start: %v, %d builds", err, f.rt.builds())
	}
}

func TestStartModelError(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	f.rt.set(func(r *fakeRuntime) { r.fail = &errs.Error{Kind: errs.KindModel, Message: modelErr} })
	err := f.m.Start(ctx, "shop", "main")
	wantKind(t, err, errs.KindModel, modelErr)
	st := f.wantState("shop", store.StateError, f.head())
	if st.Error != modelErr || st.ServingVersion != "" || st.ServingPrevious {
		t.Fatalf("status %+v", st)
	}
	_, _, err = f.m.Acquire(ctx, "shop", "main")
	wantKind(t, err, errs.KindConflict, "ERROR")
}

// TestStartSourceDown: a source that does not answer at start leaves the deployment ERROR
// with the instance kept but refused to requests, and the heartbeat brings it to RUNNING
// (with OnRunning) once the source answers, without building again.
func TestStartSourceDown(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	// Build succeeds, Ping fails.
	rt := &pingFailRuntime{fakeRuntime: f.rt}
	var mu sync.Mutex
	onRunning := 0
	m := platform.NewManager(platform.Options{Store: f.store, Runtime: rt, Clock: f.clock.Now,
		Repos: func(string) (*gitrepo.Repo, error) { return f.repo, nil },
		OnRunning: func(context.Context, string, string) error {
			mu.Lock()
			defer mu.Unlock()
			onRunning++
			return nil
		}})
	defer m.Close()
	ran := func() int {
		mu.Lock()
		defer mu.Unlock()
		return onRunning
	}
	v1 := f.head()
	wantKind(t, m.Start(ctx, "shop", "main"), errs.KindUnavailable, "connection refused")
	if d := f.stored("shop"); d.State != store.StateError || d.Version != v1 || !strings.Contains(d.Error, `environment "warehouse" does not answer`) {
		t.Fatalf("stored %+v", d)
	}
	inst := f.rt.built[0]
	if n := inst.closed(); n != 0 {
		t.Fatalf("the instance kept for the heartbeat closed %d times", n)
	}
	if st, err := m.Status(ctx, "shop", "main"); err != nil || st.ServingVersion != "" {
		t.Fatalf("status %+v, %v: an instance whose source never answered serves nothing", st, err)
	}
	for range 2 { // refused, and refusing starts nothing
		_, _, err := m.Acquire(ctx, "shop", "main")
		wantKind(t, err, errs.KindUnavailable, `the data source of environment "warehouse" does not answer`)
	}

	m.Heartbeat(ctx) // still down
	if d := f.stored("shop"); d.State != store.StateError || ran() != 0 {
		t.Fatalf("stored %+v, OnRunning ran %d times, while the source is still down", d, ran())
	}
	inst.setPing(nil)
	m.Heartbeat(ctx)
	if d := f.stored("shop"); d.State != store.StateRunning || d.Version != v1 || d.Error != "" {
		t.Fatalf("after the source answers: stored %+v", d)
	}
	if ran() != 1 {
		t.Fatalf("OnRunning ran %d times, want once", ran())
	}
	got, _, err := m.Acquire(ctx, "shop", "main")
	if err != nil || got != platform.Instance(inst) || f.rt.attempts() != 1 {
		t.Fatalf("Acquire after recovery: %v (same instance %v, %d builds)", err, got == platform.Instance(inst), f.rt.attempts())
	}
	// A later outage is the ordinary kind: ERROR, requests still reach the instance, and
	// OnRunning does not run again on recovery.
	inst.setPing(errors.New("connection refused"))
	m.Heartbeat(ctx)
	inst.setPing(nil)
	m.Heartbeat(ctx)
	if d := f.stored("shop"); d.State != store.StateRunning || ran() != 1 {
		t.Fatalf("after a second outage: stored %+v, OnRunning ran %d times", d, ran())
	}
}

// TestOnDemandSourceDown: an on-demand wake whose source does not answer is refused, and
// the following requests are refused without building again; a restart that fails to
// compile drops the unreached instance rather than claim it keeps serving.
func TestOnDemandSourceDown(t *testing.T) {
	f := setup(t, `{"mode":"on_demand"}`)
	rt := &pingFailRuntime{fakeRuntime: f.rt}
	m := platform.NewManager(platform.Options{Store: f.store, Runtime: rt, Clock: f.clock.Now,
		Repos: func(string) (*gitrepo.Repo, error) { return f.repo, nil }})
	defer m.Close()
	_, _, err := m.Acquire(ctx, "shop", "main")
	wantKind(t, err, errs.KindUnavailable, "does not answer")
	_, _, err = m.Acquire(ctx, "shop", "main")
	wantKind(t, err, errs.KindUnavailable, "does not answer")
	if f.rt.attempts() != 1 {
		t.Fatalf("%d builds, want 1: the heartbeat retries the source, not requests", f.rt.attempts())
	}
	inst := f.rt.built[0]
	f.rt.set(func(r *fakeRuntime) { r.fail = &errs.Error{Kind: errs.KindModel, Message: modelErr} })
	wantKind(t, m.Restart(ctx, "shop", "main"), errs.KindModel, modelErr)
	if d := f.stored("shop"); d.State != store.StateError || strings.Contains(d.Error, "keeps serving") || inst.closed() != 1 {
		t.Fatalf("stored %+v, unreached instance closed %d times", d, inst.closed())
	}
}

type pingFailRuntime struct{ *fakeRuntime }

func (r *pingFailRuntime) Build(ctx context.Context, model fs.FS, version string, env store.Environment, secrets map[string][]byte) (platform.Instance, error) {
	inst, err := r.fakeRuntime.Build(ctx, model, version, env, secrets)
	if err == nil {
		inst.(*fakeInstance).setPing(errors.New("connection refused"))
	}
	return inst, err
}

func TestUnknownProjectOrBranchRecordsNothing(t *testing.T) {
	f := setup(t, `{}`)
	wantKind(t, f.m.Start(ctx, "shop", "mian"), errs.KindNotFound, "mian")
	wantKind(t, f.m.Start(ctx, "shpo", "main"), errs.KindNotFound, "shpo")
	if ds, err := f.store.ListDeployments(ctx, ""); err != nil || len(ds) != 0 {
		t.Fatalf("deployments %+v, %v", ds, err)
	}
}

func TestStopClosesAfterRelease(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	if err := f.m.Start(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	inst, release := f.acquire("shop")
	if err := f.m.Stop(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	st := f.wantState("shop", store.StateStopped, f.head())
	if st.ServingVersion != "" {
		t.Fatalf("stopped but serving: %+v", st)
	}
	if inst.closed() != 0 {
		t.Fatal("instance closed under an in-flight user")
	}
	release()
	release() // a second release does nothing
	if inst.closed() != 1 {
		t.Fatalf("instance closed %d times after its last release", inst.closed())
	}
	_, _, err := f.m.Acquire(ctx, "shop", "main")
	wantKind(t, err, errs.KindConflict, "STOPPED")
}

// TestStartStopSerialise: a Stop sent while a Start compiles waits for it, so the
// deployment ends STOPPED rather than the Start overwriting the Stop.
func TestStartStopSerialise(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	open := f.rt.block()
	started := make(chan error)
	go func() { started <- f.m.Start(ctx, "shop", "main") }()
	<-f.rt.started
	stopped := make(chan error)
	go func() { stopped <- f.m.Stop(ctx, "shop", "main") }()
	open()
	if err := <-started; err != nil {
		t.Fatal(err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	f.wantState("shop", store.StateStopped, f.head())
	if f.rt.built[0].closed() != 1 {
		t.Fatal("the stopped instance was not closed")
	}
}

func TestRestartSwapsAfterCompiling(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	v1 := f.head()
	if err := f.m.Start(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	since := f.status("shop").Since
	v2 := f.commit("cubes:\n  - name: orders\n    sql_table: orders_v2\n")
	old, releaseOld := f.acquire("shop")

	open := f.rt.block()
	done := make(chan error)
	go func() { done <- f.m.Restart(ctx, "shop", "main") }()
	if got := <-f.rt.started; got != v2 {
		t.Fatalf("restart builds %s, want %s", got, v2)
	}
	st := f.wantState("shop", store.StatePending, v2)
	if st.ServingVersion != v1 || !st.ServingPrevious {
		t.Fatalf("during the restart: %+v", st)
	}
	during, releaseDuring := f.acquire("shop")
	if during != old {
		t.Fatal("Acquire during the restart did not get the old instance")
	}
	open()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st = f.wantState("shop", store.StateRunning, v2)
	if st.ServingVersion != v2 || st.ServingPrevious || !st.Since.After(since) && !st.Since.Equal(since) {
		t.Fatalf("after the restart: %+v", st)
	}
	fresh, releaseFresh := f.acquire("shop")
	if fresh.version != v2 {
		t.Fatalf("after the swap Acquire gets %s", fresh.version)
	}
	releaseFresh()
	releaseOld()
	if old.closed() != 0 {
		t.Fatal("old instance closed while a user holds it")
	}
	releaseDuring()
	if old.closed() != 1 || fresh.closed() != 0 {
		t.Fatalf("closes: old %d, new %d", old.closed(), fresh.closed())
	}
}

func TestRestartFailureKeepsServing(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	v1 := f.head()
	if err := f.m.Start(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	v2 := f.commit("cubes:\n  - name: orders\n    measures: [{name: count, type: cuont}]\n")
	f.rt.set(func(r *fakeRuntime) { r.fail = &errs.Error{Kind: errs.KindModel, Message: modelErr} })
	wantKind(t, f.m.Restart(ctx, "shop", "main"), errs.KindModel, modelErr)

	st := f.wantState("shop", store.StateError, v2)
	if !strings.Contains(st.Error, modelErr) || !strings.Contains(st.Error, "version "+v1[:12]+" keeps serving") {
		t.Fatalf("error %q", st.Error)
	}
	if st.ServingVersion != v1 || !st.ServingPrevious {
		t.Fatalf("status %+v", st)
	}
	inst, release := f.acquire("shop")
	if inst.version != v1 || inst.closed() != 0 {
		t.Fatalf("serving %s (closed %d), want the old %s", inst.version, inst.closed(), v1)
	}
	release()
	// A healthy source does not hide the model error.
	f.m.Heartbeat(ctx)
	f.wantState("shop", store.StateError, v2)

	// The fixed model replaces the old instance.
	v3 := f.commit("cubes:\n  - name: orders\n    sql_table: orders\n")
	f.rt.set(func(r *fakeRuntime) { r.fail = nil })
	if err := f.m.Restart(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	st = f.wantState("shop", store.StateRunning, v3)
	if st.Error != "" || st.ServingVersion != v3 || st.ServingPrevious || inst.closed() != 1 {
		t.Fatalf("status %+v, old closed %d", st, inst.closed())
	}
}

// TestAcquireDuringRestartNeverFails runs a loop of Acquire/release while the deployment
// restarts again and again; every restart waits in Build until the loop has gone round
// once more, so the two overlap.
func TestAcquireDuringRestartNeverFails(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	if err := f.m.Start(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	tick := make(chan struct{})
	problems := make(chan string, 100)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				inst, release, err := f.m.Acquire(ctx, "shop", "main")
				if err != nil {
					problems <- "Acquire: " + err.Error()
					return
				}
				if inst.(*fakeInstance).closed() != 0 {
					problems <- "got a closed instance"
				}
				select {
				case tick <- struct{}{}:
				default:
				}
				if inst.(*fakeInstance).closed() != 0 {
					problems <- "instance closed while held"
				}
				release()
			}
		}()
	}
	for i := range 20 {
		f.commit("cubes:\n  - name: orders\n    sql_table: orders_" + string(rune('a'+i)) + "\n")
		open := f.rt.block()
		done := make(chan error)
		go func() { done <- f.m.Restart(ctx, "shop", "main") }()
		<-f.rt.started
		<-tick // a user got an instance while the new one compiles
		open()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		<-tick
	}
	close(stop)
	wg.Wait()
	close(problems)
	for p := range problems {
		t.Error(p)
	}
	f.wantState("shop", store.StateRunning, f.head())
	// Every replaced instance was closed exactly once; the serving one is open.
	for i, inst := range f.rt.built {
		want := 1
		if i == len(f.rt.built)-1 {
			want = 0
		}
		if inst.closed() != want {
			t.Fatalf("instance %d closed %d times, want %d", i, inst.closed(), want)
		}
	}
}

func TestHeartbeatErrorAndRecovery(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	v1 := f.head()
	if err := f.m.Start(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	if hb := f.status("shop").HeartbeatAt; !hb.IsZero() {
		t.Fatalf("heartbeat before the first round: %v", hb)
	}
	f.clock.Advance(10 * time.Second)
	f.m.Heartbeat(ctx)
	st := f.wantState("shop", store.StateRunning, v1)
	if !st.HeartbeatAt.Equal(f.clock.Now()) {
		t.Fatalf("heartbeat_at %v, want %v", st.HeartbeatAt, f.clock.Now())
	}

	inst := f.rt.built[0]
	inst.setPing(errors.New("dial tcp 127.0.0.1:5432: connection refused"))
	f.clock.Advance(10 * time.Second)
	f.m.Heartbeat(ctx)
	st = f.wantState("shop", store.StateError, v1)
	if !strings.Contains(st.Error, "connection refused") || st.ServingPrevious || st.ServingVersion != v1 {
		t.Fatalf("status %+v", st)
	}
	if !st.HeartbeatAt.Equal(f.clock.Now()) {
		t.Fatalf("heartbeat_at %v, want %v", st.HeartbeatAt, f.clock.Now())
	}
	// The instance is kept: requests still reach it.
	got, release := f.acquire("shop")
	if got != inst {
		t.Fatal("Acquire while the source is down did not get the instance")
	}
	release()

	inst.setPing(nil)
	f.m.Heartbeat(ctx)
	st = f.wantState("shop", store.StateRunning, v1)
	if st.Error != "" || inst.closed() != 0 || f.rt.builds() != 1 {
		t.Fatalf("after recovery %+v, closed %d, builds %d", st, inst.closed(), f.rt.builds())
	}
}

func TestOnDemandWakeAndIdleStop(t *testing.T) {
	f := setup(t, `{"mode":"on_demand","idle_timeout":"5m"}`)
	v1 := f.head()

	// A request that gives up while the deployment starts gets its context's error; the
	// start goes on, and the next request waits for it.
	open := f.rt.block()
	gaveUp, cancel := context.WithCancel(ctx)
	failed := make(chan error)
	go func() {
		_, _, err := f.m.Acquire(gaveUp, "shop", "main")
		failed <- err
	}()
	<-f.rt.started
	f.wantState("shop", store.StatePending, v1)
	cancel()
	if err := <-failed; !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire with a canceled context: %v", err)
	}
	type acquired struct {
		inst    platform.Instance
		release func()
		err     error
	}
	waiting := make(chan acquired)
	go func() {
		inst, release, err := f.m.Acquire(ctx, "shop", "main")
		waiting <- acquired{inst, release, err}
	}()
	open()
	a := <-waiting
	if a.err != nil {
		t.Fatal(a.err)
	}
	f.wantState("shop", store.StateRunning, v1)
	first := a.inst.(*fakeInstance)

	// In use for longer than the idle time: not idle.
	f.clock.Advance(6 * time.Minute)
	f.m.StopIdle(ctx)
	f.wantState("shop", store.StateRunning, v1)
	a.release() // the last use is now

	f.clock.Advance(5 * time.Minute)
	f.m.StopIdle(ctx)
	f.wantState("shop", store.StateRunning, v1)

	f.clock.Advance(time.Second)
	f.m.StopIdle(ctx)
	f.wantState("shop", store.StateStopped, v1)
	if first.closed() != 1 {
		t.Fatalf("idle instance closed %d times", first.closed())
	}

	// The next request wakes it again, with a new instance.
	second, release := f.acquire("shop")
	release()
	if second == first || f.rt.builds() != 2 {
		t.Fatalf("wake-up built %d instances", f.rt.builds())
	}
	f.wantState("shop", store.StateRunning, v1)
}

func TestOnDemandWakeFailure(t *testing.T) {
	f := setup(t, `{"mode":"on_demand"}`)
	f.rt.set(func(r *fakeRuntime) { r.fail = &errs.Error{Kind: errs.KindModel, Message: modelErr} })
	_, _, err := f.m.Acquire(ctx, "shop", "main")
	wantKind(t, err, errs.KindModel, modelErr)
	f.wantState("shop", store.StateError, f.head())
}

func TestAlwaysOnIsNotIdleStopped(t *testing.T) {
	f := setup(t, `{"mode":"always_on","idle_timeout":"1m"}`)
	if err := f.m.Start(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(time.Hour)
	f.m.StopIdle(ctx)
	f.wantState("shop", store.StateRunning, f.head())
}

// TestStartAll boots a second Manager on the store the first one left, as a restarted node.
func TestStartAll(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	f.addProject("lazy", `{"mode":"on_demand"}`)
	f.addProject("parked", `{"mode":"always_on"}`)
	for _, p := range []string{"lazy", "parked"} {
		if err := f.m.Start(ctx, p, "main"); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.m.Stop(ctx, "parked", "main"); err != nil {
		t.Fatal(err)
	}
	if err := f.m.Close(); err != nil {
		t.Fatal(err)
	}

	f.m = f.manager()
	before := f.rt.builds()
	if err := f.m.StartAll(ctx); err != nil {
		t.Fatal(err)
	}
	v := f.head()
	f.wantState("shop", store.StateRunning, v)   // always on, never deployed: main started
	f.wantState("lazy", store.StateStopped, v)   // on demand: waits for a request
	f.wantState("parked", store.StateStopped, v) // stopped on purpose stays stopped
	if got := f.rt.builds() - before; got != 1 {
		t.Fatalf("StartAll built %d instances, want 1", got)
	}
}

func TestRunBeatsUntilCanceled(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	m := platform.NewManager(platform.Options{Store: f.store, Runtime: f.rt, Clock: f.clock.Now,
		HeartbeatInterval: time.Millisecond, Repos: func(string) (*gitrepo.Repo, error) { return f.repo, nil }})
	defer m.Close()
	if err := m.Start(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	inst := f.rt.built[0]
	<-inst.pinged // drain the start's ping
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { m.Run(runCtx); close(done) }()
	<-inst.pinged
	cancel()
	<-done
}

func TestCloseClosesInstances(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	if err := f.m.Start(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	inst, release := f.acquire("shop")
	if err := f.m.Close(); err != nil {
		t.Fatal(err)
	}
	if inst.closed() != 0 {
		t.Fatal("closed under a user")
	}
	release()
	if inst.closed() != 1 {
		t.Fatal("not closed after the last user")
	}
	_, _, err := f.m.Acquire(ctx, "shop", "main")
	wantKind(t, err, errs.KindUnavailable, "shutting down")
	// The recorded state is kept for the next boot.
	f.wantState("shop", store.StateRunning, f.head())
}

func TestParseConfig(t *testing.T) {
	for _, c := range []struct {
		in   string
		want platform.Config
		err  string
	}{
		{in: ``, want: platform.Config{Mode: platform.ModeAlwaysOn, IdleTimeout: platform.DefaultIdleTimeout}},
		{in: `{}`, want: platform.Config{Mode: platform.ModeAlwaysOn, IdleTimeout: platform.DefaultIdleTimeout}},
		{in: `{"mode":"on_demand"}`, want: platform.Config{Mode: platform.ModeOnDemand, IdleTimeout: 15 * time.Minute}},
		{in: `{"mode":"on_demand","idle_timeout":"90s"}`, want: platform.Config{Mode: platform.ModeOnDemand, IdleTimeout: 90 * time.Second}},
		{in: `{"mode":"scheduled"}`, err: `needs "schedule"`},
		{in: `{"mode":"sometimes"}`, err: `unknown mode "sometimes"`},
		{in: `{"mode":"on_demand","idle_timeout":"soon"}`, err: `idle_timeout "soon"`},
		{in: `{"mode":"on_demand","idle_timeout":"-1m"}`, err: `idle_timeout "-1m"`},
		{in: `{"mode":"on_demand","idle":"1m"}`, err: `unknown field "idle"`},
	} {
		got, err := platform.ParseConfig(json.RawMessage(c.in))
		if c.err != "" {
			if err == nil {
				t.Errorf("%s: no error, want %q", c.in, c.err)
				continue
			}
			wantKind(t, err, errs.KindInvalid, c.err)
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

// TestImports keeps platform off the compiler and the APIs (DESIGN.md: platform manages
// engine instances through a narrow interface).
func TestImports(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"engine", "model", "query", "plan", "sqlgen", "restapi", "sqlapi", "server"} {
			if dep == "github.com/cubit-dev/cubit/internal/"+banned {
				t.Errorf("platform depends on %s", dep)
			}
		}
	}
}
