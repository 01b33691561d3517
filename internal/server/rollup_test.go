package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/preagg"
	"github.com/cubit-dev/cubit/internal/restapi"
	"github.com/cubit-dev/cubit/internal/server"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

// TestRollupsServeAndJobs runs the default deployment with a rollup store: the demo model's
// rollup is built in the background, the jobs endpoint reports and triggers it, and a query
// it matches is answered from it with the numbers hand-written SQL gives.
func TestRollupsServeAndJobs(t *testing.T) {
	store, err := duckdb.Open("", duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	auth, err := restapi.NewAuthenticator([]string{secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	jobsToken, err := auth.Mint(map[string]any{"scopes": []string{"data", "jobs"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dataToken, err := auth.Mint(nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.Server.Listen = "127.0.0.1:0"
	dir := modelDir(t)
	ready := make(chan net.Addr, 1)
	s, err := server.New(server.Options{
		Config: cfg, LoadModel: func() (*model.Model, error) { return model.Load(dir) },
		Warehouse: demoDB(t), Dialect: dialect.DuckDB{}, Auth: auth,
		Rollups: preagg.NewStore(store, ""),
		Ready:   func(h, _ net.Addr) { ready <- h },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	origin := "http://" + (<-ready).String()
	base := origin + "/cubejs-api/v1"

	jobs := func(token, body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", base+"/pre-aggregations/jobs", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		var v map[string]any
		_ = json.Unmarshal(data, &v)
		return res.StatusCode, v
	}
	if status, _ := jobs(dataToken, `{"action": "get"}`); status != 403 {
		t.Fatalf("jobs without the jobs scope: %d, want 403", status)
	}
	if status, v := jobs(jobsToken, `{"action": "post", "selector": {"preAggregations": ["orders.revenue_by_status_dayly"]}}`); status != 400 ||
		!strings.Contains(v["error"].(string), "revenue_by_status_daily") {
		t.Fatalf("an unknown rollup: %d %v", status, v)
	}
	if status, v := jobs(jobsToken, `{"action": "post", "selector": {"preAggregations": ["orders.revenue_by_status_daily"]}}`); status != 200 || v["jobs"] == nil {
		t.Fatalf("trigger: %d %v", status, v)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		_, v := jobs(jobsToken, `{"action": "get"}`)
		built := false
		for _, j := range v["jobs"].([]any) {
			if m := j.(map[string]any); m["preAggregation"] == "orders.revenue_by_status_daily" && m["status"] == "built" {
				built = true
			}
		}
		if built {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the rollup was not built within a minute: %v", v)
		}
		time.Sleep(50 * time.Millisecond)
	}

	status, v := post(t, origin, dataToken,
		`{"query": {"measures": ["orders.count"], "dimensions": ["orders.status"], "filters": [{"member": "orders.status", "operator": "equals", "values": ["completed"]}]}}`)
	if status != 200 || v["usedPreAggregations"] == nil {
		t.Fatalf("a query the rollup matches: %d %v", status, v)
	}
	want := scalar(t, demoDB(t), "SELECT count(*) FROM orders WHERE status = 'completed'")
	if got := v["data"].([]any)[0].(map[string]any)["orders.count"]; got != want {
		t.Fatalf("orders.count from the rollup = %v, hand-written SQL says %s", got, want)
	}
}
