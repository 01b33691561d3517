package restapi_test

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/restapi"
	"github.com/cubit-dev/cubit/internal/warehouse"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

// The API's secrets: tokens signed with either verify, as during a rotation.
const (
	testSecret = "test-secret-0123456789"
	oldSecret  = "old-secret-9876543210"
)

// demoScale is the demo shop's size in these tests: 10,000 orders, about 30,000 lines.
const demoScale = 0.1

// shop is the demo shop loaded once into an in-memory DuckDB for the whole package: the
// tests only read it.
var shop struct {
	once  sync.Once
	db    *duckdb.DB
	model *model.Model
	err   error
}

// demoShop returns the shared DuckDB holding the demo shop, and the demo model.
func demoShop(t testing.TB) (*duckdb.DB, *model.Model) {
	t.Helper()
	shop.once.Do(func() {
		sub, err := fs.Sub(demo.Model, "model")
		if err != nil {
			shop.err = err
			return
		}
		if shop.model, shop.err = model.LoadFS(sub); shop.err != nil {
			return
		}
		if shop.db, shop.err = duckdb.Open("", duckdb.Options{MemoryLimit: "1GB"}); shop.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		shop.err = duckdb.LoadTables(ctx, shop.db, demo.Shop(demoScale))
	})
	if shop.err != nil {
		t.Fatalf("demo shop: %v", shop.err)
	}
	return shop.db, shop.model
}

// demoEngine is an engine over the demo shop reading through wh (the shared DuckDB when nil).
func demoEngine(t testing.TB, wh warehouse.Warehouse) *engine.Engine {
	t.Helper()
	db, m := demoShop(t)
	if wh == nil {
		wh = db
	}
	return engine.New(m, dialect.DuckDB{}, wh, engine.DefaultConfig())
}

// slowModel is a cube whose every query scans 300 million generated rows on DuckDB: long
// enough for a 50 ms timeout or Continue wait to fire, short enough to finish eventually.
const slowModel = `cubes:
  - name: slow
    sql: SELECT range AS id FROM range(300000000)
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
    measures:
      - name: total
        sql: id
        type: sum
  - name: slower
    sql: SELECT range AS id FROM range(3000000000)
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
    measures:
      - name: total
        sql: id
        type: sum
`

// slowerQuery takes ten times as long as slowQuery: long enough that a test can cancel it
// while it runs, which only an interrupted query answers quickly.
const slowerQuery = `{"query":{"measures":["slower.total"]}}`

// slowQuery is the request body of the slow cube's only measure.
const slowQuery = `{"query":{"measures":["slow.total"]}}`

// slowEngine is an engine over the slow model reading through wh (the shared DuckDB when nil).
func slowEngine(t testing.TB, wh warehouse.Warehouse) *engine.Engine {
	t.Helper()
	db, _ := demoShop(t)
	if wh == nil {
		wh = db
	}
	m, err := model.LoadFS(fstest.MapFS{"cubes/slow.yml": {Data: []byte(slowModel)}})
	if err != nil {
		t.Fatalf("slow model: %v", err)
	}
	return engine.New(m, dialect.DuckDB{}, wh, engine.DefaultConfig())
}

// fixedEngines serves one engine for every request.
type fixedEngines struct{ e *engine.Engine }

func (f fixedEngines) Engine() *engine.Engine { return f.e }

// testAPI is the REST API on a real loopback listener.
type testAPI struct {
	srv   *httptest.Server
	reg   *prometheus.Registry
	auth  *restapi.Authenticator
	token string
}

// startAPI serves the API over eng under /cubejs-api on 127.0.0.1:0; opt's unset Engines,
// Auth and Metrics are filled in.
func startAPI(t testing.TB, eng *engine.Engine, opt restapi.Options) *testAPI {
	t.Helper()
	a := &testAPI{reg: prometheus.NewRegistry()}
	if opt.Engines == nil {
		opt.Engines = fixedEngines{eng}
	}
	if opt.Auth == nil {
		auth, err := restapi.NewAuthenticator([]string{testSecret, oldSecret}, nil)
		if err != nil {
			t.Fatal(err)
		}
		opt.Auth = auth
	}
	auth, ok := opt.Auth.(*restapi.Authenticator)
	if !ok {
		t.Fatalf("the test API needs a *restapi.Authenticator to mint tokens, got %T", opt.Auth)
	}
	a.auth = auth
	if opt.Logger == nil {
		opt.Logger = watchPanics(t)
	}
	if opt.Metrics == nil {
		opt.Metrics = restapi.NewMetrics(a.reg)
	}
	token, err := a.auth.Mint(map[string]any{"tenant": "test"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	a.token = token
	a.srv = httptest.NewServer(restapi.New(opt).Handler("/cubejs-api"))
	t.Cleanup(a.srv.Close)
	return a
}

// panicWatch is a log handler that counts the panics the API recovered from: a handler
// must never panic, even when the recovery turns it into a clean 500.
type panicWatch struct {
	slog.Handler
	panics *atomic.Int64
}

func (p panicWatch) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "panic" {
		p.panics.Add(1)
	}
	return p.Handler.Handle(ctx, r)
}

func (p panicWatch) WithAttrs(attrs []slog.Attr) slog.Handler {
	return panicWatch{p.Handler.WithAttrs(attrs), p.panics}
}

func (p panicWatch) WithGroup(name string) slog.Handler {
	return panicWatch{p.Handler.WithGroup(name), p.panics}
}

// watchPanics returns a logger that fails t at the end when a handler panicked; with -v
// the logs go to the test output.
func watchPanics(t testing.TB) *slog.Logger {
	var n atomic.Int64
	var inner slog.Handler = slog.DiscardHandler
	if testing.Verbose() {
		inner = slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})
	}
	t.Cleanup(func() {
		if n.Load() > 0 {
			t.Errorf("a handler panicked %d times (see the log)", n.Load())
		}
	})
	return slog.New(panicWatch{inner, &n})
}

// tWriter writes log lines to the test's output.
type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// client is the HTTP client of every test; its timeout only keeps a broken server from
// hanging the test run, it asserts nothing about speed.
var client = &http.Client{Timeout: 2 * time.Minute}

// response is a response read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body as a JSON object, failing the test when it is not one.
func (r *response) json(t testing.TB) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("status %d: body is not a JSON object: %v\n%s", r.status, err, r.body)
	}
	return v
}

// errorMessage returns the body's "error".
func (r *response) errorMessage(t testing.TB) string {
	t.Helper()
	msg, _ := r.json(t)["error"].(string)
	return msg
}

// send makes a request with a body (none when ""), and headers as name/value pairs.
func send(t testing.TB, method, url, body string, headers ...string) *response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: data}
}

// url is the address of an API path such as "/v1/load".
func (a *testAPI) url(path string) string { return a.srv.URL + "/cubejs-api" + path }

// do sends an authenticated request to an API path.
func (a *testAPI) do(t testing.TB, method, path, body string, headers ...string) *response {
	t.Helper()
	return send(t, method, a.url(path), body, append([]string{"Authorization", "Bearer " + a.token}, headers...)...)
}

// load posts body to /v1/load.
func (a *testAPI) load(t testing.TB, body string, headers ...string) *response {
	t.Helper()
	return a.do(t, http.MethodPost, "/v1/load", body, headers...)
}

// isContinueWait reports whether r is Cube's "Continue wait" answer.
func isContinueWait(r *response) bool {
	if r.status != http.StatusOK {
		return false
	}
	var v map[string]any
	return json.Unmarshal(r.body, &v) == nil && v["error"] == "Continue wait"
}

// loadUntilDone re-sends body while the API answers Continue wait, as Cube's clients do,
// and returns the first other answer. The deadline only guards against a hang.
func (a *testAPI) loadUntilDone(t testing.TB, body string, headers ...string) *response {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r := a.load(t, body, headers...)
		if !isContinueWait(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("still Continue wait after 2 minutes")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wantError checks an error response: its status, a JSON body with "error" containing
// part and, when typ is set, that "type".
func wantError(t testing.TB, r *response, status int, typ, part string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	body := r.json(t)
	msg, ok := body["error"].(string)
	if !ok || msg == "" {
		t.Fatalf("no error message in %s", r.body)
	}
	if !strings.Contains(msg, part) {
		t.Errorf("error %q does not contain %q", msg, part)
	}
	if typ != "" && body["type"] != typ {
		t.Errorf("type %v, want %s (body %s)", body["type"], typ, r.body)
	}
	return body
}

// countingWarehouse counts the queries that reach the database and can hold them at a
// gate, so tests can see a query running without relying on how long it takes.
type countingWarehouse struct {
	warehouse.Warehouse
	calls atomic.Int64
	// started receives one value per query that starts (when there is room).
	started chan struct{}
	// gate, when set, holds every query until it is closed or the query's context ends.
	gate chan struct{}
}

func newCountingWarehouse(inner warehouse.Warehouse, gated bool) *countingWarehouse {
	w := &countingWarehouse{Warehouse: inner, started: make(chan struct{}, 100)}
	if gated {
		w.gate = make(chan struct{})
	}
	return w
}

func (w *countingWarehouse) Query(ctx context.Context, sql string, args []any) (warehouse.Rows, error) {
	w.calls.Add(1)
	select {
	case w.started <- struct{}{}:
	default:
	}
	if w.gate != nil {
		select {
		case <-w.gate:
		case <-ctx.Done():
			return nil, warehouse.ContextError(ctx, ctx.Err())
		}
	}
	return w.Warehouse.Query(ctx, sql, args)
}

// waitStarted waits until a query reaches the warehouse.
func (w *countingWarehouse) waitStarted(t testing.TB) {
	t.Helper()
	select {
	case <-w.started:
	case <-time.After(2 * time.Minute):
		t.Fatal("no query reached the warehouse")
	}
}

// counterValue reads a counter (summed over its labels that match) from reg.
func counterValue(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue metrics
				}
			}
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}
