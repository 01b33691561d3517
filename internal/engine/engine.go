package engine

import (
	"context"
	"time"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/plan"
	"github.com/cubit-dev/cubit/internal/query"
	"github.com/cubit-dev/cubit/internal/sqlgen"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

// Config holds the query limits and defaults of a deployment.
type Config struct {
	// DefaultLimit is the row limit of a query that sets none (CUBEJS_DB_QUERY_DEFAULT_LIMIT).
	DefaultLimit int
	// MaxLimit is the largest limit a query may ask for (CUBEJS_DB_QUERY_LIMIT).
	MaxLimit int
	// DefaultTimezone is the time zone of a query that sets none (CUBEJS_DEFAULT_TIMEZONE).
	DefaultTimezone string
	// AllowUngroupedWithoutPrimaryKey lifts the primary-key rule of ungrouped queries.
	AllowUngroupedWithoutPrimaryKey bool
	// Now is the clock for relative date ranges; nil means time.Now.
	Now func() time.Time
	// CacheTTL is how long a result stays fresh in the result cache (Cube's default refresh
	// key: 10 seconds); negative disables the cache.
	CacheTTL time.Duration
	// CacheBytes caps the result cache's memory (default 64 MiB).
	CacheBytes int64
	// Metrics receives compile and execute times and cache events; nil counts nothing.
	Metrics *Metrics
}

// DefaultConfig is Cube's defaults.
func DefaultConfig() Config {
	return Config{DefaultLimit: 10000, MaxLimit: 50000, DefaultTimezone: "UTC", CacheTTL: 10 * time.Second, CacheBytes: 64 << 20}
}

// Engine answers queries over one model version and one data source. It is safe for
// concurrent use and immutable: a reload builds a new Engine.
type Engine struct {
	model     *model.Model
	dialect   dialect.Dialect
	warehouse warehouse.Warehouse
	cfg       Config
	zones     query.LocationCache
	cache     *resultCache // nil when disabled
	meta      metaCache
}

// New returns an engine. The warehouse may be nil for an engine that only compiles.
func New(m *model.Model, d dialect.Dialect, w warehouse.Warehouse, cfg Config) *Engine {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.DefaultLimit == 0 {
		cfg.DefaultLimit = DefaultConfig().DefaultLimit
	}
	if cfg.MaxLimit == 0 {
		cfg.MaxLimit = DefaultConfig().MaxLimit
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultConfig().CacheTTL
	}
	if cfg.CacheBytes == 0 {
		cfg.CacheBytes = DefaultConfig().CacheBytes
	}
	e := &Engine{model: m, dialect: d, warehouse: w, cfg: cfg}
	if cfg.CacheTTL > 0 {
		e.cache = newResultCache(cfg.CacheTTL, cfg.CacheBytes, cfg.Metrics)
	}
	return e
}

// Model returns the engine's model.
func (e *Engine) Model() *model.Model { return e.model }

// Dialect returns the engine's SQL dialect.
func (e *Engine) Dialect() dialect.Dialect { return e.dialect }

// Compiled is a query taken through every compiler stage.
type Compiled struct {
	Resolved  *query.Resolved
	Plan      *plan.Plan
	Statement *sqlgen.Statement
}

// Compile normalises, resolves, plans and renders one query.
func (e *Engine) Compile(q *query.Query) (*Compiled, error) {
	return e.compile(q, false)
}

// compile is Compile; unlimited drops the default row limit (and lets an explicit limit
// exceed the maximum), for exports that stream every row.
func (e *Engine) compile(q *query.Query, unlimited bool) (*Compiled, error) {
	defer e.cfg.Metrics.observe("compile", time.Now())
	explicit := q.Limit
	if unlimited {
		one := *q
		one.Limit = nil
		q = &one
	}
	n, err := query.Normalize(q, query.Options{
		Now:             e.cfg.Now(),
		DefaultTimezone: e.cfg.DefaultTimezone,
		DefaultLimit:    e.cfg.DefaultLimit,
		MaxLimit:        e.cfg.MaxLimit,
		Locations:       e.zones.Load,
	})
	if err != nil {
		return nil, err
	}
	if unlimited {
		n.Limit = 0
		if explicit != nil {
			n.Limit = *explicit
		}
	}
	r, err := query.Resolve(n, e.model)
	if err != nil {
		return nil, err
	}
	p, err := plan.Build(r, plan.Options{AllowUngroupedWithoutPrimaryKey: e.cfg.AllowUngroupedWithoutPrimaryKey})
	if err != nil {
		return nil, err
	}
	stmt, err := sqlgen.Render(p, e.dialect)
	if err != nil {
		return nil, err
	}
	return &Compiled{Resolved: r, Plan: p, Statement: stmt}, nil
}

// run executes a statement and reads all its rows.
func (e *Engine) run(ctx context.Context, sql string, args []any) ([][]any, error) {
	defer e.cfg.Metrics.observe("execute", time.Now())
	rows, err := e.warehouse.Query(ctx, sql, args)
	if err != nil {
		return nil, err
	}
	_, data, err := warehouse.Collect(rows)
	return data, err
}

func renderTotal(c *Compiled, e *Engine) (*sqlgen.Statement, error) {
	return sqlgen.RenderTotal(c.Plan, e.dialect)
}
