package pgwire

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

func modeParam(mode pgx.QueryExecMode) string {
	return "default_query_exec_mode=" + strings.ReplaceAll(mode.String(), " ", "_")
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func connString(ts *testServer, user, password, extra string) string {
	s := fmt.Sprintf("postgres://%s:%s@%s/db?sslmode=disable&connect_timeout=10", user, password, ts.addr)
	if extra != "" {
		s = strings.Replace(s, "sslmode=disable", extra, 1)
	}
	return s
}

func connect(t *testing.T, ts *testServer, extra string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(testCtx(t), connString(ts, "u", "pw", extra))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func selectOne(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	var n int32
	if err := conn.QueryRow(testCtx(t), "SELECT 1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("SELECT 1 = %d, %v", n, err)
	}
}

func TestPgxAuthentication(t *testing.T) {
	tlsCfg := selfSignedTLS(t)
	cases := []struct {
		name   string
		opt    Options
		sslm   string
		method string // logged by the server
	}{
		{"scram", Options{}, "sslmode=disable", "SCRAM-SHA-256"},
		{"scram-plus-over-tls", Options{TLSConfig: tlsCfg}, "sslmode=require", "SCRAM-SHA-256-PLUS"},
		{"md5", Options{AuthMethod: AuthMD5}, "sslmode=disable", "md5"},
		{"cleartext-over-tls", Options{AuthMethod: AuthPassword, TLSConfig: tlsCfg}, "sslmode=require", "password"},
		{"scram-tls-prefer", Options{TLSConfig: tlsCfg}, "sslmode=prefer", "SCRAM-SHA-256-PLUS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, tc.opt)
			conn := connect(t, ts, tc.sslm)
			selectOne(t, conn)
			if !strings.Contains(ts.logs.String(), "method="+tc.method+" ") {
				t.Errorf("server did not log method %s:\n%s", tc.method, ts.logs.String())
			}
			if tc.opt.TLSConfig != nil && !strings.Contains(ts.logs.String(), "tls=true") {
				t.Errorf("connection was not encrypted")
			}
			// Wrong password, unknown user: the same error.
			for _, user := range []string{"u", "nobody"} {
				_, err := pgx.Connect(testCtx(t), connString(ts, user, "wrong", tc.sslm))
				if pgCode(err) != "28P01" || !strings.Contains(err.Error(), fmt.Sprintf("password authentication failed for user %q", user)) {
					t.Errorf("user %s with a wrong password: %v", user, err)
				}
			}
			_, err := pgx.Connect(testCtx(t), connString(ts, "blocked", "x", tc.sslm))
			if pgCode(err) != "28000" || !strings.Contains(err.Error(), "not permitted") {
				t.Errorf("blocked user: %v", err)
			}
			_, err = pgx.Connect(testCtx(t), connString(ts, "forbidden", "x", tc.sslm))
			if pgCode(err) != "42501" {
				t.Errorf("forbidden user: %v", err)
			}
			// The server still serves after the failures.
			selectOne(t, connect(t, ts, tc.sslm))
		})
	}

	t.Run("non-ascii-password", func(t *testing.T) {
		ts := startServer(t, Options{})
		conn, err := pgx.Connect(testCtx(t), connString(ts, "ü", "pässwörd", ""))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		selectOne(t, conn)
	})
	t.Run("cleartext-refused-without-tls", func(t *testing.T) {
		ts := startServer(t, Options{AuthMethod: AuthPassword})
		_, err := pgx.Connect(testCtx(t), connString(ts, "u", "pw", ""))
		if pgCode(err) != "28000" || !strings.Contains(err.Error(), "encrypted connection") {
			t.Errorf("cleartext without TLS: %v", err)
		}
		ts2 := startServer(t, Options{AuthMethod: AuthPassword, AllowCleartext: true})
		selectOne(t, connect(t, ts2, ""))
	})
	t.Run("tls-required-by-client-but-not-configured", func(t *testing.T) {
		ts := startServer(t, Options{})
		_, err := pgx.Connect(testCtx(t), connString(ts, "u", "pw", "sslmode=require"))
		if err == nil || !strings.Contains(err.Error(), "refused TLS") {
			t.Errorf("sslmode=require against a server without TLS: %v", err)
		}
	})
	t.Run("unknown-database", func(t *testing.T) {
		ts := startServer(t, Options{})
		_, err := pgx.Connect(testCtx(t), strings.Replace(connString(ts, "u", "pw", ""), "/db?", "/nodb?", 1))
		if pgCode(err) != "3D000" {
			t.Errorf("unknown database: %v", err)
		}
	})
	t.Run("trust", func(t *testing.T) {
		ts := startServer(t, Options{AuthMethod: AuthTrust})
		selectOne(t, connect(t, ts, ""))
		_, err := pgx.Connect(testCtx(t), connString(ts, "nobody", "", ""))
		if pgCode(err) != "28000" {
			t.Errorf("unknown user with trust: %v", err)
		}
	})
	t.Run("max-connections", func(t *testing.T) {
		ts := startServer(t, Options{MaxConnections: 1})
		selectOne(t, connect(t, ts, ""))
		_, err := pgx.Connect(testCtx(t), connString(ts, "u", "pw", ""))
		if pgCode(err) != "53300" {
			t.Errorf("second connection: %v", err)
		}
	})
}

var execModes = []pgx.QueryExecMode{
	pgx.QueryExecModeCacheStatement,
	pgx.QueryExecModeCacheDescribe,
	pgx.QueryExecModeDescribeExec,
	pgx.QueryExecModeExec,
	pgx.QueryExecModeSimpleProtocol,
}

// wantTypesRow is the types table's first row as pgx decodes it by default.
func wantTypesRow(t *testing.T) []any {
	var num pgtype.Numeric
	if err := num.Scan("12345678901234567890.123456789"); err != nil {
		t.Fatal(err)
	}
	return []any{
		int16(-32768), int32(2147483647), int64(math.MaxInt64), float32(1.5), 3.141592653589793,
		num, true, "héllo 'wörld' \\ \"q\"", "v",
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC),
		time.Date(2024, 1, 2, 3, 4, 5, 654321000, time.UTC),
		[]byte{0, 1, 2, 0xff, '\\'},
		[16]byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11},
	}
}

func sameValue(got, want any) bool {
	switch w := want.(type) {
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w)
	case pgtype.Numeric:
		g, ok := got.(pgtype.Numeric)
		if !ok {
			return false
		}
		gv, _ := g.Value()
		wv, _ := w.Value()
		return gv == wv
	}
	return reflect.DeepEqual(got, want)
}

func TestPgxTypesRoundTrip(t *testing.T) {
	ts := startServer(t, Options{})
	for _, mode := range execModes {
		t.Run(mode.String(), func(t *testing.T) {
			conn := connect(t, ts, modeParam(mode))
			ctx := testCtx(t)
			rows, err := conn.Query(ctx, "SELECT * FROM types")
			if err != nil {
				t.Fatal(err)
			}
			var got [][]any
			for rows.Next() {
				vals, err := rows.Values()
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, vals)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if tag := rows.CommandTag().String(); tag != "SELECT 2" {
				t.Errorf("tag %q", tag)
			}
			fds := rows.FieldDescriptions()
			if len(got) != 2 || len(fds) != len(typesColumns) {
				t.Fatalf("got %d rows, %d fields", len(got), len(fds))
			}
			want := wantTypesRow(t)
			for i, w := range want {
				if !sameValue(got[0][i], w) {
					t.Errorf("%s: got %#v (%T), want %#v", typesColumns[i], got[0][i], got[0][i], w)
				}
				if got[1][i] != nil {
					t.Errorf("%s: NULL came back as %#v", typesColumns[i], got[1][i])
				}
				if fds[i].TableOID != 16384 || fds[i].TableAttributeNumber != uint16(i+1) {
					t.Errorf("%s: table %d attr %d", typesColumns[i], fds[i].TableOID, fds[i].TableAttributeNumber)
				}
			}
			// pgx asks binary results for the types it knows, except in the simple protocol.
			// (Without a description, in exec mode, it cannot.)
			wantFormat := int16(1)
			if mode == pgx.QueryExecModeSimpleProtocol || mode == pgx.QueryExecModeExec {
				wantFormat = 0
			}
			if f := fds[2].Format; f != wantFormat {
				t.Errorf("int8 came in format %d, want %d", f, wantFormat)
			}
		})
	}
}

func TestPgxParametersRoundTrip(t *testing.T) {
	ts := startServer(t, Options{})
	var num pgtype.Numeric
	if err := num.Scan("-98765432109876543210.000000001"); err != nil {
		t.Fatal(err)
	}
	uuid := [16]byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}
	cases := []struct {
		typ  string
		in   any
		want any
	}{
		{"int2", int16(-7), int16(-7)},
		{"int4", int32(math.MinInt32), int32(math.MinInt32)},
		{"int8", int64(math.MinInt64), int64(math.MinInt64)},
		{"float4", float32(0.1), float32(0.1)},
		{"float8", 1e300, 1e300},
		{"float8", math.Inf(-1), math.Inf(-1)},
		{"numeric", num, num},
		{"bool", false, false},
		{"text", "a\tb\nc 'q' \\ é", "a\tb\nc 'q' \\ é"},
		{"text", "", ""},
		{"varchar", "var", "var"},
		{"date", time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"timestamp", time.Date(2030, 6, 7, 8, 9, 10, 500000000, time.UTC), time.Date(2030, 6, 7, 8, 9, 10, 500000000, time.UTC)},
		{"timestamptz", time.Date(2030, 6, 7, 8, 9, 10, 1000, time.FixedZone("x", 5*3600+1800)), time.Date(2030, 6, 7, 8, 9, 10, 1000, time.FixedZone("x", 5*3600+1800))},
		{"bytea", []byte{}, []byte{}},
		{"bytea", []byte("\x00\x01binary\xff"), []byte("\x00\x01binary\xff")},
		{"uuid", pgtype.UUID{Bytes: uuid, Valid: true}, uuid},
	}
	for _, mode := range execModes[:4] {
		t.Run(mode.String(), func(t *testing.T) {
			conn := connect(t, ts, modeParam(mode))
			for _, c := range cases {
				var got any
				rows, err := conn.Query(testCtx(t), "ECHO "+c.typ, c.in)
				if err != nil {
					t.Fatalf("%s: %v", c.typ, err)
				}
				for rows.Next() {
					vals, err := rows.Values()
					if err != nil {
						t.Fatalf("%s: %v", c.typ, err)
					}
					got = vals[0]
				}
				if err := rows.Err(); err != nil {
					t.Fatalf("%s %v: %v", c.typ, c.in, err)
				}
				if !sameValue(got, c.want) {
					t.Errorf("%s: sent %#v, got back %#v (%T)", c.typ, c.in, got, got)
				}
			}
			// NULL parameters.
			var s *string
			if err := conn.QueryRow(testCtx(t), "ECHO text", nil).Scan(&s); err != nil || s != nil {
				t.Errorf("NULL: %v %v", s, err)
			}
			// A parameter the statement leaves untyped is described as text.
			var u string
			if err := conn.QueryRow(testCtx(t), "ECHO unknown", "abc").Scan(&u); err != nil || u != "abc" {
				t.Errorf("untyped parameter: %q %v", u, err)
			}
		})
	}
}

func TestPgxPreparedStatementsReused(t *testing.T) {
	ts := startServer(t, Options{})
	conn := connect(t, ts, "")
	ctx := testCtx(t)
	if _, err := conn.Prepare(ctx, "echo8", "ECHO int8"); err != nil {
		t.Fatal(err)
	}
	before := ts.h.prepares.Load()
	for i := range 20 {
		var n int64
		if err := conn.QueryRow(ctx, "echo8", int64(i)).Scan(&n); err != nil || n != int64(i) {
			t.Fatalf("run %d: %d %v", i, n, err)
		}
		// The statement cache of the default mode also prepares once.
		var m int64
		if err := conn.QueryRow(ctx, "ECHO int8", int64(i)).Scan(&m); err != nil || m != int64(i) {
			t.Fatalf("cached run %d: %d %v", i, m, err)
		}
	}
	if n := ts.h.prepares.Load() - before; n != 1 {
		t.Errorf("%d prepares for 40 runs of two statements, want 1 (the cached one)", n)
	}
	if err := conn.Deallocate(ctx, "echo8"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Prepare(ctx, "echo8", "ECHO text"); err != nil {
		t.Fatalf("prepare again after deallocate: %v", err)
	}
}

func TestPgxCancelRequest(t *testing.T) {
	ts := startServer(t, Options{})
	for _, stmt := range []string{"SLOW", "SLOWROWS"} {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
			t.Run(stmt+"/"+mode.String(), func(t *testing.T) {
				conn := connect(t, ts, modeParam(mode))
				errc := make(chan error, 1)
				go func() {
					rows, err := conn.Query(context.Background(), stmt)
					if err == nil {
						for rows.Next() {
						}
						err = rows.Err()
					}
					errc <- err
				}()
				select {
				case <-ts.h.running:
				case <-time.After(10 * time.Second):
					t.Fatal("statement did not start")
				}
				if err := conn.PgConn().CancelRequest(testCtx(t)); err != nil {
					t.Fatal(err)
				}
				select {
				case err := <-errc:
					if pgCode(err) != "57014" || !strings.Contains(err.Error(), "user request") {
						t.Fatalf("canceled statement: %v", err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("cancel did not stop the statement")
				}
				selectOne(t, conn)
			})
		}
	}
	t.Run("wrong-key", func(t *testing.T) {
		conn := connect(t, ts, "")
		other := connect(t, ts, "")
		// A cancel for another connection's key does not touch this one.
		if err := other.PgConn().CancelRequest(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		selectOne(t, conn)
	})
}

func TestStatementTimeout(t *testing.T) {
	ts := startServer(t, Options{StatementTimeout: 200 * time.Millisecond})
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		conn := connect(t, ts, modeParam(mode))
		_, err := conn.Exec(testCtx(t), "SLOW")
		if pgCode(err) != "57014" || !strings.Contains(err.Error(), "statement timeout") {
			t.Fatalf("%s: %v", mode, err)
		}
		selectOne(t, conn)
	}
}

func TestPgxErrorsKeepConnection(t *testing.T) {
	ts := startServer(t, Options{})
	cases := []struct {
		sql, code, msg, hint string
	}{
		{"ERROR", "42P01", `relation "nope" does not exist`, "Look elsewhere."},
		{"INVALID", "42703", "unknown column orders.stauts", `Did you mean "orders.status"?`},
		{"INTERNAL", "XX000", "internal error", ""},
		{"ROWSERR", "XX000", "warehouse said no", ""},
		{"BADROW", "XX000", "internal error", ""},
		{"NO SUCH THING", "42601", `syntax error at or near "NO"`, ""},
	}
	for _, mode := range execModes {
		t.Run(mode.String(), func(t *testing.T) {
			conn := connect(t, ts, modeParam(mode))
			for _, c := range cases {
				rows, err := conn.Query(testCtx(t), c.sql)
				if err == nil {
					for rows.Next() {
					}
					err = rows.Err()
				}
				var pe *pgconn.PgError
				if !errors.As(err, &pe) {
					t.Fatalf("%s: %v", c.sql, err)
				}
				if pe.Code != c.code || !strings.Contains(pe.Message, c.msg) || pe.Hint != c.hint || pe.Severity != "ERROR" {
					t.Errorf("%s: got %s %q hint %q severity %s", c.sql, pe.Code, pe.Message, pe.Hint, pe.Severity)
				}
				if strings.Contains(pe.Message, "secret") {
					t.Errorf("internal error leaked: %q", pe.Message)
				}
				if c.sql == "ERROR" && (pe.Detail != "Some detail." || pe.Position != 15) {
					t.Errorf("detail %q position %d", pe.Detail, pe.Position)
				}
				selectOne(t, conn)
			}
		})
	}
}

func TestPgxBatchPipeline(t *testing.T) {
	ts := startServer(t, Options{})
	for _, mode := range execModes {
		t.Run(mode.String(), func(t *testing.T) {
			conn := connect(t, ts, modeParam(mode))
			ctx := testCtx(t)
			b := &pgx.Batch{}
			b.Queue("SELECT 1")
			if mode == pgx.QueryExecModeSimpleProtocol {
				b.Queue("SERIES 42") // the simple protocol has no parameters
			} else {
				b.Queue("ECHO int8", int64(42))
			}
			b.Queue("SET application_name = 'batch'")
			b.Queue("SERIES 3")
			br := conn.SendBatch(ctx, b)
			var one int32
			if err := br.QueryRow().Scan(&one); err != nil || one != 1 {
				t.Fatalf("SELECT 1: %d %v", one, err)
			}
			var n int64
			if err := br.QueryRow().Scan(&n); err != nil || (n != 42 && n != 1) {
				t.Fatalf("ECHO: %d %v", n, err)
			}
			if tag, err := br.Exec(); err != nil || tag.String() != "SET" {
				t.Fatalf("SET: %q %v", tag, err)
			}
			rows, err := br.Query()
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for rows.Next() {
				var v int64
				if err := rows.Scan(&v); err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
			}
			if rows.Err() != nil || !reflect.DeepEqual(got, []int64{1, 2, 3}) {
				t.Fatalf("SERIES: %v %v", got, rows.Err())
			}
			if err := br.Close(); err != nil {
				t.Fatal(err)
			}
			if v := conn.PgConn().ParameterStatus("application_name"); v != "batch" {
				t.Errorf("application_name after SET = %q", v)
			}

			// An error in the middle of a batch fails it there; the connection goes on.
			b = &pgx.Batch{}
			b.Queue("SELECT 1")
			b.Queue("ERROR")
			b.Queue("SELECT 1")
			br = conn.SendBatch(ctx, b)
			if _, err := br.Exec(); err != nil {
				t.Fatalf("first: %v", err)
			}
			if _, err := br.Exec(); pgCode(err) != "42P01" {
				t.Fatalf("second: %v", err)
			}
			_, err = br.Exec()
			if err == nil {
				t.Errorf("the statement after the failed one ran")
			}
			br.Close()
			selectOne(t, conn)
		})
	}
}

func TestParameterStatus(t *testing.T) {
	ts := startServer(t, Options{})
	conn := connect(t, ts, "application_name=myapp&timezone=America/New_York")
	pc := conn.PgConn()
	want := map[string]string{
		"server_version": "15.0", "server_encoding": "UTF8", "client_encoding": "UTF8",
		"DateStyle": "ISO, MDY", "integer_datetimes": "on", "standard_conforming_strings": "on",
		"IntervalStyle": "postgres", "is_superuser": "off", "session_authorization": "u",
		"application_name": "myapp", "TimeZone": "America/New_York",
	}
	for k, v := range want {
		if got := pc.ParameterStatus(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if pc.PID() == 0 {
		t.Errorf("no BackendKeyData pid")
	}
	// timestamptz text is written in the session's zone.
	conn2 := connect(t, ts, "default_query_exec_mode=simple_protocol")
	ctx := testCtx(t)
	if _, err := conn2.Exec(ctx, "SET TimeZone = 'Asia/Kolkata'"); err != nil {
		t.Fatal(err)
	}
	if got := conn2.PgConn().ParameterStatus("TimeZone"); got != "Asia/Kolkata" {
		t.Errorf("TimeZone after SET: %q", got)
	}
	res := conn2.PgConn().Exec(ctx, "SELECT * FROM types")
	results, err := res.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := string(results[0].Rows[0][11]); got != "2024-01-02 08:34:05.654321+05:30" {
		t.Errorf("timestamptz text %q", got)
	}
	wantText := []string{"-32768", "2147483647", "9223372036854775807", "1.5", "3.141592653589793",
		"12345678901234567890.123456789", "t", "héllo 'wörld' \\ \"q\"", "v", "2024-02-29",
		"2024-01-02 03:04:05.123456", "2024-01-02 08:34:05.654321+05:30", `\x000102ff5c`,
		"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}
	for i, w := range wantText {
		if got := string(results[0].Rows[0][i]); got != w {
			t.Errorf("%s as text: %q, want %q", typesColumns[i], got, w)
		}
	}
}

func TestServerClose(t *testing.T) {
	ts := startServer(t, Options{})
	idle := connect(t, ts, "")
	busy := connect(t, ts, "")
	errc := make(chan error, 1)
	go func() {
		_, err := busy.Exec(context.Background(), "SLOW")
		errc <- err
	}()
	<-ts.h.running
	// Close cancels the running statement rather than waiting for it: were it to wait,
	// the SLOW statement (which ends only when canceled) would hang the test.
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; pgCode(err) != "57P01" {
		t.Errorf("running statement at Close: %v", err)
	}
	if _, err := idle.Exec(testCtx(t), "SELECT 1"); err == nil {
		t.Errorf("idle connection still works after Close")
	}
	if _, err := pgx.Connect(testCtx(t), connString(ts, "u", "pw", "")); err == nil {
		t.Errorf("connected after Close")
	}
}

func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, Options{IdleTimeout: 300 * time.Millisecond})
	conn := connect(t, ts, "")
	selectOne(t, conn)
	time.Sleep(time.Second)
	if !conn.IsClosed() {
		_, err := conn.Exec(testCtx(t), "SELECT 1")
		if err == nil {
			t.Fatal("connection survived the idle timeout")
		}
	}
	// A busy connection is not idle.
	conn2 := connect(t, ts, "")
	for range 5 {
		time.Sleep(100 * time.Millisecond)
		selectOne(t, conn2)
	}
}

func TestPanicInHandler(t *testing.T) {
	ts := startServer(t, Options{})
	conn := connect(t, ts, "")
	_, err := conn.Exec(testCtx(t), "PANIC")
	if pgCode(err) != "XX000" {
		t.Errorf("panic: %v", err)
	}
	selectOne(t, connect(t, ts, ""))
}

// TestPgxDeallocateStatement: DEALLOCATE by simple query drops a statement prepared with
// the extended protocol (a Rows that is a Deallocation), and DEALLOCATE ALL drops them all.
func TestPgxDeallocateStatement(t *testing.T) {
	ts := startServer(t, Options{})
	conn := connect(t, ts, "")
	ctx := testCtx(t)
	pc := conn.PgConn()
	for _, name := range []string{"x", "y", "z"} {
		if _, err := pc.Prepare(ctx, name, "ECHO int8", nil); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string) error {
		return pc.ExecPrepared(ctx, name, [][]byte{[]byte("7")}, nil, nil).Read().Err
	}
	if err := run("x"); err != nil {
		t.Fatalf("before DEALLOCATE: %v", err)
	}
	res, err := pc.Exec(ctx, "DEALLOCATE x").ReadAll()
	if err != nil || len(res) != 1 || res[0].CommandTag.String() != "DEALLOCATE" {
		t.Fatalf("DEALLOCATE x: %v %v", res, err)
	}
	err = run("x")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "26000" || pe.Message != `prepared statement "x" does not exist` {
		t.Fatalf("after DEALLOCATE: %v, want 26000 prepared statement \"x\" does not exist", err)
	}
	if err := run("y"); err != nil {
		t.Fatalf("other statement after DEALLOCATE x: %v", err)
	}
	// The name is free again.
	if _, err := pc.Prepare(ctx, "x", "ECHO text", nil); err != nil {
		t.Fatalf("prepare again after DEALLOCATE: %v", err)
	}
	if _, err := pc.Exec(ctx, "DEALLOCATE ALL").ReadAll(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"x", "y", "z"} {
		if err := run(name); pgCode(err) != "26000" {
			t.Errorf("%s after DEALLOCATE ALL: %v, want 26000", name, err)
		}
	}
	// DEALLOCATE ALL with nothing prepared is fine; a name that is not prepared is 26000,
	// as in PostgreSQL, even from a Session that does not check it, and the connection
	// still works.
	if _, err := pc.Exec(ctx, "DEALLOCATE ALL").ReadAll(); err != nil {
		t.Errorf("DEALLOCATE ALL with nothing prepared: %v", err)
	}
	_, err = pc.Exec(ctx, "DEALLOCATE nope").ReadAll()
	if !errors.As(err, &pe) || pe.Code != "26000" || pe.Message != `prepared statement "nope" does not exist` {
		t.Errorf("DEALLOCATE of a missing statement: %v, want 26000 prepared statement \"nope\" does not exist", err)
	}
	// pgwire's failure ends the query: the statements after it do not run, and the
	// session hears of it (EndQuery), so an open block fails.
	if _, err := pc.Exec(ctx, "BEGIN").ReadAll(); err != nil {
		t.Fatal(err)
	}
	res, err = pc.Exec(ctx, "DEALLOCATE nope; SELECT 1").ReadAll()
	if pgCode(err) != "26000" || len(res) != 0 {
		t.Errorf("DEALLOCATE nope; SELECT 1: %d results, %v; want 26000 and no SELECT", len(res), err)
	}
	if st := pc.TxStatus(); st != 'E' {
		t.Errorf("transaction status after a failed DEALLOCATE in a block: %q, want 'E'", st)
	}
	if _, err := pc.Exec(ctx, "COMMIT").ReadAll(); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := conn.QueryRow(ctx, "ECHO int8", int64(3)).Scan(&n); err != nil || n != 3 {
		t.Fatalf("after DEALLOCATE ALL: %d %v", n, err)
	}
}
