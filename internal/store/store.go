package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
)

// Store is the platform's persistence. It is safe for concurrent use, and several Stores
// (in one process or on several nodes) may share one PostgreSQL database.
type Store struct {
	db      *sql.DB
	dialect dialect
	now     func() time.Time
	// stmts holds the prepared statements of the lookups made on every request (a REST
	// token's check), by query text: preparing costs as much as running them.
	stmts sync.Map
}

// Option changes how Open builds a Store.
type Option func(*Store)

// WithClock makes the Store read the time from now instead of the wall clock, so that
// tests of schedules and heartbeats control the timestamps it records.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// Open connects to the store named by dsn and brings its schema up to date. A
// postgres:// or postgresql:// URL selects PostgreSQL; anything else is the path of a
// SQLite file, created (with its directory) when missing.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	s := &Store{now: time.Now}
	for _, o := range opts {
		o(s)
	}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		s.dialect = postgresDialect{}
		s.db, err = openPostgres(dsn)
	} else {
		s.dialect = sqliteDialect{}
		s.db, err = openSQLite(dsn)
	}
	if err != nil {
		return nil, err
	}
	if err := s.db.PingContext(ctx); err != nil {
		_ = s.db.Close()
		return nil, errs.Wrap(errs.KindUnavailable, err, "store: cannot connect")
	}
	if err := s.migrate(ctx); err != nil {
		_ = s.db.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the prepared statements and the connections.
func (s *Store) Close() error {
	s.stmts.Range(func(k, v any) bool {
		_ = v.(*sql.Stmt).Close()
		return true
	})
	return s.db.Close()
}

// hotRow runs a one-row lookup through a statement prepared on first use.
func (s *Store) hotRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt).QueryRowContext(ctx, args...)
	}
	st, err := s.db.PrepareContext(ctx, s.dialect.rebind(query))
	if err != nil {
		// Running it unprepared reports the error the same way a Scan would.
		return s.q().row(ctx, query, args...)
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		_ = st.Close()
		st = prev.(*sql.Stmt)
	}
	return st.QueryRowContext(ctx, args...)
}

// Backend names the engine behind the store: "sqlite" or "postgres".
func (s *Store) Backend() string { return s.dialect.name() }

// queryer is what *sql.DB and *sql.Tx have in common, so that a lookup can run inside or
// outside a transaction.
type queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// q is a queryer that rebinds placeholders for the dialect.
type q struct {
	x queryer
	d dialect
}

func (q q) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return q.x.ExecContext(ctx, q.d.rebind(query), args...)
}

func (q q) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return q.x.QueryContext(ctx, q.d.rebind(query), args...)
}

func (q q) row(ctx context.Context, query string, args ...any) *sql.Row {
	return q.x.QueryRowContext(ctx, q.d.rebind(query), args...)
}

func (s *Store) q() q { return q{s.db, s.dialect} }

// inTx runs fn in a transaction and commits it when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(q) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return internal(err, "beginning a transaction")
	}
	if err := fn(q{tx, s.dialect}); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return internal(err, "committing")
	}
	return nil
}

// internal wraps a database failure. Context errors keep their own kind.
func internal(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	var e *errs.Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return errs.Wrap(errs.KindInternal, err, "store: "+format, args...)
}

// notFound is the error for a named thing that does not exist, suggesting the nearest
// existing name.
func notFound(what, name string, candidates []string) error {
	return &errs.Error{
		Kind:       errs.KindNotFound,
		Message:    fmt.Sprintf("%s %q not found", what, name),
		Suggestion: errs.Nearest(name, candidates),
	}
}

// names returns one text column of a query, for suggestions.
func names(ctx context.Context, x q, query string, args ...any) []string {
	rows, err := x.query(ctx, query, args...)
	if err != nil {
		return nil
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if rows.Scan(&n) == nil {
			out = append(out, n)
		}
	}
	return out
}

// Times are stored as microseconds since the Unix epoch in a BIGINT: the same type and
// the same ordering in both engines, no time-zone conversion by either driver.
func toMicros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func fromNullMicros(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMicros(n.Int64)
}

// nowUTC truncates the clock to what the store keeps, so that a returned value equals
// the one read back later.
func (s *Store) nowUTC() time.Time { return s.now().UTC().Truncate(time.Microsecond) }
