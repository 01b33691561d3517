package duckdb

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

func open(t testing.TB) *DB {
	t.Helper()
	db, err := Open("", Options{MemoryLimit: "512MB", Threads: 2})
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
	db := open(t)
	ts := time.Date(2024, 1, 31, 23, 30, 15, 0, time.UTC)
	for _, tc := range []struct {
		sql  string
		args []any
		want any
	}{
		{"SELECT NULL", nil, nil},
		{"SELECT true", nil, true},
		{"SELECT 1::TINYINT", nil, int64(1)},
		{"SELECT 2::SMALLINT", nil, int64(2)},
		{"SELECT 3::INTEGER", nil, int64(3)},
		{"SELECT 4::BIGINT", nil, int64(4)},
		{"SELECT 5::UTINYINT", nil, int64(5)},
		{"SELECT 6::UINTEGER", nil, int64(6)},
		{"SELECT 18446744073709551615::UBIGINT", nil, warehouse.Numeric("18446744073709551615")},
		{"SELECT 170141183460469231731687303715884105727::HUGEINT", nil, warehouse.Numeric("170141183460469231731687303715884105727")},
		{"SELECT count(*) FROM range(3)", nil, int64(3)},
		{"SELECT 0.1::REAL", nil, 0.1},
		{"SELECT 2.5::DOUBLE", nil, 2.5},
		{"SELECT 12.50::DECIMAL(10,2)", nil, warehouse.Numeric("12.50")},
		{"SELECT -0.05::DECIMAL(10,2)", nil, warehouse.Numeric("-0.05")},
		{"SELECT 0::DECIMAL(10,2)", nil, warehouse.Numeric("0.00")},
		{"SELECT 123456789012345678901234.567::DECIMAL(38,3)", nil, warehouse.Numeric("123456789012345678901234.567")},
		{"SELECT sum(x) FROM (VALUES (19867713.40::DECIMAL(12,2)), (0.05)) t(x)", nil, warehouse.Numeric("19867713.45")},
		{"SELECT 'héllo'", nil, "héllo"},
		{"SELECT 'ab'::BLOB", nil, "ab"},
		{"SELECT '6f1a0e3c-1b2d-4c5e-8f90-a1b2c3d4e5f6'::UUID", nil, "6f1a0e3c-1b2d-4c5e-8f90-a1b2c3d4e5f6"},
		{"SELECT TIMESTAMP '2024-01-31 23:30:15'", nil, ts},
		{"SELECT TIMESTAMPTZ '2024-02-01 01:30:15+02'", nil, ts},
		{"SELECT DATE '2024-01-31'", nil, time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)},
		{"SELECT TIME '13:45:01.5'", nil, "13:45:01.5"},
		{"SELECT INTERVAL '1 year 2 months 3 days 04:05:06'", nil, "1 year 2 months 3 days 04:05:06"},
		{"SELECT INTERVAL '90 minutes'", nil, "01:30:00"},
		{"SELECT [1, 2, 3]", nil, "[1,2,3]"},
		{"SELECT {'a': 1.50::DECIMAL(4,2), 'b': 'x'}", nil, `{"a":1.50,"b":"x"}`},
		{"SELECT $1::INTEGER + 1", []any{41}, int64(42)},
		{"SELECT ? || 'b'", []any{"a"}, "ab"},
		{"SELECT $1::TIMESTAMP", []any{ts}, ts},
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

func TestSessionSettings(t *testing.T) {
	db := open(t)
	// Several connections of the pool must all be in UTC: each is held open (deferred
	// Close) so the next one is new.
	for range 3 {
		c, err := db.SQL().Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var tz, autoload string
		if err := c.QueryRowContext(context.Background(),
			"SELECT current_setting('TimeZone'), current_setting('autoload_known_extensions')::VARCHAR").Scan(&tz, &autoload); err != nil {
			t.Fatal(err)
		}
		if tz != "UTC" || autoload != "false" {
			t.Errorf("connection settings: TimeZone=%s autoload=%s", tz, autoload)
		}
	}
	_, data := queryAll(t, db, "SELECT current_setting('memory_limit')")
	if data[0][0] == "" {
		t.Error("memory_limit not set")
	}
}

func kindOf(err error) errs.Kind { return errs.KindOf(err) }

func TestErrors(t *testing.T) {
	db := open(t)
	ctx := context.Background()

	_, err := db.Query(ctx, "SELEC 1", nil)
	if kindOf(err) != errs.KindSource {
		t.Errorf("syntax error: kind %q (%v)", kindOf(err), err)
	}
	var e *errs.Error
	if !errors.As(err, &e) || e.Err == nil {
		t.Errorf("syntax error lost the database message: %v", err)
	}

	_, err = db.Query(ctx, "SELECT * FROM no_such_table", nil)
	if kindOf(err) != errs.KindSource {
		t.Errorf("missing table: kind %q (%v)", kindOf(err), err)
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = db.Query(canceled, "SELECT 1", nil)
	if kindOf(err) != errs.KindCanceled {
		t.Errorf("canceled: kind %q (%v)", kindOf(err), err)
	}

	// A query long enough to be interrupted by its deadline.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	rows, err := db.Query(short, "SELECT count(*) FROM range(10000000000) a", nil)
	if err == nil {
		_, _, err = warehouse.Collect(rows)
	}
	if kindOf(err) != errs.KindTimeout {
		t.Errorf("deadline: kind %q (%v)", kindOf(err), err)
	}

	if err := db.Ping(ctx); err != nil {
		t.Errorf("ping: %v", err)
	}
	_ = db.Close()
	_, err = db.Query(ctx, "SELECT 1", nil)
	if kindOf(err) != errs.KindUnavailable {
		t.Errorf("closed: kind %q (%v)", kindOf(err), err)
	}
}

func TestOpenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shop.duckdb")
	db, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec("CREATE TABLE t AS SELECT 1 AS x"); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()

	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	_, data := queryAll(t, ro, "SELECT x FROM t")
	if data[0][0] != int64(1) {
		t.Errorf("got %v", data)
	}
	if _, err := ro.Query(context.Background(), "CREATE TABLE u (x INT)", nil); kindOf(err) != errs.KindSource {
		t.Errorf("write to read-only database: %v", err)
	}

	if _, err := Open(filepath.Join(t.TempDir(), "no", "such", "dir", "x.duckdb"), Options{}); kindOf(err) != errs.KindUnavailable {
		t.Errorf("bad path: kind %q (%v)", kindOf(err), err)
	}
}

// TestLoadDemo loads the demo shop and checks it against the generator, independently of
// the loader: counts, a decimal total recomputed in Go, NULLs and time zone.
func TestLoadDemo(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	tables := demo.Shop(0.1)
	if err := LoadTables(ctx, db, tables); err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		n := 0
		var wantCents int64
		for row := range tb.Rows {
			n++
			if tb.Name == "orders" {
				wantCents += centsOf(t, row[5].(string))
			}
		}
		_, data := queryAll(t, db, "SELECT count(*) FROM "+tb.Name)
		if data[0][0] != int64(n) {
			t.Errorf("%s: %v rows loaded, generator has %d", tb.Name, data[0][0], n)
		}
		if tb.Name == "orders" {
			_, data := queryAll(t, db, "SELECT sum(amount) FROM orders")
			if got := centsOf(t, string(data[0][0].(warehouse.Numeric))); got != wantCents {
				t.Errorf("sum(amount) = %v, generator says %d cents", data[0][0], wantCents)
			}
		}
	}
	_, data := queryAll(t, db, `SELECT typeof(amount), typeof(orders.created_at), typeof(is_vip), typeof(lat)
		FROM orders, users LIMIT 1`)
	if want := []any{"DECIMAL(12,2)", "TIMESTAMP", "BOOLEAN", "DOUBLE"}; !reflect.DeepEqual(data[0], want) {
		t.Errorf("column types %v, want %v", data[0], want)
	}
	_, data = queryAll(t, db, `SELECT count(*) FILTER (WHERE completed_at IS NULL AND status = 'completed'),
		count(*) FILTER (WHERE hour(created_at) = 23) FROM orders`)
	if data[0][0] != int64(0) || data[0][1] == int64(0) {
		t.Errorf("completed_at / hours: %v", data[0])
	}
	// Loading again replaces the tables.
	if err := LoadTables(ctx, db, demo.Shop(0.01)); err != nil {
		t.Fatal(err)
	}
	_, data = queryAll(t, db, "SELECT count(*) FROM orders")
	if data[0][0] != int64(1000) {
		t.Errorf("reload: %v orders", data[0][0])
	}
}

func centsOf(t *testing.T, s string) int64 {
	t.Helper()
	d, err := parseDecimal(s, 2)
	if err != nil {
		t.Fatal(err)
	}
	return d.Value.Int64()
}

// BenchmarkLoadDemoScale1 measures loading the full demo shop: go test -bench LoadDemo.
func BenchmarkLoadDemoScale1(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		db, err := Open("", Options{MemoryLimit: "1GB"})
		if err != nil {
			b.Fatal(err)
		}
		if err := LoadTables(ctx, db, demo.Shop(1)); err != nil {
			b.Fatal(err)
		}
		_ = db.Close()
	}
}
