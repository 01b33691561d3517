package server_test

// Several nodes on one store: two servers with their nodes in this process, sharing a
// PostgreSQL store (a fresh schema per test) and one data directory (the repositories and
// the sealing key), as `cubit serve` nodes behind a load balancer would. What one node is
// told, the other must follow within a few heartbeats (platform.Manager.Reconcile). Waits
// poll with a deadline; nothing sleeps a fixed time.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/config"
	"github.com/cubit-dev/cubit/internal/server"
	"github.com/cubit-dev/cubit/internal/testdb"
)

// clusterHeartbeat is the nodes' heartbeat: short, so that following takes little time.
const clusterHeartbeat = 100 * time.Millisecond

// clusterConfig is the configuration of one node of a cluster on store and dataDir.
func clusterConfig(t *testing.T, store, dataDir string) config.Config {
	t.Helper()
	cfg := testConfig(t)
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.SQLListen = "127.0.0.1:0"
	cfg.Server.SQLPassword = "default-password"
	cfg.Platform.DataDir = dataDir
	cfg.Platform.Store = store
	cfg.Platform.AdminToken = adminToken
	cfg.Platform.Heartbeat = clusterHeartbeat
	return cfg
}

// startCluster opens n nodes on one fresh PostgreSQL schema and one data directory and
// serves them. The nodes open all at once when together is true, so that they bootstrap
// concurrently, and one after the other otherwise, as in a rolling start.
func startCluster(t *testing.T, n int, together bool) []node {
	t.Helper()
	storeURL := testdb.FreshSchema(t, testdb.Postgres(t))
	dataDir := t.TempDir()
	cfgs := make([]config.Config, n)
	nodes := make([]*server.Node, n)
	failed := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		cfgs[i] = clusterConfig(t, storeURL, dataDir)
		wg.Add(1)
		open := func() {
			defer wg.Done()
			nodes[i], failed[i] = server.OpenNode(context.Background(), cfgs[i], nil)
		}
		if together {
			go open()
		} else {
			open()
		}
	}
	wg.Wait()
	for i, err := range failed {
		if err != nil {
			for _, n := range nodes {
				if n != nil {
					n.Close()
				}
			}
			t.Fatalf("node %d: %v", i, err)
		}
	}
	out := make([]node, n)
	for i := range n {
		out[i] = serveNode(t, cfgs[i], nodes[i])
	}
	return out
}

// serveNode serves node n, opened with cfg, until the test ends.
func serveNode(t *testing.T, cfg config.Config, n *server.Node) node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	type addrs struct{ http, sql net.Addr }
	ready := make(chan addrs, 1)
	s, _, err := newSQLServerWith(cfg, modelDir(t), demoDB(t), n, func(h, q net.Addr) { ready <- addrs{h, q} })
	if err != nil {
		n.Close()
		cancel()
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		n.Close()
	})
	select {
	case a := <-ready:
		return node{origin: "http://" + a.http.String(), sql: a.sql, dataDir: cfg.Platform.DataDir}
	case err := <-served:
		t.Fatalf("Serve: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("server not ready after a minute")
	}
	return node{}
}

// eventually polls cond until it holds, for at most a minute (many heartbeats: the
// deadline only stops a test that would never pass).
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	last := ""
	for time.Now().Before(deadline) {
		var ok bool
		if ok, last = cond(); ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not within a minute; last %s", what, last)
}

// serves waits until n serves the deployment (its status names a serving version).
func (n node) serves(t *testing.T, project, branch, version string) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s serving %s/%s", n.origin, project, branch), func() (bool, string) {
		_, st := n.call(t, adminToken, "GET", "/projects/"+project+"/branches/"+branch+"/status", nil)
		v, _ := st["serving_version"].(string)
		return v != "" && (version == "" || v == version), fmt.Sprint(st)
	})
}

// on is c with its REST base URL and SQL address moved to node n: the same path, user and
// password on another node's listeners.
func (c creds) on(t *testing.T, from, to node) creds {
	t.Helper()
	if !strings.HasPrefix(c.baseURL, from.origin) {
		t.Fatalf("base_url %s is not on %s", c.baseURL, from.origin)
	}
	c.baseURL = to.origin + strings.TrimPrefix(c.baseURL, from.origin)
	u, err := url.Parse(c.connString)
	if err != nil {
		t.Fatalf("connection string %q: %v", c.connString, err)
	}
	u.Host = to.sql.String()
	c.connString = u.String()
	return c
}

func projectNames(t *testing.T, n node) []string {
	t.Helper()
	v := n.must(t, 200, "GET", "/projects", nil)
	var names []string
	for _, p := range v["projects"].([]any) {
		names = append(names, fmt.Sprint(p.(map[string]any)["name"]))
	}
	return names
}

// sameStatus compares what the store says of a deployment, read through two nodes.
func sameStatus(t *testing.T, a, b node, project, branch string) map[string]any {
	t.Helper()
	path := "/projects/" + project + "/branches/" + branch + "/status"
	sa, sb := a.must(t, 200, "GET", path, nil), b.must(t, 200, "GET", path, nil)
	for _, k := range []string{"state", "version", "since", "error", "serving_version"} {
		if fmt.Sprint(sa[k]) != fmt.Sprint(sb[k]) {
			t.Fatalf("%s/%s %s: %v through A, %v through B", project, branch, k, sa[k], sb[k])
		}
	}
	return sa
}

const clusterCube = "cubes:\n  - name: cluster_extra\n    sql_table: orders\n    measures:\n      - name: count\n        type: count\n"

// TestClusterBootstrap starts two nodes at once on an empty store and data directory: one
// demo project results, served by both.
func TestClusterBootstrap(t *testing.T) {
	ns := startCluster(t, 2, true)
	for _, n := range ns {
		if names := projectNames(t, n); len(names) != 1 || names[0] != "demo" {
			t.Fatalf("projects through %s: %v, want [demo]", n.origin, names)
		}
	}
	ns[0].waitState(t, "demo", "main", "RUNNING")
	for _, n := range ns {
		n.serves(t, "demo", "main", "")
	}
	if got, want := restCompleted(t, ns[0].credentials(t, "demo", "main").on(t, ns[0], ns[1])), wantCompleted(t); got != want {
		t.Fatalf("demo on the second node: %s, want %s", got, want)
	}
}

func TestClusterNodesAgree(t *testing.T) {
	ns := startCluster(t, 2, false)
	a, b := ns[0], ns[1]

	// One demo project, made by the first node, served by both.
	for _, n := range ns {
		if names := projectNames(t, n); len(names) != 1 || names[0] != "demo" {
			t.Fatalf("projects through %s: %v, want [demo]", n.origin, names)
		}
	}
	a.waitState(t, "demo", "main", "RUNNING")
	a.serves(t, "demo", "main", "")
	b.serves(t, "demo", "main", "")
	st := sameStatus(t, a, b, "demo", "main")
	if st["state"] != "RUNNING" {
		t.Fatalf("demo: %v", st)
	}

	// A project created through A is listed and served by B.
	a.must(t, 201, "POST", "/projects", map[string]any{"name": "shared", "environment": "demo"})
	if names := projectNames(t, b); strings.Join(names, ",") != "demo,shared" {
		t.Fatalf("projects through B: %v", names)
	}
	a.waitState(t, "shared", "main", "RUNNING")
	b.serves(t, "shared", "main", "")
	sameStatus(t, a, b, "shared", "main")

	// Credentials shown by A open the deployment on B, REST and SQL.
	want := wantCompleted(t)
	fromA := a.credentials(t, "demo", "main")
	onB := fromA.on(t, a, b)
	if got := restCompleted(t, onB); got != want {
		t.Fatalf("REST on B with A's credentials: %s, want %s", got, want)
	}
	conn, err := connect(t, onB.connString)
	if err != nil {
		t.Fatalf("SQL on B with A's credentials (%s): %v", onB.connString, err)
	}
	if got := sqlCompleted(t, conn); got != want {
		t.Fatalf("SQL on B: %s, want %s", got, want)
	}

	// Rotating through B shuts the old token out of A at once.
	b.must(t, 200, "POST", "/projects/demo/branches/main/credentials/rotate", nil)
	if status, v, _ := load(t, fromA.baseURL, fromA.token, completedQuery); status != 401 {
		t.Fatalf("old token on A after a rotation through B: %d %v, want 401", status, v)
	}
	if _, err := connect(t, fromA.connString); sqlState(err) != "28P01" {
		t.Fatalf("old password on A after a rotation through B: %v, want 28P01", err)
	}
	cur := a.credentials(t, "demo", "main")
	if got := restCompleted(t, cur); got != want {
		t.Fatalf("new token on A: %s, want %s", got, want)
	}
	curB := cur.on(t, a, b)

	// A restart through A onto a new commit reaches B: B answers for the new cube.
	a.must(t, 200, "PUT", "/projects/demo/branches/main/files/model/cubes/cluster_extra.yml",
		map[string]any{"content": clusterCube, "message": "A cube for the cluster test"})
	restarted := a.must(t, 200, "POST", "/projects/demo/branches/main/restart", nil)
	if restarted["state"] != "RUNNING" {
		t.Fatalf("restart through A: %v", restarted)
	}
	orders := scalar(t, shopOne(t), "SELECT count(*) FROM orders")
	eventually(t, "B serving the new cube", func() (bool, string) {
		status, v, _ := load(t, curB.baseURL, curB.token, `{"measures": ["cluster_extra.count"]}`)
		if status != 200 {
			return false, fmt.Sprintf("%d %v", status, v)
		}
		data, _ := v["data"].([]any)
		if len(data) != 1 {
			return false, fmt.Sprint(v)
		}
		got := fmt.Sprint(data[0].(map[string]any)["cluster_extra.count"])
		if got != orders {
			t.Fatalf("cluster_extra.count on B = %s, hand-written SQL says %s", got, orders)
		}
		return true, ""
	})
	b.serves(t, "demo", "main", fmt.Sprint(restarted["version"]))
	sameStatus(t, a, b, "demo", "main")

	// A stop through A stops B: REST through B answers 503.
	a.must(t, 200, "POST", "/projects/demo/branches/main/stop", nil)
	eventually(t, "B refusing a stopped deployment", func() (bool, string) {
		status, v, _ := load(t, curB.baseURL, curB.token, completedQuery)
		return status == 503, fmt.Sprintf("%d %v", status, v)
	})
	st = sameStatus(t, a, b, "demo", "main")
	if st["state"] != "STOPPED" || st["serving_version"] != "" {
		t.Fatalf("after a stop through A: %v", st)
	}
	// The other project is untouched.
	if got := restCompleted(t, a.credentials(t, "shared", "main").on(t, a, b)); got != want {
		t.Fatalf("shared on B after demo stopped: %s, want %s", got, want)
	}

	// A project deleted through B is gone on A (which closes its instance on its next
	// round; the platform tests check that).
	sharedA := a.credentials(t, "shared", "main")
	b.must(t, 204, "DELETE", "/projects/shared", nil)
	eventually(t, "A refusing a deleted project", func() (bool, string) {
		status, v, _ := load(t, sharedA.baseURL, sharedA.token, completedQuery)
		return status == 404 || status == 401, fmt.Sprintf("%d %v", status, v)
	})
}

// TestPlatformSourceDownAtStartRecovers starts an always_on deployment on a PostgreSQL
// environment whose server does not answer yet: the deployment is ERROR and serves
// nothing, then RUNNING with its credentials, without a restart, once the server answers
// (a proxy on the environment's port that hangs up on every connection, then forwards them
// to the test PostgreSQL).
func TestPlatformSourceDownAtStartRecovers(t *testing.T) {
	pg, err := url.Parse(testdb.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	password, _ := pg.User.Password()
	proxy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	var up atomic.Bool
	go forward(proxy, pg.Host, &up)
	port := proxy.Addr().String()

	n := startNode(t)
	n.waitState(t, "demo", "main", "RUNNING")
	envURL := url.URL{Scheme: "postgres", User: url.User(pg.User.Username()), Host: port, Path: pg.Path, RawQuery: "sslmode=disable"}
	// check=false: saved while its server is down, which is the point.
	n.must(t, 201, "POST", "/environments?check=false", map[string]any{"name": "later", "type": "postgres",
		"settings": map[string]any{"url": envURL.String()}, "secrets": map[string]any{"password": password}})
	n.must(t, 201, "POST", "/projects", map[string]any{"name": "patient", "environment": "later"})
	st := n.waitState(t, "patient", "main", "ERROR")
	if !strings.Contains(fmt.Sprint(st["error"]), `environment "later" does not answer`) || st["serving_version"] != "" {
		t.Fatalf("status while the source is down: %v", st)
	}
	if status, v := n.call(t, adminToken, "GET", "/projects/patient/branches/main/credentials", nil); status != 409 {
		t.Fatalf("credentials while the source is down: %d %v, want 409", status, v)
	}

	up.Store(true)

	st = n.waitState(t, "patient", "main", "RUNNING")
	if st["version"] == "" || st["error"] != "" {
		t.Fatalf("status after the source answered: %v", st)
	}
	c := n.credentials(t, "patient", "main")
	req, _ := http.NewRequest("GET", c.baseURL+"/meta", nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("meta of the recovered deployment: status %d", res.StatusCode)
	}
}

// forward copies each connection accepted on l to and from target while up is true, and
// closes it at once while up is false, until l is closed.
func forward(l net.Listener, target string, up *atomic.Bool) {
	for {
		in, err := l.Accept()
		if err != nil {
			return
		}
		if !up.Load() {
			in.Close()
			continue
		}
		go func() {
			defer in.Close()
			out, err := net.Dial("tcp", target)
			if err != nil {
				return
			}
			defer out.Close()
			go func() { _, _ = io.Copy(out, in) }()
			_, _ = io.Copy(in, out)
		}()
	}
}
