package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

// DB is a PostgreSQL data source: a pool of connections. It implements
// warehouse.Warehouse and is safe for concurrent use.
type DB struct {
	pool *pgxpool.Pool
}

var _ warehouse.Warehouse = (*DB)(nil)

// Open returns a pool for the PostgreSQL database at url (a postgres:// URL or a libpq
// key=value string). It does not connect: a deployment may start while its database is
// down, and its queries then fail as unavailable; call Ping to check at once. Every
// connection runs with TimeZone=UTC, so timestamptz values and date_trunc do not depend on
// the server's zone; the query's time zone is applied by the generated SQL.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx redacts the password from its parse errors.
		return nil, errs.Wrap(errs.KindInvalid, err, "invalid PostgreSQL connection URL")
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "cubit"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, classify(ctx, err)
	}
	return &DB{pool: pool}, nil
}

// Pool returns the underlying pgx pool, for loaders and tests that need PostgreSQL
// features beyond Query. Values read through it are not normalised.
func (d *DB) Pool() *pgxpool.Pool { return d.pool }

// Ping connects if needed and checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.pool.Ping(ctx); err != nil {
		return classify(ctx, err)
	}
	return nil
}

// Close closes every connection of the pool, waiting for the ones in use to be released.
func (d *DB) Close() error {
	d.pool.Close()
	return nil
}

// Query runs query with bound args ($1, $2, …) and returns its rows with values normalised
// as warehouse.Warehouse documents.
func (d *DB) Query(ctx context.Context, query string, args []any) (warehouse.Rows, error) {
	rows, err := d.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, classify(ctx, err)
	}
	fields := rows.FieldDescriptions()
	r := &resultRows{ctx: ctx, rows: rows, cols: make([]string, len(fields)), fields: fields}
	for i, f := range fields {
		r.cols[i] = f.Name
	}
	return r, nil
}

type resultRows struct {
	ctx    context.Context
	rows   pgx.Rows
	cols   []string
	fields []pgconn.FieldDescription
	vals   []any
	err    error
}

func (r *resultRows) Columns() []string { return r.cols }

func (r *resultRows) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	raw, err := r.rows.Values()
	if err != nil {
		r.err = classify(r.ctx, err)
		return false
	}
	if r.vals == nil {
		r.vals = make([]any, len(raw))
	}
	for i, v := range raw {
		nv, err := normalize(v)
		if err != nil {
			r.err = errs.Wrap(errs.KindInternal, err, "reading column %s", r.cols[i])
			return false
		}
		if nv == warehouse.Numeric("0") {
			nv = r.zeroWithScale(i)
		}
		r.vals[i] = nv
	}
	return true
}

// zeroWithScale returns a numeric zero of column i with its scale ("0.00"), which pgx drops
// when it decodes a binary zero: the scale is only in the raw value's header.
func (r *resultRows) zeroWithScale(i int) warehouse.Numeric {
	raw := r.rows.RawValues()
	if r.fields[i].Format != pgx.BinaryFormatCode || i >= len(raw) || len(raw[i]) < 8 {
		return "0"
	}
	scale := int(int16(binary.BigEndian.Uint16(raw[i][6:8]))) // ndigits, weight, sign, dscale
	if scale <= 0 {
		return "0"
	}
	return warehouse.Numeric("0." + strings.Repeat("0", scale))
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

func (r *resultRows) Close() error {
	r.rows.Close()
	return nil
}

// classify turns a pgx error into a Cubit error.
func classify(ctx context.Context, err error) error {
	if e := warehouse.ContextError(ctx, err); e != nil {
		return e
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		code := pgErr.Code
		switch {
		case code == "57014": // query_canceled, here by statement_timeout: the caller did not cancel
			return errs.Wrap(errs.KindTimeout, err, "query timed out")
		case strings.HasPrefix(code, "08"), // connection exception
			strings.HasPrefix(code, "28"),                     // invalid authorization: wrong user or password
			code == "3D000",                                   // the database does not exist
			code == "53300",                                   // too many connections
			code == "57P01", code == "57P02", code == "57P03": // shutting down, starting up
			return warehouse.Unavailable(err)
		}
		return warehouse.SourceError(err)
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case pgconn.Timeout(err):
		return errs.Wrap(errs.KindTimeout, err, "query timed out")
	case errors.As(err, &connectErr), errors.As(err, &netErr),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		err.Error() == "closed pool": // pgxpool does not export this one
		return warehouse.Unavailable(err)
	}
	return warehouse.SourceError(err)
}

// URLFromEnv builds the URL of a PostgreSQL data source from Cube's variables, read through
// getenv (os.Getenv, or a lookup that maps CUBEJS_DS_<NAME>_DB_* names for a named data
// source). CUBEJS_DB_URL wins when set; otherwise CUBEJS_DB_HOST (a host name or a Unix
// socket directory), CUBEJS_DB_PORT (5432), CUBEJS_DB_NAME, CUBEJS_DB_USER and
// CUBEJS_DB_PASS are combined. As in Cube, TLS is off unless CUBEJS_DB_SSL=true, and the
// server certificate is verified only when CUBEJS_DB_SSL_REJECT_UNAUTHORIZED=true.
// CUBEJS_DB_MAX_POOL sets the pool size.
func URLFromEnv(getenv func(string) string) (string, error) {
	u := &url.URL{Scheme: "postgres"}
	q := url.Values{}
	if raw := getenv("CUBEJS_DB_URL"); raw != "" {
		parsed, err := url.Parse(raw)
		if err != nil || (parsed.Scheme != "postgres" && parsed.Scheme != "postgresql") {
			return "", errs.Invalid("CUBEJS_DB_URL must be a postgres:// URL")
		}
		u, q = parsed, parsed.Query()
	} else {
		host := getenv("CUBEJS_DB_HOST")
		if host == "" {
			return "", errs.Invalid("set CUBEJS_DB_URL or CUBEJS_DB_HOST to connect to PostgreSQL")
		}
		port := getenv("CUBEJS_DB_PORT")
		if port == "" {
			port = "5432"
		}
		if strings.HasPrefix(host, "/") { // a Unix socket directory
			q.Set("host", host)
			q.Set("port", port)
		} else {
			u.Host = net.JoinHostPort(host, port)
		}
		if name := getenv("CUBEJS_DB_NAME"); name != "" {
			u.Path = "/" + name
		}
		user, pass := getenv("CUBEJS_DB_USER"), getenv("CUBEJS_DB_PASS")
		switch {
		case pass != "":
			u.User = url.UserPassword(user, pass)
		case user != "":
			u.User = url.User(user)
		}
	}
	if q.Get("sslmode") == "" {
		switch {
		case getenv("CUBEJS_DB_SSL") != "true":
			if getenv("CUBEJS_DB_URL") == "" {
				q.Set("sslmode", "disable")
			}
		case getenv("CUBEJS_DB_SSL_REJECT_UNAUTHORIZED") == "true":
			q.Set("sslmode", "verify-full")
		default:
			q.Set("sslmode", "require")
		}
	}
	if n := getenv("CUBEJS_DB_MAX_POOL"); n != "" {
		q.Set("pool_max_conns", n)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
