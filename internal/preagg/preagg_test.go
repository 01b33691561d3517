package preagg_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/preagg"
	"github.com/cubit-dev/cubit/internal/query"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

// demoEngines returns an engine over the demo shop with a rollup store, and one without.
func demoEngines(t testing.TB) (withRollups, sourceOnly *engine.Engine) {
	t.Helper()
	sub, err := fs.Sub(demo.Model, "model")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.LoadFS(sub)
	if err != nil {
		t.Fatal(err)
	}
	src, err := duckdb.Open("", duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	if err := duckdb.LoadTables(context.Background(), src, demo.Shop(0.05)); err != nil {
		t.Fatal(err)
	}
	store, err := duckdb.Open("", duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cfg := engine.DefaultConfig()
	cfg.CacheTTL = -1
	plain := engine.New(m, dialect.DuckDB{}, src, cfg)
	cfg.PreAggregations = preagg.NewStore(store, "")
	return engine.New(m, dialect.DuckDB{}, src, cfg), plain
}

func run(t testing.TB, e *engine.Engine, js string) *engine.Result {
	t.Helper()
	q, err := query.Decode([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

const byStatusMonth = `{"measures":["orders.count","orders.total_revenue"],"dimensions":["orders.status"],
	"timeDimensions":[{"dimension":"orders.created_at","granularity":"month","dateRange":["2024-01-01","2024-06-30"]}],
	"order":{"orders.created_at":"asc","orders.status":"asc"}}`

// TestServe: a query reads the source until its rollup is built, then the rollup, with the
// same rows; the response names the rollup and the compiled SQL reads its table.
func TestServe(t *testing.T) {
	e, plain := demoEngines(t)
	before := run(t, e, byStatusMonth)
	if before.UsedPreAggregations != nil {
		t.Fatalf("served from a rollup before any build: %v", before.UsedPreAggregations)
	}
	if err := e.PreAggregations().BuildAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := run(t, e, byStatusMonth)
	if len(after.UsedPreAggregations) != 1 {
		t.Fatalf("usedPreAggregations = %v, want one", after.UsedPreAggregations)
	}
	var table string
	for name, u := range after.UsedPreAggregations {
		table = name
		if u.PreAggregationID != "orders.revenue_by_status_daily" || u.TargetTableName != name || u.Type != "rollup" || u.LastUpdatedAt == 0 {
			t.Errorf("usedPreAggregations[%s] = %+v", name, u)
		}
	}
	if !strings.HasPrefix(table, "prod_pre_aggregations.orders_revenue_by_status_daily_") {
		t.Errorf("table %s", table)
	}
	want := run(t, plain, byStatusMonth)
	if !reflect.DeepEqual(rows(after), rows(want)) || len(rows(want)) == 0 {
		t.Errorf("rollup rows differ from the source's:\n got %v\nwant %v", rows(after), rows(want))
	}
	q, _ := query.Decode([]byte(byStatusMonth))
	c, err := e.Compile(q)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Statement.SQL, table) {
		t.Errorf("compiled SQL does not read %s:\n%s", table, c.Statement.SQL)
	}
	b, _ := json.Marshal(after)
	if !strings.Contains(string(b), `"usedPreAggregations":{"`+table+`":{"preAggregationId":"orders.revenue_by_status_daily"`) {
		t.Errorf("response body: %s", b)
	}
	// A query the rollup cannot answer still reads the source.
	if res := run(t, e, `{"measures":["orders.customers"],"dimensions":["orders.status"]}`); res.UsedPreAggregations != nil {
		t.Errorf("a count_distinct over fewer dimensions was served from %v", res.UsedPreAggregations)
	}
}

func rows(r *engine.Result) [][]any {
	var out [][]any
	for _, row := range r.Rows() {
		out = append(out, row.Values)
	}
	return out
}

// TestBackgroundRefresh: Run builds the rollups without being asked, Trigger rebuilds one
// into a new table, and Jobs shows both.
func TestBackgroundRefresh(t *testing.T) {
	e, _ := demoEngines(t)
	set := e.PreAggregations()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { set.Run(ctx); close(done) }()
	first := waitBuilt(t, set, "")
	if err := set.Trigger("orders.revenue_by_status_daily"); err != nil {
		t.Fatal(err)
	}
	second := waitBuilt(t, set, first.Table)
	if second.Table == first.Table || second.Partitions < 3 || second.Rows == 0 {
		t.Errorf("after the trigger: %+v (before: %+v)", second, first)
	}
	if err := set.Trigger("orders.nope"); err == nil || !strings.Contains(err.Error(), "orders.nope") {
		t.Errorf("Trigger of an unknown rollup: %v", err)
	}
	cancel()
	<-done
}

// waitBuilt waits until the demo rollup is built into another table than old.
func waitBuilt(t *testing.T, set *preagg.Set, old string) preagg.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, j := range set.Jobs() {
			if j.PreAggregation == "orders.revenue_by_status_daily" && j.Status == preagg.JobBuilt && j.Table != old {
				return j
			}
			if j.Status == preagg.JobFailed {
				t.Fatalf("%s failed: %s", j.PreAggregation, j.Error)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the rollup was not built in time")
	return preagg.Job{}
}

// BenchmarkServe compares a query answered from the demo rollup with the same query on the
// source tables (the demo shop at 5 %, DuckDB both sides, result cache off).
func BenchmarkServe(b *testing.B) {
	e, plain := demoEngines(b)
	if err := e.PreAggregations().BuildAll(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Run("rollup", func(b *testing.B) {
		for b.Loop() {
			run(b, e, byStatusMonth)
		}
	})
	b.Run("source", func(b *testing.B) {
		for b.Loop() {
			run(b, plain, byStatusMonth)
		}
	})
}
