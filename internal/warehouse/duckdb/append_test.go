package duckdb

import (
	"context"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/warehouse"
)

// TestAppend appends every kind of value Query returns and reads the rows back.
func TestAppend(t *testing.T) {
	db, err := Open("", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.SQL().Exec(`CREATE SCHEMA s; CREATE TABLE s.t (b BOOLEAN, n BIGINT, f DOUBLE, v VARCHAR, ts TIMESTAMP, d DECIMAL(38,2), dn DOUBLE)`); err != nil {
		t.Fatal(err)
	}
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	types := []string{"BOOLEAN", "BIGINT", "DOUBLE", "VARCHAR", "TIMESTAMP", "DECIMAL(38,2)", "DOUBLE"}
	rows := [][]any{
		{true, int64(7), 1.5, "x", when, warehouse.Numeric("12.3"), warehouse.Numeric("2.25")},
		{nil, nil, nil, nil, nil, nil, nil},
		{false, int64(-1), 0.0, "", when, int64(5), warehouse.Numeric("-1")},
	}
	if err := db.Append(ctx, "s", "t", types, rows); err != nil {
		t.Fatal(err)
	}
	var sum string
	var count int
	if err := db.SQL().QueryRow(`SELECT CAST(sum(d) AS VARCHAR), count(*) FROM s.t`).Scan(&sum, &count); err != nil {
		t.Fatal(err)
	}
	if sum != "17.30" || count != 3 {
		t.Fatalf("sum(d) = %s over %d rows, want 17.30 over 3", sum, count)
	}
	var dn float64
	if err := db.SQL().QueryRow(`SELECT sum(dn) FROM s.t`).Scan(&dn); err != nil || dn != 1.25 {
		t.Fatalf("sum(dn) = %v, %v; want 1.25", dn, err)
	}
	if err := db.Append(ctx, "s", "t", types, [][]any{{true}}); err == nil {
		t.Fatal("a short row was appended")
	}
}

func TestRoundDecimal(t *testing.T) {
	for in, want := range map[string]string{"0.00000000000000000000": "0", "1.005": "101", "-1.005": "-101", "2.004": "200", "7": "700"} {
		d, err := roundDecimal(in, 2)
		if err != nil || d.Value.String() != want || d.Scale != 2 {
			t.Errorf("roundDecimal(%q, 2) = %v scale %d, %v; want %s", in, d.Value, d.Scale, err, want)
		}
	}
}

func TestDecimalScale(t *testing.T) {
	for typ, want := range map[string]int{"DECIMAL(38,2)": 2, "decimal(10, 4)": 4, "DECIMAL(9)": 0, "DOUBLE": -1, "VARCHAR": -1} {
		if got := decimalScale(typ); got != want {
			t.Errorf("decimalScale(%q) = %d, want %d", typ, got, want)
		}
	}
}
