package engine

import (
	"context"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/query"
)

// Stream runs q without the default row limit and hands each row to row as it arrives,
// after the keys of the rows to header, so an export holds one row in memory at a time.
func (e *Engine) Stream(ctx context.Context, q *query.Query, header func(keys []string) error, row func(values []any) error) error {
	if e.warehouse == nil {
		return errs.Wrap(errs.KindUnavailable, nil, "no data source is configured")
	}
	c, err := e.compile(q, true)
	if err != nil {
		return err
	}
	rows, err := e.warehouse.Query(ctx, c.Statement.SQL, c.Statement.Args)
	if err != nil {
		return err
	}
	defer rows.Close()
	keys, source := outputKeys(c.Plan.Columns)
	if err := header(keys); err != nil {
		return err
	}
	typed := q.Numbers == "typed"
	values := make([]any, len(keys))
	for rows.Next() {
		raw := rows.Values()
		for j, src := range source {
			values[j] = formatValue(raw[src], typed)
		}
		if err := row(values); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Expand splits a request into the single queries it runs: one per range of a
// compareDateRange, one per query of a blending array.
func Expand(req Request) []*query.Query {
	var out []*query.Query
	for _, q := range req.Queries {
		idx := compareDimension(q)
		if idx < 0 {
			out = append(out, q)
			continue
		}
		out = append(out, compareQueries(q, idx)...)
	}
	return out
}

// compareQueries is q once per range of its compareDateRange, each with that dateRange.
func compareQueries(q *query.Query, idx int) []*query.Query {
	var out []*query.Query
	for _, r := range q.TimeDimensions[idx].CompareDateRange {
		one := *q
		one.TimeDimensions = append([]query.TimeDimension(nil), q.TimeDimensions...)
		one.TimeDimensions[idx].CompareDateRange = nil
		one.TimeDimensions[idx].DateRange = r
		out = append(out, &one)
	}
	return out
}
