package engine

import (
	"context"
	"encoding/json"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/preagg"
	"github.com/cubit-dev/cubit/internal/query"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

// Request is a /load request: one query, or several for blending, and whether the client
// accepts a multi-result response (queryType=multi).
type Request struct {
	Queries []*query.Query
	// Array is true when the query was sent as a JSON array (data blending).
	Array bool
	Multi bool
}

// MultiResult is the response of a multi query (spec C.3).
type MultiResult struct {
	QueryType  string          `json:"queryType"`
	Results    []*Result       `json:"results"`
	PivotQuery json.RawMessage `json:"pivotQuery"`
	SlowQuery  bool            `json:"slowQuery"`
}

// Load answers a /load request: a *Result for one query, a *MultiResult for
// queryType=multi, compareDateRange and blending.
func (e *Engine) Load(ctx context.Context, req Request) (any, error) {
	if len(req.Queries) == 0 {
		return nil, errs.Invalid("Query param is required")
	}
	if req.Array {
		return e.blend(ctx, req)
	}
	q := req.Queries[0]
	if compare := compareDimension(q); compare >= 0 {
		if !req.Multi {
			return nil, errs.Invalid("'compareDateRangeQuery' query type is not supported by the client.Please update the client.")
		}
		return e.compare(ctx, q, compare)
	}
	res, err := e.Query(ctx, q)
	if err != nil || !req.Multi {
		return res, err
	}
	return &MultiResult{QueryType: "regularQuery", Results: []*Result{res}, PivotQuery: pivot([]*Result{res}, "regularQuery", ""),
		SlowQuery: res.SlowQuery}, nil
}

// Query runs one query and shapes its result.
func (e *Engine) Query(ctx context.Context, q *query.Query) (*Result, error) {
	c, err := e.Compile(q)
	if err != nil {
		return nil, err
	}
	return e.Execute(ctx, c)
}

// Execute runs a compiled query. It fetches one row beyond the limit to report truncation.
func (e *Engine) Execute(ctx context.Context, c *Compiled) (*Result, error) {
	if e.warehouse == nil {
		return nil, errs.Wrap(errs.KindUnavailable, nil, "no data source is configured")
	}
	stmt := c.Statement
	args := stmt.Args
	limit := c.Resolved.Limit
	if stmt.LimitArg >= 0 {
		args = append([]any(nil), stmt.Args...)
		args[stmt.LimitArg] = int64(limit + 1)
	}
	cubes := usedCubes(c)
	got, err := e.cached(ctx, CacheMode(c.Resolved.Query.Cache), cubes, stmt.SQL, args, c.Rollup)
	if err != nil {
		return nil, err
	}
	data := got.rows
	res := e.shape(c, data)
	if c.Rollup != nil {
		res.usedRollup(c.Rollup)
		if c.Rollup.Table.BuiltAt.Before(got.at) {
			got.at = c.Rollup.Table.BuiltAt // the rows are as fresh as the rollup's build
		}
	}
	res.LastRefreshTime = got.at.UTC().Format("2006-01-02T15:04:05.000Z")
	res.SlowQuery = got.slow
	if stmt.LimitArg >= 0 && len(data) > limit {
		res.Truncated = true
		res.rows = res.rows[:limit]
		res.setData(c.Resolved.Query.ResponseFormat)
	}
	if c.Resolved.Query.Total {
		total, err := e.total(ctx, c, cubes)
		if err != nil {
			return nil, err
		}
		res.Total = &total
	}
	return res, nil
}

// served are the rows of a statement as a query gets them: when the query that read them
// started, and whether they are stale because the fresh ones were slow to come.
type served struct {
	rows [][]any
	at   time.Time
	slow bool
}

// cached returns the rows of a statement that reads cubes, from the result cache or the data
// source as the cache mode says (see CacheMode; "" is stale-if-slow). A cached result is
// current while the refresh-key values of its cubes are those it was computed under.
// Identical statements run once at a time, whatever their modes.
func (e *Engine) cached(ctx context.Context, mode CacheMode, cubes []*model.Cube, sql string, args []any, rollup *preagg.Use) (served, error) {
	run := func(ctx context.Context) ([][]any, error) { return e.run(ctx, sql, args) }
	if rollup != nil {
		run = func(ctx context.Context) ([][]any, error) { return e.runOn(ctx, rollup.Warehouse, sql, args) }
	}
	if e.cache == nil {
		at := e.cfg.Now()
		rows, err := run(ctx)
		return served{rows: rows, at: at}, err
	}
	if mode == "" {
		mode = StaleIfSlow
	}
	key := cacheKey(sql, args, e.fingerprints(cubes))
	// A result read from a rollup is current as long as that table serves: its name, in the
	// SQL and so in the key, changes with every build. The source is not asked anything.
	refresh := "rollup"
	if rollup == nil {
		var err error
		if refresh, err = e.refreshValues(ctx, cubes); err != nil {
			return served{}, err
		}
	}
	var stale *cacheEntry
	if mode != NoCache {
		if ent := e.cache.lookup(key); ent != nil {
			if ent.refresh == refresh {
				e.cache.metrics.cacheEvent("hit")
				return served{rows: ent.rows, at: ent.at}, nil
			}
			stale = ent
		}
	}
	e.cache.metrics.cacheEvent("miss")
	f := e.cache.start(ctx, key, refresh, run)
	var timeout <-chan time.Time
	switch {
	case stale != nil && mode == StaleWhileRevalidate:
		e.cache.leave(f, true)
		e.cache.metrics.cacheEvent("stale")
		return served{rows: stale.rows, at: stale.at}, nil
	case stale != nil && mode == StaleIfSlow:
		t := time.NewTimer(e.cfg.StaleIfSlowWait)
		defer t.Stop()
		timeout = t.C
	}
	if !e.cache.wait(ctx, f, timeout) {
		if ctx.Err() != nil {
			e.cache.leave(f, false)
			return served{}, warehouse.ContextError(ctx, ctx.Err())
		}
		// The fresh result is slow: serve the stale one and let the query fill the cache.
		e.cache.leave(f, true)
		e.cache.metrics.cacheEvent("stale")
		return served{rows: stale.rows, at: stale.at, slow: true}, nil
	}
	return served{rows: f.rows, at: f.at}, f.err
}

func (e *Engine) total(ctx context.Context, c *Compiled, cubes []*model.Cube) (int64, error) {
	stmt, err := renderTotal(c, e)
	if err != nil {
		return 0, err
	}
	got, err := e.cached(ctx, CacheMode(c.Resolved.Query.Cache), cubes, stmt.SQL, stmt.Args, c.Rollup)
	if err != nil {
		return 0, err
	}
	data := got.rows
	if len(data) != 1 {
		return 0, errs.Wrap(errs.KindInternal, nil, "total query returned %d rows", len(data))
	}
	switch v := data[0][0].(type) {
	case int64:
		return v, nil
	case float64:
		return int64(v), nil
	}
	return 0, errs.Wrap(errs.KindInternal, nil, "total query returned %T", data[0][0])
}

// shape turns rows into a Result.
func (e *Engine) shape(c *Compiled, data [][]any) *Result {
	q := c.Resolved.Query
	typed := q.Numbers == "typed"
	keys, source := outputKeys(c.Plan.Columns)
	res := &Result{
		Query:      echo(c),
		Annotation: annotate(c.Plan, e.model),
		DataSource: "default",
		DBType:     e.dialect.Name(),
		ExtDBType:  e.dialect.Name(),
		columns:    keys,
		rows:       make([]Row, len(data)),
	}
	for i, raw := range data {
		vals := make([]any, len(keys))
		for j, src := range source {
			vals[j] = formatValue(raw[src], typed)
		}
		res.rows[i] = Row{Keys: keys, Values: vals}
	}
	res.setData(q.ResponseFormat)
	return res
}

// setData lays the rows out in the requested response format.
func (r *Result) setData(format string) {
	switch format {
	case "compact":
		ds := make([][]any, len(r.rows))
		for i, row := range r.rows {
			ds[i] = row.Values
		}
		r.Data = compact{Members: r.columns, Dataset: ds}
	case "columnar":
		cols := make([][]any, len(r.columns))
		for j := range cols {
			cols[j] = make([]any, len(r.rows))
			for i, row := range r.rows {
				cols[j][i] = row.Values[j]
			}
		}
		r.Data = columnar{Members: r.columns, Columns: cols}
	default:
		r.Data = r.rows
	}
}

// Echo is the normalised query of a compiled query, as /load and /dry-run show it.
func Echo(c *Compiled) json.RawMessage { return echo(c) }

// echoQuery is the normalised query as the response's query field: Cube's normalised
// query plus rowLimit and queryType. Its fields shadow the query's own limit, timezone and
// order with the values that applied.
type echoQuery struct {
	*query.Query
	Limit     int         `json:"limit"`
	RowLimit  int         `json:"rowLimit"`
	Timezone  string      `json:"timezone"`
	Order     []echoOrder `json:"order"`
	QueryType string      `json:"queryType"`
}

type echoOrder struct {
	ID   string `json:"id"`
	Desc bool   `json:"desc"`
}

func echo(c *Compiled) json.RawMessage {
	n := c.Resolved.Normalized
	e := echoQuery{Query: n.Query, Limit: n.Limit, RowLimit: n.Limit, Timezone: n.Location.String(),
		Order: make([]echoOrder, len(n.Order)), QueryType: "regularQuery"}
	for i, o := range n.Order {
		e.Order[i] = echoOrder{ID: o.ID, Desc: o.Desc}
	}
	b, err := json.Marshal(e)
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}

// pivot is the pivotQuery of a multi response (spec C.3): the first normalised query with
// the query type; compareDateRange adds the "compareDateRange" dimension, blending takes the
// union of the members and one "time" dimension at the shared granularity.
func pivot(results []*Result, queryType, gran string) json.RawMessage {
	var m map[string]any
	if json.Unmarshal(results[0].Query, &m) != nil {
		return results[0].Query
	}
	m["queryType"] = queryType
	switch queryType {
	case "compareDateRangeQuery":
		m["dimensions"] = append([]any{"compareDateRange"}, asList(m["dimensions"])...)
	case "blendingQuery":
		var measures, dimensions []any
		seen := map[any]bool{}
		for _, r := range results {
			var q map[string]any
			if json.Unmarshal(r.Query, &q) != nil {
				continue
			}
			for _, v := range asList(q["measures"]) {
				if !seen[v] {
					seen[v] = true
					measures = append(measures, v)
				}
			}
			for _, v := range asList(q["dimensions"]) {
				if !seen[v] {
					seen[v] = true
					dimensions = append(dimensions, v)
				}
			}
		}
		m["measures"], m["dimensions"] = measures, dimensions
		if dimensions == nil {
			m["dimensions"] = []any{}
		}
		m["timeDimensions"] = []any{map[string]any{"dimension": "time", "granularity": gran}}
	}
	out, _ := json.Marshal(m)
	return out
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// compareDimension returns the index of the time dimension with compareDateRange, or -1.
func compareDimension(q *query.Query) int {
	for i, td := range q.TimeDimensions {
		if len(td.CompareDateRange) > 0 {
			return i
		}
	}
	return -1
}

// compare runs a query once per range of its compareDateRange (spec C.3).
func (e *Engine) compare(ctx context.Context, q *query.Query, idx int) (*MultiResult, error) {
	out := &MultiResult{QueryType: "compareDateRangeQuery"}
	for _, one := range compareQueries(q, idx) {
		c, err := e.Compile(one)
		if err != nil {
			return nil, err
		}
		res, err := e.Execute(ctx, c)
		if err != nil {
			return nil, err
		}
		label := ""
		for _, td := range c.Resolved.TimeDimensions {
			if td.Name == q.TimeDimensions[idx].Dimension && td.DateRange != nil {
				label = td.DateRange.From + " - " + td.DateRange.To
			}
		}
		res.addColumn("compareDateRange", func(Row) any { return label })
		out.Results = append(out.Results, res)
		out.SlowQuery = out.SlowQuery || res.SlowQuery
	}
	out.PivotQuery = pivot(out.Results, out.QueryType, "")
	return out, nil
}

// blend runs several queries whose first time dimensions share a granularity and adds
// that time bucket to every row as "time.<granularity>" (spec C.3).
func (e *Engine) blend(ctx context.Context, req Request) (*MultiResult, error) {
	if !req.Multi {
		return nil, errs.Invalid("'blendingQuery' query type is not supported by the client.Please update the client.")
	}
	gran := ""
	for i, q := range req.Queries {
		if len(q.TimeDimensions) == 0 || q.TimeDimensions[0].Granularity == "" {
			return nil, errs.Invalid("Data blending query without granularity is not supported")
		}
		g := q.TimeDimensions[0].Granularity
		if i > 0 && g != gran {
			return nil, errs.Invalid("Data blending query granularities must match")
		}
		gran = g
	}
	out := &MultiResult{QueryType: "blendingQuery"}
	for _, q := range req.Queries {
		res, err := e.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		key := q.TimeDimensions[0].Dimension + "." + gran
		res.addColumn("time."+gran, func(r Row) any { v, _ := r.Get(key); return v })
		out.Results = append(out.Results, res)
		out.SlowQuery = out.SlowQuery || res.SlowQuery
	}
	out.PivotQuery = pivot(out.Results, out.QueryType, gran)
	return out, nil
}

// addColumn appends a computed key to every row.
func (r *Result) addColumn(key string, value func(Row) any) {
	r.columns = append(r.columns, key)
	for i, row := range r.rows {
		vals := append(append([]any(nil), row.Values...), value(row))
		r.rows[i] = Row{Keys: r.columns, Values: vals}
	}
	var probe struct {
		ResponseFormat string `json:"responseFormat"`
	}
	_ = json.Unmarshal(r.Query, &probe)
	r.setData(probe.ResponseFormat)
}
