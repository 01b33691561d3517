package demo

import (
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
)

func collect(t Table) [][]any {
	var rows [][]any
	for r := range t.Rows {
		rows = append(rows, r)
	}
	return rows
}

func tableByName(t *testing.T, tables []Table, name string) Table {
	t.Helper()
	for _, tb := range tables {
		if tb.Name == name {
			return tb
		}
	}
	t.Fatalf("no table %s", name)
	return Table{}
}

func TestShopShapeAndTypes(t *testing.T) {
	tables := Shop(0.1)
	var names []string
	for _, tb := range tables {
		names = append(names, tb.Name)
		for _, c := range tb.Columns {
			if !c.Type.Valid() {
				t.Errorf("%s.%s: invalid type %q", tb.Name, c.Name, c.Type)
			}
		}
		for i, row := range collect(tb) {
			if len(row) != len(tb.Columns) {
				t.Fatalf("%s row %d: %d values for %d columns", tb.Name, i, len(row), len(tb.Columns))
			}
			for j, v := range row {
				checkValue(t, tb.Name, tb.Columns[j], v)
			}
		}
	}
	if want := []string{"users", "products", "orders", "line_items"}; !reflect.DeepEqual(names, want) {
		t.Errorf("tables %v, want %v", names, want)
	}
}

func checkValue(t *testing.T, table string, c Column, v any) {
	t.Helper()
	if v == nil {
		return
	}
	ok := false
	switch c.Type {
	case Integer, BigInt:
		_, ok = v.(int64)
	case Double:
		_, ok = v.(float64)
	case Varchar:
		_, ok = v.(string)
	case Boolean:
		_, ok = v.(bool)
	case Timestamp:
		var tm time.Time
		tm, ok = v.(time.Time)
		if ok && (tm.Location() != time.UTC || tm.Nanosecond() != 0) {
			t.Errorf("%s.%s: %v is not UTC whole seconds", table, c.Name, tm)
		}
	default:
		_, scale, _ := c.Type.DecimalParts()
		var s string
		s, ok = v.(string)
		if ok {
			_, frac, _ := strings.Cut(s, ".")
			ok = len(frac) == scale
		}
	}
	if !ok {
		t.Errorf("%s.%s (%s): bad value %#v", table, c.Name, c.Type, v)
	}
}

func TestShopDeterministic(t *testing.T) {
	a, b := Shop(0.02), Shop(0.02)
	for i := range a {
		// Generate b's tables in reverse order: a table's rows must not depend on others.
		j := len(b) - 1 - i
		ra, rb := collect(a[i]), collect(b[i])
		_ = collect(b[j])
		if !reflect.DeepEqual(ra, rb) {
			t.Errorf("%s differs between runs", a[i].Name)
		}
		if !reflect.DeepEqual(ra, collect(a[i])) {
			t.Errorf("%s differs between two ranges of the same table", a[i].Name)
		}
	}
}

func cents(t *testing.T, s string) int64 {
	t.Helper()
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		t.Fatalf("bad decimal %q", s)
	}
	r.Mul(r, big.NewRat(100, 1))
	return r.Num().Int64()
}

// TestShopScale1 checks the contract the demo's documentation and tests rely on, on the full
// data set.
func TestShopScale1(t *testing.T) {
	if testing.Short() {
		t.Skip("full data set")
	}
	tables := Shop(1)
	users := collect(tableByName(t, tables, "users"))
	orders := collect(tableByName(t, tables, "orders"))
	items := collect(tableByName(t, tables, "line_items"))
	products := collect(tableByName(t, tables, "products"))

	if len(users) != 5000 || len(orders) != 100000 || len(products) != 300 {
		t.Fatalf("users %d, orders %d, products %d", len(users), len(orders), len(products))
	}
	if len(items) < 250000 || len(items) > 350000 {
		t.Errorf("line items %d, want about 300,000", len(items))
	}

	userIDs := map[int64]bool{}
	nullCities, lowerBerlin := 0, 0
	for _, u := range users {
		userIDs[u[0].(int64)] = true
		switch u[3] {
		case nil:
			nullCities++
		case "berlin":
			lowerBerlin++
		}
	}
	if nullCities == 0 || nullCities > 100 || lowerBerlin == 0 || lowerBerlin > 50 {
		t.Errorf("traps: %d NULL cities, %d lower-case berlin; want a few of each", nullCities, lowerBerlin)
	}

	statusCount := map[string]int{}
	hours := map[int]bool{}
	years := map[int]bool{}
	ordered := map[int64]bool{}
	amounts := map[int64]int64{}
	orphans, wildcardCoupons := 0, 0
	for _, o := range orders {
		id, uid, status := o[0].(int64), o[1].(int64), o[2].(string)
		created := o[3].(time.Time)
		statusCount[status]++
		hours[created.Hour()] = true
		years[created.Year()] = true
		ordered[uid] = true
		if !userIDs[uid] {
			orphans++
		}
		if (o[4] == nil) == (status == "completed") {
			t.Fatalf("order %d: status %s with completed_at %v", id, status, o[4])
		}
		if c, ok := o[8].(string); ok && strings.ContainsAny(c, "%_") {
			wildcardCoupons++
		}
		amounts[id] = cents(t, o[5].(string))
	}
	for s, n := range statusCount {
		if s != "completed" && n >= statusCount["completed"] {
			t.Errorf("status %s (%d) is as common as completed (%d)", s, n, statusCount["completed"])
		}
	}
	if len(statusCount) != 5 || len(hours) != 24 || len(years) != 3 {
		t.Errorf("statuses %v, %d distinct hours, years %v", statusCount, len(hours), years)
	}
	if !years[2023] || !years[2025] {
		t.Errorf("orders should span 2023..2025, got years %v", years)
	}
	if orphans == 0 || wildcardCoupons == 0 {
		t.Errorf("traps: %d orders without a user, %d coupons with LIKE wildcards", orphans, wildcardCoupons)
	}
	neverOrdered := 0
	for id := range userIDs {
		if !ordered[id] {
			neverOrdered++
		}
	}
	if neverOrdered == 0 {
		t.Error("every user has orders; the demo needs some who have none")
	}

	sums := map[int64]int64{}
	for _, it := range items {
		sums[it[1].(int64)] += cents(t, it[4].(string)) * it[3].(int64)
	}
	for id, amount := range amounts {
		if sums[id] != amount {
			t.Fatalf("order %d: amount %d cents, line items sum to %d", id, amount, sums[id])
		}
	}
}

func TestDecimalParts(t *testing.T) {
	for _, tc := range []struct {
		in        ColumnType
		p, s      int
		ok, valid bool
	}{
		{Decimal(12, 2), 12, 2, true, true},
		{"DECIMAL(10,2)", 10, 2, true, true},
		{"DECIMAL(2,3)", 0, 0, false, false},
		{"DECIMAL(10)", 0, 0, false, false},
		{Varchar, 0, 0, false, true},
		{"TEXT", 0, 0, false, false},
	} {
		p, s, ok := tc.in.DecimalParts()
		if p != tc.p || s != tc.s || ok != tc.ok || tc.in.Valid() != tc.valid {
			t.Errorf("%s: got (%d,%d,%v) valid=%v", tc.in, p, s, ok, tc.in.Valid())
		}
	}
}

func BenchmarkShopScale1(b *testing.B) {
	for b.Loop() {
		n := 0
		for _, tb := range Shop(1) {
			for range tb.Rows {
				n++
			}
		}
	}
}
