package server_test

// Real PostgreSQL clients against the SQL API of a running server: pgx (simple, extended
// with binary results, a prepared statement with a parameter), psql, psycopg2 and
// SQLAlchemy, pgjdbc (fetch size inside a transaction: portal suspension), psqlODBC through
// pyodbc. The server runs in-process on the demo shop (scale 0.1) on free loopback ports,
// once for the package; every number is checked against hand-written SQL on the raw demo
// tables (the same DuckDB the server reads) or against the REST API's /load answer.
//
// A missing client (psql, python3 module, javac, ODBC driver) skips the test with the
// reason on a developer machine and fails it under CI=true (.ci/run installs them).
//
// Catalog introspection (psql \d, JDBC DatabaseMetaData, ODBC SQLTables/SQLColumns,
// SQLAlchemy's inspector) is in TestSQLClientsCatalog.

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cubit-dev/cubit/internal/config"
	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/restapi"
	"github.com/cubit-dev/cubit/internal/server"
	"github.com/cubit-dev/cubit/internal/testdb"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

const (
	sqlTestUser = "cubit_sql_test"
	// Characters that must be percent-encoded in the URL, but are harmless in an ODBC
	// connection string and a JDBC property.
	sqlTestPassword = "s3cr@t/pw:x"
)

// sqlSrv is the running server shared by the SQL client tests.
type sqlSrv struct {
	url      string // the connection string cubit serve prints
	host     string
	port     string
	restBase string
	token    string
}

var sqlShared struct {
	once sync.Once
	srv  sqlSrv
	err  error
}

// sqlServer starts (once) the demo server with the SQL API on free ports.
func sqlServer(t *testing.T) sqlSrv {
	t.Helper()
	db := demoDB(t)
	sqlShared.once.Do(func() {
		cfg := testConfig(t)
		cfg.Server.Listen = "127.0.0.1:0"
		cfg.Server.SQLListen = "127.0.0.1:0"
		cfg.Server.SQLUser = sqlTestUser
		cfg.Server.SQLPassword = sqlTestPassword
		type addrs struct{ http, sql net.Addr }
		ready := make(chan addrs, 1)
		s2, token, err := newSQLServer(cfg, modelDir(t), db, func(h, q net.Addr) { ready <- addrs{h, q} })
		if err != nil {
			sqlShared.err = err
			return
		}
		go func() {
			// Runs until the test binary exits, which ends the server and its listeners.
			if err := s2.Serve(context.Background()); err != nil {
				fmt.Fprintf(os.Stderr, "sql client tests: Serve: %v\n", err)
			}
		}()
		select {
		case a := <-ready:
			host, port, _ := net.SplitHostPort(a.sql.String())
			// Exactly as internal/cli/serve.go prints it.
			u := url.URL{Scheme: "postgresql", User: url.UserPassword(sqlTestUser, sqlTestPassword), Host: a.sql.String(), Path: "/cubit"}
			// REST answers come from a separate httptest server on the same engine.
			rest := httptest.NewServer(s2.Handler(prometheus.NewRegistry()))
			sqlShared.srv = sqlSrv{url: u.String(), host: host, port: port, restBase: rest.URL, token: token}
		case <-time.After(time.Minute):
			sqlShared.err = fmt.Errorf("server not ready after a minute")
		}
	})
	if sqlShared.err != nil {
		t.Fatal(sqlShared.err)
	}
	return sqlShared.srv
}

// newSQLServer is newServer with the SQL API on, and both addresses reported.
func newSQLServer(cfg config.Config, dir string, wh warehouse.Warehouse, ready func(h, q net.Addr)) (*server.Server, string, error) {
	return newSQLServerWith(cfg, dir, wh, nil, ready)
}

// newSQLServerWith is newSQLServer with the platform's node n (nil: none).
func newSQLServerWith(cfg config.Config, dir string, wh warehouse.Warehouse, n *server.Node, ready func(h, q net.Addr)) (*server.Server, string, error) {
	auth, err := restapi.NewAuthenticator([]string{secret}, nil)
	if err != nil {
		return nil, "", err
	}
	token, err := auth.Mint(nil, time.Hour)
	if err != nil {
		return nil, "", err
	}
	s, err := server.New(server.Options{
		Config:    cfg,
		LoadModel: func() (*model.Model, error) { return model.Load(dir) },
		Warehouse: wh,
		Dialect:   dialect.DuckDB{},
		Auth:      auth,
		SQL:       true,
		Ready:     ready,
		Node:      n,
	})
	return s, token, err
}

func needPython(t *testing.T, modules ...string) {
	t.Helper()
	_, err := os.Stat("/usr/bin/python3")
	testdb.Need(t, "/usr/bin/python3", err)
	for _, m := range modules {
		out, err := exec.Command("/usr/bin/python3", "-c", "import "+m).CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
		}
		testdb.Need(t, "python3 module "+m+" (Debian python3-"+m+")", err)
	}
}

func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// cleanEnv is this process's environment without the libpq variables that would redirect
// psql, psycopg2 or psqlODBC to another server.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// rawCountByStatus is SELECT status, count(*) FROM orders GROUP BY 1 on the raw demo table.
func rawCountByStatus(t *testing.T) map[string]int64 {
	t.Helper()
	rows, err := demoDB(t).SQL().Query("SELECT coalesce(status, '<null>'), count(*) FROM orders GROUP BY 1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]int64{}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		m[s] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(m) < 2 {
		t.Fatalf("raw orders by status: %v, want several statuses", m)
	}
	return m
}

func rawScalarFloat(t *testing.T, sql string, args ...any) float64 {
	t.Helper()
	var f float64
	if err := demoDB(t).SQL().QueryRow(sql, args...).Scan(&f); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return f
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }

func pgxConnect(t *testing.T, mode pgx.QueryExecMode) *pgx.Conn {
	t.Helper()
	srv := sqlServer(t)
	cfg, err := pgx.ParseConfig(srv.url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = mode
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("pgx connect %s: %v", srv.url, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func countByStatus(t *testing.T, conn *pgx.Conn, sql string, args ...any) map[string]int64 {
	t.Helper()
	rows, err := conn.Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	got := map[string]int64{}
	for rows.Next() {
		var s *string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatalf("%s: scan: %v", sql, err)
		}
		k := "<null>"
		if s != nil {
			k = *s
		}
		got[k] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return got
}

func sameCounts(t *testing.T, what string, got, want map[string]int64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) { // fmt prints maps sorted
		t.Errorf("%s:\n got %v\nwant %v", what, got, want)
	}
}

const measureCountSQL = "SELECT status, MEASURE(count) FROM orders GROUP BY 1"

func TestSQLClientPgxSimple(t *testing.T) {
	conn := pgxConnect(t, pgx.QueryExecModeSimpleProtocol)
	want := rawCountByStatus(t)
	sameCounts(t, "simple protocol "+measureCountSQL, countByStatus(t, conn, measureCountSQL), want)
	// COUNT(*) is the count measure; an aggregate of the right type works too.
	sameCounts(t, "simple protocol COUNT(*)", countByStatus(t, conn, "SELECT status, COUNT(*) FROM orders GROUP BY status"), want)

	// Several statements in one simple Query message.
	rr := conn.PgConn().Exec(context.Background(), "SELECT 1; SELECT MEASURE(count) FROM orders")
	res, err := rr.ReadAll()
	if err != nil {
		t.Fatalf("multi-statement: %v", err)
	}
	if len(res) != 2 || len(res[1].Rows) != 1 {
		t.Fatalf("multi-statement: %d results", len(res))
	}
	var total int64
	for _, n := range want {
		total += n
	}
	if got := string(res[1].Rows[0][0]); got != strconv.FormatInt(total, 10) {
		t.Errorf("total count = %s, want %d", got, total)
	}
}

func TestSQLClientPgxExtendedBinary(t *testing.T) {
	conn := pgxConnect(t, pgx.QueryExecModeCacheStatement)
	ctx := context.Background()
	sameCounts(t, "extended "+measureCountSQL, countByStatus(t, conn, measureCountSQL), rawCountByStatus(t))

	q := "SELECT orders.status, orders.total_revenue, orders.count, MAX(orders.created_at) FROM orders GROUP BY 1 ORDER BY 1"
	rows, err := conn.Query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	fds := rows.FieldDescriptions()
	for _, fd := range fds[1:] {
		if fd.Format != pgx.BinaryFormatCode {
			t.Errorf("column %s (oid %d) in format %d, want binary results", fd.Name, fd.DataTypeOID, fd.Format)
		}
	}
	n := 0
	for rows.Next() {
		var status string
		var revenue float64
		var count int64
		var maxAt time.Time
		if err := rows.Scan(&status, &revenue, &count, &maxAt); err != nil {
			t.Fatalf("scan: %v", err)
		}
		n++
		wantRev := rawScalarFloat(t, "SELECT sum(amount) FROM orders WHERE status = ?", status)
		wantCount := rawScalarFloat(t, "SELECT count(*) FROM orders WHERE status = ?", status)
		var wantMax time.Time
		if err := demoDB(t).SQL().QueryRow("SELECT max(created_at) FROM orders WHERE status = ?", status).Scan(&wantMax); err != nil {
			t.Fatal(err)
		}
		if !near(revenue, wantRev) || float64(count) != wantCount || !maxAt.Equal(wantMax) {
			t.Errorf("%s: revenue %v count %d max %v, want %v %v %v", status, revenue, count, maxAt, wantRev, wantCount, wantMax)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if n < 2 {
		t.Errorf("%d rows", n)
	}
}

func TestSQLClientPgxPreparedParam(t *testing.T) {
	conn := pgxConnect(t, pgx.QueryExecModeCacheStatement)
	ctx := context.Background()
	const q = "SELECT orders.count, orders.total_revenue FROM orders WHERE orders.status = $1"
	sd, err := conn.Prepare(ctx, "by_status", q)
	if err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if len(sd.ParamOIDs) != 1 {
		t.Fatalf("param OIDs %v, want one", sd.ParamOIDs)
	}
	for status, want := range rawCountByStatus(t) {
		if status == "<null>" {
			continue
		}
		var count int64
		var revenue float64
		if err := conn.QueryRow(ctx, "by_status", status).Scan(&count, &revenue); err != nil {
			t.Fatalf("by_status(%q): %v", status, err)
		}
		wantRev := rawScalarFloat(t, "SELECT sum(amount) FROM orders WHERE status = ?", status)
		if count != want || !near(revenue, wantRev) {
			t.Errorf("by_status(%q) = %d, %v; want %d, %v", status, count, revenue, want, wantRev)
		}
	}
	// No row matches: a count of 0 in one row of totals.
	var count int64
	if err := conn.QueryRow(ctx, "by_status", "no such status").Scan(&count, new(*float64)); err != nil {
		t.Fatalf("by_status(none): %v", err)
	}
	if count != 0 {
		t.Errorf("by_status(none) = %d", count)
	}
}

// restRows posts a /load query and returns its data rows.
func restRows(t *testing.T, srv sqlSrv, query string) []map[string]any {
	t.Helper()
	status, body := post(t, srv.restBase, srv.token, `{"query": `+query+`}`)
	if status != 200 {
		t.Fatalf("/load %s: %d %v", query, status, body)
	}
	var out []map[string]any
	for _, r := range body["data"].([]any) {
		out = append(out, r.(map[string]any))
	}
	return out
}

func num(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			t.Fatalf("number %q: %v", x, err)
		}
		return f
	case float64:
		return x
	}
	t.Fatalf("number %v (%T)", v, v)
	return 0
}

// The two queries of our documentation, verbatim, against REST /load for the same question
// (and raw SQL for the first).
const (
	docQuery1 = `SELECT orders.status, orders.total_revenue, orders.count FROM orders
WHERE orders.created_at >= '2024-01-01' GROUP BY orders.status ORDER BY orders.total_revenue DESC;`
	docQuery2 = `SELECT orders.created_at, orders.total_revenue FROM orders
WHERE orders.created_at >= '2024-01-01' AND orders.created_at < '2024-02-01'
GROUP BY orders.created_at ORDER BY orders.created_at;`
)

func TestSQLClientDocQueries(t *testing.T) {
	srv := sqlServer(t)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		t.Run(mode.String(), func(t *testing.T) {
			conn := pgxConnect(t, mode)
			ctx := context.Background()

			// 1: revenue and count by status since 2024.
			want := restRows(t, srv, `{"measures": ["orders.total_revenue", "orders.count"], "dimensions": ["orders.status"],
				"filters": [{"member": "orders.created_at", "operator": "afterOrOnDate", "values": ["2024-01-01"]}],
				"order": {"orders.total_revenue": "desc"}}`)
			rows, err := conn.Query(ctx, docQuery1)
			if err != nil {
				t.Fatalf("doc query 1: %v", err)
			}
			i := 0
			for rows.Next() {
				var status *string
				var rev float64
				var count int64
				if err := rows.Scan(&status, &rev, &count); err != nil {
					t.Fatal(err)
				}
				if i >= len(want) {
					t.Fatalf("doc query 1: more rows than REST's %d", len(want))
				}
				w := want[i]
				i++
				ws, _ := w["orders.status"].(string)
				if status == nil || *status != ws || !near(rev, num(t, w["orders.total_revenue"])) || float64(count) != num(t, w["orders.count"]) {
					t.Errorf("doc query 1 row %d: %v %v %v; REST %v", i, status, rev, count, w)
				}
				raw := rawScalarFloat(t, "SELECT sum(amount) FROM orders WHERE created_at >= TIMESTAMP '2024-01-01' AND status = ?", ws)
				if !near(rev, raw) {
					t.Errorf("doc query 1 %s: revenue %v, raw SQL %v", ws, rev, raw)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("doc query 1: %v", err)
			}
			if i != len(want) || i < 2 {
				t.Errorf("doc query 1: %d rows, REST %d", i, len(want))
			}

			// 2: revenue by raw order time in January 2024.
			want = restRows(t, srv, `{"measures": ["orders.total_revenue"], "dimensions": ["orders.created_at"],
				"filters": [{"member": "orders.created_at", "operator": "afterOrOnDate", "values": ["2024-01-01"]},
				            {"member": "orders.created_at", "operator": "beforeDate", "values": ["2024-02-01"]}],
				"order": {"orders.created_at": "asc"}, "limit": 50000}`)
			rows, err = conn.Query(ctx, docQuery2)
			if err != nil {
				t.Fatalf("doc query 2: %v", err)
			}
			i = 0
			var sum float64
			for rows.Next() {
				var at time.Time
				var rev float64
				if err := rows.Scan(&at, &rev); err != nil {
					t.Fatal(err)
				}
				if i >= len(want) {
					t.Fatalf("doc query 2: more rows than REST's %d", len(want))
				}
				w := want[i]
				i++
				sum += rev
				if got := at.Format("2006-01-02T15:04:05.000"); got != w["orders.created_at"] || !near(rev, num(t, w["orders.total_revenue"])) {
					t.Errorf("doc query 2 row %d: %s %v; REST %v", i, got, rev, w)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatalf("doc query 2: %v", err)
			}
			if i != len(want) || i < 10 {
				t.Errorf("doc query 2: %d rows, REST %d", i, len(want))
			}
			raw := rawScalarFloat(t, "SELECT sum(amount) FROM orders WHERE created_at >= TIMESTAMP '2024-01-01' AND created_at < TIMESTAMP '2024-02-01'")
			if math.Abs(sum-raw) > 1e-6*raw {
				t.Errorf("doc query 2: revenue sums to %v, raw SQL %v", sum, raw)
			}
		})
	}
}

// psql runs psql with the printed connection string and -At, returning its output lines.
func psql(t *testing.T, args ...string) []string {
	t.Helper()
	srv := sqlServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/usr/bin/psql", append([]string{srv.url, "-X", "-At", "-v", "ON_ERROR_STOP=1"}, args...)...)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("psql %v: %v\n%s", args, err, out)
	}
	s := strings.TrimRight(string(out), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func needPsql(t *testing.T) {
	t.Helper()
	_, err := os.Stat("/usr/bin/psql")
	testdb.Need(t, "psql (Debian postgresql-client)", err)
}

func TestSQLClientPsql(t *testing.T) {
	needPsql(t)
	want := rawCountByStatus(t)
	got := map[string]int64{}
	for _, line := range psql(t, "-c", measureCountSQL) {
		status, n, ok := strings.Cut(line, "|")
		if !ok {
			t.Fatalf("psql line %q", line)
		}
		if status == "" {
			status = "<null>"
		}
		v, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			t.Fatalf("psql line %q: %v", line, err)
		}
		got[status] = v
	}
	sameCounts(t, "psql "+measureCountSQL, got, want)

	// The first documentation query, verbatim, several -c in one session.
	lines := psql(t, "-c", "SET TIME ZONE 'UTC'", "-c", docQuery1)
	if len(lines) < 3 || lines[0] != "SET" {
		t.Fatalf("psql doc query 1: %q", lines)
	}
	for _, line := range lines[1:] {
		f := strings.Split(line, "|")
		if len(f) != 3 {
			t.Fatalf("psql line %q", line)
		}
		rev, _ := strconv.ParseFloat(f[1], 64)
		raw := rawScalarFloat(t, "SELECT sum(amount) FROM orders WHERE created_at >= TIMESTAMP '2024-01-01' AND status = ?", f[0])
		if !near(rev, raw) {
			t.Errorf("psql doc query 1 %s: revenue %s, raw SQL %v", f[0], f[1], raw)
		}
	}

	// A clean error, and the connection string with a wrong password is refused.
	srv := sqlServer(t)
	cmd := exec.Command("/usr/bin/psql", srv.url, "-X", "-At", "-c", "SELECT nope FROM orders")
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "ERROR") {
		t.Errorf("unknown column: err %v, output %s", err, out)
	}
	bad := strings.Replace(srv.url, url.UserPassword(sqlTestUser, sqlTestPassword).String(), sqlTestUser+":wrong", 1)
	cmd = exec.Command("/usr/bin/psql", bad, "-X", "-At", "-c", "SELECT 1")
	cmd.Env = cleanEnv()
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "password authentication failed") {
		t.Errorf("wrong password: err %v, output %s", err, out)
	}
}

// runPython runs clients/python/sql_clients.py with a mode and decodes its JSON.
func runPython(t *testing.T, mode string) map[string]any {
	t.Helper()
	srv := sqlServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	script := filepath.Join(repoRoot(t), "clients", "python", "sql_clients.py")
	cmd := exec.CommandContext(ctx, "/usr/bin/python3", script, mode)
	cmd.Env = cleanEnv("CUBIT_SQL_HOST="+srv.host, "CUBIT_SQL_PORT="+srv.port,
		"CUBIT_SQL_USER="+sqlTestUser, "CUBIT_SQL_PASSWORD="+sqlTestPassword)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sql_clients.py %s: %v\n%s%s", mode, err, out, stderr.String())
	}
	var v map[string]any
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("sql_clients.py %s: not JSON: %v\n%s\n%s", mode, err, out, stderr.String())
	}
	return v
}

// pairs reads [[status, n], ...] from JSON.
func pairs(t *testing.T, v any) map[string]int64 {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("not a list of rows: %v", v)
	}
	m := map[string]int64{}
	for _, r := range list {
		row := r.([]any)
		k := "<null>"
		if s, ok := row[0].(string); ok {
			k = s
		}
		m[k] = int64(num(t, row[1]))
	}
	return m
}

func TestSQLClientPsycopg2SQLAlchemy(t *testing.T) {
	needPython(t, "psycopg2", "sqlalchemy")
	want := rawCountByStatus(t)
	v := runPython(t, "psycopg2")
	sameCounts(t, "psycopg2 "+measureCountSQL, pairs(t, v["psycopg2_by_status"]), want)
	sameCounts(t, "sqlalchemy text()", pairs(t, v["sqlalchemy_by_status"]), want)
	for _, key := range []string{"psycopg2_param", "sqlalchemy_param"} {
		rows := pairs(t, v[key])
		if len(rows) != 1 || rows["completed"] != want["completed"] {
			t.Errorf("%s = %v, want completed=%d", key, rows, want["completed"])
		}
	}
	rev := num(t, v["sqlalchemy_revenue_completed"])
	if raw := rawScalarFloat(t, "SELECT sum(amount) FROM orders WHERE status = 'completed'"); !near(rev, raw) {
		t.Errorf("sqlalchemy revenue of completed = %v, raw SQL %v", rev, raw)
	}
	if v["server_version"] == "" {
		t.Errorf("no server_version: %v", v)
	}
}

// TestSQLClientODBC connects with psqlODBC (which reads pg_type while it connects) and
// runs a query with a parameter.
func TestSQLClientODBC(t *testing.T) {
	needPython(t, "pyodbc")
	out, err := exec.Command("odbcinst", "-q", "-d", "-n", "PostgreSQL Unicode").CombinedOutput()
	if err != nil {
		err = fmt.Errorf("%v: %s", err, out)
	}
	testdb.Need(t, "psqlODBC driver \"PostgreSQL Unicode\" (Debian odbc-postgresql, unixodbc)", err)
	v := runPython(t, "odbc")
	sameCounts(t, "ODBC "+measureCountSQL, pairs(t, v["odbc_by_status"]), rawCountByStatus(t))
	rows := pairs(t, v["odbc_param"])
	if want := rawCountByStatus(t)["shipped"]; len(rows) != 1 || rows["shipped"] != want {
		t.Errorf("ODBC parameter query = %v, want shipped=%d", rows, want)
	}
}

var javaBuild struct {
	once sync.Once
	dir  string
	err  error
}

const jdbcJar = "/usr/share/java/postgresql.jar"

// runJava compiles clients/java/CubitJdbc.java once and runs it with a mode.
func runJava(t *testing.T, mode string) string {
	t.Helper()
	_, err := exec.LookPath("javac")
	testdb.Need(t, "javac (a JDK)", err)
	_, err = os.Stat(jdbcJar)
	testdb.Need(t, "pgjdbc (Debian libpostgresql-jdbc-java)", err)
	javaBuild.once.Do(func() {
		dir, err := os.MkdirTemp("", "cubit-jdbc")
		if err != nil {
			javaBuild.err = err
			return
		}
		javaBuild.dir = dir
		src := filepath.Join(repoRoot(t), "clients", "java", "CubitJdbc.java")
		if out, err := exec.Command("javac", "-d", dir, "-cp", jdbcJar, src).CombinedOutput(); err != nil {
			javaBuild.err = fmt.Errorf("javac: %v\n%s", err, out)
		}
	})
	if javaBuild.err != nil {
		t.Fatal(javaBuild.err)
	}
	srv := sqlServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	jdbcURL := "jdbc:postgresql://" + net.JoinHostPort(srv.host, srv.port) + "/cubit"
	cmd := exec.CommandContext(ctx, "java", "-cp", javaBuild.dir+string(os.PathListSeparator)+jdbcJar, "CubitJdbc", mode, jdbcURL, sqlTestUser, sqlTestPassword)
	cmd.Env = cleanEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("CubitJdbc %s: %v\n%s%s", mode, err, out, stderr.String())
	}
	return string(out)
}

func TestSQLClientJDBC(t *testing.T) {
	out := runJava(t, "query")
	want := rawCountByStatus(t)
	got := map[string]int64{}
	var ids []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Split(line, "\t")
		switch f[0] {
		case "status":
			n, _ := strconv.ParseInt(f[2], 10, 64)
			got[f[1]] = n
		case "id":
			ids = append(ids, f[1])
		case "fetch":
			// fetch <rows> <fetchSize>
		default:
			t.Fatalf("CubitJdbc line %q", line)
		}
	}
	// The program asks for statuses other than 'cancelled'.
	delete(want, "cancelled")
	delete(want, "<null>")
	sameCounts(t, "JDBC prepared, fetch size 2", got, want)

	// The 25 smallest ids of completed orders, ungrouped, fetched two by two.
	rows, err := demoDB(t).SQL().Query("SELECT id FROM orders WHERE status = 'completed' ORDER BY id LIMIT 25")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var wantIDs []string
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		wantIDs = append(wantIDs, strconv.FormatInt(id, 10))
	}
	if strings.Join(ids, ",") != strings.Join(wantIDs, ",") {
		t.Errorf("JDBC ids:\n got %v\nwant %v", ids, wantIDs)
	}
}

// TestSQLClientsCatalog is catalog introspection by real clients: psql's \d family, pgjdbc
// DatabaseMetaData, psqlODBC SQLTables/SQLColumns, SQLAlchemy's inspector.
func TestSQLClientsCatalog(t *testing.T) {
	cubes := []string{"line_items", "orders", "orders_view", "products", "sales_view", "users"}
	t.Run("psql", func(t *testing.T) {
		needPsql(t)
		// \dt lists tables (cubes), \dv views, \d both.
		relations := func(cmd string) []string {
			var names []string
			for _, line := range psql(t, "-c", cmd) {
				f := strings.Split(line, "|") // schema|name|type|owner
				if len(f) >= 2 && f[0] == "public" {
					names = append(names, f[1])
				}
			}
			return names
		}
		tables, all := relations(`\dt`), relations(`\d`)
		for _, c := range cubes {
			isView := strings.HasSuffix(c, "_view")
			if !isView && !contains(tables, c) {
				t.Errorf(`\dt: no %s in %v`, c, tables)
			}
			if isView && contains(tables, c) {
				t.Errorf(`\dt lists the view %s`, c)
			}
			if !contains(all, c) {
				t.Errorf(`\d: no %s in %v`, c, all)
			}
		}
		cols := map[string]string{}
		for _, line := range psql(t, "-c", `\d orders`) {
			f := strings.Split(line, "|") // name|type|collation|nullable|default
			if len(f) >= 2 {
				cols[f[0]] = f[1]
			}
		}
		for name, typ := range map[string]string{"status": "text", "count": "bigint", "total_revenue": "double precision", "created_at": "timestamp without time zone", "__user": "text", "__cubeJoinField": "text"} {
			if cols[name] != typ {
				t.Errorf(`\d orders: %s is %q, want %q (all: %v)`, name, cols[name], typ, cols)
			}
		}
	})
	t.Run("jdbc", func(t *testing.T) {
		out := runJava(t, "meta")
		var tables []string
		cols := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Split(line, "\t")
			switch {
			case f[0] == "table" && len(f) == 3:
				tables = append(tables, f[2])
			case f[0] == "column" && len(f) == 4 && f[1] == "orders":
				cols[f[2]] = f[3]
			}
		}
		for _, c := range cubes {
			if !contains(tables, c) {
				t.Errorf("getTables: no %s in %v", c, tables)
			}
		}
		if cols["count"] != "int8" || cols["status"] != "text" || cols["total_revenue"] != "float8" {
			t.Errorf("getColumns(orders): %v", cols)
		}
	})
	t.Run("python", func(t *testing.T) {
		needPython(t, "sqlalchemy", "psycopg2", "pyodbc")
		v := runPython(t, "catalog")
		for _, key := range []string{"sqlalchemy_tables", "odbc_tables"} {
			var got []string
			for _, x := range v[key].([]any) {
				got = append(got, x.(string))
			}
			for _, c := range cubes {
				if !contains(got, c) {
					t.Errorf("%s: no %s in %v", key, c, got)
				}
			}
		}
		for _, key := range []string{"sqlalchemy_orders_columns", "odbc_orders_columns"} {
			var got []string
			for _, x := range v[key].([]any) {
				got = append(got, x.(string))
			}
			for _, c := range []string{"status", "count", "total_revenue", "created_at"} {
				if !contains(got, c) {
					t.Errorf("%s: no %s in %v", key, c, got)
				}
			}
		}
	})
}

func contains(list []string, s string) bool {
	i := sort.SearchStrings(sorted(list), s)
	l := sorted(list)
	return i < len(l) && l[i] == s
}

func sorted(list []string) []string {
	l := append([]string(nil), list...)
	sort.Strings(l)
	return l
}
