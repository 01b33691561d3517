package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// killAdminToken is the owner token the process tests give CUBIT_ADMIN_TOKEN.
const killAdminToken = "kill-nine-admin-token-0123456789"

// killRounds is how many times TestKill9LosesNothingAcknowledged kills the server.
const killRounds = 6

// acked is what the writers of one round had acknowledged (a 2xx answer) when the server
// was killed, and what was in flight.
type acked struct {
	mu       sync.Mutex
	projects []string
	files    map[string]string // path under model/ on demo/main → content
	admins   map[string]string // admin token name → token
	rotated  []string          // REST tokens from rotate, oldest first
	// rotating is true while a rotate is in flight: killed then, the store may hold a
	// token nobody was told.
	rotating bool
}

// TestKill9LosesNothingAcknowledged runs cubit serve as a child, writes through the admin
// API as fast as it answers (projects, model files, admin tokens, credential rotations),
// kills it with SIGKILL at a random moment, restarts it on the same data directory and
// checks that every write it acknowledged is there, and that it starts cleanly each time.
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	bin := cubitBinary(t)
	dataDir := t.TempDir()
	env := cleanEnv("CUBIT_ADMIN_TOKEN=" + killAdminToken)
	args := []string{"serve", "--listen", "127.0.0.1:0", "--sql-listen", "127.0.0.1:0", "--data-dir", dataDir, "--log-level", "warn"}
	client := httpClient(nil)
	var (
		prev        *acked   // what the round before the restart acknowledged
		lastRotated string   // the last token a rotate acknowledged, over all rounds
		allRotated  []string // every token a rotate acknowledged, oldest first
		// unacked is true when a rotate was in flight at a kill since the last acknowledged
		// one: the current token may be one nobody was told.
		unacked bool
	)
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("seed %d", seed)
	var totals [4]int

	for round := range killRounds {
		p := startCubit(t, bin, env, client, args...)
		a := newAdmin(client, p.origin)
		if prev != nil {
			checkRound(t, a, round-1, prev, lastRotated, allRotated, unacked)
		}
		// The demo deployment is always on: it comes back RUNNING on its own, and rotations
		// need it RUNNING.
		a.demoCredentials(t)
		got := &acked{files: map[string]string{}, admins: map[string]string{}}
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, w := range []func(context.Context, *admin, int, *acked){writeProjects, writeFiles, writeAdmins, rotateDemo} {
			wg.Add(1)
			go func() { defer wg.Done(); w(ctx, a, round, got) }()
		}
		time.Sleep(time.Duration(50+rng.IntN(351)) * time.Millisecond)
		p.kill()
		stop()
		wg.Wait()
		t.Logf("round %d: killed with %d projects, %d files, %d admin tokens, %d rotations acknowledged (rotate in flight: %v)",
			round, len(got.projects), len(got.files), len(got.admins), len(got.rotated), got.rotating)
		totals[0] += len(got.projects)
		totals[1] += len(got.files)
		totals[2] += len(got.admins)
		totals[3] += len(got.rotated)
		if n := len(got.rotated); n > 0 {
			lastRotated = got.rotated[n-1]
			allRotated = append(allRotated, got.rotated...)
			unacked = false
		}
		unacked = unacked || got.rotating
		prev = got
	}
	p := startCubit(t, bin, env, client, args...)
	a := newAdmin(client, p.origin)
	checkRound(t, a, killRounds-1, prev, lastRotated, allRotated, unacked)
	// The repository still takes writes after all that.
	a.mustWrite(t, "model/notes/after.yml", "cubes: []\n")
	if totals[1] == 0 || totals[2] == 0 {
		t.Errorf("too few writes were acknowledged to test anything: %v", totals)
	}
	t.Logf("acknowledged over %d kills: %d projects, %d files, %d admin tokens, %d rotations", killRounds, totals[0], totals[1], totals[2], totals[3])
	p.stop(t)
}

// checkRound checks, on a restarted server, what round had acknowledged before the kill,
// and the demo deployment's REST token against every token a rotate acknowledged (unacked:
// a rotate was in flight at a kill since the last acknowledged one).
func checkRound(t *testing.T, a *admin, round int, got *acked, lastRotated string, allRotated []string, unacked bool) {
	t.Helper()
	for _, name := range got.projects {
		if status, v := a.call(context.Background(), killAdminToken, "GET", "/projects/"+name, nil); status != 200 {
			t.Errorf("round %d: project %s was acknowledged but is gone after kill -9: %d %v", round, name, status, v)
		}
	}
	// Every project the store lists, acknowledged or not, has a readable repository.
	status, v := a.call(context.Background(), killAdminToken, "GET", "/projects", nil)
	if status != 200 {
		t.Fatalf("round %d: GET /projects after kill -9: %d %v", round, status, v)
	}
	for _, pr := range v["projects"].([]any) {
		name := fmt.Sprint(pr.(map[string]any)["name"])
		if status, v := a.call(context.Background(), killAdminToken, "GET", "/projects/"+name+"/branches/main/files/model", nil); status != 200 {
			t.Errorf("round %d: project %s lists but its repository does not read: %d %v", round, name, status, v)
		}
	}
	for path, content := range got.files {
		status, v := a.call(context.Background(), killAdminToken, "GET", "/projects/demo/branches/main/files/"+path, nil)
		if status != 200 || v["content"] != content {
			t.Errorf("round %d: file %s was acknowledged but reads %d %v after kill -9, want %q", round, path, status, v, content)
		}
	}
	for name, token := range got.admins {
		if status, v := a.call(context.Background(), token, "GET", "/whoami", nil); status != 200 || v["name"] != name {
			t.Errorf("round %d: admin token %s was acknowledged but does not work after kill -9: %d %v", round, name, status, v)
		}
	}
	if lastRotated == "" {
		return
	}
	cur, base := a.demoCredentials(t)
	switch {
	case cur == lastRotated:
		if status := a.load(t, base, cur); status != 200 {
			t.Errorf("round %d: the last acknowledged REST token gets %d on %s/load, want 200", round, status, base)
		}
	case unacked:
		// A rotate in flight at the kill committed: its token is one nobody acknowledged,
		// and the last acknowledged one is now an earlier one.
		t.Logf("round %d: the rotate in flight at the kill had committed", round)
		for _, old := range allRotated {
			if old == cur {
				t.Errorf("round %d: after kill -9 the demo deployment's token went back to an earlier one", round)
			}
		}
		if status := a.load(t, base, cur); status != 200 {
			t.Errorf("round %d: the current REST token gets %d, want 200", round, status)
		}
	default:
		t.Errorf("round %d: the last acknowledged rotate is lost after kill -9: the current token is not the one it returned (no rotate was in flight)", round)
	}
	// Every earlier token, the last acknowledged one included when a later rotate landed, is
	// refused. The last few are enough: older ones were refused in earlier rounds.
	for i, old := range allRotated[max(0, len(allRotated)-30):] {
		if old == cur {
			continue
		}
		if status := a.load(t, base, old); status != 401 {
			t.Errorf("round %d: an earlier REST token (%d from the end) gets %d, want 401", round, len(allRotated)-i, status)
		}
	}
}

// admin calls the admin API of one server.
type admin struct {
	client *http.Client
	origin string
}

func newAdmin(client *http.Client, origin string) *admin {
	return &admin{client: client, origin: origin}
}

// call sends a request to the admin API (path under /api/v1). status is 0 when the request
// got no answer (the server was killed).
func (a *admin) call(ctx context.Context, token, method, path string, body any) (int, map[string]any) {
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.origin+"/api/v1"+path, rd)
	if err != nil {
		return 0, map[string]any{"error": err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := a.client.Do(req)
	if err != nil {
		return 0, map[string]any{"error": err.Error()}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		// The answer was cut: not acknowledged.
		return 0, map[string]any{"error": err.Error()}
	}
	var v map[string]any
	_ = json.Unmarshal(data, &v)
	return res.StatusCode, v
}

func (a *admin) mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if status, v := a.call(context.Background(), killAdminToken, "PUT", "/projects/demo/branches/main/files/"+path, map[string]any{"content": content}); status != 200 {
		t.Fatalf("PUT %s: %d %v", path, status, v)
	}
}

// demoCredentials waits for the demo deployment to be RUNNING and returns its REST token
// and base URL.
func (a *admin) demoCredentials(t *testing.T) (token, baseURL string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		status, v := a.call(context.Background(), killAdminToken, "GET", "/projects/demo/branches/main/credentials", nil)
		if status == 200 {
			rest, _ := v["rest"].(map[string]any)
			return fmt.Sprint(rest["token"]), fmt.Sprint(rest["base_url"])
		}
		if status != 409 || time.Now().After(deadline) {
			t.Fatalf("demo credentials after kill -9: %d %v", status, v)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// load posts a small query to {base}/load with token and returns the status.
func (a *admin) load(t *testing.T, base, token string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/load", strings.NewReader(`{"query": {"measures": ["orders.count"]}}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := a.client.Do(req)
	if err != nil {
		t.Fatalf("POST %s/load: %v", base, err)
	}
	res.Body.Close()
	return res.StatusCode
}

// The writers: each sends one kind of write after another until the server dies, and
// records what was acknowledged. A refusal (4xx: the demo deployment not RUNNING yet) is
// not a write; it waits a little so as not to spin.

func writeProjects(ctx context.Context, a *admin, round int, got *acked) {
	for i := 0; ctx.Err() == nil; i++ {
		name := fmt.Sprintf("p%d-%d", round, i)
		status, _ := a.call(ctx, killAdminToken, "POST", "/projects", map[string]any{
			"name": name, "environment": "demo", "deployment": map[string]any{"mode": "on_demand"}})
		if !writerGoesOn(ctx, status) {
			return
		}
		if status == 201 {
			got.mu.Lock()
			got.projects = append(got.projects, name)
			got.mu.Unlock()
		}
	}
}

func writeFiles(ctx context.Context, a *admin, round int, got *acked) {
	for i := 0; ctx.Err() == nil; i++ {
		path := fmt.Sprintf("model/notes/n%d-%d.yml", round, i)
		// Every YAML file under model/ is part of the model: the note must compile, or the
		// demo deployment would not start again after the kill.
		content := fmt.Sprintf("# note %d of round %d\ncubes: []\n", i, round)
		status, _ := a.call(ctx, killAdminToken, "PUT", "/projects/demo/branches/main/files/"+path, map[string]any{"content": content})
		if !writerGoesOn(ctx, status) {
			return
		}
		if status == 200 {
			got.mu.Lock()
			got.files[path] = content
			got.mu.Unlock()
		}
	}
}

func writeAdmins(ctx context.Context, a *admin, round int, got *acked) {
	for i := 0; ctx.Err() == nil; i++ {
		name := fmt.Sprintf("t%d-%d", round, i)
		status, v := a.call(ctx, killAdminToken, "POST", "/admin-tokens", map[string]any{"name": name, "role": "viewer"})
		if !writerGoesOn(ctx, status) {
			return
		}
		if token, _ := v["token"].(string); status == 201 && token != "" {
			got.mu.Lock()
			got.admins[name] = token
			got.mu.Unlock()
		}
	}
}

func rotateDemo(ctx context.Context, a *admin, _ int, got *acked) {
	for ctx.Err() == nil {
		got.mu.Lock()
		got.rotating = true
		got.mu.Unlock()
		status, v := a.call(ctx, killAdminToken, "POST", "/projects/demo/branches/main/credentials/rotate", map[string]any{})
		got.mu.Lock()
		if status != 0 {
			// Answered: whatever it said, nothing is in flight any more.
			got.rotating = false
		}
		if rest, _ := v["rest"].(map[string]any); status == 200 && rest["token"] != nil {
			got.rotated = append(got.rotated, fmt.Sprint(rest["token"]))
		}
		got.mu.Unlock()
		if !writerGoesOn(ctx, status) {
			return
		}
	}
}

// writerGoesOn says whether a writer should send another request after one that ended with
// status (0: no answer, the server is gone).
func writerGoesOn(ctx context.Context, status int) bool {
	if status == 0 || ctx.Err() != nil {
		return false
	}
	if status >= 300 {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
	return true
}
