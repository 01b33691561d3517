package preagg

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

// TestOriginalSQL: an original_sql pre-aggregation copies its cube's SQL into the store and
// answers no query; a rollup with use_original_sql_pre_aggregations builds from the copy
// (no partition query reaches the source, and a later change of the source is not seen
// until the copy is rebuilt) with the rows a hand-written query gives on the source.
func TestOriginalSQL(t *testing.T) {
	ctx := context.Background()
	m, err := model.Load("testdata/original")
	if err != nil {
		t.Fatal(err)
	}
	src, err := duckdb.Open("", duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	mustExec(t, src, "CREATE TABLE events (id INTEGER, ts TIMESTAMP, amount INTEGER)")
	mustExec(t, src, `INSERT INTO events SELECT i, TIMESTAMP '2024-01-01' + i * INTERVAL 13 HOUR, i % 7 - 1
		FROM range(0, 200) t(i)`)
	store, err := duckdb.Open("", duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c := &counting{Warehouse: src}
	now := time.Date(2024, 6, 20, 12, 0, 0, 0, time.UTC)
	s := New(m, dialect.DuckDB{}, c, NewStore(store, ""), Options{Now: func() time.Time { return now }})

	if u := s.Rollup("params.copy").Unusable; !strings.Contains(u, "references") {
		t.Errorf("params.copy: unusable %q", u)
	}
	copyR, fromCopy := s.Rollup("events.copy"), s.Rollup("events.from_copy")
	if fromCopy.Original != copyR || s.Rollup("events.from_source").Original != nil {
		t.Fatalf("from_copy.Original = %v", fromCopy.Original)
	}

	// Building the rollup first builds the copy: one read of the source in all.
	c.take()
	if err := s.refresh(ctx, fromCopy, "UTC", false); err != nil {
		t.Fatal(err)
	}
	if n := c.take(); n != 1 {
		t.Errorf("%d queries on the source, want 1 (the copy)", n)
	}
	cp := s.store.Current(s.key(copyR, "UTC"))
	if cp == nil {
		t.Fatal("the copy was not built")
	}
	want := mustExec(t, src, "SELECT count(*) FROM events WHERE amount > 0")
	if got := mustExec(t, store, "SELECT count(*) FROM "+cp.Name); !reflect.DeepEqual(got, want) || cp.Rows != want[0][0].(int64) {
		t.Errorf("copy rows %v (table says %d), want %v", got, cp.Rows, want)
	}
	byDay := `SELECT strftime(date_trunc('day', ts), '%Y-%m-%d'), count(*), CAST(sum(amount) AS BIGINT)
		FROM events WHERE amount > 0 GROUP BY 1 ORDER BY 1`
	want = mustExec(t, src, byDay)
	if got := rollupRows(t, s, store, fromCopy.ID()); !reflect.DeepEqual(got, want) || len(want) == 0 {
		t.Fatalf("from_copy rows differ from the source's:\n got %v\nwant %v", got, want)
	}

	// The copy answers no query; the rollup over it does.
	if why := Match(resolve(t, m, `{"measures":["events.count"]}`), copyR, cp.Coverage); why == "" {
		t.Error("the original_sql pre-aggregation matched a query")
	}
	if why := Match(resolve(t, m, `{"measures":["events.count"]}`), fromCopy, s.store.Current(s.key(fromCopy, "UTC")).Coverage); why != "" {
		t.Errorf("from_copy does not match: %s", why)
	}

	// A new source row: a rebuild of the rollup alone reads the copy and does not see it;
	// once the copy is rebuilt, the rollup does.
	mustExec(t, src, "INSERT INTO events VALUES (1000, '2024-02-02 10:00', 5)")
	if err := s.refresh(ctx, fromCopy, "UTC", true); err != nil {
		t.Fatal(err)
	}
	if n := c.take(); n != 0 {
		t.Errorf("a rebuild from the copy ran %d queries on the source", n)
	}
	if got := rollupRows(t, s, store, fromCopy.ID()); !reflect.DeepEqual(got, want) {
		t.Errorf("from_copy saw the source change before the copy did")
	}
	if err := s.refresh(ctx, copyR, "UTC", true); err != nil {
		t.Fatal(err)
	}
	if err := s.refresh(ctx, fromCopy, "UTC", true); err != nil {
		t.Fatal(err)
	}
	want = mustExec(t, src, byDay)
	if got := rollupRows(t, s, store, fromCopy.ID()); !reflect.DeepEqual(got, want) {
		t.Errorf("from_copy after the copy's rebuild:\n got %v\nwant %v", got, want)
	}
	if err := s.BuildAll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rollupRows(t, s, store, "events.from_source"); !reflect.DeepEqual(got, want) {
		t.Errorf("from_source:\n got %v\nwant %v", got, want)
	}
}
