package platform_test

import (
	"context"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/platform"
	"github.com/cubit-dev/cubit/internal/platform/gitrepo"
	"github.com/cubit-dev/cubit/internal/store"
)

// The Reconcile tests run two Managers on one store and one repository, as two nodes:
// f.m is node A, and b the other.

func serving(t *testing.T, m *platform.Manager, project string) string {
	t.Helper()
	st, err := m.Status(ctx, project, "main")
	if err != nil {
		t.Fatal(err)
	}
	return st.ServingVersion
}

func TestReconcileFollowsStartRestartStop(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	b := f.manager()
	v1 := f.head()

	b.Reconcile(ctx) // nothing recorded yet: nothing to follow
	if f.rt.attempts() != 0 {
		t.Fatalf("%d builds before any deployment was recorded", f.rt.attempts())
	}
	if err := f.m.Start(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	before := f.wantState("shop", store.StateRunning, v1)
	b.Reconcile(ctx)
	if got := serving(t, b, "shop"); got != v1 {
		t.Fatalf("B serves %q after following A's start, want %s", got, v1)
	}
	// Following writes nothing: the state and its Since are A's.
	if st := f.wantState("shop", store.StateRunning, v1); !st.Since.Equal(before.Since) {
		t.Fatalf("B's start moved since from %v to %v", before.Since, st.Since)
	}
	// Nobody acts on what agrees, A on its own writes included.
	f.m.Reconcile(ctx)
	b.Reconcile(ctx)
	if f.rt.attempts() != 2 {
		t.Fatalf("%d builds, want 2 (one per node)", f.rt.attempts())
	}
	onB, release := acquireOn(t, b, "shop")
	release()

	v2 := f.commit("cubes:\n  - name: orders\n    sql_table: orders_v2\n")
	if err := f.m.Restart(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	b.Reconcile(ctx)
	if got := serving(t, b, "shop"); got != v2 {
		t.Fatalf("B serves %q after A restarted onto %s", got, v2)
	}
	if onB.closed() != 1 {
		t.Fatalf("B's previous instance closed %d times", onB.closed())
	}
	f.wantState("shop", store.StateRunning, v2)
	onB = f.rt.last()

	if err := f.m.Stop(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	stopped := f.wantState("shop", store.StateStopped, v2)
	f.clock.Advance(time.Second) // so that a write by B would show in Since
	b.Reconcile(ctx)
	if got := serving(t, b, "shop"); got != "" || onB.closed() != 1 {
		t.Fatalf("B serves %q (instance closed %d times) after A stopped it", got, onB.closed())
	}
	if st := f.wantState("shop", store.StateStopped, v2); !st.Since.Equal(stopped.Since) {
		t.Fatal("B wrote the store when it followed the stop")
	}
	_, _, err := b.Acquire(ctx, "shop", "main")
	wantKind(t, err, errs.KindConflict, "STOPPED")
	b.Reconcile(ctx)
	if f.rt.attempts() != 4 {
		t.Fatalf("%d builds, want 4", f.rt.attempts())
	}
}

func acquireOn(t *testing.T, m *platform.Manager, project string) (*fakeInstance, func()) {
	t.Helper()
	inst, release, err := m.Acquire(ctx, project, "main")
	if err != nil {
		t.Fatal(err)
	}
	return inst.(*fakeInstance), release
}

// TestReconcileKeepsServingOnErrors: a restart that fails elsewhere, and a build that
// fails here, leave what serves here as it is, and the failing build is not tried again
// every round.
func TestReconcileKeepsServingOnErrors(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	b := f.manager()
	v1 := f.head()
	if err := f.m.Start(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	b.Reconcile(ctx)
	f.commit("cubes:\n  - name: orders\n    measures: [{name: count, type: cuont}]\n")
	f.rt.set(func(r *fakeRuntime) { r.fail = &errs.Error{Kind: errs.KindModel, Message: modelErr} })
	if err := f.m.Restart(ctx, "shop", "main"); errs.KindOf(err) != errs.KindModel {
		t.Fatalf("restart on a broken model: %v", err)
	}
	attempts := f.rt.attempts()
	b.Reconcile(ctx)
	if got := serving(t, b, "shop"); got != v1 || f.rt.attempts() != attempts {
		t.Fatalf("B serves %q after %d more builds, want %s and none", got, f.rt.attempts()-attempts, v1)
	}

	// A fixed model that A builds but B cannot (say B cannot unseal): B tries once, keeps
	// its version, and leaves the store to A.
	f.rt.set(func(r *fakeRuntime) { r.fail = nil })
	v3 := f.commit("cubes:\n  - name: orders\n    sql_table: orders\n")
	if err := f.m.Restart(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	f.rt.set(func(r *fakeRuntime) { r.fail = errs.Wrap(errs.KindInternal, nil, "unsealing secret") })
	attempts = f.rt.attempts()
	b.Reconcile(ctx)
	b.Reconcile(ctx)
	if got := serving(t, b, "shop"); got != v1 || f.rt.attempts() != attempts+1 {
		t.Fatalf("B serves %q after %d builds, want %s after 1", got, f.rt.attempts()-attempts, v1)
	}
	f.wantState("shop", store.StateRunning, v3)
	// A new version is tried again.
	f.rt.set(func(r *fakeRuntime) { r.fail = nil })
	v4 := f.commit("cubes:\n  - name: orders\n    sql_table: orders_v4\n")
	if err := f.m.Restart(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	b.Reconcile(ctx)
	if got := serving(t, b, "shop"); got != v4 {
		t.Fatalf("B serves %q, want %s", got, v4)
	}
}

// TestReconcileSkipsOwnLoad: while a node compiles, the store says PENDING at the new
// version; its own Reconcile neither waits for the load nor starts another.
func TestReconcileSkipsOwnLoad(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	if err := f.m.Start(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	v2 := f.commit("cubes:\n  - name: orders\n    sql_table: orders_v2\n")
	open := f.rt.block()
	done := make(chan error)
	go func() { done <- f.m.Restart(ctx, "shop", "main") }()
	<-f.rt.started
	f.wantState("shop", store.StatePending, v2)
	f.m.Reconcile(ctx)
	open()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	f.m.Reconcile(ctx)
	if f.rt.attempts() != 2 {
		t.Fatalf("%d builds, want 2", f.rt.attempts())
	}
	f.wantState("shop", store.StateRunning, v2)
}

// TestReconcileOnDemand: on-demand deployments are not started by Reconcile; a stop
// elsewhere stops one idle here, and one still in use here is recorded RUNNING again.
func TestReconcileOnDemand(t *testing.T) {
	f := setup(t, `{"mode":"on_demand","idle_timeout":"5m"}`)
	b := f.manager()
	v1 := f.head()
	_, release := f.acquire("shop")
	release()
	b.Reconcile(ctx)
	if got := serving(t, b, "shop"); got != "" || f.rt.attempts() != 1 {
		t.Fatalf("B serves %q: an on-demand deployment waits for its requests", got)
	}
	_, release = acquireOn(t, b, "shop")
	release()

	// A's idle timeout stops A's instance and records STOPPED; B has just served a request.
	f.clock.Advance(6 * time.Minute)
	_, release = acquireOn(t, b, "shop")
	release()
	f.m.StopIdle(ctx)
	f.wantState("shop", store.StateStopped, v1)
	b.Reconcile(ctx)
	f.wantState("shop", store.StateRunning, v1)
	if got := serving(t, b, "shop"); got != v1 {
		t.Fatalf("B serves %q after A's idle stop, want %s", got, v1)
	}

	// A stop by hand through A, with B idle for longer than a heartbeat: B stops too.
	f.clock.Advance(time.Minute)
	if err := f.m.Stop(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	b.Reconcile(ctx)
	f.wantState("shop", store.StateStopped, v1)
	if got := serving(t, b, "shop"); got != "" {
		t.Fatalf("B serves %q after a stop through A", got)
	}
	// Its next request wakes it again.
	_, release = acquireOn(t, b, "shop")
	release()
	f.wantState("shop", store.StateRunning, v1)
}

// TestReconcileDeletedAndUnrecorded: a deployment deleted with its project through another
// node is closed here without a store write; an always_on project without a deployment row
// is left to the node that created it.
func TestReconcileDeletedAndUnrecorded(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	b := f.manager()
	if err := f.m.Start(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	b.Reconcile(ctx)
	onB := f.rt.last()
	f.addProject("fresh", `{"mode":"always_on"}`)
	if err := f.m.Stop(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.DeleteProject(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	attempts := f.rt.attempts()
	b.Reconcile(ctx)
	if onB.closed() != 1 {
		t.Fatalf("B's instance of the deleted project closed %d times", onB.closed())
	}
	if f.rt.attempts() != attempts {
		t.Fatal("B built a project that has no deployment row")
	}
	if ds, err := f.store.ListDeployments(ctx, ""); err != nil || len(ds) != 0 {
		t.Fatalf("deployments after B followed a deletion: %+v, %v", ds, err)
	}
}

// TestReconcileScheduled follows a scheduled deployment started by hand elsewhere.
func TestReconcileScheduled(t *testing.T) {
	f := setup(t, `{"mode":"scheduled","schedule":[{"start":"0 8 * * *","end":"0 20 * * *"}]}`)
	b := f.manager()
	if err := f.m.Start(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	b.Reconcile(ctx)
	if got := serving(t, b, "shop"); got != f.head() {
		t.Fatalf("B serves %q", got)
	}
}

// TestRunReconciles: Run follows another node's start on its own.
func TestRunReconciles(t *testing.T) {
	f := setup(t, `{"mode":"always_on"}`)
	if err := f.m.Start(ctx, "shop", "main"); err != nil {
		t.Fatal(err)
	}
	b := platform.NewManager(platform.Options{Store: f.store, Runtime: f.rt, Clock: f.clock.Now,
		HeartbeatInterval: time.Millisecond, Repos: func(string) (*gitrepo.Repo, error) { return f.repo, nil }})
	defer b.Close()
	open := f.rt.block()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { b.Run(runCtx); close(done) }()
	if got := <-f.rt.started; got != f.head() { // B's build, begun by Run
		t.Fatalf("B builds %s", got)
	}
	open()
	cancel()
	<-done
	if got := serving(t, b, "shop"); got != f.head() {
		t.Fatalf("B serves %q", got)
	}
}
