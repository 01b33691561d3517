package restapi_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cubit-dev/cubit/internal/config"
	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/restapi"
	"github.com/cubit-dev/cubit/internal/server"
	"github.com/cubit-dev/cubit/internal/testdb"
	"github.com/cubit-dev/cubit/internal/warehouse"
	"github.com/cubit-dev/cubit/internal/warehouse/postgres"
)

// TestBadInput sends one broken request per case and checks its status and message.
func TestBadInput(t *testing.T) {
	t.Parallel()
	a := startAPI(t, demoEngine(t, nil), restapi.Options{})
	get := func(q string) string { return "/v1/load?query=" + url.QueryEscape(q) }
	cases := []struct {
		name   string
		method string // default POST
		path   string // default /v1/load
		body   string
		status int
		typ    string
		part   string
		member string // the error's member field, when set
	}{
		{name: "malformed JSON", body: `{"query": {"measures": ["orders.count"]`, status: 400, typ: "UserError", part: "Unable to decode"},
		{name: "trailing garbage", body: `{"query": {"measures": ["orders.count"]}} x`, status: 400, typ: "UserError", part: "Unable to decode"},
		{name: "body is an array", body: `[{"measures": ["orders.count"]}]`, status: 400, typ: "UserError", part: "JSON object"},
		{name: "body is a string", body: `"hello"`, status: 400, typ: "UserError", part: "JSON object"},
		{name: "empty body", body: "", status: 400, typ: "UserError", part: "Query param is required"},
		{name: "unknown top-level key", body: `{"query": {"measures": ["orders.count"]}, "querry": 1}`, status: 400, typ: "UserError", part: `"querry"`},
		{name: "unknown query key", body: `{"query": {"measures": ["orders.count"], "dimensionz": []}}`, status: 400, typ: "UserError", part: "dimensionz"},
		{name: "query missing", body: `{"queryType": "multi"}`, status: 400, typ: "UserError", part: "Query param is required"},
		{name: "query null", body: `{"query": null}`, status: 400, typ: "UserError", part: "Query param is required"},
		{name: "query undefined", body: `{"query": "undefined"}`, status: 400, typ: "UserError", part: "Query param is required"},
		{name: "query is a number", body: `{"query": 42}`, status: 400, typ: "UserError", part: "query"},
		{name: "query string holding bad JSON", body: `{"query": "{\"measures\": ["}`, status: 400, typ: "UserError", part: ""},
		{name: "queryType not a string", body: `{"query": {"measures": ["orders.count"]}, "queryType": 1}`, status: 400, typ: "UserError", part: "queryType"},
		{name: "queryType unknown", body: `{"query": {"measures": ["orders.count"]}, "queryType": "mutli"}`, status: 400, typ: "UserError", part: "mutli"},
		{name: "array without queryType=multi", body: `{"query": [{"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": "month"}]}, {"measures": ["users.count"], "timeDimensions": [{"dimension": "users.created_at", "granularity": "month"}]}]}`,
			status: 400, typ: "UserError", part: "blendingQuery"},
		{name: "empty array", body: `{"query": [], "queryType": "multi"}`, status: 400, typ: "UserError", part: "empty"},
		{name: "GET malformed query", method: "GET", path: get(`{"measures": [`), status: 400, typ: "UserError", part: ""},
		{name: "GET without query", method: "GET", path: "/v1/load", status: 400, typ: "UserError", part: "Query param is required"},
		{name: "GET query=undefined", method: "GET", path: "/v1/load?query=undefined", status: 400, typ: "UserError", part: "Query param is required"},
		{name: "unknown member", body: `{"query": {"measures": ["orders.count"], "dimensions": ["orders.stauts"]}}`,
			status: 400, typ: "UserError", part: "did you mean orders.status", member: "orders.stauts"},
		{name: "unknown cube", body: `{"query": {"measures": ["ordres.count"]}}`, status: 400, typ: "UserError", part: "ordres.count"},
		{name: "no members", body: `{"query": {}}`, status: 400, typ: "UserError", part: ""},
		{name: "bad operator", body: `{"query": {"measures": ["orders.count"], "filters": [{"member": "orders.status", "operator": "like", "values": ["x"]}]}}`,
			status: 400, typ: "UserError", part: "like"},
		{name: "filter without values", body: `{"query": {"measures": ["orders.count"], "filters": [{"member": "orders.status", "operator": "equals"}]}}`,
			status: 400, typ: "UserError", part: ""},
		{name: "bad date", body: `{"query": {"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "dateRange": ["2024-13-45", "2024-01-01"]}]}}`,
			status: 400, typ: "UserError", part: "2024-13-45"},
		{name: "bad granularity", body: `{"query": {"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": "fortnight"}]}}`,
			status: 400, typ: "UserError", part: "fortnight"},
		{name: "bad time zone", body: `{"query": {"measures": ["orders.count"], "timezone": "Mars/Olympus"}}`, status: 400, typ: "UserError", part: "Mars/Olympus"},
		{name: "limit over the maximum", body: `{"query": {"measures": ["orders.count"], "limit": 50001}}`, status: 400, typ: "UserError", part: "limit has been exceeded"},
		{name: "negative limit", body: `{"query": {"measures": ["orders.count"], "limit": -1}}`, status: 400, typ: "UserError", part: ""},
		{name: "hidden member", body: `{"query": {"measures": ["orders.count"], "dimensions": ["orders.user_id"]}}`, status: 400, typ: "UserError", part: "hidden member"},
		{name: "unknown endpoint", method: "GET", path: "/v1/nope", status: 404, typ: "NotFoundError", part: "no such endpoint"},
		{name: "unknown version", path: "/v2/load", body: simpleQuery, status: 404, typ: "NotFoundError", part: "no such endpoint"},
		{name: "PUT /load", method: "PUT", body: simpleQuery, status: 405, part: "PUT"},
		{name: "DELETE /load", method: "DELETE", status: 405, part: "DELETE"},
		{name: "GET /export", method: "GET", path: "/v1/export", status: 405, part: "GET"},
		{name: "POST /meta", path: "/v1/meta", body: `{}`, status: 405, part: "POST"},
		{name: "GET running-query", method: "GET", path: "/v1/running-query/abc", status: 405, part: "GET"},
		{name: "sql: unknown member", path: "/v1/sql", body: `{"query": {"measures": ["orders.cuont"]}}`, status: 400, typ: "UserError", part: "did you mean orders.count", member: "orders.cuont"},
		{name: "dry-run: unknown member", path: "/v1/dry-run", body: `{"query": {"measures": ["orders.cuont"]}}`, status: 400, typ: "UserError", part: "orders.cuont"},
		{name: "export: unknown format", path: "/v1/export", body: `{"query": {"measures": ["orders.count"]}, "format": "xml"}`, status: 400, typ: "UserError", part: "format"},
		{name: "export: array", path: "/v1/export", body: `{"query": [{"measures": ["orders.count"]}], "queryType": "multi"}`, status: 400, typ: "UserError", part: "one query"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method, path := c.method, c.path
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = "/v1/load"
			}
			r := a.do(t, method, path, c.body)
			body := wantError(t, r, c.status, c.typ, c.part)
			if c.member != "" && body["member"] != c.member {
				t.Errorf("member %v, want %s", body["member"], c.member)
			}
			if c.status == 405 && r.header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
}

// TestQueryForms checks the ways Cube's clients send a valid query.
func TestQueryForms(t *testing.T) {
	t.Parallel()
	a := startAPI(t, demoEngine(t, nil), restapi.Options{})
	q := `{"measures":["orders.count"],"dimensions":["orders.status"]}`
	forms := []struct {
		name, method, path, body string
	}{
		{"object", "POST", "/v1/load", `{"query":` + q + `}`},
		{"JSON string", "POST", "/v1/load", `{"query":` + jsonString(q) + `}`},
		{"GET", "GET", "/v1/load?query=" + url.QueryEscape(q), ""},
		{"GET with queryType", "GET", "/v1/load?queryType=multi&query=" + url.QueryEscape(q), ""},
		{"subscribe", "POST", "/v1/subscribe", `{"query":` + q + `}`},
		{"cache and renewQuery", "POST", "/v1/load", `{"query":` + q + `,"cache":"stale-if-slow","renewQuery":false}`},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			r := a.do(t, f.method, f.path, f.body)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			body := r.json(t)
			if results, ok := body["results"].([]any); ok {
				body = results[0].(map[string]any)
			}
			if data, ok := body["data"].([]any); !ok || len(data) != 5 {
				t.Errorf("want 5 rows (one per status), got %s", r.body)
			}
		})
	}
}

func jsonString(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// TestOversizedBody checks the body cap: 413 beyond it, and a body just under it works.
func TestOversizedBody(t *testing.T) {
	t.Parallel()
	a := startAPI(t, demoEngine(t, nil), restapi.Options{MaxBodyBytes: 256})
	big := `{"query": {"measures": ["orders.count"], "filters": [{"member": "orders.status", "operator": "equals", "values": ["` + strings.Repeat("x", 1000) + `"]}]}}`
	wantError(t, a.load(t, big), 413, "RequestTooLargeError", "larger than 256 bytes")
	// The connection may be closed after a 413; the next request still works.
	if r := a.load(t, simpleQuery); r.status != 200 {
		t.Fatalf("after the 413: status %d: %s", r.status, r.body)
	}
}

// TestDataSourceDown serves the demo model over a PostgreSQL that is not there.
func TestDataSourceDown(t *testing.T) {
	t.Parallel()
	_, m := demoShop(t)
	ctx := context.Background()
	wh, err := postgres.Open(ctx, "postgres://ci:ci@127.0.0.1:1/x?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	srv := newServer(t, m, wh, dialect.Postgres{})
	for range 2 {
		r := send(t, "POST", srv.URL+"/cubejs-api/v1/load", simpleQuery, "Authorization", "Bearer "+serverToken(t))
		wantError(t, r, 503, "DataSourceUnavailableError", "unavailable")
		if r := send(t, "GET", srv.URL+"/livez", ""); r.status != 200 {
			t.Fatalf("/livez: %d %s", r.status, r.body)
		}
	}
	r := send(t, "GET", srv.URL+"/readyz", "")
	if r.status != 500 || r.json(t)["health"] != "DOWN" {
		t.Errorf("/readyz: %d %s, want 500 DOWN", r.status, r.body)
	}
	// What does not need the database still works.
	if r := send(t, "POST", srv.URL+"/cubejs-api/v1/sql", simpleQuery, "Authorization", "Bearer "+serverToken(t)); r.status != 200 {
		t.Errorf("/sql: %d %s", r.status, r.body)
	}
}

// newServer is cubit's whole HTTP surface (API, health, metrics) over m and wh on a
// loopback listener, configured as with no environment, then by tweak.
func newServer(t *testing.T, m *model.Model, wh warehouse.Warehouse, d dialect.Dialect, tweak ...func(*config.Config)) *httptest.Server {
	t.Helper()
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tweak {
		f(&cfg)
	}
	auth, err := restapi.NewAuthenticator([]string{testSecret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(server.Options{
		Config:    cfg,
		LoadModel: func() (*model.Model, error) { return m, nil },
		Warehouse: wh,
		Dialect:   d,
		Auth:      auth,
		Logger:    watchPanics(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler(prometheus.NewRegistry()))
	t.Cleanup(srv.Close)
	return srv
}

// serverToken is a token for servers made by newServer.
func serverToken(t *testing.T) string {
	t.Helper()
	auth, err := restapi.NewAuthenticator([]string{testSecret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	token, err := auth.Mint(nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// tcpProxy forwards connections to a target address and can be closed and reopened on the
// same address, to make a data source go away and come back.
type tcpProxy struct {
	target, addr string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

// newTCPProxy reserves a loopback address for a proxy to target; it starts closed.
func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]bool{}}
	ln.Close()
	t.Cleanup(p.close)
	return p
}

// open starts accepting and forwarding connections.
func (p *tcpProxy) open(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("reopening the proxy on %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *tcpProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // closed meanwhile
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// close stops accepting and cuts every forwarded connection, as a database that went down.
func (p *tcpProxy) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// TestDataSourceRecovers serves a PostgreSQL model through a proxy that goes down and
// comes back: 503 while it is down, answers again once it is back, without a restart.
func TestDataSourceRecovers(t *testing.T) {
	t.Parallel()
	schemaURL := testdb.FreshSchema(t, testdb.Postgres(t))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `CREATE TABLE things (id int PRIMARY KEY, kind text);
		INSERT INTO things SELECT g, CASE WHEN g % 3 = 0 THEN 'a' ELSE 'b' END FROM generate_series(1, 30) g`)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.LoadFS(fstest.MapFS{"cubes/things.yml": {Data: []byte(`cubes:
  - name: things
    sql_table: things
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
      - name: kind
        sql: kind
        type: string
    measures:
      - name: count
        type: count
`)}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.addr
	wh, err := postgres.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	srv := newServer(t, m, wh, dialect.Postgres{})
	token := serverToken(t)
	// no-cache: every request must reach the database, not a result cache.
	body := `{"query": {"measures": ["things.count"], "dimensions": ["things.kind"], "order": {"things.kind": "asc"}, "cache": "no-cache"}}`
	load := func() *response {
		return send(t, "POST", srv.URL+"/cubejs-api/v1/load", body, "Authorization", "Bearer "+token)
	}
	wantRows := func(r *response) {
		t.Helper()
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		data, _ := r.json(t)["data"].([]any)
		if len(data) != 2 || data[0].(map[string]any)["things.count"] != "10" || data[1].(map[string]any)["things.count"] != "20" {
			t.Fatalf("want a: 10, b: 20; got %s", r.body)
		}
	}

	wantError(t, load(), 503, "DataSourceUnavailableError", "unavailable")
	if r := send(t, "GET", srv.URL+"/livez", ""); r.status != 200 {
		t.Fatalf("/livez while the database is down: %d", r.status)
	}
	proxy.open(t)
	wantRows(load())
	// Down again, with the pool's connections cut under it.
	proxy.close()
	r := load()
	wantError(t, r, 503, "DataSourceUnavailableError", "unavailable")
	proxy.open(t)
	// The first query after the cut may still meet a dead pooled connection; by the
	// second the pool has reconnected. Never a 500, never a hang.
	if r := load(); r.status != 200 {
		wantError(t, r, 503, "DataSourceUnavailableError", "unavailable")
	}
	wantRows(load())
}

// TestQueryTimeout runs the slow query under a 50 ms timeout: 504, and the server keeps
// answering.
func TestQueryTimeout(t *testing.T) {
	t.Parallel()
	a := startAPI(t, slowEngine(t, nil), restapi.Options{QueryTimeout: 50 * time.Millisecond})
	for range 2 {
		wantError(t, a.loadUntilDone(t, slowQuery), 504, "QueryTimeoutError", "timed out")
		if r := a.do(t, "GET", "/v1/meta", ""); r.status != 200 {
			t.Fatalf("/meta after a timeout: %d %s", r.status, r.body)
		}
		if r := a.do(t, "POST", "/v1/sql", slowQuery); r.status != 200 {
			t.Fatalf("/sql after a timeout: %d %s", r.status, r.body)
		}
	}
	// The export endpoint honours the same timeout.
	wantError(t, a.do(t, "POST", "/v1/export", slowQuery), 504, "QueryTimeoutError", "timed out")
}
