package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/query"
	"github.com/cubit-dev/cubit/internal/warehouse"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

// cacheModel has one cube per kind of refresh key: orders by SQL (renewed every 10 s),
// users by time (every hour) and events by the default (every 10 s). {users} is replaced by
// extra YAML for the users cube, so that a test can change its definition.
const cacheModel = `cubes:
  - name: orders
    sql: SELECT * FROM orders WHERE {SECURITY_CONTEXT.region.filter('region')}
    refresh_key:
      sql: SELECT count(*) FROM orders
    joins:
      - name: users
        sql: "{CUBE}.user_id = {users.id}"
        relationship: many_to_one
    measures:
      - name: count
        type: count
      - name: amount
        sql: amount
        type: sum
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
      - name: region
        sql: region
        type: string
{orders}
  - name: users
    sql_table: users
    refresh_key:
      every: 1 hour
    measures:
      - name: count
        type: count
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
      - name: name
        sql: name
        type: string
{users}
  - name: events
    sql_table: events
    measures:
      - name: count
        type: count
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
`

// refreshSQL is the orders cube's refresh key.
const refreshSQL = "SELECT count(*) FROM orders"

// loadCacheModel writes cacheModel with extra YAML for orders and users and loads it.
func loadCacheModel(t *testing.T, orders, users string) *model.Model {
	t.Helper()
	dir := t.TempDir()
	src := strings.NewReplacer("{orders}", orders, "{users}", users).Replace(cacheModel)
	if err := os.WriteFile(filepath.Join(dir, "model.yml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// counting counts the queries a warehouse runs, the refresh key's apart, and holds the
// statements that contain hold until release is closed.
type counting struct {
	warehouse.Warehouse
	mu         sync.Mutex
	statements int
	refreshes  int
	hold       string
	release    chan struct{}
}

func (w *counting) Query(ctx context.Context, sql string, args []any) (warehouse.Rows, error) {
	w.mu.Lock()
	if sql == refreshSQL {
		w.refreshes++
	} else {
		w.statements++
	}
	hold, release := w.hold, w.release
	w.mu.Unlock()
	if hold != "" && strings.Contains(sql, hold) {
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return w.Warehouse.Query(ctx, sql, args)
}

// block makes statements containing s wait until the returned function is called.
func (w *counting) block(s string) (release func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch := make(chan struct{})
	w.hold, w.release = s, ch
	return func() {
		w.mu.Lock()
		w.hold = ""
		w.mu.Unlock()
		close(ch)
	}
}

func (w *counting) counts() (statements, refreshes int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.statements, w.refreshes
}

// cacheFixture is a DuckDB with the tables of cacheModel behind a counting warehouse, a
// clock, and a cache shared by the engines it builds.
type cacheFixture struct {
	t       *testing.T
	db      *duckdb.DB
	wh      *counting
	clock   *clock
	cache   *engine.Cache
	reg     *prometheus.Registry
	metrics *engine.Metrics
}

func newCacheFixture(t *testing.T, maxBytes int64) *cacheFixture {
	t.Helper()
	db, err := duckdb.Open("", duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &cacheFixture{t: t, db: db, wh: &counting{Warehouse: db},
		clock: &clock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}, reg: prometheus.NewRegistry()}
	f.metrics = engine.NewMetrics(f.reg)
	f.cache = engine.NewCache(engine.CacheOptions{MaxBytes: maxBytes, Now: f.clock.Now, Metrics: f.metrics})
	f.exec(`CREATE TABLE orders (id INTEGER, user_id INTEGER, region VARCHAR, amount INTEGER)`,
		`INSERT INTO orders VALUES (1, 1, 'eu', 10), (2, 1, 'us', 20), (3, 2, 'eu', 30)`,
		`CREATE TABLE users (id INTEGER, name VARCHAR)`,
		`INSERT INTO users VALUES (1, 'ann'), (2, 'bob')`,
		`CREATE TABLE events (id INTEGER)`,
		`INSERT INTO events VALUES (1), (2)`)
	return f
}

func (f *cacheFixture) exec(stmts ...string) {
	f.t.Helper()
	for _, s := range stmts {
		if _, err := f.db.SQL().Exec(s); err != nil {
			f.t.Fatalf("%s: %v", s, err)
		}
	}
}

// engine builds an engine over m that shares the fixture's cache. Its stale-if-slow wait
// is long enough for any unblocked query.
func (f *cacheFixture) engine(m *model.Model) *engine.Engine {
	return f.engineWaiting(m, time.Hour)
}

// engineWaiting is engine with a stale-if-slow wait.
func (f *cacheFixture) engineWaiting(m *model.Model, wait time.Duration) *engine.Engine {
	cfg := engine.DefaultConfig()
	cfg.Now, cfg.Cache, cfg.Metrics = f.clock.Now, f.cache, f.metrics
	cfg.StaleIfSlowWait = wait
	return engine.New(m, dialect.DuckDB{}, f.wh, cfg)
}

// load runs body (a query; "cache" sets its mode) with a security context and returns its
// one value, with the result.
func (f *cacheFixture) load(e *engine.Engine, body string, security map[string]any) (string, *engine.Result) {
	f.t.Helper()
	q, err := query.Decode([]byte(body))
	if err != nil {
		f.t.Fatal(err)
	}
	q.SecurityContext = security
	res, err := e.Query(context.Background(), q)
	if err != nil {
		f.t.Fatalf("%s: %v", body, err)
	}
	var vals []string
	for _, row := range res.Rows() {
		vals = append(vals, fmt.Sprint(row.Values...))
	}
	return strings.Join(vals, ";"), res
}

// wantCounts checks how many statements and refresh-key queries ran so far.
func (f *cacheFixture) wantCounts(statements, refreshes int) {
	f.t.Helper()
	if s, r := f.wh.counts(); s != statements || r != refreshes {
		f.t.Errorf("ran %d statements and %d refresh-key queries, want %d and %d", s, r, statements, refreshes)
	}
}

// event returns a cache event counter.
func (f *cacheFixture) event(name string) float64 {
	f.t.Helper()
	families, err := f.reg.Gather()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, fam := range families {
		if fam.GetName() != "cubit_result_cache_events_total" && fam.GetName() != "cubit_refresh_key_evaluations_total" {
			continue
		}
		for _, m := range fam.GetMetric() {
			if name == "refresh" && fam.GetName() == "cubit_refresh_key_evaluations_total" {
				return m.GetCounter().GetValue()
			}
			for _, l := range m.GetLabel() {
				if l.GetValue() == name && fam.GetName() == "cubit_result_cache_events_total" {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

const (
	usersCount  = `{"measures": ["users.count"]}`
	ordersCount = `{"measures": ["orders.count"]}`
	eventsCount = `{"measures": ["events.count"]}`
)

// TestRefreshKeyEvery: a result is served from the cache within its cube's every-interval
// bucket, with the time it was computed, and computed again in the next bucket.
func TestRefreshKeyEvery(t *testing.T) {
	f := newCacheFixture(t, 0)
	e := f.engine(loadCacheModel(t, "", ""))
	computed := f.clock.Now()
	if v, _ := f.load(e, usersCount, nil); v != "2" {
		t.Fatalf("users.count = %s, want 2", v)
	}
	f.exec(`INSERT INTO users VALUES (3, 'cy')`)
	f.clock.advance(59 * time.Minute) // 12:59, same hour
	v, res := f.load(e, usersCount, nil)
	if v != "2" {
		t.Errorf("within the hour: users.count = %s, want the cached 2", v)
	}
	if want := computed.Format("2006-01-02T15:04:05.000Z"); res.LastRefreshTime != want {
		t.Errorf("lastRefreshTime = %s, want when the result was computed, %s", res.LastRefreshTime, want)
	}
	f.wantCounts(1, 0)
	f.clock.advance(time.Minute) // 13:00, the next bucket
	v, res = f.load(e, usersCount, nil)
	if v != "3" {
		t.Errorf("next hour: users.count = %s, want 3", v)
	}
	if want := f.clock.Now().Format("2006-01-02T15:04:05.000Z"); res.LastRefreshTime != want || res.SlowQuery {
		t.Errorf("lastRefreshTime = %s slowQuery %v, want %s and false", res.LastRefreshTime, res.SlowQuery, want)
	}
	f.wantCounts(2, 0)

	// The default refresh key of a cube without one: every 10 seconds.
	f.load(e, eventsCount, nil)
	f.exec(`INSERT INTO events VALUES (3)`)
	f.clock.advance(9 * time.Second)
	if v, _ := f.load(e, eventsCount, nil); v != "2" {
		t.Errorf("events within 10 s: %s, want the cached 2", v)
	}
	f.clock.advance(time.Second)
	if v, _ := f.load(e, eventsCount, nil); v != "3" {
		t.Errorf("events after 10 s: %s, want 3", v)
	}
	f.wantCounts(4, 0)
}

// TestRefreshKeySQL: a SQL refresh key runs at most once per renewal interval however
// many requests come, and a changed value recomputes the result.
func TestRefreshKeySQL(t *testing.T) {
	f := newCacheFixture(t, 0)
	e := f.engine(loadCacheModel(t, "", ""))
	for range 20 {
		if v, _ := f.load(e, ordersCount, nil); v != "3" {
			t.Fatalf("orders.count = %s, want 3", v)
		}
	}
	f.wantCounts(1, 1)
	f.exec(`INSERT INTO orders VALUES (4, 2, 'us', 40)`)
	f.clock.advance(9 * time.Second)
	if v, _ := f.load(e, ordersCount, nil); v != "3" {
		t.Errorf("before the renewal: orders.count = %s, want the cached 3", v)
	}
	f.wantCounts(1, 1)
	f.clock.advance(time.Second)
	for range 5 {
		if v, _ := f.load(e, ordersCount, nil); v != "4" {
			t.Errorf("after the renewal: orders.count = %s, want 4", v)
		}
	}
	f.wantCounts(2, 2)
	f.clock.advance(10 * time.Second) // the key is read again, unchanged: still a hit
	f.load(e, ordersCount, nil)
	f.wantCounts(2, 3)
	if got := f.event("refresh"); got != 3 {
		t.Errorf("refresh-key evaluations metric = %v, want 3", got)
	}
	if hits, misses := f.event("hit"), f.event("miss"); hits != 25 || misses != 2 {
		t.Errorf("hits %v misses %v, want 25 and 2", hits, misses)
	}
}

// TestRefreshKeySQLWithEvery: with every, the SQL is read again once every has passed.
func TestRefreshKeySQLWithEvery(t *testing.T) {
	f := newCacheFixture(t, 0)
	m := loadCacheModel(t, "", "")
	m.Cube("orders").RefreshKey.Every = "1 minute"
	e := f.engine(m)
	f.load(e, ordersCount, nil)
	f.exec(`INSERT INTO orders VALUES (4, 2, 'us', 40)`)
	f.clock.advance(59 * time.Second)
	if v, _ := f.load(e, ordersCount, nil); v != "3" {
		t.Errorf("within the minute: %s, want the cached 3", v)
	}
	f.clock.advance(time.Second)
	if v, _ := f.load(e, ordersCount, nil); v != "4" {
		t.Errorf("after the minute: %s, want 4", v)
	}
	f.wantCounts(2, 2)
}

// TestRefreshKeyCron: a cron every changes its value at each tick, in its time zone.
func TestRefreshKeyCron(t *testing.T) {
	f := newCacheFixture(t, 0)
	m := loadCacheModel(t, "", "")
	m.Cube("users").RefreshKey.Every = "30 9 * * *" // 09:30 in New York: 13:30 or 14:30 UTC
	m.Cube("users").RefreshKey.Timezone = "America/New_York"
	e := f.engine(m)
	f.load(e, usersCount, nil) // 12:00 UTC on 1 March: 07:00 in New York (EST)
	f.exec(`INSERT INTO users VALUES (3, 'cy')`)
	f.clock.advance(2*time.Hour + 29*time.Minute) // 14:29 UTC, 09:29 EST
	if v, _ := f.load(e, usersCount, nil); v != "2" {
		t.Errorf("before the tick: %s, want the cached 2", v)
	}
	f.clock.advance(time.Minute)
	if v, _ := f.load(e, usersCount, nil); v != "3" {
		t.Errorf("at the tick: %s, want 3", v)
	}
}

// TestCacheModes checks each mode with a current and a stale entry.
func TestCacheModes(t *testing.T) {
	f := newCacheFixture(t, 0)
	m := loadCacheModel(t, "", "")
	e := f.engine(m)
	impatient := f.engineWaiting(m, time.Nanosecond) // the held query is always slower
	mode := func(m string) string { return `{"measures": ["users.count"], "cache": "` + m + `"}` }

	// Keys current: every mode but no-cache serves the cached result.
	f.load(e, usersCount, nil)
	for _, m := range []string{"stale-if-slow", "stale-while-revalidate", "must-revalidate"} {
		f.load(e, mode(m), nil)
	}
	f.wantCounts(1, 0)
	// no-cache reads the source, and its result serves the others.
	f.exec(`INSERT INTO users VALUES (3, 'cy')`)
	if v, _ := f.load(e, mode("no-cache"), nil); v != "3" {
		t.Errorf("no-cache: %s, want 3", v)
	}
	if v, _ := f.load(e, mode("must-revalidate"), nil); v != "3" {
		t.Errorf("after no-cache: %s, want its 3", v)
	}
	f.wantCounts(2, 0)

	// Keys changed, and the fresh query is slow (held until release).
	f.exec(`INSERT INTO users VALUES (4, 'di')`)
	f.clock.advance(time.Hour)
	release := f.wh.block("users")
	v, res := f.load(e, mode("stale-while-revalidate"), nil)
	if v != "3" || res.SlowQuery {
		t.Errorf("stale-while-revalidate: %s slowQuery %v, want the stale 3 at once, not slow", v, res.SlowQuery)
	}
	v, res = f.load(impatient, mode("stale-if-slow"), nil)
	if v != "3" || !res.SlowQuery {
		t.Errorf("stale-if-slow, slow: %s slowQuery %v, want the stale 3 and slowQuery", v, res.SlowQuery)
	}
	// must-revalidate waits for the fresh result: the refresh already running.
	done := make(chan string)
	go func() { v, _ := f.load(e, mode("must-revalidate"), nil); done <- v }()
	for f.cache.Waiting() < 1 {
		runtime.Gosched()
	}
	release()
	if v := <-done; v != "4" {
		t.Errorf("must-revalidate: %s, want the fresh 4", v)
	}
	f.wantCounts(3, 0) // the three modes shared one run
	if v, res := f.load(e, usersCount, nil); v != "4" || res.SlowQuery {
		t.Errorf("after the refresh: %s slowQuery %v, want 4, not slow", v, res.SlowQuery)
	}
	if stale := f.event("stale"); stale != 2 {
		t.Errorf("stale serves = %v, want 2", stale)
	}

	// stale-if-slow with a fresh result in time serves it.
	f.exec(`INSERT INTO users VALUES (5, 'ed')`)
	f.clock.advance(time.Hour)
	if v, res := f.load(e, mode("stale-if-slow"), nil); v != "5" || res.SlowQuery {
		t.Errorf("stale-if-slow, fast: %s slowQuery %v, want 5, not slow", v, res.SlowQuery)
	}
}

// TestCacheEviction: the cache keeps to its size, evicting the least recently used.
func TestCacheEviction(t *testing.T) {
	byName := func(name string) string {
		return `{"measures": ["users.count"], "filters": [{"member": "users.name", "operator": "equals", "values": ["` + name + `"]}]}`
	}
	probe := newCacheFixture(t, 0)
	probe.load(probe.engine(loadCacheModel(t, "", "")), byName("ann"), nil)
	one := probe.cache.Bytes()

	f := newCacheFixture(t, 2*one+one/2) // room for two results
	e := f.engine(loadCacheModel(t, "", ""))
	f.load(e, byName("ann"), nil)
	f.load(e, byName("bob"), nil)
	f.load(e, byName("ann"), nil) // ann is now the most recently used
	f.wantCounts(2, 0)
	f.load(e, byName("cyd"), nil) // evicts bob
	if n, b := f.cache.Len(), f.cache.Bytes(); n != 2 || b > 2*one+one/2 {
		t.Errorf("%d results, %d bytes; want 2 within %d", n, b, 2*one+one/2)
	}
	f.load(e, byName("ann"), nil)
	f.wantCounts(3, 0)
	f.load(e, byName("bob"), nil)
	f.wantCounts(4, 0)
	if ev := f.event("eviction"); ev != 2 {
		t.Errorf("evictions = %v, want 2", ev)
	}
	families, _ := f.reg.Gather()
	for _, fam := range families {
		if fam.GetName() == "cubit_result_cache_bytes" {
			if got := fam.GetMetric()[0].GetGauge().GetValue(); got != float64(f.cache.Bytes()) {
				t.Errorf("bytes gauge = %v, want %d", got, f.cache.Bytes())
			}
		}
	}
}

// TestCacheAcrossModelVersions: engines of successive model versions share the cache;
// changing a cube's definition invalidates the results that read it and no others.
func TestCacheAcrossModelVersions(t *testing.T) {
	f := newCacheFixture(t, 0)
	joined := `{"measures": ["orders.count"], "dimensions": ["users.name"]}`
	v1 := f.engine(loadCacheModel(t, "", ""))
	for _, q := range []string{ordersCount, usersCount, joined} {
		f.load(v1, q, nil)
	}
	f.wantCounts(3, 1)

	// The same model again, as a restart compiles it: everything still cached.
	same := f.engine(loadCacheModel(t, "", ""))
	for _, q := range []string{ordersCount, usersCount, joined} {
		f.load(same, q, nil)
	}
	f.wantCounts(3, 1)

	// users changes: the orders-only result stays, the two that read users go.
	usersChanged := f.engine(loadCacheModel(t, "", "    description: People who order.\n"))
	f.load(usersChanged, ordersCount, nil)
	f.wantCounts(3, 1)
	f.load(usersChanged, usersCount, nil)
	f.load(usersChanged, joined, nil)
	f.wantCounts(5, 1)

	// orders changes: its results go, users' stays.
	ordersChanged := f.engine(loadCacheModel(t, "    title: All orders\n", "    description: People who order.\n"))
	f.load(ordersChanged, usersCount, nil)
	f.wantCounts(5, 1)
	f.load(ordersChanged, ordersCount, nil)
	f.wantCounts(6, 1)
}

// TestCacheSecurityContexts: two security contexts never share a cached result.
func TestCacheSecurityContexts(t *testing.T) {
	f := newCacheFixture(t, 0)
	e := f.engine(loadCacheModel(t, "", ""))
	eu := map[string]any{"region": "eu"}
	us := map[string]any{"region": "us"}
	if v, _ := f.load(e, ordersCount, eu); v != "2" {
		t.Errorf("eu: %s, want 2", v)
	}
	if v, _ := f.load(e, ordersCount, us); v != "1" {
		t.Errorf("us: %s, want 1", v)
	}
	if v, _ := f.load(e, ordersCount, map[string]any{"region": "eu"}); v != "2" {
		t.Errorf("eu again: %s, want 2", v)
	}
	f.wantCounts(2, 1)
}

// TestIdenticalQueriesRunOnce: identical queries arriving while one runs join it.
func TestIdenticalQueriesRunOnce(t *testing.T) {
	f := newCacheFixture(t, 0)
	e := f.engine(loadCacheModel(t, "", ""))
	release := f.wh.block("users")
	const n = 8
	results := make(chan string, n)
	for i := range n {
		mode := []string{"stale-if-slow", "must-revalidate", "no-cache", "stale-while-revalidate"}[i%4]
		go func() {
			v, _ := f.load(e, `{"measures": ["users.count"], "cache": "`+mode+`"}`, nil)
			results <- v
		}()
	}
	for f.cache.Waiting() < n {
		runtime.Gosched()
	}
	release()
	for range n {
		if v := <-results; v != "2" {
			t.Errorf("users.count = %s, want 2", v)
		}
	}
	f.wantCounts(1, 0)
}

// TestCacheCancel: a query whose only waiter leaves is cancelled, and the next request
// runs it afresh rather than joining the cancelled run.
func TestCacheCancel(t *testing.T) {
	f := newCacheFixture(t, 0)
	e := f.engine(loadCacheModel(t, "", ""))
	release := f.wh.block("users")
	ctx, cancel := context.WithCancel(context.Background())
	q, _ := query.Decode([]byte(usersCount))
	errc := make(chan error)
	go func() { _, err := e.Query(ctx, q); errc <- err }()
	// Cancel once the statement is held in the warehouse, not before it gets there.
	for n, _ := f.wh.counts(); n < 1 || f.cache.Waiting() < 1; n, _ = f.wh.counts() {
		runtime.Gosched()
	}
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("a cancelled query succeeded")
	}
	release()
	if v, _ := f.load(e, usersCount, nil); v != "2" {
		t.Errorf("after the cancel: %s, want 2", v)
	}
	f.wantCounts(2, 0)
}
