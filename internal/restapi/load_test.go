package restapi_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/restapi"
)

// slowTotal is sum(0 .. 299,999,999), the slow cube's answer: n(n-1)/2.
const slowTotal = "44999999850000000"

func wantSlowTotal(t *testing.T, r *response) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	data, _ := r.json(t)["data"].([]any)
	if len(data) != 1 || data[0].(map[string]any)["slow.total"] != slowTotal {
		t.Fatalf("want slow.total %s, got %s", slowTotal, r.body)
	}
}

// TestContinueWait: a query still running after ContinueWait answers Cube's Continue wait,
// and asking again attaches to the same run instead of starting another.
func TestContinueWait(t *testing.T) {
	t.Parallel()
	db, _ := demoShop(t)
	wh := newCountingWarehouse(db, true)
	a := startAPI(t, slowEngine(t, wh), restapi.Options{ContinueWait: 50 * time.Millisecond})

	// The gate holds the query, so the first answer can only be Continue wait.
	r := a.load(t, slowQuery, "x-request-id", "cw-1")
	if !isContinueWait(r) {
		t.Fatalf("want Continue wait, got %d %s", r.status, r.body)
	}
	if got := r.header.Get("x-request-id"); got != "cw-1" {
		t.Errorf("x-request-id %q, want cw-1", got)
	}
	wh.waitStarted(t)
	// Still held: asking again is still Continue wait, and runs nothing new.
	if r := a.load(t, slowQuery, "x-request-id", "cw-1-span-2"); !isContinueWait(r) {
		t.Fatalf("want Continue wait again, got %d %s", r.status, r.body)
	}
	close(wh.gate)
	wantSlowTotal(t, a.loadUntilDone(t, slowQuery, "x-request-id", "cw-1-span-3"))
	if n := wh.calls.Load(); n != 1 {
		t.Errorf("the database ran the query %d times, want once", n)
	}
	if n := counterValue(t, a.reg, "cubit_query_single_flight_shared_total", nil); n < 2 {
		t.Errorf("cubit_query_single_flight_shared_total = %v, want at least 2 (two re-asks joined)", n)
	}
}

// TestSingleFlight: identical requests in flight together run the database query once,
// even when their JSON differs in spacing and key order.
func TestSingleFlight(t *testing.T) {
	t.Parallel()
	db, _ := demoShop(t)
	wh := newCountingWarehouse(db, true)
	a := startAPI(t, demoEngine(t, wh), restapi.Options{ContinueWait: 2 * time.Minute})
	bodies := []string{
		`{"query":{"measures":["orders.count"],"dimensions":["orders.status"]}}`,
		`{ "query" : { "dimensions" : [ "orders.status" ], "measures" : [ "orders.count" ] } }`,
		`{"query":"{\"measures\":[\"orders.count\"],\"dimensions\":[\"orders.status\"]}"}`,
	}
	results := make([]*response, len(bodies))
	var wg sync.WaitGroup
	for i, body := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = a.load(t, body)
		}()
		if i == 0 {
			wh.waitStarted(t)
			continue
		}
		// Wait until this request has joined the run held at the gate.
		waitFor(t, func() bool {
			return counterValue(t, a.reg, "cubit_query_single_flight_shared_total", nil) >= float64(i)
		})
	}
	close(wh.gate)
	wg.Wait()
	for i, r := range results {
		if r.status != 200 {
			t.Fatalf("request %d: status %d: %s", i, r.status, r.body)
		}
		if string(r.body) != string(results[0].body) {
			t.Errorf("request %d got another answer:\n%s\nvs\n%s", i, r.body, results[0].body)
		}
	}
	if n := wh.calls.Load(); n != 1 {
		t.Errorf("the database ran the query %d times, want once", n)
	}
}

// waitFor polls cond until it holds; the deadline only guards against a hang.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met after 2 minutes")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCancelRunningQuery: DELETE running-query/{id} cancels the query that request id
// started; asking again reports the cancellation.
func TestCancelRunningQuery(t *testing.T) {
	t.Parallel()
	db, _ := demoShop(t)
	wh := newCountingWarehouse(db, true) // the gate is never opened: the query runs until canceled
	a := startAPI(t, demoEngine(t, wh), restapi.Options{ContinueWait: 50 * time.Millisecond})

	if r := a.load(t, simpleQuery, "x-request-id", "cancel-me"); !isContinueWait(r) {
		t.Fatalf("want Continue wait, got %d %s", r.status, r.body)
	}
	wh.waitStarted(t)
	r := a.do(t, http.MethodDelete, "/v1/running-query/cancel-me", "")
	if r.status != 200 || r.json(t)["result"] != true {
		t.Fatalf("DELETE: %d %s, want 200 {\"result\":true}", r.status, r.body)
	}
	wantError(t, a.loadUntilDone(t, simpleQuery, "x-request-id", "cancel-me-span-2"), 499, "QueryCanceledError", "canceled")
	// The canceled run is over: nothing left to cancel under either id.
	wantError(t, a.do(t, http.MethodDelete, "/v1/running-query/cancel-me", ""), 404, "NotFoundError", "cancel-me")
	wantError(t, a.do(t, http.MethodDelete, "/v1/running-query/no-such-request", ""), 404, "NotFoundError", "no-such-request")
	if n := counterValue(t, a.reg, "cubit_query_errors_total", map[string]string{"class": "canceled"}); n < 1 {
		t.Errorf("cubit_query_errors_total{class=canceled} = %v, want at least 1", n)
	}
	// A new request runs the query afresh.
	close(wh.gate)
	if r := a.loadUntilDone(t, simpleQuery); r.status != 200 {
		t.Fatalf("after the cancel: %d %s", r.status, r.body)
	}
}

// TestCancelInterruptsDatabase cancels a query running in DuckDB: only an interrupted
// query ends with QueryCanceledError; one left running would finish with data.
func TestCancelInterruptsDatabase(t *testing.T) {
	t.Parallel()
	db, _ := demoShop(t)
	wh := newCountingWarehouse(db, false)
	a := startAPI(t, slowEngine(t, wh), restapi.Options{ContinueWait: 50 * time.Millisecond})
	if r := a.load(t, slowerQuery, "x-request-id", "interrupt-me"); !isContinueWait(r) {
		t.Fatalf("want Continue wait, got %d %s", r.status, r.body)
	}
	wh.waitStarted(t)
	r := a.do(t, http.MethodDelete, "/v1/running-query/interrupt-me", "")
	if r.status != 200 || r.json(t)["result"] != true {
		t.Fatalf("DELETE: %d %s, want 200 {\"result\":true}", r.status, r.body)
	}
	wantError(t, a.loadUntilDone(t, slowerQuery), 499, "QueryCanceledError", "canceled")
}

// TestDifferentQueriesDoNotShare: single-flight joins identical requests only.
func TestDifferentQueriesDoNotShare(t *testing.T) {
	t.Parallel()
	db, _ := demoShop(t)
	wh := newCountingWarehouse(db, false)
	a := startAPI(t, demoEngine(t, wh), restapi.Options{})
	for _, body := range []string{
		`{"query":{"measures":["orders.count"]}}`,
		`{"query":{"measures":["orders.count"]},"queryType":"multi"}`,
		`{"query":{"measures":["orders.count"],"limit":5}}`,
		`{"query":{"measures":["users.count"]}}`,
	} {
		if r := a.loadUntilDone(t, body); r.status != 200 {
			t.Fatalf("%s: %d %s", body, r.status, r.body)
		}
	}
	if n := counterValue(t, a.reg, "cubit_query_single_flight_shared_total", nil); n != 0 {
		t.Errorf("cubit_query_single_flight_shared_total = %v, want 0", n)
	}
}

// TestSequentialRequestsRunAfresh: once a run has answered, the next identical request
// runs the query again rather than joining the finished run (a bug once let a request
// arriving just after the answer share it, however old, even with cache: no-cache).
func TestSequentialRequestsRunAfresh(t *testing.T) {
	t.Parallel()
	db, _ := demoShop(t)
	wh := newCountingWarehouse(db, false)
	a := startAPI(t, demoEngine(t, wh), restapi.Options{})
	const n = 200
	for range n {
		if r := a.load(t, `{"query": {"measures": ["orders.count"], "cache": "no-cache"}}`); r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	}
	if got := wh.calls.Load(); got != n {
		t.Errorf("%d requests ran %d queries", n, got)
	}
}
