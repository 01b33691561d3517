package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/platform"
	"github.com/cubit-dev/cubit/internal/store"
	"github.com/cubit-dev/cubit/internal/warehouse"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
	"github.com/cubit-dev/cubit/internal/warehouse/postgres"
)

// demoScale is the size of the demo shop of {"demo": true}: 100,000 orders, as cubit serve
// without a data source has.
const demoScale = 1

// demoKey is the pool key of the embedded demo shop.
const demoKey = "duckdb demo"

// source is what an environment connects to: the pool key, the dialect, and how to open
// the warehouse.
type source struct {
	// key identifies the warehouse: two environments with the same key share one.
	key string
	// desc names the source in logs and errors; it never holds a secret.
	desc    string
	dialect dialect.Dialect
	open    func(ctx context.Context) (warehouse.Warehouse, error)
}

// sourceOf decodes env's settings into the source they describe.
func (r *Runtime) sourceOf(env store.Environment, secrets map[string][]byte) (source, error) {
	s, err := platform.ParseEnvSettings(env.Type, env.Settings)
	if err != nil {
		return source{}, err
	}
	switch env.Type {
	case store.EnvironmentDuckDB:
		if s.Demo {
			return source{
				key:     demoKey,
				desc:    "duckdb demo shop",
				dialect: dialect.DuckDB{},
				open:    r.openDemo,
			}, nil
		}
		path, err := canonicalPath(s.Path)
		if err != nil {
			return source{}, errs.Invalid("environment settings: DuckDB path %q: %v", s.Path, err)
		}
		// The key has no secrets: DuckDB takes none, and a second key for one file would
		// open the file twice, which DuckDB refuses.
		return source{
			key:     "duckdb file " + path,
			desc:    "duckdb " + path,
			dialect: dialect.DuckDB{},
			open: func(context.Context) (warehouse.Warehouse, error) {
				db, err := duckdb.Open(path, duckdb.Options{ReadOnly: true})
				if err != nil {
					return nil, err
				}
				return db, nil
			},
		}, nil
	case store.EnvironmentPostgres:
		// The settings are keyed as ParseEnvSettings decoded them, re-encoded, so that
		// spacing and field order in the stored JSON do not split a pool.
		norm, err := json.Marshal(s)
		if err != nil {
			return source{}, errs.Wrap(errs.KindInternal, err, "encoding environment settings")
		}
		connURL := s.PostgresURL(secrets)
		return source{
			key:     "postgres " + string(norm) + " " + secretsHash(secrets),
			desc:    "postgres " + redact(connURL),
			dialect: dialect.Postgres{},
			open: func(ctx context.Context) (warehouse.Warehouse, error) {
				db, err := postgres.Open(ctx, connURL)
				if err != nil {
					return nil, err
				}
				return db, nil
			},
		}, nil
	}
	// ParseEnvSettings refuses every other type; this is a guard for a type added there
	// and not here.
	return source{}, errs.Invalid("environment: type %q is not supported by this server", env.Type)
}

// openDemo loads the demo shop into an in-memory DuckDB, or borrows Options.Demo.
func (r *Runtime) openDemo(ctx context.Context) (warehouse.Warehouse, error) {
	if r.opt.Demo != nil {
		return borrowed{r.opt.Demo}, nil
	}
	db, err := duckdb.Open("", duckdb.Options{})
	if err != nil {
		return nil, err
	}
	if err := duckdb.LoadTables(ctx, db, demo.Shop(demoScale)); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

// canonicalPath makes path absolute and resolves its symbolic links when it exists, so
// that two spellings of one DuckDB file share one warehouse.
func canonicalPath(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real, nil
	}
	// A missing file keeps its absolute path: opening it fails with DuckDB's own message.
	return abs, nil
}

// secretsHash is a digest of every secret, names and values, so that a changed password
// gives a new warehouse key without the key holding the password.
func secretsHash(secrets map[string][]byte) string {
	names := make([]string, 0, len(secrets))
	for name := range secrets {
		names = append(names, name)
	}
	slices.Sort(names)
	h := sha256.New()
	for _, name := range names {
		// Lengths first, so that no two different maps encode alike.
		h.Write([]byte(strconv.Itoa(len(name)) + ":" + name + strconv.Itoa(len(secrets[name])) + ":"))
		h.Write(secrets[name])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// redact drops the password from a connection URL, for logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// borrowed is a warehouse the Runtime uses but does not own: closing it does nothing.
type borrowed struct{ warehouse.Warehouse }

func (borrowed) Close() error { return nil }
