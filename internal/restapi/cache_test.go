package restapi_test

import (
	"sync"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/restapi"
)

// TestLoadCacheFields: lastRefreshTime is when the served result was computed, and the
// request's cache parameter reaches the engine. The demo's orders refresh every hour.
func TestLoadCacheFields(t *testing.T) {
	db, m := demoShop(t)
	var mu sync.Mutex
	now := time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
	cfg := engine.DefaultConfig()
	cfg.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	a := startAPI(t, engine.New(m, dialect.DuckDB{}, db, cfg), restapi.Options{})
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }

	check := func(body, wantTime string) {
		t.Helper()
		r := a.load(t, body)
		if r.status != 200 {
			t.Fatalf("%s: status %d: %s", body, r.status, r.body)
		}
		got := r.json(t)
		if got["lastRefreshTime"] != wantTime || got["slowQuery"] != false {
			t.Errorf("%s: lastRefreshTime %v slowQuery %v, want %s and false", body, got["lastRefreshTime"], got["slowQuery"], wantTime)
		}
		if _, ok := got["usedPreAggregations"]; ok {
			t.Errorf("usedPreAggregations present without pre-aggregations: %v", got["usedPreAggregations"])
		}
	}
	q := `{"measures": ["orders.count"]}`
	check(`{"query": `+q+`}`, "2025-06-01T08:00:00.000Z")
	advance(30 * time.Minute)
	check(`{"query": `+q+`}`, "2025-06-01T08:00:00.000Z")
	check(`{"query": `+q+`, "cache": "must-revalidate"}`, "2025-06-01T08:00:00.000Z")
	check(`{"query": `+q+`, "cache": "no-cache"}`, "2025-06-01T08:30:00.000Z")
	check(`{"query": `+q+`}`, "2025-06-01T08:30:00.000Z")
}
