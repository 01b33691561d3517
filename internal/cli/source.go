package cli

import (
	"context"
	"io/fs"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/config"
	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/warehouse"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
	"github.com/cubit-dev/cubit/internal/warehouse/postgres"
)

// loadModel loads the model folder, or the embedded demo model when dir is "".
func loadModel(dir string) (*model.Model, error) {
	if dir != "" {
		return model.Load(dir)
	}
	sub, err := fs.Sub(demo.Model, "model")
	if err != nil {
		return nil, err
	}
	return model.LoadFS(sub)
}

// openSource opens the configured data source. With no CUBEJS_DB_TYPE it is an in-memory
// DuckDB holding the generated demo shop.
func openSource(ctx context.Context, cfg config.Config) (warehouse.Warehouse, dialect.Dialect, error) {
	switch cfg.DBType {
	case config.DBDuckDB:
		db, err := duckdb.Open(cfg.DuckDBPath, duckdb.Options{})
		return db, dialect.DuckDB{}, err
	case config.DBPostgres:
		url, err := postgres.URLFromEnv(cfg.Getenv)
		if err != nil {
			return nil, nil, errs.Invalid("%v", err)
		}
		db, err := postgres.Open(ctx, url)
		return db, dialect.Postgres{}, err
	}
	db, err := duckdb.Open("", duckdb.Options{})
	if err != nil {
		return nil, nil, err
	}
	if err := duckdb.LoadTables(ctx, db, demo.Shop(1)); err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, dialect.DuckDB{}, nil
}

// newEngine builds the engine of the configuration: its model, its source, its limits.
func newEngine(ctx context.Context, cfg config.Config, connect bool) (*engine.Engine, func(), error) {
	m, err := loadModel(cfg.ModelDir)
	if err != nil {
		return nil, nil, err
	}
	ecfg := engine.Config{
		DefaultLimit:                    cfg.DefaultLimit,
		MaxLimit:                        cfg.MaxLimit,
		DefaultTimezone:                 cfg.DefaultTimezone,
		AllowUngroupedWithoutPrimaryKey: cfg.AllowUngroupedWithoutPrimaryKey,
	}
	if !connect {
		d := dialect.Dialect(dialect.DuckDB{})
		if cfg.DBType == config.DBPostgres {
			d = dialect.Postgres{}
		}
		return engine.New(m, d, nil, ecfg), func() {}, nil
	}
	w, d, err := openSource(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return engine.New(m, d, w, ecfg), func() { w.Close() }, nil
}
