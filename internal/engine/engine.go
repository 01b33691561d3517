package engine

import (
	"context"
	"sync"
	"time"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/plan"
	"github.com/cubit-dev/cubit/internal/preagg"
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
	// CacheTTL is the refresh interval of cubes that declare no refresh_key: 0 takes Cube's
	// default for the data source (spec D.2: 10 seconds; 2 minutes for BigQuery, Snowflake
	// and other sources that bill per query). Negative disables the result cache.
	CacheTTL time.Duration
	// Cache is the result cache, shared by every engine of a deployment so that a reload
	// keeps the results of unchanged cubes. Nil: the engine makes its own, of CacheBytes
	// with the clock Now.
	Cache *Cache
	// CacheBytes caps the memory of the engine's own cache (default 64 MiB); unused when
	// Cache is set.
	CacheBytes int64
	// StaleIfSlowWait is how long a stale-if-slow query waits for a fresh result before it
	// serves the stale one (default 1 second).
	StaleIfSlowWait time.Duration
	// Metrics receives compile and execute times and cache events; nil counts nothing.
	Metrics *Metrics
	// PreAggregations is the local rollup store. Set, the engine serves the queries a built
	// rollup of the model answers from it (see PreAggregations()); nil reads the source only.
	PreAggregations *preagg.Store
	// PreAggregationTimezones are the zones rollups are built in; nil is UTC.
	PreAggregationTimezones []string
}

// DefaultConfig is Cube's defaults.
func DefaultConfig() Config {
	return Config{DefaultLimit: 10000, MaxLimit: 50000, DefaultTimezone: "UTC", CacheBytes: DefaultCacheBytes,
		StaleIfSlowWait: time.Second}
}

// Engine answers queries over one model version and one data source. It is safe for
// concurrent use and immutable: a reload builds a new Engine.
type Engine struct {
	model     *model.Model
	dialect   dialect.Dialect
	warehouse warehouse.Warehouse
	cfg       Config
	zones     query.LocationCache
	cache     *Cache // nil when disabled
	meta      metaCache
	// cubes memoises each cube's fingerprint and refresh schedule (*model.Cube → *cubeInfo).
	cubes sync.Map
	// rollups are the model's rollups over the store; nil without a store.
	rollups *preagg.Set
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
	if cfg.StaleIfSlowWait == 0 {
		cfg.StaleIfSlowWait = DefaultConfig().StaleIfSlowWait
	}
	e := &Engine{model: m, dialect: d, warehouse: w, cfg: cfg}
	switch {
	case cfg.CacheTTL < 0:
	case cfg.Cache != nil:
		e.cache = cfg.Cache
	default:
		e.cache = NewCache(CacheOptions{MaxBytes: cfg.CacheBytes, Now: cfg.Now, Metrics: cfg.Metrics})
	}
	if cfg.PreAggregations != nil && w != nil {
		e.rollups = preagg.New(m, d, w, cfg.PreAggregations, preagg.Options{
			Timezones:   cfg.PreAggregationTimezones,
			Fingerprint: func(c *model.Cube) string { return e.cubeInfo(c).fingerprint },
			Now:         cfg.Now,
			Locations:   e.zones.Load,
		})
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
	// Rollup is set when a pre-aggregation answers the query: Statement is then its SQL
	// over the rollup table, run on the rollup store.
	Rollup *preagg.Use
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
	c := &Compiled{Resolved: r, Plan: p, Statement: stmt}
	if !unlimited {
		e.useRollup(c)
	}
	return c, nil
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
	if c.Rollup != nil {
		return sqlgen.RenderTotal(c.Rollup.Plan, c.Rollup.Dialect())
	}
	return sqlgen.RenderTotal(c.Plan, e.dialect)
}
