package server_test

// The platform end to end: a real server with its node (SQLite store and repositories in a
// temporary data directory), driven through the admin API with an admin token, and its
// deployments reached the way a user reaches them, with the credentials the API returns:
// REST at base_url with the token, SQL with pgx and psql on the connection string.
// Numbers are checked against hand-written SQL over the demo shop the demo environment
// serves (demo.Shop(1), loaded separately here).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/server"
	"github.com/cubit-dev/cubit/internal/testdb"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

const adminToken = "admin-token-for-tests"

// node is a running server with the platform.
type node struct {
	origin  string // http://127.0.0.1:port
	sql     net.Addr
	dataDir string
}

// repoPath is where the node keeps the repository of project.
func (n node) repoPath(t *testing.T, project string) string {
	t.Helper()
	return filepath.Join(n.dataDir, "repos", project+".git")
}

func startNode(t *testing.T) node {
	t.Helper()
	cfg := testConfig(t)
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.SQLListen = "127.0.0.1:0"
	cfg.Server.SQLPassword = "default-password"
	cfg.Platform.DataDir = t.TempDir()
	cfg.Platform.AdminToken = adminToken
	cfg.Platform.Heartbeat = 200 * time.Millisecond
	n, err := server.OpenNode(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return serveNode(t, cfg, n)
}

// call sends a request to the admin API (path under /api/v1) and decodes the JSON answer.
func (n node) call(t *testing.T, token, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, n.origin+"/api/v1"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var v map[string]any
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s %s: status %d, body not JSON: %s", method, path, res.StatusCode, data)
		}
	}
	return res.StatusCode, v
}

// must is call that fails the test unless the status is want.
func (n node) must(t *testing.T, want int, method, path string, body any) map[string]any {
	t.Helper()
	status, v := n.call(t, adminToken, method, path, body)
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %v", method, path, status, want, v)
	}
	return v
}

// waitState polls the status of a deployment until it is state.
func (n node) waitState(t *testing.T, project, branch, state string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var last map[string]any
	for time.Now().Before(deadline) {
		_, last = n.call(t, adminToken, "GET", "/projects/"+project+"/branches/"+url.PathEscape(branch)+"/status", nil)
		if last["state"] == state {
			return last
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s/%s did not become %s: %v", project, branch, state, last)
	return nil
}

type creds struct {
	baseURL, token string
	connString     string
	user, password string
	database       string
}

func (n node) credentials(t *testing.T, project, branch string) creds {
	t.Helper()
	v := n.must(t, 200, "GET", "/projects/"+project+"/branches/"+url.PathEscape(branch)+"/credentials", nil)
	sql, _ := v["sql"].(map[string]any)
	rest, _ := v["rest"].(map[string]any)
	c := creds{}
	c.baseURL, _ = rest["base_url"].(string)
	c.token, _ = rest["token"].(string)
	c.connString, _ = sql["connection_string"].(string)
	c.user, _ = sql["username"].(string)
	c.password, _ = sql["password"].(string)
	c.database, _ = sql["database"].(string)
	if c.baseURL == "" || c.token == "" || c.connString == "" || c.user == "" || c.password == "" {
		t.Fatalf("credentials incomplete: %v", v)
	}
	if _, ok := rest["expires_at"].(string); !ok {
		t.Fatalf("credentials without expires_at: %v", v)
	}
	return c
}

// load posts a query to {base_url}/load with token.
func load(t *testing.T, baseURL, token, query string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest("POST", baseURL+"/load", strings.NewReader(`{"query": `+query+`}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s/load: %v", baseURL, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var v map[string]any
	_ = json.Unmarshal(data, &v)
	return res.StatusCode, v, res.Header
}

// shop1 is demo.Shop(1), what the demo environment serves, in its own DuckDB: the
// independent side of the comparisons.
var shop1 struct {
	once sync.Once
	db   *duckdb.DB
	err  error
}

func shopOne(t *testing.T) *duckdb.DB {
	t.Helper()
	shop1.once.Do(func() {
		if shop1.db, shop1.err = duckdb.Open("", duckdb.Options{}); shop1.err != nil {
			return
		}
		shop1.err = duckdb.LoadTables(context.Background(), shop1.db, demo.Shop(1))
	})
	if shop1.err != nil {
		t.Fatal(shop1.err)
	}
	return shop1.db
}

// wantCompleted is the count of completed orders by hand-written SQL.
func wantCompleted(t *testing.T) string {
	return scalar(t, shopOne(t), "SELECT count(*) FROM orders WHERE status = 'completed'")
}

const completedQuery = `{"measures": ["orders.count"], "filters": [{"member": "orders.status", "operator": "equals", "values": ["completed"]}]}`

// restCompleted asks the REST API of a deployment for the completed orders.
func restCompleted(t *testing.T, c creds) string {
	t.Helper()
	status, v, _ := load(t, c.baseURL, c.token, completedQuery)
	if status != 200 {
		t.Fatalf("load: status %d: %v", status, v)
	}
	data, _ := v["data"].([]any)
	if len(data) != 1 {
		t.Fatalf("load: %v", v)
	}
	return fmt.Sprint(data[0].(map[string]any)["orders.count"])
}

const completedSQL = "SELECT MEASURE(count) FROM orders WHERE status = 'completed'"

func sqlCompleted(t *testing.T, conn *pgx.Conn) string {
	t.Helper()
	var n int64
	if err := conn.QueryRow(context.Background(), completedSQL).Scan(&n); err != nil {
		t.Fatalf("%s: %v", completedSQL, err)
	}
	return fmt.Sprint(n)
}

func connect(t *testing.T, connString string) (*pgx.Conn, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, connString)
	if err == nil {
		t.Cleanup(func() { conn.Close(context.Background()) })
	}
	return conn, err
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestPlatformDemoDeployment(t *testing.T) {
	n := startNode(t)
	v := n.must(t, 200, "GET", "/projects", nil)
	if ps, _ := v["projects"].([]any); len(ps) != 1 || ps[0].(map[string]any)["name"] != "demo" {
		t.Fatalf("projects of a new node: %v", v)
	}
	st := n.waitState(t, "demo", "main", "RUNNING")
	if st["version"] == "" || st["heartbeat_at"] == nil && st["since"] == nil {
		t.Fatalf("status: %v", st)
	}
	c := n.credentials(t, "demo", "main")
	if !strings.HasSuffix(c.baseURL, "/v1") || !strings.HasPrefix(c.baseURL, n.origin) {
		t.Fatalf("base_url %q: want %s/.../v1", c.baseURL, n.origin)
	}
	want := wantCompleted(t)
	if got := restCompleted(t, c); got != want {
		t.Fatalf("REST completed orders = %s, hand-written SQL says %s", got, want)
	}
	conn, err := connect(t, c.connString)
	if err != nil {
		t.Fatalf("pgx on %s: %v", c.connString, err)
	}
	if got := sqlCompleted(t, conn); got != want {
		t.Fatalf("SQL completed orders = %s, hand-written SQL says %s", got, want)
	}
	// psql takes the connection string as it is.
	needPsql(t)
	out, err := exec.Command("/usr/bin/psql", c.connString, "-X", "-At", "-c", completedSQL).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != want {
		t.Fatalf("psql %q: %v: %s (want %s)", c.connString, err, out, want)
	}
	// And curl takes base_url and the token as they are.
	_, err = os.Stat("/usr/bin/curl")
	testdb.Need(t, "curl", err)
	out, err = exec.Command("/usr/bin/curl", "-sf", "-G", c.baseURL+"/load", "-H", "Authorization: Bearer "+c.token,
		"--data-urlencode", "query="+completedQuery).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"orders.count":"`+want+`"`) {
		t.Fatalf("curl %s/load: %v: %s (want orders.count %s)", c.baseURL, err, out, want)
	}
	// The same token on the default deployment's path is not Cube's JWT: 401.
	if status, _, _ := load(t, n.origin+"/cubejs-api/v1", c.token, completedQuery); status != 401 {
		t.Fatalf("deployment token on /cubejs-api/v1: status %d, want 401", status)
	}
}

func TestPlatformCredentialsOpenOnlyTheirDeployment(t *testing.T) {
	n := startNode(t)
	n.waitState(t, "demo", "main", "RUNNING")
	n.must(t, 201, "POST", "/projects/demo/branches", map[string]any{"name": "dev", "from": "main"})
	st := n.must(t, 200, "POST", "/projects/demo/branches/dev/start", nil)
	if st["state"] != "RUNNING" {
		t.Fatalf("start dev: %v", st)
	}
	mainC, devC := n.credentials(t, "demo", "main"), n.credentials(t, "demo", "dev")
	if mainC.token == devC.token || mainC.user == devC.user || mainC.password == devC.password {
		t.Fatal("two deployments share a credential")
	}
	for _, c := range []struct {
		name, base, token string
	}{{"dev token on main", mainC.baseURL, devC.token}, {"main token on dev", devC.baseURL, mainC.token}} {
		status, v, _ := load(t, c.base, c.token, completedQuery)
		if status != 401 || !strings.Contains(fmt.Sprint(v["error"]), "does not open") {
			t.Fatalf("%s: status %d %v, want 401", c.name, status, v)
		}
	}
	if got, want := restCompleted(t, devC), wantCompleted(t); got != want {
		t.Fatalf("dev REST = %s, want %s", got, want)
	}
	// A username with another deployment's password, or with another project's database.
	crossed := strings.Replace(devC.connString, urlPassword(devC.password), urlPassword(mainC.password), 1)
	if _, err := connect(t, crossed); sqlState(err) != "28P01" {
		t.Fatalf("dev user with main's password: %v, want 28P01", err)
	}
	if _, err := connect(t, strings.Replace(mainC.connString, "/"+mainC.database, "/postgres", 1)); err == nil {
		t.Fatal("main user on another database logged in")
	}
	if _, err := connect(t, devC.connString); err != nil {
		t.Fatalf("dev credentials: %v", err)
	}
}

// urlPassword is a generated password as it appears in a connection string (base64url:
// nothing to escape).
func urlPassword(p string) string { return p }

func TestPlatformRotate(t *testing.T) {
	n := startNode(t)
	n.waitState(t, "demo", "main", "RUNNING")
	old := n.credentials(t, "demo", "main")
	live, err := connect(t, old.connString)
	if err != nil {
		t.Fatal(err)
	}
	sqlCompleted(t, live)
	v := n.must(t, 200, "POST", "/projects/demo/branches/main/credentials/rotate", nil)
	if v["rest"].(map[string]any)["token"] == old.token || v["sql"].(map[string]any)["password"] == old.password {
		t.Fatalf("rotate returned the old credentials: %v", v)
	}
	if status, _, _ := load(t, old.baseURL, old.token, completedQuery); status != 401 {
		t.Fatalf("old token after rotate: status %d, want 401", status)
	}
	if _, err := connect(t, old.connString); sqlState(err) != "28P01" {
		t.Fatalf("old password after rotate: %v, want 28P01", err)
	}
	if err := live.Ping(context.Background()); err == nil {
		t.Fatal("a session opened with the old password is still alive after rotate")
	}
	cur := n.credentials(t, "demo", "main")
	if got, want := restCompleted(t, cur), wantCompleted(t); got != want {
		t.Fatalf("new token: %s, want %s", got, want)
	}
	conn, err := connect(t, cur.connString)
	if err != nil {
		t.Fatalf("new password: %v", err)
	}
	sqlCompleted(t, conn)

	// Only the REST token: the SQL password stays.
	v = n.must(t, 200, "POST", "/projects/demo/branches/main/credentials/rotate", map[string]any{"rest": true})
	if v["sql"].(map[string]any)["password"] != cur.password || v["rest"].(map[string]any)["token"] == cur.token {
		t.Fatalf("rest-only rotation: %v", v)
	}
	sqlCompleted(t, conn)
}

// bigModel is a model file of many small cubes on the demo tables, so that a restart
// compiles long enough for the PENDING state to be seen.
func bigModel(cubes int) string {
	var b strings.Builder
	b.WriteString("cubes:\n")
	for i := range cubes {
		fmt.Fprintf(&b, "  - name: extra_%d\n    sql_table: orders\n    measures:\n      - name: count\n        type: count\n      - name: revenue\n        sql: amount\n        type: sum\n    dimensions:\n      - name: id\n        sql: id\n        type: number\n        primary_key: true\n      - name: status\n        sql: status\n        type: string\n", i)
	}
	return b.String()
}

func TestPlatformRestartUnderLoad(t *testing.T) {
	n := startNode(t)
	n.waitState(t, "demo", "main", "RUNNING")
	n.must(t, 200, "PUT", "/projects/demo/branches/main/files/model/cubes/extra.yml", map[string]any{
		"content": bigModel(600), "message": "Many cubes"})
	n.must(t, 200, "POST", "/projects/demo/branches/main/restart", nil)
	c := n.credentials(t, "demo", "main")
	want := wantCompleted(t)

	ctx, stop := context.WithCancel(context.Background())
	var queries, failures atomic.Int64
	var firstFailure atomic.Value
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequest("POST", c.baseURL+"/load", strings.NewReader(`{"query": `+completedQuery+`}`))
				req.Header.Set("Authorization", "Bearer "+c.token)
				res, err := client.Do(req)
				queries.Add(1)
				if err != nil {
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
					continue
				}
				data, _ := io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode != 200 || !strings.Contains(string(data), `"orders.count":`+want) && !strings.Contains(string(data), `"orders.count":"`+want+`"`) {
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("%d %s", res.StatusCode, data))
				}
			}
		}()
	}
	states := make(chan []string, 1)
	go func() {
		var seen []string
		for ctx.Err() == nil {
			_, v := n.call(t, adminToken, "GET", "/projects/demo/branches/main/status", nil)
			if s, _ := v["state"].(string); len(seen) == 0 || seen[len(seen)-1] != s {
				seen = append(seen, s)
			}
			time.Sleep(2 * time.Millisecond)
		}
		states <- seen
	}()
	time.Sleep(100 * time.Millisecond)
	st := n.must(t, 200, "POST", "/projects/demo/branches/main/restart", nil)
	time.Sleep(100 * time.Millisecond)
	stop()
	wg.Wait()
	seen := <-states
	if st["state"] != "RUNNING" {
		t.Fatalf("after restart: %v", st)
	}
	if failures.Load() != 0 {
		t.Fatalf("%d of %d queries failed during the restart; first: %v", failures.Load(), queries.Load(), firstFailure.Load())
	}
	if strings.Join(seen, ",") != "RUNNING,PENDING,RUNNING" {
		t.Fatalf("states seen during the restart: %v, want RUNNING, PENDING, RUNNING", seen)
	}
	t.Logf("%d queries during the restart, none failed; states %v", queries.Load(), seen)
}

func TestPlatformBadInput(t *testing.T) {
	n := startNode(t)
	n.waitState(t, "demo", "main", "RUNNING")
	cases := []struct {
		method, path string
		body         any
		status       int
		says         string
	}{
		{"POST", "/projects", map[string]any{"name": "", "environment": "demo"}, 400, "1 to 50"},
		{"POST", "/projects", map[string]any{"name": strings.Repeat("x", 51), "environment": "demo"}, 400, "1 to 50"},
		{"POST", "/projects", map[string]any{"name": "bad name!", "environment": "demo"}, 400, "letters, digits"},
		{"POST", "/projects", map[string]any{"name": "demo", "environment": "demo"}, 409, "already exists"},
		{"POST", "/projects", map[string]any{"name": "p2", "environment": "nope"}, 404, "nope"},
		{"POST", "/projects", `{"name": "p3", `, 400, "malformed JSON"},
		{"POST", "/projects", map[string]any{"name": "p4", "environment": "demo", "colour": "red"}, 400, "colour"},
		{"POST", "/projects", map[string]any{"name": "p5", "environment": "demo", "deployment": map[string]any{"mode": "sometimes"}}, 400, "sometimes"},
		{"GET", "/projects/demo/branches/mainn/status", nil, 404, "did you mean main"},
		{"GET", "/projects/nope/branches/main/status", nil, 404, "nope"},
		{"POST", "/projects/demo/branches", map[string]any{"name": "main"}, 409, "already exists"},
		{"POST", "/projects/demo/branches", map[string]any{"name": "x", "from": "nope"}, 404, "nope"},
		{"GET", "/projects/demo/branches/main/files/model/nope.yml", nil, 404, "nope.yml"},
		{"POST", "/environments", map[string]any{"name": "e1", "type": "oracle", "settings": map[string]any{}}, 400, "oracle"},
		{"POST", "/environments", map[string]any{"name": "e2", "type": "postgres", "settings": map[string]any{"url": "postgres://u:secret@h/db"}}, 400, "password"},
		{"PUT", "/projects/demo/branches/main/security", `{"ip_allow_list": ["10.0.0.300/8"]}`, 400, "10.0.0.300/8"},
		{"GET", "/nothing-here", nil, 404, "no admin endpoint"},
	}
	for _, c := range cases {
		status, v := n.call(t, adminToken, c.method, c.path, c.body)
		if status != c.status || !strings.Contains(fmt.Sprint(v["error"]), c.says) {
			t.Errorf("%s %s: status %d %v, want %d saying %q", c.method, c.path, status, v, c.status, c.says)
		}
	}

	// A model commit that does not compile: ERROR with file:line, and the previous version
	// keeps serving.
	c := n.credentials(t, "demo", "main")
	broken := map[string]any{"content": "cubes:\n  - name: broken\n    sql_table: orders\n    measures:\n      - name: n\n        type: cuont\n"}
	v := n.must(t, 422, "PUT", "/projects/demo/branches/main/files/model/cubes/broken.yml", broken)
	if msg := fmt.Sprint(v["error"]); !strings.Contains(msg, "cubes/broken.yml:5") || !strings.Contains(msg, "not committed") {
		t.Fatalf("a write that breaks the model: %v", v)
	}
	n.must(t, 404, "GET", "/projects/demo/branches/main/files/model/cubes/broken.yml", nil)
	// Committed anyway: the restart fails, and the previous version keeps serving.
	if v := n.must(t, 200, "GET", "/projects/demo/branches/main/problems", nil); fmt.Sprint(v["problems"]) != "[]" {
		t.Fatalf("problems of a model that compiles: %v", v)
	}
	broken["force"] = true
	n.must(t, 200, "PUT", "/projects/demo/branches/main/files/model/cubes/broken.yml", broken)
	ps := n.must(t, 200, "GET", "/projects/demo/branches/main/problems", nil)["problems"].([]any)
	if len(ps) != 1 || ps[0].(map[string]any)["file"] != "model/cubes/broken.yml" || ps[0].(map[string]any)["line"] != 5.0 ||
		!strings.Contains(fmt.Sprint(ps[0].(map[string]any)["message"]), "cuont") {
		t.Fatalf("problems of the broken model: %v", ps)
	}
	v = n.must(t, 422, "POST", "/projects/demo/branches/main/restart", nil)
	st, _ := v["status"].(map[string]any)
	if st["state"] != "ERROR" || !strings.Contains(fmt.Sprint(v["error"]), "cubes/broken.yml:5") ||
		!strings.Contains(fmt.Sprint(st["error"]), "keeps serving") || st["serving_previous"] != true {
		t.Fatalf("restart on a broken model: %v", v)
	}
	if got, want := restCompleted(t, c), wantCompleted(t); got != want {
		t.Fatalf("the previous version should keep serving: %s, want %s", got, want)
	}
	if status, v := n.call(t, adminToken, "GET", "/projects/demo/branches/main/credentials", nil); status != 409 ||
		!strings.Contains(fmt.Sprint(v["error"]), "only while it is RUNNING") {
		t.Fatalf("credentials while ERROR: %d %v, want 409", status, v)
	}
	n.must(t, 200, "DELETE", "/projects/demo/branches/main/files/model/cubes/broken.yml", nil)
	if st := n.must(t, 200, "POST", "/projects/demo/branches/main/restart", nil); st["state"] != "RUNNING" {
		t.Fatalf("restart after the fix: %v", st)
	}

	// An environment that cannot connect: the deployment is ERROR, the platform goes on.
	down := map[string]any{"name": "down", "type": "postgres",
		"settings": map[string]any{"url": "postgres://nobody@127.0.0.1:1/none?sslmode=disable"}, "secrets": map[string]any{"password": "pw"}}
	v = n.must(t, 400, "POST", "/environments", down)
	if msg := fmt.Sprint(v["error"]); !strings.Contains(msg, "cannot connect") || strings.Contains(msg, "pw@") {
		t.Fatalf("an environment that cannot connect: %v", v)
	}
	n.must(t, 201, "POST", "/environments?check=false", down)
	n.must(t, 201, "POST", "/projects", map[string]any{"name": "offline", "environment": "down", "deployment": map[string]any{"mode": "on_demand"}})
	v = n.must(t, 503, "POST", "/projects/offline/branches/main/start", nil)
	if st, _ := v["status"].(map[string]any); st["state"] != "ERROR" || !strings.Contains(fmt.Sprint(st["error"]), "does not answer") {
		t.Fatalf("start on a source that is down: %v", v)
	}
	env := n.must(t, 200, "GET", "/environments/down", nil)
	if strings.Contains(fmt.Sprint(env), "pw") || fmt.Sprint(env["secrets"]) != "[password]" {
		t.Fatalf("environment read shows a secret or hides its name: %v", env)
	}
	if got, want := restCompleted(t, c), wantCompleted(t); got != want {
		t.Fatalf("demo after the failures: %s, want %s", got, want)
	}

	// A protected branch refuses writes.
	n.must(t, 200, "PATCH", "/projects/demo", map[string]any{"protected_branches": []string{"main"}})
	status, v := n.call(t, adminToken, "PUT", "/projects/demo/branches/main/files/model/cubes/x.yml", map[string]any{"content": "cubes: []\n"})
	if status != 403 || !strings.Contains(fmt.Sprint(v["error"]), "protected") {
		t.Fatalf("write on a protected branch: %d %v", status, v)
	}
}

func TestPlatformSecurity(t *testing.T) {
	n := startNode(t)
	n.waitState(t, "demo", "main", "RUNNING")
	c := n.credentials(t, "demo", "main")

	n.must(t, 200, "PUT", "/projects/demo/branches/main/security", map[string]any{"ip_allow_list": []string{"10.0.0.0/8"}})
	if status, v, _ := load(t, c.baseURL, c.token, completedQuery); status != 403 || !strings.Contains(fmt.Sprint(v["error"]), "allow-list") {
		t.Fatalf("REST from outside the allow-list: %d %v", status, v)
	}
	if _, err := connect(t, c.connString); sqlState(err) != "28000" {
		t.Fatalf("SQL from outside the allow-list: %v, want 28000", err)
	}
	n.must(t, 200, "PUT", "/projects/demo/branches/main/security", map[string]any{"ip_allow_list": []string{"127.0.0.1"}})
	if got, want := restCompleted(t, c), wantCompleted(t); got != want {
		t.Fatalf("REST inside the allow-list: %s, want %s", got, want)
	}

	sec := n.must(t, 200, "PUT", "/projects/demo/branches/main/security", map[string]any{
		"rate_limit": map[string]any{"requests_per_second": 0.01, "burst": 3}})
	if sec["rate_limit"] == nil {
		t.Fatalf("security after PUT: %v", sec)
	}
	var limited http.Header
	for i := range 5 {
		status, _, h := load(t, c.baseURL, c.token, completedQuery)
		if status == 429 {
			limited = h
			break
		}
		if status != 200 || i >= 3 {
			t.Fatalf("request %d: status %d", i+1, status)
		}
	}
	if limited == nil || limited.Get("Retry-After") == "" {
		t.Fatalf("no 429 with Retry-After after the burst: %v", limited)
	}
	conn, err := connect(t, c.connString)
	if err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for range 5 {
		if _, lastErr = conn.Exec(context.Background(), completedSQL); lastErr != nil {
			break
		}
	}
	if sqlState(lastErr) != "53400" {
		t.Fatalf("SQL past the rate limit: %v, want 53400", lastErr)
	}
}

func TestPlatformRolesAndAudit(t *testing.T) {
	n := startNode(t)
	n.waitState(t, "demo", "main", "RUNNING")
	if status, _ := n.call(t, "", "GET", "/projects", nil); status != 401 {
		t.Fatalf("no token: %d, want 401", status)
	}
	if status, _ := n.call(t, "wrong", "GET", "/projects", nil); status != 401 {
		t.Fatalf("wrong token: %d, want 401", status)
	}
	v := n.must(t, 201, "POST", "/admin-tokens", map[string]any{"name": "watcher", "role": "viewer"})
	viewer, _ := v["token"].(string)
	if status, v := n.call(t, viewer, "GET", "/projects/demo/branches/main/status", nil); status != 200 || v["state"] != "RUNNING" {
		t.Fatalf("viewer reads status: %d %v", status, v)
	}
	for _, c := range []struct{ method, path string }{
		{"GET", "/projects/demo/branches/main/credentials"},
		{"POST", "/projects/demo/branches/main/credentials/rotate"},
		{"POST", "/projects/demo/branches/main/restart"},
		{"POST", "/admin-tokens"},
	} {
		if status, v := n.call(t, viewer, c.method, c.path, nil); status != 403 {
			t.Fatalf("viewer %s %s: %d %v, want 403", c.method, c.path, status, v)
		}
	}
	c := n.credentials(t, "demo", "main")
	n.must(t, 200, "POST", "/projects/demo/branches/main/restart", nil)
	load(t, n.origin+"/d/demo/main/v1", "cbt_bogus_token", completedQuery)
	if _, err := connect(t, strings.Replace(c.connString, c.password, "wrong", 1)); sqlState(err) != "28P01" {
		t.Fatalf("wrong SQL password: %v", err)
	}
	audit := n.must(t, 200, "GET", "/audit", nil)
	seen := map[string]bool{}
	for _, e := range audit["entries"].([]any) {
		m := e.(map[string]any)
		seen[fmt.Sprint(m["action"])] = true
		if m["action"] == "auth.failure" && m["target"] == "sql-api" && m["actor"] == c.user {
			seen["sql auth.failure"] = true
		}
		if m["address"] == "" || m["at"] == nil {
			t.Fatalf("audit entry without address or time: %v", m)
		}
	}
	for _, want := range []string{"credentials.view", "deployment.restart", "auth.failure", "sql auth.failure", "admin-token.create"} {
		if !seen[want] {
			t.Errorf("audit has no %s entry: %v", want, audit)
		}
	}
}

func TestPlatformOnDemand(t *testing.T) {
	n := startNode(t)
	n.waitState(t, "demo", "main", "RUNNING")
	n.must(t, 201, "POST", "/projects", map[string]any{"name": "lazy", "environment": "demo",
		"deployment": map[string]any{"mode": "on_demand", "idle_timeout": "1h"}})
	if st := n.must(t, 200, "GET", "/projects/lazy/branches/main/status", nil); st["state"] != "STOPPED" {
		t.Fatalf("a new on-demand deployment: %v, want STOPPED", st)
	}
	n.must(t, 200, "POST", "/projects/lazy/branches/main/start", nil)
	c := n.credentials(t, "lazy", "main")
	n.must(t, 200, "POST", "/projects/lazy/branches/main/stop", nil)
	if status, v := n.call(t, adminToken, "GET", "/projects/lazy/branches/main/credentials", nil); status != 409 ||
		!strings.Contains(fmt.Sprint(v["error"]), "STOPPED") {
		t.Fatalf("credentials while STOPPED: %d %v", status, v)
	}
	// The first request wakes it and waits for RUNNING.
	if got, want := restCompleted(t, c), wantCompleted(t); got != want {
		t.Fatalf("woken deployment: %s, want %s", got, want)
	}
	n.waitState(t, "lazy", "main", "RUNNING")
	// And so does a SQL login.
	n.must(t, 200, "POST", "/projects/lazy/branches/main/stop", nil)
	conn, err := connect(t, c.connString)
	if err != nil {
		t.Fatalf("SQL login on a stopped on-demand deployment: %v", err)
	}
	if got, want := sqlCompleted(t, conn), wantCompleted(t); got != want {
		t.Fatalf("SQL on the woken deployment: %s, want %s", got, want)
	}
}

// TestPlatformAPIEndpoints goes through every admin endpoint's reads and writes once.
func TestPlatformAPIEndpoints(t *testing.T) {
	n := startNode(t)
	n.waitState(t, "demo", "main", "RUNNING")
	if v := n.must(t, 200, "GET", "/whoami", nil); v["role"] != "owner" {
		t.Fatalf("whoami: %v", v)
	}

	// Environments.
	envs := n.must(t, 200, "GET", "/environments", nil)
	if fmt.Sprint(envs["environments"]) == "[]" {
		t.Fatalf("environments of a new node: %v", envs)
	}
	// check=false: the host does not exist, and the settings are saved all the same.
	n.must(t, 201, "POST", "/environments?check=false", map[string]any{"name": "warehouse", "type": "postgres",
		"settings": map[string]any{"host": "db.example", "port": 5432, "database": "shop", "user": "cubit"}})
	v := n.must(t, 200, "PATCH", "/environments/warehouse?check=false", map[string]any{"settings": map[string]any{
		"host": "db.example", "port": 6432, "database": "shop", "user": "cubit"}, "secrets": map[string]any{"password": "hunter2"}})
	if fmt.Sprint(v["settings"]) != "map[database:shop host:db.example port:6432 user:cubit]" || fmt.Sprint(v["secrets"]) != "[password]" {
		t.Fatalf("environment after PATCH: %v", v)
	}
	if strings.Contains(fmt.Sprint(n.must(t, 200, "GET", "/environments/warehouse", nil)), "hunter2") {
		t.Fatal("an environment read returned its secret")
	}
	if status, v := n.call(t, adminToken, "DELETE", "/environments/demo", nil); status != 409 || !strings.Contains(fmt.Sprint(v["error"]), "used by project") {
		t.Fatalf("deleting an environment in use: %d %v", status, v)
	}
	n.must(t, 204, "DELETE", "/environments/warehouse", nil)
	n.must(t, 404, "GET", "/environments/warehouse", nil)

	// Projects: managed, then imported from a local repository (the managed one's).
	n.must(t, 201, "POST", "/projects", map[string]any{"name": "shop", "environment": "demo",
		"deployment": map[string]any{"mode": "on_demand"}, "protected_branches": []string{"release"}})
	if v := n.must(t, 200, "GET", "/projects/shop", nil); v["repository"].(map[string]any)["type"] != "managed" ||
		fmt.Sprint(v["protected_branches"]) != "[release]" {
		t.Fatalf("project: %v", v)
	}
	if v := n.must(t, 200, "PATCH", "/projects/shop", map[string]any{"deployment": map[string]any{"mode": "always_on"}}); fmt.Sprint(v["deployment"]) != "map[mode:always_on]" {
		t.Fatalf("project after PATCH: %v", v)
	}
	if v := n.must(t, 200, "GET", "/projects", nil); len(v["projects"].([]any)) != 2 {
		t.Fatalf("projects: %v", v)
	}

	// Branches and files.
	n.must(t, 201, "POST", "/projects/shop/branches", map[string]any{"name": "feature/x"})
	if v := n.must(t, 200, "GET", "/projects/shop/branches", nil); len(v["branches"].([]any)) != 2 {
		t.Fatalf("branches: %v", v)
	}
	files := n.must(t, 200, "GET", "/projects/shop/branches/feature%2Fx/files/model", nil)
	if !strings.Contains(fmt.Sprint(files["files"]), "model/cubes/orders.yml") {
		t.Fatalf("files: %v", files)
	}
	w := n.must(t, 200, "PUT", "/projects/shop/branches/feature%2Fx/files/model/cubes/notes.yml", map[string]any{
		"content": "cubes: []\n", "message": "Notes", "author": map[string]any{"name": "Ana", "email": "ana@example.com"}})
	if len(fmt.Sprint(w["commit"])) != 40 {
		t.Fatalf("file write: %v", w)
	}
	if v := n.must(t, 200, "GET", "/projects/shop/branches/feature%2Fx/files/model/cubes/notes.yml", nil); v["content"] != "cubes: []\n" {
		t.Fatalf("file read: %v", v)
	}
	n.must(t, 404, "GET", "/projects/shop/branches/main/files/model/cubes/notes.yml", nil)
	n.must(t, 200, "DELETE", "/projects/shop/branches/feature%2Fx/files/model/cubes/notes.yml", nil)
	n.must(t, 404, "GET", "/projects/shop/branches/feature%2Fx/files/model/cubes/notes.yml", nil)
	if st := n.must(t, 200, "POST", "/projects/shop/branches/feature%2Fx/start", nil); st["state"] != "RUNNING" {
		t.Fatalf("start feature/x: %v", st)
	}
	c := n.credentials(t, "shop", "feature/x")
	if !strings.Contains(c.baseURL, "/feature%2Fx/") {
		t.Fatalf("base_url of a branch with a slash: %s", c.baseURL)
	}
	if got, want := restCompleted(t, c), wantCompleted(t); got != want {
		t.Fatalf("feature/x: %s, want %s", got, want)
	}

	// Security.
	if v := n.must(t, 200, "GET", "/projects/shop/branches/main/security", nil); fmt.Sprint(v["ip_allow_list"]) != "[]" && v["ip_allow_list"] != nil {
		t.Fatalf("default security: %v", v)
	}
	n.must(t, 200, "PUT", "/projects/shop/branches/main/security", map[string]any{"ip_allow_list": []string{"127.0.0.1", "10.1.2.3/8"}, "token_lifetime": "1h"})
	if v := n.must(t, 200, "GET", "/projects/shop/branches/main/security", nil); fmt.Sprint(v["ip_allow_list"]) != "[127.0.0.1/32 10.0.0.0/8]" || v["token_lifetime"] != "1h0m0s" && v["token_lifetime"] != "1h" {
		t.Fatalf("security after PUT: %v", v)
	}

	// Imported: a clone of the shop repository, through its path.
	imported := n.must(t, 201, "POST", "/projects", map[string]any{"name": "copy", "environment": "demo",
		"repository": map[string]any{"type": "imported", "url": n.repoPath(t, "shop")}, "deployment": map[string]any{"mode": "on_demand"}})
	if imported["repository"].(map[string]any)["url"] == "" {
		t.Fatalf("imported project: %v", imported)
	}
	if v := n.must(t, 200, "GET", "/projects/copy/branches", nil); len(v["branches"].([]any)) != 2 {
		t.Fatalf("branches of the clone: %v", v)
	}
	n.must(t, 400, "POST", "/projects", map[string]any{"name": "nothing", "environment": "demo",
		"repository": map[string]any{"type": "imported"}})

	// Admin tokens.
	n.must(t, 201, "POST", "/admin-tokens", map[string]any{"name": "ci", "role": "editor"})
	list := n.must(t, 200, "GET", "/admin-tokens", nil)
	if s := fmt.Sprint(list); !strings.Contains(s, "ci") || strings.Contains(s, "cba_") {
		t.Fatalf("admin tokens list: %v", list)
	}
	n.must(t, 204, "DELETE", "/admin-tokens/ci", nil)
	n.must(t, 400, "DELETE", "/admin-tokens/root", nil)

	// Audit filters.
	if v := n.must(t, 200, "GET", "/audit?action=project.create&limit=1", nil); len(v["entries"].([]any)) != 1 {
		t.Fatalf("audit filtered: %v", v)
	}
	n.must(t, 400, "GET", "/audit?since=yesterday", nil)

	// Deleting a project removes it and stops its deployments.
	n.must(t, 204, "DELETE", "/projects/shop", nil)
	n.must(t, 404, "GET", "/projects/shop", nil)
	if status, _, _ := load(t, c.baseURL, c.token, completedQuery); status != 404 && status != 401 {
		t.Fatalf("the deleted project's deployment still answers: %d", status)
	}
}
