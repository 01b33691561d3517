package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/config"
	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/restapi"
	"github.com/cubit-dev/cubit/internal/server"
	"github.com/cubit-dev/cubit/internal/warehouse"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

const secret = "server-test-secret"

// shop is the demo shop at scale 0.1 in an in-memory DuckDB, loaded once for the package.
var shop struct {
	once sync.Once
	db   *duckdb.DB
	err  error
}

func demoDB(t *testing.T) *duckdb.DB {
	t.Helper()
	shop.once.Do(func() {
		if shop.db, shop.err = duckdb.Open("", duckdb.Options{MemoryLimit: "1GB"}); shop.err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		shop.err = duckdb.LoadTables(ctx, shop.db, demo.Shop(0.1))
	})
	if shop.err != nil {
		t.Fatalf("demo shop: %v", shop.err)
	}
	return shop.db
}

// modelDir copies the demo model to a folder the test may change.
func modelDir(t *testing.T) string {
	t.Helper()
	sub, err := fs.Sub(demo.Model, "model")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "model")
	if err := os.CopyFS(dir, sub); err != nil {
		t.Fatal(err)
	}
	return dir
}

// testConfig is the configuration of cubit serve with no environment.
func testConfig(t *testing.T) config.Config {
	t.Helper()
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newServer(t *testing.T, cfg config.Config, dir string, wh warehouse.Warehouse, ready func(net.Addr)) (*server.Server, string) {
	t.Helper()
	auth, err := restapi.NewAuthenticator([]string{secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	token, err := auth.Mint(nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	opt := server.Options{
		Config:    cfg,
		LoadModel: func() (*model.Model, error) { return model.Load(dir) },
		Warehouse: wh,
		Dialect:   dialect.DuckDB{},
		Auth:      auth,
	}
	if ready != nil {
		opt.Ready = func(addr, _ net.Addr) { ready(addr) }
	}
	s, err := server.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return s, token
}

var client = &http.Client{Timeout: 2 * time.Minute}

// post sends a /load body and returns the status and decoded body.
func post(t *testing.T, base, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", base+"/cubejs-api/v1/load", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST /load: %v", err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("status %d, body not JSON: %s", res.StatusCode, data)
	}
	return res.StatusCode, v
}

// scalar runs hand-written SQL returning one value, as text.
func scalar(t *testing.T, db *duckdb.DB, sql string) string {
	t.Helper()
	var s string
	if err := db.SQL().QueryRow(sql).Scan(&s); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return s
}

// addMeasure adds a measure to the orders cube of the model in dir.
func addMeasure(t *testing.T, dir, yaml string) {
	t.Helper()
	path := filepath.Join(dir, "cubes", "orders.yml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const anchor = "\n    measures:\n"
	if strings.Count(string(data), anchor) != 1 {
		t.Fatalf("orders.yml has no single %q", anchor)
	}
	changed := strings.Replace(string(data), anchor, anchor+yaml, 1)
	if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
}

const maxIDQuery = `{"query": {"measures": ["orders.max_id"]}}`

const maxIDMeasure = "      - name: max_id\n        sql: id\n        type: max\n"

func TestReload(t *testing.T) {
	t.Parallel()
	db := demoDB(t)
	dir := modelDir(t)
	s, token := newServer(t, testConfig(t), dir, db, nil)
	reg := prometheus.NewRegistry()
	srv := httptest.NewServer(s.Handler(reg))
	t.Cleanup(srv.Close)

	if status, body := post(t, srv.URL, token, maxIDQuery); status != 400 || !strings.Contains(body["error"].(string), "orders.max_id") {
		t.Fatalf("before the reload: %d %v, want 400 about orders.max_id", status, body)
	}
	old := s.Engine()

	addMeasure(t, dir, maxIDMeasure)
	if err := s.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if s.Engine() == old {
		t.Error("Reload kept the old engine")
	}
	want := scalar(t, db, "SELECT max(id)::VARCHAR FROM orders")
	status, body := post(t, srv.URL, token, maxIDQuery)
	if status != 200 {
		t.Fatalf("after the reload: %d %v", status, body)
	}
	if got := body["data"].([]any)[0].(map[string]any)["orders.max_id"]; got != want {
		t.Errorf("orders.max_id = %v, want %s", got, want)
	}

	// A broken file: the reload fails, says where, and the previous model keeps serving.
	path := filepath.Join(dir, "cubes", "orders.yml")
	good, _ := os.ReadFile(path)
	addMeasure(t, dir, "      - name: broken\n        sql: id\n        type: not_a_type\n")
	current := s.Engine()
	err := s.Reload()
	if err == nil {
		t.Fatal("Reload of a broken model succeeded")
	}
	if !strings.Contains(err.Error(), "orders.yml") || !strings.Contains(err.Error(), "not_a_type") {
		t.Errorf("the reload error does not say where and what: %v", err)
	}
	if s.Engine() != current {
		t.Error("a failed reload replaced the engine")
	}
	if status, body := post(t, srv.URL, token, maxIDQuery); status != 200 || body["data"].([]any)[0].(map[string]any)["orders.max_id"] != want {
		t.Errorf("after the failed reload: %d %v", status, body)
	}
	// Not YAML at all.
	if err := os.WriteFile(path, []byte("cubes: [\n  - name: orders\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil {
		t.Error("Reload of a file that is not YAML succeeded")
	}
	if status, _ := post(t, srv.URL, token, maxIDQuery); status != 200 {
		t.Errorf("after the second failed reload: %d", status)
	}
	// Fixed again.
	if err := os.WriteFile(path, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err != nil {
		t.Fatalf("Reload after the fix: %v", err)
	}

	metrics := gather(t, reg)
	if metrics["cubit_model_reloads_total"] != 2 || metrics["cubit_model_reload_failures_total"] != 2 {
		t.Errorf("reloads %v, failures %v; want 2 and 2", metrics["cubit_model_reloads_total"], metrics["cubit_model_reload_failures_total"])
	}
}

// TestReloadWithoutHandler: Reload works on a server whose Handler was never built.
func TestReloadWithoutHandler(t *testing.T) {
	t.Parallel()
	dir := modelDir(t)
	s, _ := newServer(t, testConfig(t), dir, demoDB(t), nil)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cubes", "orders.yml"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil {
		t.Fatal("Reload of a broken model succeeded")
	}
}

// TestNewFailsOnBrokenModel: a server does not start on a model that does not compile.
func TestNewFailsOnBrokenModel(t *testing.T) {
	t.Parallel()
	dir := modelDir(t)
	if err := os.WriteFile(filepath.Join(dir, "cubes", "orders.yml"), []byte("cubes:\n  - name: orders\n    sql_table: orders\n    measures:\n      - name: x\n        type: nope\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	auth, _ := restapi.NewAuthenticator([]string{secret}, nil)
	_, err := server.New(server.Options{Config: testConfig(t), LoadModel: func() (*model.Model, error) { return model.Load(dir) },
		Warehouse: demoDB(t), Dialect: dialect.DuckDB{}, Auth: auth})
	if err == nil {
		t.Fatal("New on a broken model succeeded")
	}
}

func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			if c := m.GetCounter(); c != nil {
				out[f.GetName()] += c.GetValue()
			}
		}
	}
	return out
}

// gatedWarehouse holds every query until the gate opens, and says when one arrives.
type gatedWarehouse struct {
	warehouse.Warehouse
	started chan struct{}
	gate    chan struct{}
}

func (w *gatedWarehouse) Query(ctx context.Context, sql string, args []any) (warehouse.Rows, error) {
	select {
	case w.started <- struct{}{}:
	default:
	}
	select {
	case <-w.gate:
	case <-ctx.Done():
		return nil, warehouse.ContextError(ctx, ctx.Err())
	}
	return w.Warehouse.Query(ctx, sql, args)
}

// TestServeGracefulShutdown: Serve on 127.0.0.1:0; when its context ends while a request is
// in flight, the listener closes at once and the request still completes.
func TestServeGracefulShutdown(t *testing.T) {
	t.Parallel()
	db := demoDB(t)
	wh := &gatedWarehouse{Warehouse: db, started: make(chan struct{}, 10), gate: make(chan struct{})}
	cfg := testConfig(t)
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.ContinueWait = 2 * time.Minute // the held request must wait, not answer Continue wait
	addrs := make(chan net.Addr, 1)
	s, token := newServer(t, cfg, modelDir(t), wh, func(a net.Addr) { addrs <- a })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-served:
		t.Fatalf("Serve: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("Serve never became ready")
	}
	base := "http://" + addr.String()
	if r, err := client.Get(base + "/livez"); err != nil || r.StatusCode != 200 {
		t.Fatalf("/livez: %v %v", r, err)
	} else {
		r.Body.Close()
	}

	type result struct {
		status int
		body   map[string]any
	}
	inflight := make(chan result, 1)
	go func() {
		status, body := post(t, base, token, `{"query": {"measures": ["orders.count"]}}`)
		inflight <- result{status, body}
	}()
	select {
	case <-wh.started:
	case <-time.After(2 * time.Minute):
		t.Fatal("the request never reached the warehouse")
	}

	cancel()
	// The listener closes first: wait until new connections are refused.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c, err := net.Dial("tcp", addr.String())
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener still accepts connections after the context ended")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	default:
	}

	close(wh.gate)
	r := <-inflight
	want := scalar(t, db, "SELECT count(*)::VARCHAR FROM orders")
	if r.status != 200 || r.body["data"].([]any)[0].(map[string]any)["orders.count"] != want {
		t.Fatalf("the in-flight request: %d %v, want orders.count %s", r.status, r.body, want)
	}
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("Serve did not return after the last request finished")
	}
}

// TestServeSIGHUPReloads: SIGHUP reloads the model of a running server.
func TestServeSIGHUPReloads(t *testing.T) {
	// Not parallel: the signal goes to the whole test process.
	db := demoDB(t)
	dir := modelDir(t)
	cfg := testConfig(t)
	cfg.Server.Listen = "127.0.0.1:0"
	addrs := make(chan net.Addr, 1)
	s, token := newServer(t, cfg, dir, db, func(a net.Addr) { addrs <- a })
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	base := "http://" + (<-addrs).String()
	if status, _ := post(t, base, token, maxIDQuery); status != 400 {
		t.Fatalf("before SIGHUP: %d", status)
	}
	addMeasure(t, dir, maxIDMeasure)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		status, _ := post(t, base, token, maxIDQuery)
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the model was not reloaded after SIGHUP")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServeListenError: Serve reports an address it cannot listen on.
func TestServeListenError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig(t)
	cfg.Server.Listen = ln.Addr().String()
	s, _ := newServer(t, cfg, modelDir(t), demoDB(t), nil)
	err = s.Serve(context.Background())
	if err == nil || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Fatalf("Serve on a busy address: %v", err)
	}
	var opErr *net.OpError
	if !errors.As(err, &opErr) {
		t.Errorf("the error does not wrap the listen error: %v", err)
	}
}

// TestServeSlowClient: a client that stops sending its body in the middle is cut off by the
// read timeout instead of holding a connection forever, and the server keeps answering.
func TestServeSlowClient(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.ReadTimeout = 200 * time.Millisecond
	addrs := make(chan net.Addr, 1)
	s, token := newServer(t, cfg, modelDir(t), demoDB(t), func(a net.Addr) { addrs <- a })
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	addr := (<-addrs).String()

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"query": {"measures": ["orders.count"]}}`
	_, err = io.WriteString(conn, "POST /cubejs-api/v1/load HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "+token+
		"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"+body)
	if err != nil {
		t.Fatal(err)
	}
	// The rest of the body never comes. The deadline only guards against a hang.
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
	reply, err := io.ReadAll(conn)
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		t.Fatalf("the server held the connection of a client that stopped sending (read so far: %q)", reply)
	}
	t.Logf("reply: %q", reply)
	if len(reply) > 0 && !strings.HasPrefix(string(reply), "HTTP/1.1 408") {
		t.Errorf("reply to a truncated body: %q", reply)
	}
	if status, _ := post(t, "http://"+addr, token, body); status != 200 {
		t.Errorf("after the slow client: %d", status)
	}
}
