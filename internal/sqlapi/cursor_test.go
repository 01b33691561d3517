package sqlapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/testdb"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const cursorQuery = "SELECT status, MEASURE(count) FROM orders GROUP BY 1 ORDER BY 1"

// TestCursorSession declares, fetches, moves and closes cursors through a Session.
func TestCursorSession(t *testing.T) {
	_, s := newTestSession(t, openShop(t).eng, "cube")
	all := textRows(mustRun(t, s, cursorQuery).rows)
	if len(all) < 4 {
		t.Fatalf("want at least 4 statuses, got %v", all)
	}
	plain := mustRun(t, s, cursorQuery)

	// Without a transaction block.
	_, err := run(t, s, "DECLARE c CURSOR FOR "+cursorQuery)
	wantCode(t, err, "25P01")

	mustRun(t, s, "BEGIN")
	if res := mustRun(t, s, "DECLARE c NO SCROLL CURSOR WITHOUT HOLD FOR "+cursorQuery); res.tag != "DECLARE CURSOR" || res.cols != nil {
		t.Fatalf("DECLARE: tag %q, columns %v", res.tag, res.cols)
	}
	res := mustRun(t, s, "FETCH 2 FROM c")
	if res.tag != "FETCH 2" || len(res.cols) != len(plain.cols) || res.cols[1] != plain.cols[1] {
		t.Fatalf("FETCH 2: tag %q, columns %v (want %v)", res.tag, res.cols, plain.cols)
	}
	sameRows(t, "FETCH 2", textRows(res.rows), all[:2], true)
	res = mustRun(t, s, "FETCH NEXT IN c")
	sameRows(t, "FETCH NEXT", textRows(res.rows), all[2:3], true)
	if res = mustRun(t, s, "MOVE FORWARD 1 IN c"); res.tag != "MOVE 1" || res.cols != nil || len(res.rows) != 0 {
		t.Fatalf("MOVE: %q %v %v", res.tag, res.cols, res.rows)
	}
	res = mustRun(t, s, "FETCH FORWARD ALL FROM c")
	sameRows(t, "FETCH ALL", textRows(res.rows), all[4:], true)
	if res.tag != fmt.Sprintf("FETCH %d", len(all)-4) {
		t.Errorf("FETCH ALL tag %q", res.tag)
	}
	if res = mustRun(t, s, "FETCH c"); res.tag != "FETCH 0" || len(res.rows) != 0 {
		t.Errorf("FETCH at the end: %q %v", res.tag, res.rows)
	}
	_, err = run(t, s, "FETCH BACKWARD 1 FROM c")
	if pe := wantCode(t, err, "55000"); pe.Message != "cursor can only scan forward" {
		t.Errorf("backward: %q", pe.Message)
	}
	mustRun(t, s, "ROLLBACK")

	// Errors.
	mustRun(t, s, "BEGIN")
	mustRun(t, s, "DECLARE c CURSOR FOR "+cursorQuery)
	_, err = run(t, s, "DECLARE c CURSOR FOR SELECT 1")
	wantCode(t, err, "42P03")
	mustRun(t, s, "ROLLBACK")
	mustRun(t, s, "BEGIN")
	_, err = run(t, s, "FETCH 1 FROM nope")
	if pe := wantCode(t, err, "34000"); pe.Message != `cursor "nope" does not exist` {
		t.Errorf("unknown cursor: %q", pe.Message)
	}
	mustRun(t, s, "ROLLBACK")
	_, err = run(t, s, "CLOSE nope")
	wantCode(t, err, "34000")
	_, err = run(t, s, "MOVE 1 IN nope")
	wantCode(t, err, "34000")
	mustRun(t, s, "BEGIN")
	_, err = run(t, s, "DECLARE b BINARY CURSOR FOR "+cursorQuery)
	wantCode(t, err, "0A000")
	mustRun(t, s, "ROLLBACK")

	// The cursor is gone after COMMIT and ROLLBACK; WITH HOLD survives COMMIT.
	for _, end := range []string{"COMMIT", "ROLLBACK"} {
		mustRun(t, s, "BEGIN")
		mustRun(t, s, "DECLARE c CURSOR FOR "+cursorQuery)
		mustRun(t, s, "FETCH 1 FROM c")
		mustRun(t, s, end)
		_, err = run(t, s, "FETCH 1 FROM c")
		wantCode(t, err, "34000")
	}
	mustRun(t, s, "BEGIN")
	mustRun(t, s, "DECLARE h CURSOR WITH HOLD FOR "+cursorQuery)
	mustRun(t, s, "DECLARE gone CURSOR WITH HOLD FOR "+cursorQuery)
	sameRows(t, "held", textRows(mustRun(t, s, "FETCH 1 FROM h").rows), all[:1], true)
	mustRun(t, s, "CLOSE gone")
	mustRun(t, s, "COMMIT")
	sameRows(t, "held after COMMIT", textRows(mustRun(t, s, "FETCH 2 FROM h").rows), all[1:3], true)
	// A held cursor outlives a later ROLLBACK; one that transaction declared WITH HOLD does not.
	mustRun(t, s, "BEGIN")
	mustRun(t, s, "DECLARE h2 CURSOR WITH HOLD FOR "+cursorQuery)
	mustRun(t, s, "ROLLBACK")
	_, err = run(t, s, "FETCH 1 FROM h2")
	wantCode(t, err, "34000")
	sameRows(t, "held after ROLLBACK", textRows(mustRun(t, s, "FETCH 1 FROM h").rows), all[3:4], true)
	// WITH HOLD outside a transaction block, and pg_cursors.
	mustRun(t, s, "DECLARE h3 SCROLL CURSOR WITH HOLD FOR "+cursorQuery)
	cur := textRows(mustRun(t, s, "SELECT name, is_holdable, is_binary, is_scrollable, statement FROM pg_cursors ORDER BY name").rows)
	if len(cur) != 2 || cur[0][0] != "h" || cur[1][0] != "h3" || cur[1][1] != "true" || cur[1][3] != "true" ||
		!strings.HasPrefix(cur[1][4], "DECLARE h3 SCROLL CURSOR") {
		t.Errorf("pg_cursors: %v", cur)
	}
	if res := mustRun(t, s, "CLOSE h"); res.tag != "CLOSE CURSOR" {
		t.Errorf("CLOSE tag %q", res.tag)
	}

	// SCROLL: backward, ABSOLUTE, RELATIVE, as PostgreSQL positions them.
	n := len(all)
	check := func(sql string, want [][]string, tag string) {
		t.Helper()
		res := mustRun(t, s, sql)
		if res.tag != tag {
			t.Errorf("%s: tag %q, want %q", sql, res.tag, tag)
		}
		sameRows(t, sql, textRows(res.rows), want, true)
	}
	rev := func(rows [][]string) [][]string {
		out := make([][]string, len(rows))
		for i, r := range rows {
			out[len(rows)-1-i] = r
		}
		return out
	}
	check("FETCH LAST FROM h3", all[n-1:], "FETCH 1")
	check("FETCH PRIOR FROM h3", all[n-2:n-1], "FETCH 1")
	check("FETCH FIRST FROM h3", all[:1], "FETCH 1")
	check("FETCH RELATIVE 0 FROM h3", all[:1], "FETCH 1")
	check("FETCH ABSOLUTE 3 FROM h3", all[2:3], "FETCH 1")
	check("FETCH BACKWARD 2 FROM h3", rev(all[:2]), "FETCH 2")
	check("FETCH BACKWARD 1 FROM h3", nil, "FETCH 0")
	check("FETCH -1 FROM h3", nil, "FETCH 0")
	check("FETCH ABSOLUTE -2 FROM h3", all[n-2:n-1], "FETCH 1")
	check("MOVE ALL IN h3", nil, "MOVE 1")
	check("FETCH BACKWARD ALL FROM h3", rev(all), fmt.Sprintf("FETCH %d", n))
	check(fmt.Sprintf("FETCH ABSOLUTE %d FROM h3", n+5), nil, "FETCH 0")
	check("FETCH PRIOR FROM h3", all[n-1:], "FETCH 1")
	check("MOVE ABSOLUTE 0 IN h3", nil, "MOVE 0")
	check("FETCH RELATIVE 2 FROM h3", all[1:2], "FETCH 1")
	if res := mustRun(t, s, "CLOSE ALL"); res.tag != "CLOSE CURSOR ALL" {
		t.Errorf("CLOSE ALL tag %q", res.tag)
	}
	wantCode(t, func() error { _, err := run(t, s, "FETCH h3"); return err }(), "34000")

	// A failed statement aborts the transaction: FETCH waits for ROLLBACK, which closes.
	mustRun(t, s, "BEGIN")
	mustRun(t, s, "DECLARE c CURSOR FOR "+cursorQuery)
	_, err = run(t, s, "SELECT stauts FROM orders")
	wantCode(t, err, "42703")
	_, err = run(t, s, "FETCH 1 FROM c")
	wantCode(t, err, "25P02")
	mustRun(t, s, "ROLLBACK")
	_, err = run(t, s, "FETCH 1 FROM c")
	wantCode(t, err, "34000")

	// Parameters of the extended protocol, and a post-processed SELECT.
	mustRun(t, s, "BEGIN")
	st, err := s.Prepare(context.Background(), "DECLARE p CURSOR FOR SELECT upper(status) AS s, MEASURE(count) AS n FROM orders WHERE channel = $1 GROUP BY 1 ORDER BY 1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Execute(context.Background(), []any{"web"}); err != nil {
		t.Fatal(err)
	}
	res = mustRun(t, s, "FETCH ALL FROM p")
	want := mustRun(t, s, "SELECT upper(status) AS s, MEASURE(count) AS n FROM orders WHERE channel = 'web' GROUP BY 1 ORDER BY 1")
	if len(res.cols) != 2 || res.cols[0].Name != "s" || res.cols[1].Type != want.cols[1].Type {
		t.Errorf("post-processed cursor columns %v, want %v", res.cols, want.cols)
	}
	sameRows(t, "post-processed cursor", textRows(res.rows), textRows(want.rows), true)
	mustRun(t, s, "COMMIT")
}

// TestCursorPGX runs cursors through pgwire with pgx's simple protocol.
func TestCursorPGX(t *testing.T) {
	sh := openShop(t)
	h := NewHandler(Options{Engines: fixedEngine{sh.eng}, User: "cube", Password: "secret", SuperUser: "admin"})
	t.Cleanup(func() { h.Close() })
	url := servePG(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	query := func(sql string) [][]string {
		t.Helper()
		rows, err := conn.Query(ctx, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		data, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return textRows(data)
	}
	all := query(cursorQuery)
	if len(all) < 3 {
		t.Fatalf("statuses: %v", all)
	}

	// One simple query, as the brief's client sends it: the results are in order.
	results, err := conn.PgConn().Exec(ctx, "BEGIN; DECLARE c CURSOR FOR "+cursorQuery+"; FETCH 2 FROM c; FETCH ALL FROM c; CLOSE c; COMMIT").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	tags := make([]string, len(results))
	for i, r := range results {
		tags[i] = r.CommandTag.String()
	}
	wantTags := []string{"BEGIN", "DECLARE CURSOR", "FETCH 2", fmt.Sprintf("FETCH %d", len(all)-2), "CLOSE CURSOR", "COMMIT"}
	if strings.Join(tags, ",") != strings.Join(wantTags, ",") {
		t.Fatalf("tags %v, want %v", tags, wantTags)
	}
	var got [][]string
	for _, i := range []int{2, 3} {
		if len(results[i].FieldDescriptions) != 2 || results[i].FieldDescriptions[0].Name != "status" {
			t.Fatalf("FETCH columns %v", results[i].FieldDescriptions)
		}
		for _, r := range results[i].Rows {
			got = append(got, []string{string(r[0]), string(r[1])})
		}
	}
	sameRows(t, "FETCH 2 + FETCH ALL", got, all, true)

	// Statement by statement, with pgx's decoding.
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "DECLARE c CURSOR FOR "+cursorQuery); err != nil {
		t.Fatal(err)
	}
	sameRows(t, "FETCH 2", query("FETCH 2 FROM c"), all[:2], true)
	sameRows(t, "FETCH ALL", query("FETCH ALL FROM c"), all[2:], true)
	if _, err := conn.Exec(ctx, "COMMIT"); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "FETCH 1 FROM c")
	if err == nil || !strings.Contains(err.Error(), "34000") {
		t.Errorf("after COMMIT: %v", err)
	}
	_, err = conn.Exec(ctx, "DECLARE c CURSOR FOR "+cursorQuery)
	if err == nil || !strings.Contains(err.Error(), "25P01") {
		t.Errorf("outside a transaction: %v", err)
	}

	// The extended protocol: FETCH is described by the cursor's columns.
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "DECLARE e CURSOR FOR "+cursorQuery, pgx.QueryExecModeCacheStatement); err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]int{{0, 1}, {1, len(all)}} {
		rows, err := tx.Query(ctx, fmt.Sprintf("FETCH %d FROM e", r[1]-r[0]), pgx.QueryExecModeCacheStatement)
		if err != nil {
			t.Fatal(err)
		}
		data, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
		if err != nil {
			t.Fatal(err)
		}
		sameRows(t, "extended FETCH", textRows(data), all[r[0]:r[1]], true)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCursorPsycopg2 iterates a psycopg2 named (server-side) cursor.
func TestCursorPsycopg2(t *testing.T) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		testdb.Need(t, "/usr/bin/python3", err)
	}
	if out, err := exec.Command("/usr/bin/python3", "-c", "import psycopg2").CombinedOutput(); err != nil {
		testdb.Need(t, "python3 module psycopg2 (Debian python3-psycopg2)", fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out))))
	}
	sh := openShop(t)
	h := NewHandler(Options{Engines: fixedEngine{sh.eng}, User: "cube", Password: "secret", SuperUser: "admin"})
	t.Cleanup(func() { h.Close() })
	url := strings.Replace(servePG(t, h), "postgres://", "postgresql://", 1)
	script := `
import json, sys, psycopg2
conn = psycopg2.connect(sys.argv[1])
plain = conn.cursor()
plain.execute(sys.argv[2])
want = [list(r) for r in plain.fetchall()]
plain.close()
cur = conn.cursor(name="named_cur")
cur.itersize = 2
cur.execute(sys.argv[2])
first = [list(r) for r in cur.fetchmany(2)]
rest = [list(r) for r in cur]
cur.close()
conn.commit()
held = conn.cursor(name="held_cur", withhold=True)
held.execute(sys.argv[2])
conn.commit()
after = [list(r) for r in held.fetchall()]
held.close()
print(json.dumps({"want": want, "first": first, "rest": rest, "after": after, "cols": [d[0] for d in cur.description or []]}))
`
	out, err := exec.Command("/usr/bin/python3", "-c", script, url, cursorQuery).CombinedOutput()
	if err != nil {
		t.Fatalf("psycopg2: %v\n%s", err, out)
	}
	var v struct{ Want, First, Rest, After [][]any }
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := textRows(v.Want)
	if len(want) < 3 {
		t.Fatalf("plain: %v", want)
	}
	sameRows(t, "fetchmany(2)", textRows(v.First), want[:2], true)
	sameRows(t, "iteration", textRows(v.Rest), want[2:], true)
	sameRows(t, "WITH HOLD after commit", textRows(v.After), want, true)
}

// TestCursorImplicitBlock: a multi-statement simple query runs in an implicit transaction
// block, as in PostgreSQL, so DECLARE works there without BEGIN and its cursor ends with
// the query string. Each expectation was checked against PostgreSQL 15 with the same
// statements over generate_series.
func TestCursorImplicitBlock(t *testing.T) {
	sh := openShop(t)
	h := NewHandler(Options{Engines: fixedEngine{sh.eng}, User: "cube", Password: "secret", SuperUser: "admin"})
	t.Cleanup(func() { h.Close() })
	url := servePG(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	pc := conn.PgConn()
	want := rawRows(t, sh.db, "SELECT status, count(*) FROM orders GROUP BY 1 ORDER BY 1")
	if len(want) < 3 {
		t.Fatalf("statuses: %v", want)
	}
	code := func(err error) string {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return pe.Code
		}
		return fmt.Sprint(err)
	}
	tags := func(results []*pgconn.Result) string {
		var out []string
		for _, r := range results {
			out = append(out, r.CommandTag.String())
		}
		return strings.Join(out, ",")
	}
	fetched := func(r *pgconn.Result) [][]string {
		var out [][]string
		for _, row := range r.Rows {
			out = append(out, []string{string(row[0]), string(row[1])})
		}
		return out
	}

	// pgx's Exec of a string without arguments is one simple query.
	if _, err := conn.Exec(ctx, "DECLARE c CURSOR FOR "+cursorQuery+"; FETCH 2 FROM c; CLOSE c"); err != nil {
		t.Fatalf("DECLARE; FETCH; CLOSE: %v", err)
	}
	results, err := pc.Exec(ctx, "DECLARE c CURSOR FOR "+cursorQuery+"; FETCH 2 FROM c").ReadAll()
	if err != nil || tags(results) != "DECLARE CURSOR,FETCH 2" {
		t.Fatalf("DECLARE; FETCH 2: %s, %v", tags(results), err)
	}
	sameRows(t, "FETCH 2 in the implicit block", fetched(results[1]), want[:2], true)
	if st := pc.TxStatus(); st != 'I' {
		t.Errorf("status after the implicit block: %q, want 'I'", st)
	}
	// The block committed at the end of the string, and the cursor with it.
	if _, err := pc.Exec(ctx, "FETCH 1 FROM c").ReadAll(); code(err) != "34000" {
		t.Errorf("FETCH after the string: %v, want 34000", err)
	}
	// One statement is no block, with or without empty statements after it.
	for _, sql := range []string{"DECLARE c CURSOR FOR " + cursorQuery, "DECLARE c CURSOR FOR " + cursorQuery + ";;"} {
		_, err := pc.Exec(ctx, sql).ReadAll()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "25P01" || pe.Message != "DECLARE CURSOR can only be used in transaction blocks" {
			t.Errorf("%s: %v, want 25P01", sql, err)
		}
	}
	// COMMIT ends the block; the statements after it run in a new one.
	results, err = pc.Exec(ctx, "DECLARE c CURSOR FOR "+cursorQuery+"; COMMIT; FETCH 1 FROM c").ReadAll()
	if code(err) != "34000" || tags(results) != "DECLARE CURSOR,COMMIT" {
		t.Errorf("DECLARE; COMMIT; FETCH: %s, %v, want 34000 at FETCH", tags(results), err)
	}
	results, err = pc.Exec(ctx, "COMMIT; DECLARE c CURSOR FOR "+cursorQuery+"; FETCH 1 FROM c").ReadAll()
	if err != nil || tags(results) != "COMMIT,DECLARE CURSOR,FETCH 1" {
		t.Errorf("COMMIT; DECLARE; FETCH: %s, %v", tags(results), err)
	}
	// BEGIN makes the block explicit: it and its cursor outlive the string.
	results, err = pc.Exec(ctx, "DECLARE c CURSOR FOR "+cursorQuery+"; BEGIN; FETCH 1 FROM c").ReadAll()
	if err != nil || tags(results) != "DECLARE CURSOR,BEGIN,FETCH 1" || pc.TxStatus() != 'T' {
		t.Fatalf("DECLARE; BEGIN; FETCH: %s, %v, status %q", tags(results), err, pc.TxStatus())
	}
	results, err = pc.Exec(ctx, "FETCH 1 FROM c").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, "FETCH in the block BEGIN kept", fetched(results[0]), want[1:2], true)
	if _, err := pc.Exec(ctx, "COMMIT").ReadAll(); err != nil {
		t.Fatal(err)
	}
	// A failure rolls the block back: SET is undone, a WITH HOLD cursor is gone.
	results, err = pc.Exec(ctx, "SET application_name = 'implicit'; DECLARE h CURSOR WITH HOLD FOR "+cursorQuery+"; FETCH 1 FROM nope; SELECT 1").ReadAll()
	if code(err) != "34000" || tags(results) != "SET,DECLARE CURSOR" {
		t.Errorf("failing string: %s, %v, want 34000 after SET and DECLARE", tags(results), err)
	}
	var app string
	if err := conn.QueryRow(ctx, "SHOW application_name").Scan(&app); err != nil || app == "implicit" {
		t.Errorf("application_name after the rolled-back block: %q, %v", app, err)
	}
	if _, err := pc.Exec(ctx, "FETCH 1 FROM h").ReadAll(); code(err) != "34000" {
		t.Errorf("WITH HOLD cursor of the rolled-back block: %v, want 34000", err)
	}
	// WITH HOLD survives the block's commit.
	if _, err := pc.Exec(ctx, "DECLARE h CURSOR WITH HOLD FOR "+cursorQuery+"; SELECT 1").ReadAll(); err != nil {
		t.Fatal(err)
	}
	if results, err = pc.Exec(ctx, "FETCH 1 FROM h; CLOSE h").ReadAll(); err != nil {
		t.Fatal(err)
	}
	sameRows(t, "WITH HOLD after the block", fetched(results[0]), want[:1], true)
	// Savepoints need an explicit block; DISCARD ALL refuses any.
	if _, err := pc.Exec(ctx, "SELECT 1; SAVEPOINT a").ReadAll(); code(err) != "25P01" {
		t.Errorf("SAVEPOINT in the implicit block: %v, want 25P01", err)
	}
	if _, err := pc.Exec(ctx, "SELECT 1; DISCARD ALL").ReadAll(); code(err) != "25001" {
		t.Errorf("DISCARD ALL in the implicit block: %v, want 25001", err)
	}
	if st := pc.TxStatus(); st != 'I' {
		t.Errorf("final status %q, want 'I'", st)
	}
}

// TestCursorImplicitBlockPsql runs psql -c with a multi-statement string, as PostgreSQL's
// own psql would send it.
func TestCursorImplicitBlockPsql(t *testing.T) {
	const psql = "/usr/bin/psql"
	if _, err := os.Stat(psql); err != nil {
		testdb.Need(t, psql, err)
	}
	sh := openShop(t)
	h := NewHandler(Options{Engines: fixedEngine{sh.eng}, User: "cube", Password: "secret", SuperUser: "admin"})
	t.Cleanup(func() { h.Close() })
	url := servePG(t, h)
	want := rawRows(t, sh.db, "SELECT status, count(*) FROM orders GROUP BY 1 ORDER BY 1")
	runPsql := func(args ...string) (string, string, error) {
		cmd := exec.Command(psql, append([]string{"-X", "-A", "-t", "-F", ",", url}, args...)...)
		cmd.Env = []string{"PGCONNECT_TIMEOUT=10", "PGPASSFILE=/dev/null", "HOME=" + t.TempDir(), "LANG=C.UTF-8"}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}
	out, errOut, err := runPsql("-c", "DECLARE c CURSOR FOR "+cursorQuery+"; FETCH 2 FROM c; CLOSE c")
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, errOut)
	}
	// psql prints every result of the string, as with PostgreSQL 15: the tags of the
	// statements without rows, the rows of FETCH.
	wantOut := "DECLARE CURSOR\n" + strings.Join(want[0], ",") + "\n" + strings.Join(want[1], ",") + "\nCLOSE CURSOR\n"
	if out != wantOut {
		t.Errorf("psql output %q, want %q", out, wantOut)
	}
	out, errOut, err = runPsql("-c", "DECLARE c CURSOR FOR "+cursorQuery+"; FETCH 2 FROM c", "-c", "FETCH 1 FROM c")
	if wantOut := "DECLARE CURSOR\n" + strings.Join(want[0], ",") + "\n" + strings.Join(want[1], ",") + "\n"; out != wantOut {
		t.Errorf("psql output %q, want %q", out, wantOut)
	}
	if err == nil || !strings.Contains(errOut, `ERROR:  cursor "c" does not exist`) {
		t.Errorf("psql FETCH after the string: %v\n%s", err, errOut)
	}
	_, errOut, err = runPsql("-c", "DECLARE c CURSOR FOR "+cursorQuery)
	if err == nil || !strings.Contains(errOut, "ERROR:  DECLARE CURSOR can only be used in transaction blocks") {
		t.Errorf("psql single DECLARE: %v\n%s", err, errOut)
	}
}
