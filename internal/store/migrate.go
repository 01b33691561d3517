package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrationFS embed.FS

// migration is one numbered file of migrations/<dialect>/, NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations reads the dialect's migrations in order. The two dialects keep the same
// numbers and names; only the column types differ (identity keys, BLOB/BYTEA).
func migrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("store: reading migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		file := e.Name()
		num, name, ok := strings.Cut(strings.TrimSuffix(file, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(file, ".sql") {
			return nil, fmt.Errorf("store: migration file %s is not NNNN_name.sql", file)
		}
		body, err := fs.ReadFile(migrationFS, path.Join(dir, file))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("store: migration %d is missing (found %d)", i+1, m.version)
		}
	}
	return out, nil
}

// migrate applies every migration the database has not recorded, each in its own
// transaction together with its row in schema_migrations, so that a crash leaves either
// all of a migration or none of it. Another node migrating at the same moment waits on
// the dialect's lock and then finds the version recorded.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations(s.dialect.name())
	if err != nil {
		return err
	}
	for _, m := range ms {
		err := s.inTx(ctx, func(x q) error {
			if lock := s.dialect.migrationLock(); lock != "" {
				if _, err := x.exec(ctx, lock); err != nil {
					return err
				}
			}
			if _, err := x.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version INTEGER PRIMARY KEY,
				name TEXT NOT NULL,
				applied_at BIGINT NOT NULL)`); err != nil {
				return err
			}
			var n int
			if err := x.row(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := x.exec(ctx, m.sql); err != nil {
				return fmt.Errorf("applying: %w", err)
			}
			_, err := x.exec(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.version, m.name, toMicros(s.nowUTC()))
			return err
		})
		if err != nil {
			return internal(err, "migration %04d_%s", m.version, m.name)
		}
	}
	return nil
}

// SchemaVersion is the highest migration the database has recorded.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.q().row(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations").Scan(&v); err != nil {
		return 0, internal(err, "reading the schema version")
	}
	return v, nil
}
