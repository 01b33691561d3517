package restapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/restapi"
)

// rawRows runs hand-written SQL on the demo shop and returns its rows as text, the
// independent answer a response is checked against.
func rawRows(t *testing.T, sql string) [][]string {
	t.Helper()
	db, _ := demoShop(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rows, err := db.SQL().QueryContext(ctx, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		rec := make([]string, len(cols))
		for i, v := range vals {
			rec[i] = fmt.Sprint(v)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// dataRows returns the response rows' values of keys, as text, one record per row.
func dataRows(t *testing.T, body map[string]any, keys ...string) [][]string {
	t.Helper()
	data, ok := body["data"].([]any)
	if !ok {
		t.Fatalf("data is not an array: %v", body["data"])
	}
	var out [][]string
	for _, d := range data {
		row := d.(map[string]any)
		rec := make([]string, len(keys))
		for i, k := range keys {
			v, ok := row[k]
			if !ok {
				t.Fatalf("row %v has no %s", row, k)
			}
			rec[i] = fmt.Sprint(v)
		}
		out = append(out, rec)
	}
	return out
}

// sameSet compares two sets of records regardless of order.
func sameSet(t *testing.T, got, want [][]string) {
	t.Helper()
	key := func(rs [][]string) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = strings.Join(r, "|")
		}
		sort.Strings(out)
		return out
	}
	g, w := key(got), key(want)
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("rows differ\n got: %v\nwant: %v", g, w)
	}
}

func hasKeys(t *testing.T, what string, obj any, keys ...string) map[string]any {
	t.Helper()
	m, ok := obj.(map[string]any)
	if !ok {
		t.Fatalf("%s is not an object: %v", what, obj)
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s has no %q: %v", what, k, m)
		}
	}
	return m
}

// TestLoadResponse checks every field of spec C.1 and the rows against SQL over the raw table.
func TestLoadResponse(t *testing.T) {
	t.Parallel()
	a := startAPI(t, demoEngine(t, nil), restapi.Options{})
	r := a.load(t, `{"query": {"measures": ["orders.count"], "dimensions": ["orders.status"], "segments": [],
		"timeDimensions": [{"dimension": "orders.created_at", "granularity": "month", "dateRange": ["2024-01-01", "2024-02-29"]}]}}`)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	body := hasKeys(t, "response", r.json(t), "query", "data", "lastRefreshTime", "annotation", "dataSource",
		"dbType", "extDbType", "external", "slowQuery", "total", "truncated")

	q := hasKeys(t, "query", body["query"], "measures", "dimensions", "timeDimensions", "limit", "rowLimit", "timezone", "order", "queryType")
	if q["queryType"] != "regularQuery" || q["rowLimit"] != float64(10000) || q["timezone"] != "UTC" {
		t.Errorf("query: %v", q)
	}
	if order, _ := q["order"].([]any); len(order) == 0 {
		t.Errorf("query.order is empty: the default order must be spelled out")
	} else {
		hasKeys(t, "query.order[0]", order[0], "id", "desc")
	}
	td := q["timeDimensions"].([]any)[0].(map[string]any)
	if dr := fmt.Sprint(td["dateRange"]); dr != "[2024-01-01T00:00:00.000 2024-02-29T23:59:59.999]" {
		t.Errorf("dateRange not resolved: %s", dr)
	}

	want := rawRows(t, `SELECT status, strftime(date_trunc('month', created_at), '%Y-%m-%dT%H:%M:%S.000'), count(*)
		FROM orders WHERE created_at >= '2024-01-01' AND created_at < '2024-03-01' GROUP BY 1, 2`)
	sameSet(t, dataRows(t, body, "orders.status", "orders.created_at.month", "orders.count"), want)
	// The legacy bare time dimension key carries the same bucket.
	for _, d := range body["data"].([]any) {
		row := d.(map[string]any)
		if row["orders.created_at"] != row["orders.created_at.month"] {
			t.Errorf("bare time dimension %v differs from the month %v", row["orders.created_at"], row["orders.created_at.month"])
		}
		if _, isString := row["orders.count"].(string); !isString {
			t.Errorf("orders.count is %T, want a string as Cube sends", row["orders.count"])
		}
	}

	if lrt, _ := body["lastRefreshTime"].(string); !strings.HasSuffix(lrt, "Z") {
		t.Errorf("lastRefreshTime %q is not ISO UTC with Z", lrt)
	} else if _, err := time.Parse(time.RFC3339Nano, lrt); err != nil {
		t.Errorf("lastRefreshTime %q: %v", lrt, err)
	}
	ann := hasKeys(t, "annotation", body["annotation"], "measures", "dimensions", "segments", "timeDimensions")
	hasKeys(t, "annotation.measures", ann["measures"], "orders.count")
	hasKeys(t, "annotation.dimensions", ann["dimensions"], "orders.status")
	tds := hasKeys(t, "annotation.timeDimensions", ann["timeDimensions"], "orders.created_at", "orders.created_at.month")
	hasKeys(t, "annotation of orders.created_at.month", tds["orders.created_at.month"], "title", "type", "granularity")
	m := hasKeys(t, "annotation of orders.count", ann["measures"].(map[string]any)["orders.count"], "title", "shortTitle", "type", "drillMembers", "drillMembersGrouped")
	if m["type"] != "number" {
		t.Errorf("orders.count annotation type %v, want number", m["type"])
	}
	if body["dataSource"] != "default" || body["dbType"] != (dialect.DuckDB{}).Name() || body["external"] != false ||
		body["slowQuery"] != false || body["total"] != nil || body["truncated"] != false {
		t.Errorf("fields: dataSource %v dbType %v external %v slowQuery %v total %v truncated %v",
			body["dataSource"], body["dbType"], body["external"], body["slowQuery"], body["total"], body["truncated"])
	}
	if s, _ := body["extDbType"].(string); s == "" {
		t.Errorf("extDbType %v", body["extDbType"])
	}
}

// TestTruncatedAndTotal: a limit below the row count sets truncated, and total: true
// counts every row.
func TestTruncatedAndTotal(t *testing.T) {
	t.Parallel()
	a := startAPI(t, demoEngine(t, nil), restapi.Options{})
	statuses := rawRows(t, `SELECT count(DISTINCT status) FROM orders`)[0][0]
	r := a.load(t, `{"query": {"measures": ["orders.count"], "dimensions": ["orders.status"], "limit": 2, "total": true}}`)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	body := r.json(t)
	if fmt.Sprint(body["total"]) != statuses || body["truncated"] != true || len(body["data"].([]any)) != 2 {
		t.Errorf("total %v (want %s), truncated %v (want true), %d rows (want 2)", body["total"], statuses, body["truncated"], len(body["data"].([]any)))
	}
	// The biggest status first: the default order is the first measure, descending.
	top := rawRows(t, `SELECT status, count(*) FROM orders GROUP BY 1 ORDER BY 2 DESC LIMIT 2`)
	if got := dataRows(t, body, "orders.status", "orders.count"); fmt.Sprint(got) != fmt.Sprint(top) {
		t.Errorf("rows %v, want %v", got, top)
	}
}

// TestCompactFormat: responseFormat compact carries the same rows as members and a dataset.
func TestCompactFormat(t *testing.T) {
	t.Parallel()
	a := startAPI(t, demoEngine(t, nil), restapi.Options{})
	query := `"measures": ["orders.count"], "dimensions": ["orders.status"], "order": {"orders.status": "asc"}`
	plain := a.load(t, `{"query": {`+query+`}}`)
	compact := a.load(t, `{"query": {`+query+`, "responseFormat": "compact"}}`)
	if plain.status != 200 || compact.status != 200 {
		t.Fatalf("status %d / %d: %s %s", plain.status, compact.status, plain.body, compact.body)
	}
	data := hasKeys(t, "compact data", compact.json(t)["data"], "members", "dataset")
	members := data["members"].([]any)
	if fmt.Sprint(members) != "[orders.status orders.count]" {
		t.Errorf("members %v", members)
	}
	var fromCompact [][]string
	for _, row := range data["dataset"].([]any) {
		var rec []string
		for _, v := range row.([]any) {
			rec = append(rec, fmt.Sprint(v))
		}
		fromCompact = append(fromCompact, rec)
	}
	if got, want := fmt.Sprint(fromCompact), fmt.Sprint(dataRows(t, plain.json(t), "orders.status", "orders.count")); got != want {
		t.Errorf("compact %s, plain %s", got, want)
	}
	sameSet(t, fromCompact, rawRows(t, `SELECT status, count(*) FROM orders GROUP BY 1`))
}

// TestMultiQueries: queryType=multi with a single query, compareDateRange and blending.
func TestMultiQueries(t *testing.T) {
	t.Parallel()
	a := startAPI(t, demoEngine(t, nil), restapi.Options{})

	t.Run("single", func(t *testing.T) {
		r := a.load(t, `{"queryType": "multi", "query": {"measures": ["orders.count"]}}`)
		body := hasKeys(t, "response", r.json(t), "queryType", "results", "pivotQuery", "slowQuery")
		if body["queryType"] != "regularQuery" || len(body["results"].([]any)) != 1 {
			t.Errorf("queryType %v, %d results", body["queryType"], len(body["results"].([]any)))
		}
		res := body["results"].([]any)[0].(map[string]any)
		sameSet(t, dataRows(t, res, "orders.count"), rawRows(t, `SELECT count(*) FROM orders`))
	})

	t.Run("compareDateRange", func(t *testing.T) {
		r := a.load(t, `{"queryType": "multi", "query": {"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at",
			"granularity": "month", "compareDateRange": [["2024-01-01", "2024-01-31"], ["2023-01-01", "2023-01-31"]]}]}}`)
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		body := hasKeys(t, "response", r.json(t), "queryType", "results", "pivotQuery", "slowQuery")
		if body["queryType"] != "compareDateRangeQuery" {
			t.Errorf("queryType %v", body["queryType"])
		}
		results := body["results"].([]any)
		if len(results) != 2 {
			t.Fatalf("%d results, want 2", len(results))
		}
		for i, year := range []string{"2024", "2023"} {
			res := hasKeys(t, "result", results[i], "query", "data", "annotation", "lastRefreshTime")
			want := rawRows(t, fmt.Sprintf(`SELECT count(*), '%[1]s-01-01T00:00:00.000 - %[1]s-01-31T23:59:59.999'
				FROM orders WHERE created_at >= '%[1]s-01-01' AND created_at < '%[1]s-02-01'`, year))
			sameSet(t, dataRows(t, res, "orders.count", "compareDateRange"), want)
		}
		pivot := hasKeys(t, "pivotQuery", body["pivotQuery"], "queryType", "dimensions")
		if pivot["queryType"] != "compareDateRangeQuery" || !strings.Contains(fmt.Sprint(pivot["dimensions"]), "compareDateRange") {
			t.Errorf("pivotQuery %v", pivot)
		}
	})

	t.Run("blending", func(t *testing.T) {
		r := a.load(t, `{"queryType": "multi", "query": [
			{"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": "year"}]},
			{"measures": ["users.count"], "timeDimensions": [{"dimension": "users.created_at", "granularity": "year"}]}]}`)
		if r.status != 200 {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
		body := r.json(t)
		if body["queryType"] != "blendingQuery" {
			t.Errorf("queryType %v", body["queryType"])
		}
		results := body["results"].([]any)
		if len(results) != 2 {
			t.Fatalf("%d results, want 2", len(results))
		}
		for i, table := range []string{"orders", "users"} {
			want := rawRows(t, fmt.Sprintf(`SELECT strftime(date_trunc('year', created_at), '%%Y-%%m-%%dT%%H:%%M:%%S.000') AS y, y, count(*) FROM %s GROUP BY 1`, table))
			sameSet(t, dataRows(t, results[i].(map[string]any), table+".created_at.year", "time.year", table+".count"), want)
		}
		pivot := hasKeys(t, "pivotQuery", body["pivotQuery"], "measures", "timeDimensions")
		if fmt.Sprint(pivot["measures"]) != "[orders.count users.count]" {
			t.Errorf("pivotQuery.measures %v", pivot["measures"])
		}
	})
}

// TestSQLEndpoint: /v1/sql gives the SQL and its parameters, and running that SQL on the
// database gives the rows /load returns.
func TestSQLEndpoint(t *testing.T) {
	t.Parallel()
	a := startAPI(t, demoEngine(t, nil), restapi.Options{})
	query := `{"query": {"measures": ["orders.count"], "dimensions": ["users.city"], "filters": [{"member": "orders.status", "operator": "equals", "values": ["shipped"]}]}}`
	r := a.do(t, "POST", "/v1/sql", query)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	info := hasKeys(t, "sql", r.json(t)["sql"], "sql", "order", "dataSource", "aliasNameToMember", "memberNames", "external", "joinPath",
		"cacheKeyQueries", "preAggregations", "canUseTransformedQuery", "lambdaQueries")
	pair := info["sql"].([]any)
	if len(pair) != 2 {
		t.Fatalf("sql is %v, want [sql, params]", pair)
	}
	sql, _ := pair[0].(string)
	params, _ := pair[1].([]any)
	if !strings.Contains(sql, "SELECT") || strings.Contains(sql, "shipped") {
		t.Errorf("the value must be a parameter, not in the SQL:\n%s", sql)
	}
	if len(params) == 0 || params[0] != "shipped" {
		t.Errorf("params %v", params)
	}
	aliases := info["aliasNameToMember"].(map[string]any)
	members := map[any]bool{}
	for _, m := range aliases {
		members[m] = true
	}
	if !members["orders.count"] || !members["users.city"] {
		t.Errorf("aliasNameToMember %v", aliases)
	}
	if jp, _ := info["joinPath"].(string); !strings.Contains(jp, "orders -> users") {
		t.Errorf("joinPath %q", jp)
	}
	if fmt.Sprint(info["order"]) != "map[orders.count:desc]" {
		t.Errorf("order %v", info["order"])
	}

	// The SQL runs as given.
	db, _ := demoShop(t)
	rows, err := db.SQL().QueryContext(context.Background(), sql, params...)
	if err != nil {
		t.Fatalf("running /sql's SQL: %v\n%s", err, sql)
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	cities := rawRows(t, `SELECT count(*) FROM (SELECT DISTINCT u.city FROM orders o LEFT JOIN users u ON o.user_id = u.id WHERE o.status = 'shipped')`)
	if fmt.Sprint(n) != cities[0][0] {
		t.Errorf("the SQL returned %d rows, want %s (one per city)", n, cities[0][0])
	}

	// GET with ?query= works the same.
	g := a.do(t, "GET", "/v1/sql?query="+urlQuery(query), "")
	if g.status != 200 || !bytes.Equal(g.body, r.body) {
		t.Errorf("GET /sql: %d %s", g.status, g.body)
	}
}

// urlQuery extracts the query object of a body and URL-encodes it.
func urlQuery(body string) string {
	var v struct{ Query json.RawMessage }
	_ = json.Unmarshal([]byte(body), &v)
	return strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", " ", "%20", "#", "%23").Replace(string(v.Query))
}

// TestDryRun: /v1/dry-run normalises without running.
func TestDryRun(t *testing.T) {
	t.Parallel()
	db, _ := demoShop(t)
	wh := newCountingWarehouse(db, false)
	a := startAPI(t, demoEngine(t, wh), restapi.Options{})
	r := a.do(t, "POST", "/v1/dry-run", `{"query": {"measures": ["orders.count"], "dimensions": ["users.city"]}}`)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	body := hasKeys(t, "dry-run", r.json(t), "queryType", "normalizedQueries", "queryOrder", "transformedQueries", "pivotQuery")
	if body["queryType"] != "regularQuery" {
		t.Errorf("queryType %v", body["queryType"])
	}
	nq := body["normalizedQueries"].([]any)
	if len(nq) != 1 {
		t.Fatalf("%d normalized queries", len(nq))
	}
	hasKeys(t, "normalizedQueries[0]", nq[0], "measures", "dimensions", "rowLimit", "order", "queryType")
	if fmt.Sprint(body["queryOrder"]) != "[map[orders.count:desc]]" {
		t.Errorf("queryOrder %v", body["queryOrder"])
	}
	r = a.do(t, "POST", "/v1/dry-run", `{"queryType": "multi", "query": [
		{"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": "year"}]},
		{"measures": ["users.count"], "timeDimensions": [{"dimension": "users.created_at", "granularity": "year"}]}]}`)
	if r.status != 200 || r.json(t)["queryType"] != "blendingQuery" || len(r.json(t)["normalizedQueries"].([]any)) != 2 {
		t.Errorf("blending dry-run: %d %s", r.status, r.body)
	}
	if n := wh.calls.Load(); n != 0 {
		t.Errorf("dry-run ran %d queries", n)
	}
}

// TestMeta: /v1/meta lists the visible cubes and members.
func TestMeta(t *testing.T) {
	t.Parallel()
	a := startAPI(t, demoEngine(t, nil), restapi.Options{})
	for _, path := range []string{"/v1/meta", "/v1/meta?extended"} {
		r := a.do(t, "GET", path, "")
		if r.status != 200 {
			t.Fatalf("%s: status %d: %s", path, r.status, r.body)
		}
		cubes, ok := r.json(t)["cubes"].([]any)
		if !ok {
			t.Fatalf("%s: cubes is not an array: %s", path, r.body)
		}
		if len(cubes) == 0 {
			t.Logf("%s: no cubes yet; checked the shape only", path)
			continue
		}
		names := map[string]map[string]any{}
		for _, c := range cubes {
			cube := hasKeys(t, "cube", c, "name", "type", "title", "measures", "dimensions", "segments")
			names[cube["name"].(string)] = cube
		}
		orders := names["orders"]
		if orders == nil {
			t.Fatalf("%s: no orders cube among %v", path, names)
		}
		// member name → isVisible
		members := map[string]any{}
		for _, list := range []string{"measures", "dimensions", "segments"} {
			keys := []string{"name", "title", "shortTitle", "isVisible"}
			if list != "segments" {
				keys = append(keys, "type")
			}
			for _, m := range orders[list].([]any) {
				member := hasKeys(t, "member of "+list, m, keys...)
				members[member["name"].(string)] = member["isVisible"]
			}
		}
		if members["orders.count"] != true || members["orders.status"] != true {
			t.Errorf("%s: orders lacks a visible orders.count or orders.status", path)
		}
		// The extended response describes the model as written, hidden members marked as
		// such; the plain one leaves them out.
		if v, listed := members["orders.user_id"]; listed && (path == "/v1/meta" || v != false) {
			t.Errorf("%s: the hidden orders.user_id is listed with isVisible %v", path, v)
		}
	}
	if r := a.do(t, "GET", "/v1/meta?onlyViews=true", ""); r.status != 200 {
		t.Errorf("onlyViews: %d %s", r.status, r.body)
	} else {
		for _, c := range r.json(t)["cubes"].([]any) {
			if c.(map[string]any)["type"] != "view" {
				t.Errorf("onlyViews lists %v", c.(map[string]any)["name"])
			}
		}
	}
}

// exportQuery is every order line, ungrouped: about three times the default row limit.
const exportQuery = `{"dimensions": ["line_items.id", "line_items.order_id", "line_items.price"], "ungrouped": true}`

// TestExport streams every row beyond the default limit, in JSON lines and CSV, and
// counts them against the raw table.
func TestExport(t *testing.T) {
	t.Parallel()
	a := startAPI(t, demoEngine(t, nil), restapi.Options{})
	want := rawRows(t, `SELECT count(*), count(DISTINCT id), sum(price) FROM line_items`)[0]
	if want[0] == "10000" || len(want[0]) < 5 {
		t.Fatalf("line_items has %s rows: the test needs more than the 10,000 default limit", want[0])
	}

	// /load stops at the default limit and says so.
	r := a.load(t, `{"query": `+exportQuery+`}`)
	if r.status != 200 || len(r.json(t)["data"].([]any)) != 10000 || r.json(t)["truncated"] != true {
		t.Fatalf("/load: status %d, want 10,000 rows and truncated", r.status)
	}

	t.Run("jsonl", func(t *testing.T) {
		res := exportRequest(t, a, `{"query": `+exportQuery+`}`)
		defer res.Body.Close()
		if ct := res.Header.Get("Content-Type"); ct != "application/x-ndjson" {
			t.Errorf("Content-Type %q", ct)
		}
		sc := bufio.NewScanner(res.Body)
		ids := map[string]bool{}
		n := 0
		for sc.Scan() {
			var row map[string]any
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
				t.Fatalf("line %d: %v: %s", n+1, err, sc.Text())
			}
			if _, isErr := row["error"]; isErr {
				t.Fatalf("line %d: %s", n+1, sc.Text())
			}
			ids[fmt.Sprint(row["line_items.id"])] = true
			n++
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(n) != want[0] || fmt.Sprint(len(ids)) != want[1] {
			t.Errorf("%d rows, %d ids; want %s and %s", n, len(ids), want[0], want[1])
		}
		if e := res.Trailer.Get("X-Cubit-Export-Error"); e != "" {
			t.Errorf("export error trailer: %s", e)
		}
	})

	t.Run("csv", func(t *testing.T) {
		res := exportRequest(t, a, `{"query": `+exportQuery+`, "format": "csv"}`)
		defer res.Body.Close()
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("Content-Type %q", ct)
		}
		records, err := csv.NewReader(res.Body).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(records[0]) != "[line_items.id line_items.order_id line_items.price]" {
			t.Errorf("header %v", records[0])
		}
		if fmt.Sprint(len(records)-1) != want[0] {
			t.Errorf("%d rows, want %s", len(records)-1, want[0])
		}
	})

	t.Run("explicit limit", func(t *testing.T) {
		res := exportRequest(t, a, `{"query": {"dimensions": ["line_items.id"], "ungrouped": true, "limit": 12345, "order": {"line_items.id": "asc"}}, "format": "csv"}`)
		defer res.Body.Close()
		records, err := csv.NewReader(res.Body).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(records) != 12346 || records[12345][0] != "12345" {
			t.Errorf("%d records, last %v; want 12,345 rows ending at id 12345", len(records), records[len(records)-1])
		}
	})
}

func exportRequest(t *testing.T, a *testAPI, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("POST", a.url("/v1/export"), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		data, _ := io.ReadAll(res.Body)
		res.Body.Close()
		t.Fatalf("status %d: %s", res.StatusCode, data)
	}
	return res
}

// TestRequestID: a valid x-request-id is echoed in the header and in error bodies; an
// invalid one is replaced.
func TestRequestID(t *testing.T) {
	t.Parallel()
	a := startAPI(t, demoEngine(t, nil), restapi.Options{})
	r := a.load(t, simpleQuery, "x-request-id", "abc-123-span-1")
	if got := r.header.Get("x-request-id"); got != "abc-123-span-1" {
		t.Errorf("x-request-id %q", got)
	}
	r = a.load(t, `{"query": {"measures": ["orders.nope"]}}`, "x-request-id", "err-42")
	if body := wantError(t, r, 400, "UserError", "orders.nope"); body["requestId"] != "err-42" || r.header.Get("x-request-id") != "err-42" {
		t.Errorf("error requestId %v, header %q", body["requestId"], r.header.Get("x-request-id"))
	}
	r = a.load(t, simpleQuery, "x-request-id", "bad id with spaces")
	if got := r.header.Get("x-request-id"); got == "" || strings.Contains(got, " ") {
		t.Errorf("invalid x-request-id answered with %q", got)
	}
	r = a.load(t, simpleQuery)
	if got := r.header.Get("x-request-id"); !strings.HasSuffix(got, "-span-1") {
		t.Errorf("generated x-request-id %q", got)
	}
}

// TestHealthAndMetrics: /readyz and /livez answer Cube's shapes without a token, and
// /metrics counts the requests.
func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	db, m := demoShop(t)
	srv := newServer(t, m, db, dialect.DuckDB{})
	for _, path := range []string{"/readyz", "/livez"} {
		r := send(t, "GET", srv.URL+path, "")
		if r.status != 200 || r.json(t)["health"] != "HEALTH" {
			t.Errorf("%s: %d %s, want 200 {\"health\":\"HEALTH\"}", path, r.status, r.body)
		}
	}
	if r := send(t, "POST", srv.URL+"/cubejs-api/v1/load", simpleQuery, "Authorization", "Bearer "+serverToken(t)); r.status != 200 {
		t.Fatalf("/load: %d %s", r.status, r.body)
	}
	send(t, "POST", srv.URL+"/cubejs-api/v1/load", `{"query": {"measures": ["orders.nope"]}}`, "Authorization", "Bearer "+serverToken(t))
	r := send(t, "GET", srv.URL+"/metrics", "")
	if r.status != 200 {
		t.Fatalf("/metrics: %d", r.status)
	}
	for _, want := range []string{
		`cubit_http_requests_total{code="200",endpoint="load"} 1`,
		`cubit_http_requests_total{code="400",endpoint="load"} 1`,
		`cubit_http_request_duration_seconds_bucket{endpoint="load"`,
		`cubit_model_reloads_total 0`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
