package postgres

import (
	"context"
	"errors"
	"math/big"
	"net"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/testdb"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

func open(t testing.TB, url string) *DB {
	t.Helper()
	db, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func queryAll(t *testing.T, w warehouse.Warehouse, sql string, args ...any) ([]string, [][]any) {
	t.Helper()
	rows, err := w.Query(context.Background(), sql, args)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	cols, data, err := warehouse.Collect(rows)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return cols, data
}

func TestValueTypes(t *testing.T) {
	db := open(t, testdb.Postgres(t))
	ts := time.Date(2024, 1, 31, 23, 30, 15, 0, time.UTC)
	for _, tc := range []struct {
		sql  string
		args []any
		want any
	}{
		{"SELECT NULL::int", nil, nil},
		{"SELECT true", nil, true},
		{"SELECT 2::int2", nil, int64(2)},
		{"SELECT 3::int4", nil, int64(3)},
		{"SELECT 4::int8", nil, int64(4)},
		{"SELECT count(*) FROM generate_series(1, 3)", nil, int64(3)},
		{"SELECT 0.1::float4", nil, 0.1},
		{"SELECT 2.5::float8", nil, 2.5},
		{"SELECT 12.50::numeric(10,2)", nil, warehouse.Numeric("12.50")},
		{"SELECT -0.05::numeric(10,2)", nil, warehouse.Numeric("-0.05")},
		{"SELECT 0::numeric(10,2)", nil, warehouse.Numeric("0.00")},
		{"SELECT 1000::numeric", nil, warehouse.Numeric("1000")},
		{"SELECT 123456789012345678901234567890.123::numeric", nil, warehouse.Numeric("123456789012345678901234567890.123")},
		{"SELECT sum(x) FROM (VALUES (19867713.40::numeric(12,2)), (0.05)) t(x)", nil, warehouse.Numeric("19867713.45")},
		{"SELECT 'héllo'::text", nil, "héllo"},
		{"SELECT 'x'::varchar(3)", nil, "x"},
		{"SELECT 'ab'::bytea", nil, "ab"},
		{"SELECT '6f1a0e3c-1b2d-4c5e-8f90-a1b2c3d4e5f6'::uuid", nil, "6f1a0e3c-1b2d-4c5e-8f90-a1b2c3d4e5f6"},
		{"SELECT TIMESTAMP '2024-01-31 23:30:15'", nil, ts},
		{"SELECT TIMESTAMPTZ '2024-02-01 01:30:15+02'", nil, ts},
		{"SELECT now() AT TIME ZONE 'UTC' = now()::timestamp", nil, true}, // session zone is UTC
		{"SELECT DATE '2024-01-31'", nil, time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"SELECT TIME '13:45:01.5'", nil, "13:45:01.5"},
		{"SELECT INTERVAL '1 year 2 months 3 days 04:05:06'", nil, "1 year 2 mons 3 days 04:05:06"},
		{"SELECT '{\"a\": [1, 2.50]}'::jsonb", nil, `{"a":[1,2.5]}`},
		{"SELECT ARRAY[1, 2, 3]", nil, "[1,2,3]"},
		{"SELECT $1::int + 1", []any{41}, int64(42)},
		{"SELECT $1::text || 'b'", []any{"a"}, "ab"},
		{"SELECT $1::timestamp", []any{ts}, ts},
		{"SELECT $1::timestamp", []any{"2024-01-31T23:30:15.000"}, ts},
		{"SELECT $1::numeric(10,2) * 2", []any{"6.25"}, warehouse.Numeric("12.50")},
	} {
		_, data := queryAll(t, db, tc.sql, tc.args...)
		if len(data) != 1 || len(data[0]) != 1 {
			t.Errorf("%s: got %v", tc.sql, data)
			continue
		}
		got := data[0][0]
		if tm, ok := got.(time.Time); ok && tm.Location() != time.UTC {
			t.Errorf("%s: %v is not in UTC", tc.sql, tm)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#v (%T), want %#v (%T)", tc.sql, got, got, tc.want, tc.want)
		}
	}
}

func kindOf(err error) errs.Kind { return errs.KindOf(err) }

func TestErrors(t *testing.T) {
	url := testdb.Postgres(t)
	db := open(t, url)
	ctx := context.Background()

	if err := db.Ping(ctx); err != nil {
		t.Fatalf("ping: %v", err)
	}
	_, err := db.Query(ctx, "SELEC 1", nil)
	if kindOf(err) != errs.KindSource {
		t.Errorf("syntax error: kind %q (%v)", kindOf(err), err)
	}
	var e *errs.Error
	if !errors.As(err, &e) || e.Err == nil {
		t.Errorf("syntax error lost the database message: %v", err)
	}

	rows, err := db.Query(ctx, "SELECT 1 / (x - 1) FROM generate_series(1, 2) x", nil)
	if err == nil {
		_, _, err = warehouse.Collect(rows)
	}
	if kindOf(err) != errs.KindSource {
		t.Errorf("division by zero: kind %q (%v)", kindOf(err), err)
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.Query(canceled, "SELECT 1", nil); kindOf(err) != errs.KindCanceled {
		t.Errorf("canceled: kind %q (%v)", kindOf(err), err)
	}

	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	rows, err = db.Query(short, "SELECT pg_sleep(5)", nil)
	if err == nil {
		_, _, err = warehouse.Collect(rows)
	}
	if kindOf(err) != errs.KindTimeout {
		t.Errorf("deadline: kind %q (%v)", kindOf(err), err)
	}

	// statement_timeout cancels on the server's side: a timeout too, not a cancel.
	conn, err := db.Pool().Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SET statement_timeout = '50ms'"); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, "SELECT pg_sleep(5)")
	if kindOf(classify(ctx, err)) != errs.KindTimeout {
		t.Errorf("statement_timeout: kind %q (%v)", kindOf(classify(ctx, err)), err)
	}
	_, _ = conn.Exec(ctx, "RESET statement_timeout")
}

func TestUnavailable(t *testing.T) {
	ctx := context.Background()
	// A port nothing listens on: bind one, then close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()

	db := open(t, "postgres://ci:ci@"+addr+"/cidb?sslmode=disable&connect_timeout=2")
	if err := db.Ping(ctx); kindOf(err) != errs.KindUnavailable {
		t.Errorf("closed port ping: kind %q (%v)", kindOf(err), err)
	}
	if _, err := db.Query(ctx, "SELECT 1", nil); kindOf(err) != errs.KindUnavailable {
		t.Errorf("closed port query: kind %q (%v)", kindOf(err), err)
	}

	if _, err := Open(ctx, "postgres://a:b@host:notaport/db"); kindOf(err) != errs.KindInvalid {
		t.Errorf("bad URL: kind %q (%v)", kindOf(err), err)
	} else if e := err.Error(); strings.Contains(e, ":b@") {
		t.Errorf("bad URL error shows the password: %s", e)
	}
}

func TestWrongPassword(t *testing.T) {
	url := testdb.Postgres(t)
	cfg, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	cc := cfg.Pool().Config().ConnConfig
	_ = cfg.Close()
	wrong := "postgres://" + cc.User + ":wrong-password@" + net.JoinHostPort(cc.Host, strconv.Itoa(int(cc.Port))) + "/" + cc.Database + "?sslmode=disable"
	db := open(t, wrong)
	if err := db.Ping(context.Background()); kindOf(err) != errs.KindUnavailable {
		t.Errorf("wrong password: kind %q (%v)", kindOf(err), err)
	}
}

func TestURLFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env     map[string]string
		want    string
		wantErr bool
	}{
		{env: map[string]string{"CUBEJS_DB_URL": "postgres://u:p@db:5433/shop?sslmode=require"},
			want: "postgres://u:p@db:5433/shop?sslmode=require"},
		{env: map[string]string{"CUBEJS_DB_HOST": "db", "CUBEJS_DB_NAME": "shop", "CUBEJS_DB_USER": "u", "CUBEJS_DB_PASS": "p@ss/word"},
			want: "postgres://u:p%40ss%2Fword@db:5432/shop?sslmode=disable"},
		{env: map[string]string{"CUBEJS_DB_HOST": "db", "CUBEJS_DB_PORT": "6543", "CUBEJS_DB_NAME": "shop", "CUBEJS_DB_SSL": "true", "CUBEJS_DB_MAX_POOL": "8"},
			want: "postgres://db:6543/shop?pool_max_conns=8&sslmode=require"},
		{env: map[string]string{"CUBEJS_DB_HOST": "db", "CUBEJS_DB_SSL": "true", "CUBEJS_DB_SSL_REJECT_UNAUTHORIZED": "true"},
			want: "postgres://db:5432?sslmode=verify-full"},
		{env: map[string]string{"CUBEJS_DB_HOST": "/var/run/postgresql", "CUBEJS_DB_NAME": "shop", "CUBEJS_DB_USER": "u"},
			want: "postgres://u@/shop?host=%2Fvar%2Frun%2Fpostgresql&port=5432&sslmode=disable"},
		{env: map[string]string{"CUBEJS_DB_HOST": "::1", "CUBEJS_DB_NAME": "shop"},
			want: "postgres://[::1]:5432/shop?sslmode=disable"},
		{env: map[string]string{}, wantErr: true},
		{env: map[string]string{"CUBEJS_DB_URL": "mysql://x"}, wantErr: true},
	} {
		got, err := URLFromEnv(func(k string) string { return tc.env[k] })
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%v: got %q, %v; want %q", tc.env, got, err, tc.want)
		}
		if err == nil {
			if _, err := Open(context.Background(), got); err != nil {
				t.Errorf("%v: pgx cannot parse %q: %v", tc.env, got, err)
			}
		}
	}
}

// TestLoadDemo loads the demo shop into a fresh schema and checks it against the generator:
// counts, a decimal total recomputed in Go, types, NULLs and the time zone.
func TestLoadDemo(t *testing.T) {
	db := open(t, testdb.FreshSchema(t, testdb.Postgres(t)))
	ctx := context.Background()
	tables := demo.Shop(0.1)
	if err := LoadTables(ctx, db, tables); err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		n := 0
		total := new(big.Rat)
		for row := range tb.Rows {
			n++
			if tb.Name == "orders" {
				r, _ := new(big.Rat).SetString(row[5].(string))
				total.Add(total, r)
			}
		}
		_, data := queryAll(t, db, "SELECT count(*) FROM "+tb.Name)
		if data[0][0] != int64(n) {
			t.Errorf("%s: %v rows loaded, generator has %d", tb.Name, data[0][0], n)
		}
		if tb.Name == "orders" {
			_, data := queryAll(t, db, "SELECT sum(amount) FROM orders")
			if got := string(data[0][0].(warehouse.Numeric)); got != total.FloatString(2) {
				t.Errorf("sum(amount) = %s, generator says %s", got, total.FloatString(2))
			}
		}
	}
	_, data := queryAll(t, db, `SELECT pg_typeof(o.amount)::text, pg_typeof(o.created_at)::text,
		pg_typeof(u.is_vip)::text, pg_typeof(u.lat)::text FROM orders o, users u LIMIT 1`)
	if want := []any{"numeric", "timestamp without time zone", "boolean", "double precision"}; !reflect.DeepEqual(data[0], want) {
		t.Errorf("column types %v, want %v", data[0], want)
	}
	_, data = queryAll(t, db, `SELECT count(*) FILTER (WHERE completed_at IS NULL AND status = 'completed'),
		count(*) FILTER (WHERE extract(hour FROM created_at) = 23), min(created_at) FROM orders`)
	if data[0][0] != int64(0) || data[0][1] == int64(0) {
		t.Errorf("completed_at / hours: %v", data[0])
	}
	if first := data[0][2].(time.Time); first.Year() != 2023 {
		t.Errorf("first order at %v", first)
	}
	_, data = queryAll(t, db, `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'orders' AND indexdef LIKE '%UNIQUE%'`)
	if data[0][0] != int64(1) {
		t.Errorf("orders has no primary key")
	}
}

// BenchmarkLoadDemoScale1 measures loading the full demo shop: go test -bench LoadDemo.
func BenchmarkLoadDemoScale1(b *testing.B) {
	db := open(b, testdb.FreshSchema(b, testdb.Postgres(b)))
	ctx := context.Background()
	for b.Loop() {
		if err := LoadTables(ctx, db, demo.Shop(1)); err != nil {
			b.Fatal(err)
		}
	}
}
