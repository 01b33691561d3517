package server_test

// Benchmarks of the platform against a real server on loopback (see docs/performance.md,
// "Platform"): how long a restart takes to reach RUNNING, and what routing a request to a
// deployment by its base URL (REST) or its username (SQL) costs next to the default
// deployment, with one deployment and with a hundred. Every figure is read next to its
// baseline from the same run; none is asserted.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/config"
	"github.com/cubit-dev/cubit/internal/server"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

// benchQuery is the cached query of the routing benchmarks: one measure by one dimension,
// answered from the result cache after the first run.
const benchQuery = `{"query":{"measures":["orders.count"],"dimensions":["orders.status"]}}`

// benchSQL is benchQuery in the SQL API.
const benchSQL = "SELECT status, MEASURE(count) FROM orders GROUP BY 1"

const benchSQLUser, benchSQLPassword = "bench", "bench-password"

// benchClient keeps one loopback connection alive between sequential requests.
var benchClient = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 4}}

// platformNode is a running server with the platform, for benchmarks: the default
// deployment serves the demo model on demo.Shop(0.1), the demo project's main branch the
// demo environment (demo.Shop(1)).
type platformNode struct {
	origin string
	sql    string // host:port of the SQL API
	jwt    string // a token of the default deployment
}

// startPlatformNode is startNode for benchmarks. The server lives until stop is called.
func startPlatformNode(tb testing.TB, dataDir string) (n platformNode, stop func()) {
	tb.Helper()
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.SQLListen = "127.0.0.1:0"
	cfg.Server.SQLUser = benchSQLUser
	cfg.Server.SQLPassword = benchSQLPassword
	cfg.Platform.DataDir = dataDir
	cfg.Platform.AdminToken = adminToken
	ctx, cancel := context.WithCancel(context.Background())
	nd, err := server.OpenNode(ctx, cfg, nil)
	if err != nil {
		tb.Fatal(err)
	}
	dir, err := benchModelDir(dataDir)
	if err != nil {
		tb.Fatal(err)
	}
	db, err := benchShop()
	if err != nil {
		tb.Fatal(err)
	}
	type addrs struct{ http, sql net.Addr }
	ready := make(chan addrs, 1)
	s, jwt, err := newSQLServerWith(cfg, dir, db, nd, func(h, q net.Addr) { ready <- addrs{h, q} })
	if err != nil {
		tb.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	stop = func() {
		cancel()
		if err := <-served; err != nil {
			fmt.Fprintf(os.Stderr, "Serve: %v\n", err)
		}
		nd.Close()
	}
	select {
	case a := <-ready:
		return platformNode{origin: "http://" + a.http.String(), sql: a.sql.String(), jwt: jwt}, stop
	case err := <-served:
		tb.Fatalf("Serve: %v", err)
	case <-time.After(time.Minute):
		tb.Fatal("server not ready after a minute")
	}
	return platformNode{}, stop
}

// benchModelDir copies the demo model under parent.
func benchModelDir(parent string) (string, error) {
	sub, err := fs.Sub(demo.Model, "model")
	if err != nil {
		return "", err
	}
	dir := filepath.Join(parent, "default-model")
	return dir, os.CopyFS(dir, sub)
}

var benchShopOnce struct {
	once sync.Once
	db   *duckdb.DB
	err  error
}

// benchShop is demo.Shop(0.1) in an in-memory DuckDB, for the default deployment.
func benchShop() (*duckdb.DB, error) {
	benchShopOnce.once.Do(func() {
		db, err := duckdb.Open("", duckdb.Options{MemoryLimit: "1GB"})
		if err == nil {
			err = duckdb.LoadTables(context.Background(), db, demo.Shop(0.1))
		}
		benchShopOnce.db, benchShopOnce.err = db, err
	})
	return benchShopOnce.db, benchShopOnce.err
}

// admin calls the admin API and decodes its answer; a status other than want fails tb.
func (n platformNode) admin(tb testing.TB, want int, method, path string, body any) map[string]any {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, n.origin+"/api/v1"+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := benchClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var v map[string]any
	_ = json.Unmarshal(data, &v)
	if res.StatusCode != want {
		tb.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, data)
	}
	return v
}

// waitRunning polls the status of project's branch until it is RUNNING.
func (n platformNode) waitRunning(tb testing.TB, project, branch string) {
	tb.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	var last map[string]any
	for time.Now().Before(deadline) {
		last = n.admin(tb, 200, "GET", "/projects/"+project+"/branches/"+branch+"/status", nil)
		if last["state"] == "RUNNING" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	tb.Fatalf("%s/%s did not become RUNNING: %v", project, branch, last)
}

// restCreds returns the REST base URL and token of a deployment.
func (n platformNode) restCreds(tb testing.TB, project, branch string) (baseURL, token, connString string) {
	tb.Helper()
	v := n.admin(tb, 200, "GET", "/projects/"+project+"/branches/"+branch+"/credentials", nil)
	rest, _ := v["rest"].(map[string]any)
	sql, _ := v["sql"].(map[string]any)
	baseURL, _ = rest["base_url"].(string)
	token, _ = rest["token"].(string)
	connString, _ = sql["connection_string"].(string)
	if baseURL == "" || token == "" || connString == "" {
		tb.Fatalf("credentials incomplete: %v", v)
	}
	return baseURL, token, connString
}

// benchRestart times POST .../restart, which answers once the deployment is RUNNING again.
func benchRestart(b *testing.B, n platformNode, project, branch string) {
	n.waitRunning(b, project, branch)
	path := "/projects/" + project + "/branches/" + branch + "/restart"
	b.ResetTimer()
	for b.Loop() {
		if st := n.admin(b, 200, "POST", path, nil); st["state"] != "RUNNING" {
			b.Fatalf("after restart: %v", st)
		}
	}
}

func BenchmarkRestartDemo(b *testing.B) {
	n, stop := startPlatformNode(b, b.TempDir())
	defer stop()
	benchRestart(b, n, "demo", "main")
}

// BenchmarkRestart1000Cubes restarts a branch of the demo project whose model has the
// demo's cubes and 1,000 more, each with five dimensions, five measures and a join to the
// previous one (the shape of internal/model's BenchmarkLoad1000Cubes, on the demo's orders
// table so that the model is valid on the demo environment).
func BenchmarkRestart1000Cubes(b *testing.B) {
	n, stop := startPlatformNode(b, b.TempDir())
	defer stop()
	n.waitRunning(b, "demo", "main")
	n.admin(b, 201, "POST", "/projects/demo/branches", map[string]any{"name": "big", "from": "main"})
	n.admin(b, 200, "PUT", "/projects/demo/branches/big/files/model/cubes/big.yml",
		map[string]any{"content": thousandCubes(1000), "message": "1,000 cubes"})
	if st := n.admin(b, 200, "POST", "/projects/demo/branches/big/start", nil); st["state"] != "RUNNING" {
		b.Fatalf("start big: %v", st)
	}
	// The last cube answers: the branch serves the 1,000 cubes.
	base, token, _ := n.restCreds(b, "demo", "big")
	if code, data := postLoad(b, base, token, []byte(`{"query":{"measures":["big_0999.count"]}}`)); code != 200 {
		b.Fatalf("big_0999.count: %d %s", code, data)
	}
	benchRestart(b, n, "demo", "big")
}

// thousandCubes is a model file of count cubes over the demo's orders table.
func thousandCubes(count int) string {
	var s strings.Builder
	s.WriteString("cubes:\n")
	for i := range count {
		fmt.Fprintf(&s, "  - name: big_%04d\n    sql_table: orders\n", i)
		if i > 0 {
			fmt.Fprintf(&s, "    joins:\n      - name: big_%04d\n        relationship: many_to_one\n"+
				"        sql: \"{CUBE}.user_id = {big_%04d}.id\"\n", i-1, i-1)
		}
		s.WriteString("    dimensions:\n      - name: id\n        sql: id\n        type: number\n        primary_key: true\n")
		for _, d := range [][2]string{{"user_id", "number"}, {"status", "string"}, {"channel", "string"}, {"created_at", "time"}} {
			fmt.Fprintf(&s, "      - name: %s\n        sql: %s\n        type: %s\n", d[0], d[0], d[1])
		}
		s.WriteString("    measures:\n      - name: count\n        type: count\n")
		for _, m := range []string{"sum", "avg", "min", "max"} {
			fmt.Fprintf(&s, "      - name: amount_%s\n        sql: \"{CUBE}.amount\"\n        type: %s\n", m, m)
		}
	}
	return s.String()
}

// routing is the node the routing benchmarks share, so that the default deployment and
// the platform's are measured in one server process.
var routing struct {
	once sync.Once
	n    platformNode
	// deployments counts the running deployments; Benchmark...100 raises it to 100.
	deployments int
	mu          sync.Mutex
}

func routingNode(b *testing.B) platformNode {
	b.Helper()
	routing.once.Do(func() {
		dir, err := os.MkdirTemp("", "cubit-bench-platform-")
		if err != nil {
			b.Fatal(err)
		}
		// The node runs until the benchmark binary exits.
		routing.n, _ = startPlatformNode(b, dir)
		routing.n.waitRunning(b, "demo", "main")
		routing.deployments = 1
	})
	if routing.n.origin == "" {
		b.Fatal("the shared node did not start")
	}
	return routing.n
}

// withDeployments makes sure count deployments (the demo's main and always-on projects
// p1, p2, ... on the demo environment) are RUNNING.
func withDeployments(b *testing.B, n platformNode, count int) {
	routing.mu.Lock()
	defer routing.mu.Unlock()
	for i := routing.deployments; i < count; i++ {
		n.admin(b, 201, "POST", "/projects", map[string]any{"name": fmt.Sprintf("p%d", i),
			"environment": "demo", "deployment": map[string]any{"mode": "always_on"}})
	}
	for i := routing.deployments; i < count; i++ {
		n.waitRunning(b, fmt.Sprintf("p%d", i), "main")
	}
	routing.deployments = max(routing.deployments, count)
}

// postLoad posts body to base+"/load" with token.
func postLoad(tb testing.TB, base, token string, body []byte) (int, []byte) {
	req, err := http.NewRequest("POST", base+"/load", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := benchClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}

// benchLoad posts benchQuery to base+"/load" with token, sequentially.
func benchLoad(b *testing.B, base, token string) {
	body := []byte(benchQuery)
	do := func() {
		if code, data := postLoad(b, base, token, body); code != 200 || !bytes.Contains(data, []byte(`"orders.count"`)) {
			b.Fatalf("load: %d %s", code, data)
		}
	}
	do() // fills the result cache
	b.ResetTimer()
	for b.Loop() {
		do()
	}
}

func BenchmarkLoadDefault(b *testing.B) {
	n := routingNode(b)
	benchLoad(b, n.origin+"/cubejs-api/v1", n.jwt)
}

func BenchmarkLoadDeployment(b *testing.B) {
	n := routingNode(b)
	base, token, _ := n.restCreds(b, "demo", "main")
	benchLoad(b, base, token)
}

// benchPgx runs benchSQL over one pgx connection in the simple protocol, sequentially.
func benchPgx(b *testing.B, connString string) {
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		b.Fatal(err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		b.Fatalf("pgx connect: %v", err)
	}
	defer conn.Close(ctx)
	run := func() {
		rows, err := conn.Query(ctx, benchSQL)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil || n == 0 {
			b.Fatalf("%s: %d rows, %v", benchSQL, n, err)
		}
	}
	run() // fills the result cache
	b.ResetTimer()
	for b.Loop() {
		run()
	}
}

func BenchmarkSQLDefault(b *testing.B) {
	n := routingNode(b)
	u := url.URL{Scheme: "postgresql", User: url.UserPassword(benchSQLUser, benchSQLPassword), Host: n.sql, Path: "/cubit"}
	benchPgx(b, u.String())
}

func BenchmarkSQLDeployment(b *testing.B) {
	n := routingNode(b)
	_, _, conn := n.restCreds(b, "demo", "main")
	benchPgx(b, conn)
}

// BenchmarkLoadDefault100 is BenchmarkLoadDefault with 100 deployments running.
func BenchmarkLoadDefault100(b *testing.B) {
	n := routingNode(b)
	withDeployments(b, n, 100)
	benchLoad(b, n.origin+"/cubejs-api/v1", n.jwt)
}

// BenchmarkLoadDeployment100 is BenchmarkLoadDeployment with 100 deployments running.
func BenchmarkLoadDeployment100(b *testing.B) {
	n := routingNode(b)
	withDeployments(b, n, 100)
	base, token, _ := n.restCreds(b, "demo", "main")
	benchLoad(b, base, token)
}
