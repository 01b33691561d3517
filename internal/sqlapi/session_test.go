package sqlapi

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/pgwire"
)

func wantCode(t *testing.T, err error, code string) *pgwire.Error {
	t.Helper()
	var pe *pgwire.Error
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("error %v, want SQLSTATE %s", err, code)
	}
	return pe
}

func TestPassword(t *testing.T) {
	h := NewHandler(Options{User: "cube", Password: "secret", SuperUser: "admin"})
	ctx := context.Background()
	for _, user := range []string{"cube", "admin"} {
		if pw, err := h.Password(ctx, user, "any_database"); err != nil || pw != "secret" {
			t.Errorf("Password(%s) = %q, %v", user, pw, err)
		}
	}
	_, err := h.Password(ctx, "mallory", "db")
	if errs.KindOf(err) != errs.KindUnauthenticated || err.Error() != `Incorrect user name "mallory" or password` {
		t.Errorf("unknown user: %v (%s)", err, errs.KindOf(err))
	}
	if _, err := h.Password(ctx, "", "db"); err == nil {
		t.Error("empty user accepted")
	}
}

func TestParameters(t *testing.T) {
	_, s := newTestSession(t, openShop(t).eng, "cube")
	p := s.Parameters()
	for k, v := range map[string]string{"server_version": "15.0", "server_encoding": "UTF8", "client_encoding": "UTF8",
		"DateStyle": "ISO, MDY", "TimeZone": "UTC", "integer_datetimes": "on", "standard_conforming_strings": "on",
		"IntervalStyle": "postgres", "is_superuser": "off", "application_name": "", "session_authorization": "cube"} {
		if got, ok := p[k]; !ok || got != v {
			t.Errorf("%s = %q (%v), want %q", k, got, ok, v)
		}
	}
	mustRun(t, s, "SET application_name = 'psql'")
	mustRun(t, s, "SET client_encoding TO 'utf-8'")
	if p := s.Parameters(); p["application_name"] != "psql" || p["client_encoding"] != "UTF8" {
		t.Errorf("after SET: %v", p)
	}
}

func TestSetShowReset(t *testing.T) {
	_, s := newTestSession(t, openShop(t).eng, "cube")
	show := func(name string) string {
		t.Helper()
		res := mustRun(t, s, "SHOW "+name)
		if len(res.rows) != 1 || res.tag != "SHOW" {
			t.Fatalf("SHOW %s: %v %q", name, res.rows, res.tag)
		}
		return res.rows[0][0].(string)
	}
	if got := show("timezone"); got != "UTC" {
		t.Errorf("SHOW timezone = %q", got)
	}
	if got := show("standard_conforming_strings"); got != "on" {
		t.Errorf("standard_conforming_strings = %q", got)
	}
	res := mustRun(t, s, "SET TIME ZONE 'Europe/Berlin'")
	if res.tag != "SET" || res.cols != nil {
		t.Errorf("SET: tag %q, columns %v", res.tag, res.cols)
	}
	if got := show("TimeZone"); got != "Europe/Berlin" {
		t.Errorf("TimeZone = %q", got)
	}
	if res := mustRun(t, s, "SHOW TIME ZONE"); res.cols[0].Name != "TimeZone" {
		t.Errorf("SHOW column %q", res.cols[0].Name)
	}
	_, err := run(t, s, "SET TimeZone = 'Mars/Olympus'")
	wantCode(t, err, "22023")
	_, err = run(t, s, "SET server_version = '16'")
	wantCode(t, err, "55P02")
	_, err = run(t, s, "SET client_encoding = 'LATIN1'")
	wantCode(t, err, "0A000")

	mustRun(t, s, "SET my.custom = 'x'")
	if got := show("my.custom"); got != "x" {
		t.Errorf("my.custom = %q", got)
	}
	if res := mustRun(t, s, "SELECT current_setting('my.custom'), current_setting('nope', true)"); res.rows[0][0] != "x" || res.rows[0][1] != nil {
		t.Errorf("current_setting: %v", res.rows)
	}
	if res := mustRun(t, s, "SELECT set_config('search_path', 'public', false)"); res.rows[0][0] != "public" || show("search_path") != "public" {
		t.Errorf("set_config: %v", res.rows)
	}
	_, err = run(t, s, "SHOW no_such_parameter")
	wantCode(t, err, "42704")

	all := mustRun(t, s, "SHOW ALL")
	if len(all.cols) != 3 || len(all.rows) < 30 {
		t.Errorf("SHOW ALL: %d columns, %d rows", len(all.cols), len(all.rows))
	}
	mustRun(t, s, "RESET timezone")
	if got := show("timezone"); got != "UTC" {
		t.Errorf("after RESET: %q", got)
	}
	mustRun(t, s, "SET TIME ZONE 'America/New_York'")
	if res := mustRun(t, s, "RESET ALL"); res.tag != "RESET" || show("timezone") != "UTC" {
		t.Errorf("RESET ALL: %q, %q", res.tag, show("timezone"))
	}
	if _, err := run(t, s, "SHOW my.custom"); err == nil {
		t.Error("RESET ALL kept a custom setting")
	}
}

func TestTransactions(t *testing.T) {
	_, s := newTestSession(t, openShop(t).eng, "cube")
	tag := func(sql, want string) {
		t.Helper()
		if res := mustRun(t, s, sql); res.tag != want {
			t.Errorf("%s: tag %q, want %q", sql, res.tag, want)
		}
	}
	if s.TxStatus() != 'I' {
		t.Fatal("not idle")
	}
	tag("BEGIN", "BEGIN")
	if s.TxStatus() != 'T' {
		t.Fatal("not in a transaction")
	}
	tag("SET application_name = 'in-tx'", "SET")
	tag("SELECT MEASURE(count) FROM orders", "SELECT 1")
	_, err := run(t, s, "SELECT nosuchcolumn FROM orders")
	wantCode(t, err, "42703")
	if s.TxStatus() != 'E' {
		t.Fatalf("status %c after an error, want E", s.TxStatus())
	}
	_, err = run(t, s, "SELECT 1")
	wantCode(t, err, "25P02")
	tag("ROLLBACK", "ROLLBACK")
	if s.TxStatus() != 'I' || s.Parameters()["application_name"] != "" {
		t.Errorf("after ROLLBACK: %c, application_name %q", s.TxStatus(), s.Parameters()["application_name"])
	}

	tag("START TRANSACTION", "START TRANSACTION")
	tag("SET application_name = 'kept'", "SET")
	tag("SET LOCAL extra_float_digits = 3", "SET")
	tag("COMMIT", "COMMIT")
	if p := s.Parameters(); p["application_name"] != "kept" {
		t.Errorf("COMMIT lost SET: %q", p["application_name"])
	}
	if v, _ := s.settings.get("extra_float_digits"); v.value != "1" {
		t.Errorf("COMMIT kept SET LOCAL: %q", v.value)
	}

	tag("BEGIN", "BEGIN")
	_, _ = run(t, s, "SELECT broken(")
	tag("END", "ROLLBACK") // COMMIT of a failed transaction rolls back
	tag("BEGIN", "BEGIN")
	tag("SAVEPOINT a", "SAVEPOINT")
	_, _ = run(t, s, "SELECT nosuchcolumn FROM orders")
	tag("ROLLBACK TO SAVEPOINT a", "ROLLBACK")
	tag("SELECT 1", "SELECT 1")
	tag("RELEASE SAVEPOINT a", "RELEASE")
	tag("ABORT", "ROLLBACK")

	tag("DISCARD ALL", "DISCARD ALL")
	tag("DEALLOCATE ALL", "DEALLOCATE ALL")
	tag("DEALLOCATE stmt1", "DEALLOCATE")
	if s.Parameters()["application_name"] != "" {
		t.Error("DISCARD ALL kept settings")
	}
}

func TestStatements(t *testing.T) {
	_, s := newTestSession(t, openShop(t).eng, "cube")
	ctx := context.Background()

	stmts, err := s.PrepareAll(ctx, "SET application_name = 'a'; SELECT 1 AS one; ; SHOW application_name")
	if err != nil || len(stmts) != 3 {
		t.Fatalf("PrepareAll: %d statements, %v", len(stmts), err)
	}
	var tags []string
	for _, st := range stmts {
		rs, err := st.Execute(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, ok := rs.Next(); !ok {
				break
			}
		}
		tags = append(tags, rs.Tag())
	}
	if strings.Join(tags, ",") != "SET,SELECT 1,SHOW" {
		t.Errorf("tags %v", tags)
	}
	// The statements ran in an implicit block, which pgwire ends.
	if s.TxStatus() != 'T' {
		t.Errorf("status in the implicit block %q, want 'T'", s.TxStatus())
	}
	s.EndQuery(false)
	if s.TxStatus() != 'I' {
		t.Errorf("status after EndQuery %q, want 'I'", s.TxStatus())
	}
	if stmts[0].Columns() != nil || len(stmts[1].Columns()) != 1 || stmts[1].Columns()[0].Type != oidInt4 {
		t.Errorf("columns %v %v", stmts[0].Columns(), stmts[1].Columns())
	}
	if empty, err := s.PrepareAll(ctx, " ; "); err != nil || len(empty) != 0 {
		t.Errorf("empty query: %v, %v", empty, err)
	}
	if st, err := s.Prepare(ctx, "-- nothing", nil); st != nil || err != nil {
		t.Errorf("comments only: %v, %v", st, err)
	}

	_, err = s.Prepare(ctx, "SELECT 1; SELECT 2", nil)
	wantCode(t, err, "42601")
	_, err = s.Prepare(ctx, "SELEC 1", nil)
	pe := wantCode(t, err, "42601")
	if !strings.Contains(pe.Message, `"SELEC"`) || pe.Position != 1 {
		t.Errorf("syntax error %q at %d", pe.Message, pe.Position)
	}
	_, err = s.Prepare(ctx, "SELECT 'é' FORM orders x", nil)
	if pe := wantCode(t, err, "42601"); pe.Position != 17 {
		t.Errorf("position %d, want 17 (characters, not bytes)", pe.Position)
	}
	_, err = run(t, s, "INSERT INTO orders (status) VALUES ('x')")
	wantCode(t, err, "0A000")

	// Parameter types are inferred from what they are compared with.
	st, err := s.Prepare(ctx, "SELECT status, MEASURE(count) FROM orders WHERE channel = $1 AND amount > $2 AND created_at >= $3 GROUP BY 1 LIMIT $4", []uint32{0, 0, 0, 0})
	if err != nil {
		t.Fatal(err)
	}
	if got := st.ParamTypes(); len(got) != 4 || got[0] != oidText || got[1] != oidFloat8 || got[2] != oidTimestamp || got[3] != oidInt8 {
		t.Errorf("param types %v", got)
	}
	cols := st.Columns()
	if len(cols) != 2 || cols[0].Name != "status" || cols[0].Type != oidText || cols[1].Type != oidInt8 {
		t.Errorf("columns %v", cols)
	}
	// A post-processed statement is described by running it on empty inputs.
	st, err = s.Prepare(ctx, "SELECT upper(status) AS s, MEASURE(count) * 2 AS n, $1::int4 AS p FROM orders GROUP BY 1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cols := st.Columns(); len(cols) != 3 || cols[0].Type != oidText || cols[1].Type != oidInt8 || cols[2].Type != oidInt4 {
		t.Errorf("post columns %v", cols)
	}
	if pt := st.ParamTypes(); len(pt) != 1 || pt[0] != oidInt4 {
		t.Errorf("post param types %v", pt)
	}
	rs, err := st.Execute(ctx, []any{int64(7)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		r, ok := rs.Next()
		if !ok {
			break
		}
		n++
		if r[2] != int64(7) {
			t.Errorf("parameter value %v", r[2])
		}
	}
	if n != 5 {
		t.Errorf("%d rows", n)
	}
}

func TestExplain(t *testing.T) {
	_, s := newTestSession(t, openShop(t).eng, "cube")
	res := mustRun(t, s, "EXPLAIN SELECT status, MEASURE(count) FROM orders WHERE channel = 'web' GROUP BY 1")
	var lines []string
	for _, r := range res.rows {
		lines = append(lines, r[0].(string))
	}
	out := strings.Join(lines, "\n")
	if !strings.HasPrefix(out, `Cube query: {"measures":["orders.count"]`) || !strings.Contains(out, "SQL:") ||
		!strings.Contains(out, `FROM orders AS "orders"`) && !strings.Contains(out, "FROM") {
		t.Errorf("EXPLAIN:\n%s", out)
	}
	if res.cols[0].Name != "QUERY PLAN" || res.tag != "EXPLAIN" {
		t.Errorf("EXPLAIN columns %v, tag %q", res.cols, res.tag)
	}
	res = mustRun(t, s, "EXPLAIN SELECT upper(status), MEASURE(count) FROM orders GROUP BY 1")
	if first := res.rows[0][0].(string); !strings.HasPrefix(first, "Post-processing (DuckDB): SELECT upper(__cubit_1.c1)") {
		t.Errorf("EXPLAIN post: %s", first)
	}
}

func TestSecurityContextSwitch(t *testing.T) {
	sh := openShop(t)
	_, s := newTestSession(t, sh.eng, "cube")
	_, err := run(t, s, "SELECT MEASURE(count) FROM orders WHERE __user = 'alice'")
	pe := wantCode(t, err, "42501")
	if pe.Message != "You cannot change security context via __user from cube to alice, because it's not allowed." {
		t.Errorf("message %q", pe.Message)
	}
	_, admin := newTestSession(t, sh.eng, "admin")
	mustRun(t, admin, "SELECT MEASURE(count) FROM orders WHERE __user = 'alice'")
}

func TestInformationSchema(t *testing.T) {
	_, s := newTestSession(t, openShop(t).eng, "cube")
	res := mustRun(t, s, "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
	if got := textRows(res.rows); len(got) != 7 || got[0][0] != "daily_sales" || got[0][1] != "BASE TABLE" {
		t.Errorf("tables %v", got)
	}
	res = mustRun(t, s, "SELECT column_name, data_type, ordinal_position FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position", "products")
	got := textRows(res.rows)
	want := [][]string{{"count", "bigint", "1"}, {"average_price", "double precision", "2"}, {"cheapest", "double precision", "3"},
		{"most_expensive", "double precision", "4"}, {"name", "text", "5"}, {"category", "text", "6"}, {"brand", "text", "7"},
		{"price", "double precision", "8"}, {"created_at", "timestamp without time zone", "9"}, {"premium", "boolean", "10"},
		{"__user", "text", "11"}, {"__cubeJoinField", "text", "12"}}
	sameRows(t, "columns", got, want, true)
	res = mustRun(t, s, "SELECT relname FROM pg_catalog.pg_class WHERE relkind = 'v' ORDER BY 1")
	if got := textRows(res.rows); len(got) != 2 || got[0][0] != "orders_view" {
		t.Errorf("pg_class views %v", got)
	}
	_, err := run(t, s, "SELECT * FROM pg_catalog.pg_shdepend")
	wantCode(t, err, "0A000")
}

func TestConstantSelects(t *testing.T) {
	_, s := newTestSession(t, openShop(t).eng, "cube")
	res := mustRun(t, s, "SELECT 1, version(), current_schema(), current_database(), current_user, 1.5 AS n")
	r := res.rows[0]
	if r[0] != int64(1) || !strings.HasPrefix(r[1].(string), "PostgreSQL 15.0 (Cubit)") || r[2] != "public" || r[3] != "db" || r[4] != "cube" || r[5] != "1.5" {
		t.Errorf("row %v", r)
	}
	names := []string{}
	for _, c := range res.cols {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "?column?,version,current_schema,current_database,current_user,n" || res.cols[5].Type != oidNumeric {
		t.Errorf("columns %v", res.cols)
	}
}

// TestConcurrentSessions runs sessions in parallel, as pgwire does for connections: the
// handler's catalog and post-processing engine are shared.
func TestConcurrentSessions(t *testing.T) {
	sh := openShop(t)
	h := NewHandler(Options{Engines: fixedEngine{sh.eng}, User: "cube", Password: "secret"})
	defer h.Close()
	queries := []string{
		"SELECT status, MEASURE(count) FROM orders GROUP BY 1",
		"SELECT upper(status), MEASURE(count) FROM orders GROUP BY 1",
		"SELECT table_name FROM information_schema.tables",
		"SELECT 1",
	}
	errc := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func(i int) {
			sess, err := h.NewSession(context.Background(), "cube", "db")
			if err == nil {
				for j := 0; j < 10 && err == nil; j++ {
					_, err = run(t, sess.(*session), queries[(i+j)%len(queries)])
				}
			}
			errc <- err
		}(i)
	}
	for i := 0; i < 8; i++ {
		if err := <-errc; err != nil {
			t.Error(err)
		}
	}
}

// TestPostEngineHasNoFileAccess: SQL a client sends reaches DuckDB only as a rewritten
// SELECT, and even so DuckDB cannot read files.
func TestPostEngineHasNoFileAccess(t *testing.T) {
	var p postEngine
	defer p.close()
	_, err := p.run(context.Background(), nil, "SELECT * FROM read_text('/etc/hostname')", nil, "")
	if err == nil || !strings.Contains(err.Error(), "disabled") && !strings.Contains(err.Error(), "external") {
		t.Fatalf("read_text: %v", err)
	}
}
