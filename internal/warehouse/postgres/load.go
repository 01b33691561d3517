package postgres

import (
	"context"
	"fmt"
	"iter"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/errs"
)

// LoadTables creates tables in the first schema of db's search_path and fills them with
// COPY, replacing any tables of the same names, then adds their primary keys and analyzes
// them. It runs in one transaction: on error no table is changed.
func LoadTables(ctx context.Context, db *DB, tables []demo.Table) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return classify(ctx, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	for _, t := range tables {
		if err := loadTable(ctx, tx, t); err != nil {
			return err
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return classify(ctx, err)
	}
	for _, t := range tables {
		if _, err := db.pool.Exec(ctx, "ANALYZE "+pgx.Identifier{t.Name}.Sanitize()); err != nil {
			return classify(ctx, err)
		}
	}
	return nil
}

func loadTable(ctx context.Context, tx pgx.Tx, t demo.Table) error {
	name := pgx.Identifier{t.Name}.Sanitize()
	cols := make([]string, len(t.Columns))
	defs := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		typ, err := pgType(c.Type)
		if err != nil {
			return errs.Wrap(errs.KindInternal, err, "table %s column %s", t.Name, c.Name)
		}
		cols[i] = c.Name
		defs[i] = pgx.Identifier{c.Name}.Sanitize() + " " + typ
	}
	ddl := []string{
		"DROP TABLE IF EXISTS " + name,
		fmt.Sprintf("CREATE TABLE %s (%s)", name, strings.Join(defs, ", ")),
	}
	for _, stmt := range ddl {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return classify(ctx, err)
		}
	}
	next, stop := iter.Pull(t.Rows)
	defer stop()
	src := &rowSource{next: next}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{t.Name}, cols, src); err != nil {
		return classify(ctx, err)
	}
	// The key is added after the rows: building the index once is faster than maintaining it.
	if len(t.PrimaryKey) > 0 {
		keys := make([]string, len(t.PrimaryKey))
		for i, k := range t.PrimaryKey {
			keys[i] = pgx.Identifier{k}.Sanitize()
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD PRIMARY KEY (%s)", name, strings.Join(keys, ", "))); err != nil {
			return classify(ctx, err)
		}
	}
	return nil
}

// pgType spells a demo column type in PostgreSQL.
func pgType(t demo.ColumnType) (string, error) {
	switch t {
	case demo.Integer, demo.BigInt, demo.Varchar, demo.Boolean, demo.Timestamp:
		return string(t), nil
	case demo.Double:
		return "DOUBLE PRECISION", nil
	}
	if _, _, ok := t.DecimalParts(); ok {
		return string(t), nil
	}
	return "", fmt.Errorf("unknown column type %q", t)
}

// rowSource adapts a pulled row iterator to pgx.CopyFromSource.
type rowSource struct {
	next func() ([]any, bool)
	row  []any
}

func (s *rowSource) Next() bool {
	row, ok := s.next()
	s.row = row
	return ok
}

func (s *rowSource) Values() ([]any, error) { return s.row, nil }

func (s *rowSource) Err() error { return nil }
