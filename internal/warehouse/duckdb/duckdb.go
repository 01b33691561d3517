package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

// Options are the database-wide settings of a DuckDB database. The zero value keeps
// DuckDB's defaults.
type Options struct {
	// MemoryLimit caps DuckDB's memory, in DuckDB's syntax ("1GB", "512MB"); "" keeps the
	// default (80% of the machine's memory).
	MemoryLimit string
	// Threads is the number of worker threads; 0 keeps the default (one per core).
	Threads int
	// ReadOnly opens a database file without write access, so several processes can share it.
	ReadOnly bool
}

// DB is a DuckDB database. It implements warehouse.Warehouse and is safe for concurrent use.
type DB struct {
	db *sql.DB
	// stmts holds prepared statements by SQL text, up to maxStatements: Cubit sends the
	// same statements again and again (a dashboard's queries), and DuckDB's parsing and
	// planning cost about a sixth of a small query. Past the cap, statements run unprepared.
	stmts  sync.Map // string → *sql.Stmt
	nstmts atomic.Int32
}

// maxStatements bounds the prepared statements a DB keeps.
const maxStatements = 1024

// prepared returns the prepared statement of query, preparing it on first use, or nil when
// the cache is full, the statement does not prepare (running it unprepared then reports the
// error as usual) or it is not a query: statements that change the catalog (a rollup's
// CREATE TABLE, DROP TABLE) name a new table each time and would only fill the cache.
func (d *DB) prepared(ctx context.Context, query string) *sql.Stmt {
	head := strings.ToUpper(strings.TrimSpace(query[:min(len(query), 16)]))
	if !strings.HasPrefix(head, "SELECT") && !strings.HasPrefix(head, "WITH") {
		return nil
	}
	if st, ok := d.stmts.Load(query); ok {
		return st.(*sql.Stmt)
	}
	if d.nstmts.Load() >= maxStatements {
		return nil
	}
	st, err := d.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if prev, loaded := d.stmts.LoadOrStore(query, st); loaded {
		_ = st.Close()
		return prev.(*sql.Stmt)
	}
	d.nstmts.Add(1)
	return st
}

var _ warehouse.Warehouse = (*DB)(nil)

// Open opens the DuckDB database file at path, creating it if needed, or an in-memory
// database when path is "". Every connection runs with extension auto-install and
// auto-load off (this machine cannot download extensions, and a query must not trigger a
// download) and with the session time zone set to UTC, so TIMESTAMP WITH TIME ZONE values
// and time functions do not depend on the host's zone.
func Open(path string, opts Options) (*DB, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, errs.Invalid("DuckDB database path %q must not contain '?' or '#'", path)
	}
	params := url.Values{}
	params.Set("autoinstall_known_extensions", "false")
	params.Set("autoload_known_extensions", "false")
	if opts.MemoryLimit != "" {
		params.Set("memory_limit", opts.MemoryLimit)
	}
	if opts.Threads > 0 {
		params.Set("threads", strconv.Itoa(opts.Threads))
	}
	if opts.ReadOnly {
		params.Set("access_mode", "READ_ONLY")
	}
	connector, err := duckdb.NewConnector(path+"?"+params.Encode(), initConn)
	if err != nil {
		return nil, warehouse.Unavailable(err)
	}
	return &DB{db: sql.OpenDB(connector)}, nil
}

// initConn prepares every new connection of the pool.
func initConn(execer driver.ExecerContext) error {
	_, err := execer.ExecContext(context.Background(), "SET TimeZone = 'UTC'", nil)
	return err
}

// SQL returns the underlying database handle, for loaders and tests that need DuckDB
// features beyond Query. Values read through it are not normalised.
func (d *DB) SQL() *sql.DB { return d.db }

// Ping checks that the database can be used.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.db.PingContext(ctx); err != nil {
		return classify(ctx, err)
	}
	return nil
}

// Close closes the database. Queries in flight fail.
func (d *DB) Close() error {
	d.stmts.Range(func(_, st any) bool {
		_ = st.(*sql.Stmt).Close()
		return true
	})
	return d.db.Close()
}

// Query runs query with bound args ($1 or ? placeholders) and returns its rows with values
// normalised as warehouse.Warehouse documents.
func (d *DB) Query(ctx context.Context, query string, args []any) (warehouse.Rows, error) {
	var rows *sql.Rows
	var err error
	if st := d.prepared(ctx, query); st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		rows, err = d.db.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return nil, classify(ctx, err)
	}
	cols, err := rows.Columns()
	if err != nil {
		_ = rows.Close()
		return nil, classify(ctx, err)
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		_ = rows.Close()
		return nil, classify(ctx, err)
	}
	r := &resultRows{ctx: ctx, rows: rows, cols: cols, kinds: make([]string, len(types)),
		raw: make([]any, len(cols)), ptrs: make([]any, len(cols)), vals: make([]any, len(cols))}
	for i, t := range types {
		r.kinds[i] = t.DatabaseTypeName()
		r.ptrs[i] = &r.raw[i]
	}
	return r, nil
}

type resultRows struct {
	ctx   context.Context
	rows  *sql.Rows
	cols  []string
	kinds []string // DuckDB type names, to tell UUID and TIME values from BLOB and TIMESTAMP
	raw   []any
	ptrs  []any
	vals  []any
	err   error
}

func (r *resultRows) Columns() []string { return r.cols }

func (r *resultRows) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	if err := r.rows.Scan(r.ptrs...); err != nil {
		r.err = classify(r.ctx, err)
		return false
	}
	for i, v := range r.raw {
		nv, err := normalize(v, r.kinds[i])
		if err != nil {
			r.err = errs.Wrap(errs.KindInternal, err, "reading column %s", r.cols[i])
			return false
		}
		r.vals[i] = nv
	}
	return true
}

func (r *resultRows) Values() []any { return r.vals }

func (r *resultRows) Err() error {
	if r.err != nil {
		return r.err
	}
	if err := r.rows.Err(); err != nil {
		return classify(r.ctx, err)
	}
	return nil
}

func (r *resultRows) Close() error { return r.rows.Close() }

// classify turns an error of database/sql or DuckDB into a Cubit error.
func classify(ctx context.Context, err error) error {
	if e := warehouse.ContextError(ctx, err); e != nil {
		return e
	}
	var de *duckdb.Error
	switch {
	// database/sql does not export its "database is closed" error, hence the text match.
	case errors.Is(err, sql.ErrConnDone), errors.Is(err, driver.ErrBadConn),
		err.Error() == "sql: database is closed":
		return warehouse.Unavailable(err)
	case errors.As(err, &de) && de.Type == duckdb.ErrorTypeInterrupt:
		return errs.Wrap(errs.KindCanceled, err, "query canceled")
	case errors.As(err, &de) && (de.Type == duckdb.ErrorTypeFatal || de.Type == duckdb.ErrorTypeConnection):
		return warehouse.Unavailable(err)
	}
	return warehouse.SourceError(err)
}

// quoteIdent quotes a DuckDB identifier.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
