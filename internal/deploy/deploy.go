package deploy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/platform"
	"github.com/cubit-dev/cubit/internal/store"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

// Options configure the Runtime.
type Options struct {
	// Engine is the configuration of every instance's engine: limits, default time zone,
	// result cache, and the Metrics that all instances share.
	Engine engine.Config
	// Logger receives the opening and closing of data sources; nil discards.
	Logger *slog.Logger
	// RollupSchema is the schema of rollup tables in each data source's local rollup store
	// ("" is preagg's default); the zones are Engine.PreAggregationTimezones.
	RollupSchema string
	// Demo, when set, is the warehouse of {"demo": true} environments: the demo shop that
	// the default deployment already holds, shared instead of loaded a second time. The
	// Runtime never closes it.
	Demo warehouse.Warehouse
}

// Runtime implements platform.Runtime with the engine: it compiles a branch's model and
// binds it to a warehouse from a shared pool. It is safe for concurrent use.
type Runtime struct {
	opt  Options
	pool *pool
}

var _ platform.Runtime = (*Runtime)(nil)

// NewRuntime returns a Runtime with an empty warehouse pool.
func NewRuntime(opt Options) *Runtime {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Runtime{opt: opt}
	r.pool = newPool(opt.Logger, func() *engine.Cache {
		return engine.NewCache(engine.CacheOptions{MaxBytes: opt.Engine.CacheBytes, Metrics: opt.Engine.Metrics})
	})
	return r
}

// Build compiles model and binds it to the warehouse of env, opening the warehouse when no
// instance holds it yet. The model is compiled first, so that a broken model costs no
// connection; its error is returned unchanged (kind model, one problem per line with
// file:line). Settings that do not decode are an invalid error. A PostgreSQL source that
// does not answer does not fail Build, since its pool connects lazily: the instance is
// returned and its Ping reports the outage, so that a heartbeat can see the source come
// back without a rebuild. A DuckDB file that cannot be opened fails Build as unavailable.
func (r *Runtime) Build(ctx context.Context, model fs.FS, version string, env store.Environment, secrets map[string][]byte) (platform.Instance, error) {
	inst, err := r.build(ctx, model, version, env, secrets)
	if err != nil {
		// A nil *Instance inside a non-nil interface would look like an instance.
		return nil, err
	}
	return inst, nil
}

func (r *Runtime) build(ctx context.Context, fsys fs.FS, version string, env store.Environment, secrets map[string][]byte) (*Instance, error) {
	m, err := loadModel(fsys)
	if err != nil {
		return nil, err
	}
	src, err := r.sourceOf(env, secrets)
	if err != nil {
		return nil, inEnvironment(env.Name, err)
	}
	e, err := r.pool.acquire(ctx, src)
	if err != nil {
		return nil, inEnvironment(env.Name, err)
	}
	cfg := r.engineConfig(e)
	if hasRollups(m) {
		if cfg.PreAggregations, err = e.rollupStore(r.opt.RollupSchema); err != nil {
			_ = r.pool.release(e)
			return nil, errs.Wrap(errs.KindInternal, err, "opening the rollup store")
		}
	}
	inst := &Instance{
		eng:     engine.New(m, src.dialect, e.w, cfg),
		version: version,
		pool:    r.pool,
		entry:   e,
	}
	if set := inst.eng.PreAggregations(); set != nil {
		// The rollups refresh in the background while this version serves.
		ctx, stop := context.WithCancel(context.Background())
		inst.stopRollups = stop
		go set.Run(ctx)
	}
	return inst, nil
}

// hasRollups reports whether a cube of m declares pre-aggregations.
func hasRollups(m *model.Model) bool {
	for _, c := range m.Cubes {
		if len(c.PreAggregations) > 0 {
			return true
		}
	}
	return false
}

// engineConfig is Options.Engine with the result cache of e's warehouse, unless the
// cache is off (a negative CacheTTL).
func (r *Runtime) engineConfig(e *entry) engine.Config {
	cfg := r.opt.Engine
	if cfg.CacheTTL >= 0 && cfg.Cache == nil {
		cfg.Cache = e.cache
	}
	return cfg
}

func loadModel(fsys fs.FS) (*model.Model, error) {
	if fsys == nil {
		return nil, &errs.Error{Kind: errs.KindInternal, Message: "deploy: no model file system"}
	}
	return model.LoadFS(fsys)
}

// Close closes the pooled warehouses and refuses later builds. It is for shutdown, after
// every instance is closed: an instance still open loses its data source.
func (r *Runtime) Close() error {
	return r.pool.close()
}

// poolSize is the number of warehouses open or opening, for tests.
func (r *Runtime) poolSize() int { return r.pool.size() }

// inEnvironment names the environment in err, keeping its kind and its cause.
func inEnvironment(name string, err error) error {
	k := errs.KindOf(err)
	if k == errs.KindInvalid {
		// An invalid error's text leaves out its cause, so the message carries it.
		return errs.Wrap(k, err, "environment %q: %v", name, err)
	}
	return errs.Wrap(k, err, "environment %q", name)
}

// Instance is one compiled model version bound to its warehouse. It implements
// platform.Instance, and restapi.Engines and the SQL API's Engines through Engine.
type Instance struct {
	eng     *engine.Engine
	version string
	pool    *pool
	entry   *entry

	stopRollups context.CancelFunc // ends the rollups' background refresh; nil without rollups

	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool
}

var _ platform.Instance = (*Instance)(nil)

// Engine returns the engine that answers this version's queries.
func (i *Instance) Engine() *engine.Engine { return i.eng }

// Version returns the model version the instance was built from.
func (i *Instance) Version() string { return i.version }

// Ping reports whether the data source answers; the error is unavailable when it does not.
func (i *Instance) Ping(ctx context.Context) error {
	if i.closed.Load() {
		return &errs.Error{Kind: errs.KindUnavailable, Message: fmt.Sprintf("the instance of version %s is closed", i.version)}
	}
	return i.entry.w.Ping(ctx)
}

// Close releases the instance's use of its warehouse, which closes when no other instance
// holds it. Queries in flight on a warehouse that closes fail. Close may be called more
// than once; later calls return the first call's error.
func (i *Instance) Close() error {
	i.closeOnce.Do(func() {
		i.closed.Store(true)
		if i.stopRollups != nil {
			i.stopRollups()
		}
		i.closeErr = i.pool.release(i.entry)
	})
	return i.closeErr
}

// warehouse returns the instance's warehouse, for tests that check results against it.
func (i *Instance) warehouse() warehouse.Warehouse { return i.entry.w }

// CheckModel compiles model and returns its problems (kind model, file:line), without
// deploying it: the platform refuses a model file write that would break the branch.
//
// The error carries the problems one by one (platform.ModelProblem), for a UI that shows
// each at its line.
func (r *Runtime) CheckModel(fsys fs.FS) error {
	_, err := loadModel(fsys)
	var ps model.Problems
	if !errors.As(err, &ps) {
		return err
	}
	out := make([]platform.ModelProblem, len(ps))
	for i, p := range ps {
		out[i] = platform.ModelProblem{File: p.Pos.File, Line: p.Pos.Line, Message: p.Message}
	}
	return &problemsError{err: err, problems: out}
}

// problemsError is a model error with its problems listed.
type problemsError struct {
	err      error
	problems []platform.ModelProblem
}

func (e *problemsError) Error() string                          { return e.err.Error() }
func (e *problemsError) Unwrap() error                          { return e.err }
func (e *problemsError) ModelProblems() []platform.ModelProblem { return e.problems }

// CheckEnvironment opens env's data source (or takes the pooled one) and pings it: the
// platform refuses to save settings that cannot connect. The embedded demo is not opened:
// it always answers.
func (r *Runtime) CheckEnvironment(ctx context.Context, env store.Environment, secrets map[string][]byte) error {
	src, err := r.sourceOf(env, secrets)
	if err != nil {
		return err
	}
	if src.key == demoKey {
		return nil
	}
	e, err := r.pool.acquire(ctx, src)
	if err != nil {
		return err
	}
	defer func() { _ = r.pool.release(e) }()
	return e.w.Ping(ctx)
}
