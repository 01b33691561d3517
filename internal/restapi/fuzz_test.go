package restapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/restapi"
)

// processPanics counts the panics the fuzzed handler recovered from, over the process.
var processPanics atomic.Int64

// fuzzHandler is the API over the demo shop, built once per fuzzing process.
var fuzzHandler struct {
	once  sync.Once
	h     http.Handler
	token string
}

// FuzzLoadRequest sends fuzzed bodies to /load (POST, and GET as ?query=) and /sql through
// the handler, without a network: never a panic, never a 500, and every error is JSON with
// an "error".
func FuzzLoadRequest(f *testing.F) {
	for _, seed := range []string{
		simpleQuery,
		`{"query": {"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": "month", "dateRange": "last 3 months"}]}}`,
		`{"query": {"measures": ["orders.total_revenue"], "dimensions": ["users.city"], "filters": [{"member": "orders.status", "operator": "equals", "values": ["shipped"]}], "order": {"orders.total_revenue": "desc"}, "limit": 5}}`,
		`{"queryType": "multi", "query": {"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": "day", "compareDateRange": [["2024-01-01", "2024-01-07"], ["2023-01-01", "2023-01-07"]]}]}}`,
		`{"queryType": "multi", "query": [{"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": "year"}]}, {"measures": ["users.count"], "timeDimensions": [{"dimension": "users.created_at", "granularity": "year"}]}]}`,
		`{"query": "{\"measures\":[\"orders.count\"],\"responseFormat\":\"compact\"}"}`,
		`{"query": {"dimensions": ["line_items.id"], "ungrouped": true, "limit": 3, "offset": 2, "total": true}}`,
		`{"query": {"measures": ["orders.count"], "filters": [{"or": [{"member": "orders.status", "operator": "contains", "values": ["%_"]}, {"and": [{"member": "orders.amount", "operator": "gt", "values": ["10"]}]}]}]}}`,
		`{"query": {"measures": ["orders.count"], "segments": ["orders.completed"], "timezone": "America/New_York"}}`,
		`{"query": {"measures": ["orders.count"], "limit": 99999999999999999999}}`,
		`{"query": {"measures": [1, null, {}], "dimensions": "orders.status"}}`,
		`{"query": {"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "dateRange": ["2024-02-30", "x"]}]}}`,
		`{"query": [], "queryType": "multi"}`,
		`{"query": {"measures": ["orders.count"]}, "extra": {"nested": [1, 2, 3]}}`,
		`{"query": {"measures": ["orders.count"], "filters": [{"member": "orders.created_at", "operator": "inDateRange", "values": ["2024-01-01"]}]}}`,
		"{\"query\": \"\\u0000\"}",
		`[`,
		``,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body string) {
		fuzzHandler.once.Do(func() {
			auth, err := restapi.NewAuthenticator([]string{testSecret}, nil)
			if err != nil {
				t.Fatal(err)
			}
			api := restapi.New(restapi.Options{
				Engines:      fixedEngines{demoEngine(t, nil)},
				Auth:         auth,
				Logger:       slog.New(panicWatch{slog.DiscardHandler, &processPanics}),
				ContinueWait: 5 * time.Second,
				QueryTimeout: 10 * time.Second,
			})
			fuzzHandler.h = api.Handler("/cubejs-api")
			if fuzzHandler.token, err = auth.Mint(nil, 24*time.Hour); err != nil {
				t.Fatal(err)
			}
		})
		requests := []*http.Request{
			httptest.NewRequest("POST", "/cubejs-api/v1/load", strings.NewReader(body)),
			httptest.NewRequest("GET", "/cubejs-api/v1/load?query="+url.QueryEscape(body), nil),
			httptest.NewRequest("POST", "/cubejs-api/v1/sql", strings.NewReader(body)),
		}
		for _, req := range requests {
			req.Header.Set("Authorization", "Bearer "+fuzzHandler.token)
			rec := httptest.NewRecorder()
			fuzzHandler.h.ServeHTTP(rec, req)
			status := rec.Code
			ok := status == 200 || (status >= 400 && status < 500) || status == 503 || status == 504
			if !ok {
				t.Fatalf("%s %s: status %d: %s\nbody: %q", req.Method, req.URL.Path, status, rec.Body.Bytes(), body)
			}
			var v any
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Fatalf("%s %s: status %d, body is not JSON: %v: %s\nbody: %q", req.Method, req.URL.Path, status, err, rec.Body.Bytes(), body)
			}
			if status != 200 {
				obj, _ := v.(map[string]any)
				if msg, _ := obj["error"].(string); msg == "" {
					t.Fatalf("%s %s: status %d without an error message: %s\nbody: %q", req.Method, req.URL.Path, status, rec.Body.Bytes(), body)
				}
			}
			if n := processPanics.Load(); n > 0 {
				t.Fatalf("%s %s: a handler panicked (recovered as %d)\nbody: %q", req.Method, req.URL.Path, status, body)
			}
		}
	})
}
