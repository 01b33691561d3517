package preagg

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/warehouse"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

// counting is a source that counts the queries that read the cube's table, other than
// the build range's: one per partition built from the source.
type counting struct {
	warehouse.Warehouse
	mu    sync.Mutex
	reads int
}

func (c *counting) Query(ctx context.Context, sql string, args []any) (warehouse.Rows, error) {
	if strings.Contains(sql, "events") {
		c.mu.Lock()
		c.reads++
		c.mu.Unlock()
	}
	return c.Warehouse.Query(ctx, sql, args)
}

func (c *counting) take() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.reads
	c.reads = 0
	return n
}

func mustExec(t *testing.T, w warehouse.Warehouse, sql string, args ...any) [][]any {
	t.Helper()
	rows, err := w.Query(context.Background(), sql, args)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	_, data, err := warehouse.Collect(rows)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return data
}

// incrementalSet is a Set over testdata/incremental with a source of events from January
// to June 2024 and a clock the test moves.
func incrementalSet(t *testing.T, now *time.Time) (*Set, *counting, warehouse.Warehouse) {
	t.Helper()
	m, err := model.Load("testdata/incremental")
	if err != nil {
		t.Fatal(err)
	}
	src, err := duckdb.Open("", duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	mustExec(t, src, "CREATE TABLE events (id INTEGER, ts TIMESTAMP, amount INTEGER)")
	mustExec(t, src, "CREATE TABLE bounds (lo TIMESTAMP, hi TIMESTAMP)")
	mustExec(t, src, "INSERT INTO bounds VALUES ('2024-01-01', '2024-06-30 23:59:59')")
	mustExec(t, src, `INSERT INTO events SELECT i, TIMESTAMP '2024-01-01' + i * INTERVAL 13 HOUR, i % 7
		FROM range(0, 330) t(i)`) // up to 2024-06-28
	store, err := duckdb.Open("", duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c := &counting{Warehouse: src}
	s := New(m, dialect.DuckDB{}, c, NewStore(store, ""), Options{Now: func() time.Time { return *now }})
	return s, c, store
}

// rollupRows are a rollup's rows by day, as its current table holds them.
func rollupRows(t *testing.T, s *Set, store warehouse.Warehouse, id string) [][]any {
	t.Helper()
	cur := s.store.Current(s.key(s.Rollup(id), "UTC"))
	if cur == nil {
		t.Fatalf("%s is not built", id)
	}
	return mustExec(t, store, fmt.Sprintf(`SELECT strftime(events__ts_day, '%%Y-%%m-%%d'), events__count,
		CAST(events__amount AS BIGINT) FROM %s ORDER BY 1`, cur.Name))
}

// sourceRows are the same rows computed by hand on the source.
func sourceRows(t *testing.T, src warehouse.Warehouse) [][]any {
	t.Helper()
	return mustExec(t, src, `SELECT strftime(date_trunc('day', ts), '%Y-%m-%d'), count(*), CAST(sum(amount) AS BIGINT)
		FROM events WHERE ts >= TIMESTAMP '2024-01-01' AND ts < (SELECT hi FROM bounds) + INTERVAL 1 SECOND
		GROUP BY 1 ORDER BY 1`)
}

// TestIncrementalRefresh: a refresh of an incremental rollup runs on the source only the
// partitions that end inside the update window and the new ones at the end of the build
// range, copies the others from its current table into the new one, and then holds the
// source's rows; a rollup without incremental rebuilds every partition, and a forced build
// rebuilds every partition of an incremental one.
func TestIncrementalRefresh(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2024, 6, 20, 12, 0, 0, 0, time.UTC)
	s, c, store := incrementalSet(t, &now)
	src := c.Warehouse
	inc, full := s.Rollup("events.incremental"), s.Rollup("events.full")
	refresh := func(r *Rollup) (*Table, int) {
		t.Helper()
		c.take()
		if err := s.refresh(ctx, r, "UTC", false); err != nil {
			t.Fatal(err)
		}
		return s.store.Current(s.key(r, "UTC")), c.take()
	}

	// The first build has nothing to copy: six months from the source.
	first, n := refresh(inc)
	if n != 6 || first.Kept != 0 || len(first.Partitions) != 6 {
		t.Fatalf("first build: %d partition queries, table %+v", n, first)
	}
	if _, n := refresh(full); n != 6 {
		t.Fatalf("first full build: %d partition queries", n)
	}
	want := sourceRows(t, src)
	if got := rollupRows(t, s, store, inc.ID()); !reflect.DeepEqual(got, want) || len(want) == 0 {
		t.Fatalf("first build rows differ from the source's:\n got %v\nwant %v", got, want)
	}

	// Same hour: the refresh key is unchanged, nothing runs.
	if cur, n := refresh(inc); n != 0 || cur != first {
		t.Fatalf("unchanged key: %d partition queries, table %s (was %s)", n, cur.Name, first.Name)
	}

	// An hour later, new rows in June: the window [May 21, June 20] rebuilds May and June and
	// keeps January to April; the full rollup rebuilds all six.
	mustExec(t, src, "INSERT INTO events VALUES (1000, '2024-06-19 08:00', 5), (1001, '2024-05-25 09:00', 3)")
	now = now.Add(time.Hour + time.Minute)
	second, n := refresh(inc)
	if n != 2 || second.Kept != 4 || second.Name == first.Name || len(second.Partitions) != 6 {
		t.Fatalf("incremental refresh: %d partition queries, table %+v", n, second)
	}
	if _, n := refresh(full); n != 6 {
		t.Errorf("full refresh: %d partition queries, want 6", n)
	}
	want = sourceRows(t, src)
	for _, id := range []string{inc.ID(), full.ID()} {
		if got := rollupRows(t, s, store, id); !reflect.DeepEqual(got, want) {
			t.Errorf("%s after the refresh differs from the source:\n got %v\nwant %v", id, got, want)
		}
	}
	var total int64
	for _, row := range want {
		total += row[1].(int64)
	}
	if second.Rows != int64(len(want)) || total != 332 {
		t.Errorf("rows %d, want %d (events %d)", second.Rows, len(want), total)
	}

	// A month later with the build range grown to July: June (in the window) and July
	// (new) are built, the rest kept. A change outside the window is not seen, as in Cube.
	mustExec(t, src, "UPDATE bounds SET hi = '2024-07-31 23:59:59'")
	mustExec(t, src, "INSERT INTO events VALUES (1002, '2024-07-02 10:00', 4), (1003, '2024-02-10 10:00', 9)")
	now = time.Date(2024, 7, 5, 0, 0, 0, 0, time.UTC)
	third, n := refresh(inc)
	if n != 2 || third.Kept != 5 || len(third.Partitions) != 7 {
		t.Fatalf("refresh with a new partition: %d partition queries, table %+v", n, third)
	}
	before := want
	want = sourceRows(t, src)
	var stale [][]any // the source's rows, but February 10 as it was
	for _, row := range want {
		if row[0] == "2024-02-10" {
			for _, old := range before {
				if old[0] == row[0] {
					row = old
				}
			}
		}
		stale = append(stale, row)
	}
	if got := rollupRows(t, s, store, inc.ID()); !reflect.DeepEqual(got, stale) || reflect.DeepEqual(stale, want) {
		t.Errorf("after the new partition:\n got %v\nwant %v", got, stale)
	}

	// A forced build rebuilds every partition and sees the February change.
	c.take()
	if err := s.refresh(ctx, inc, "UTC", true); err != nil {
		t.Fatal(err)
	}
	if n := c.take(); n != 7 {
		t.Errorf("forced build: %d partition queries, want 7", n)
	}
	if got := rollupRows(t, s, store, inc.ID()); !reflect.DeepEqual(got, want) {
		t.Errorf("forced build differs from the source:\n got %v\nwant %v", got, want)
	}
	for _, j := range s.Jobs() {
		if j.PreAggregation == inc.ID() && (j.Status != JobBuilt || j.Kept != 0 || j.Partitions != 7) {
			t.Errorf("job %+v", j)
		}
	}
}

func TestBack(t *testing.T) {
	at := time.Date(2024, 3, 31, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"", at, true},
		{"7 day", time.Date(2024, 3, 24, 12, 0, 0, 0, time.UTC), true},
		{"2 weeks", time.Date(2024, 3, 17, 12, 0, 0, 0, time.UTC), true},
		{"1 year 6 hours", time.Date(2023, 3, 31, 6, 0, 0, 0, time.UTC), true},
		{"3 fortnights", at, false},
		{"day", at, false},
	} {
		got, ok := back(at, c.in)
		if ok != c.ok || ok && !got.Equal(c.want) {
			t.Errorf("back(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
