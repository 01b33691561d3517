package sqlapi

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/query"
)

// runCube runs a Cube query and projects its rows on the plan's columns, converted to the
// columns' types. It reads every row: a query without LIMIT that the engine's default
// row limit would cut is run again without the limit, streamed; so is a LIMIT above the
// engine's maximum.
func runCube(ctx context.Context, eng *engine.Engine, cp *cubePlan) ([][]any, error) {
	q := *cp.Query
	q.Numbers = "typed"
	if cp.LimitZero {
		_, err := eng.Compile(&q)
		return nil, err
	}
	res, err := eng.Query(ctx, &q)
	switch {
	case err != nil && q.Limit != nil && errs.KindOf(err) == errs.KindInvalid:
		// A LIMIT above the maximum: Stream takes any explicit limit.
		unlimited := q
		unlimited.Limit = nil
		if _, cerr := eng.Compile(&unlimited); cerr != nil {
			return nil, err
		}
		return streamCube(ctx, eng, cp, &q)
	case err != nil:
		return nil, err
	case res.Truncated && q.Limit == nil:
		return streamCube(ctx, eng, cp, &q)
	}
	loc := queryZone(&q)
	keys := res.Columns()
	index := columnIndex(cp.Columns, keys)
	out := make([][]any, 0, len(res.Rows()))
	for _, r := range res.Rows() {
		row, err := project(cp.Columns, index, r.Values, loc)
		if err != nil {
			return nil, err
		}
		out = append(out, row)
	}
	return out, nil
}

func streamCube(ctx context.Context, eng *engine.Engine, cp *cubePlan, q *query.Query) ([][]any, error) {
	var index []int
	var out [][]any
	loc := queryZone(q)
	err := eng.Stream(ctx, q, func(keys []string) error {
		index = columnIndex(cp.Columns, keys)
		return nil
	}, func(values []any) error {
		row, err := project(cp.Columns, index, values, loc)
		if err != nil {
			return err
		}
		out = append(out, row)
		return nil
	})
	return out, err
}

// columnIndex finds each output column's key among the engine's row keys (-1: NULL).
func columnIndex(cols []outCol, keys []string) []int {
	index := make([]int, len(cols))
	for i, c := range cols {
		index[i] = -1
		for j, k := range keys {
			if c.Key != "" && k == c.Key {
				index[i] = j
				break
			}
		}
	}
	return index
}

// queryZone is the time zone of a query that names one; nil for UTC.
func queryZone(q *query.Query) *time.Location {
	if q.Timezone == "" {
		return nil
	}
	loc, err := time.LoadLocation(q.Timezone)
	if err != nil {
		return nil // the engine refused the query already
	}
	return loc
}

// project picks the output columns of a row and converts them. Raw times, stored in UTC,
// are shown in loc like the times the engine converts itself.
func project(cols []outCol, index []int, values []any, loc *time.Location) ([]any, error) {
	row := make([]any, len(cols))
	for i, c := range cols {
		if index[i] < 0 {
			continue
		}
		v, err := convert(values[index[i]], c.OID)
		if err != nil {
			return nil, sqlErr("22P02", "column %s: %v", c.Name, err)
		}
		if t, ok := v.(time.Time); ok && c.RawTime && loc != nil {
			w := t.In(loc)
			v = time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), w.Nanosecond(), time.UTC)
		}
		row[i] = v
	}
	return row, nil
}

// convert turns an engine value (typed numbers: int64, float64, json.Number; times as
// Cube's local wall-clock text; strings; booleans) into the Go value of a column type.
func convert(v any, oid uint32) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch oid {
	case oidInt8:
		switch x := v.(type) {
		case int64:
			return x, nil
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
				return int64(x), nil
			}
		case json.Number:
			if n, err := x.Int64(); err == nil {
				return n, nil
			}
			if f, err := x.Float64(); err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<63 {
				return int64(f), nil
			}
		case string:
			if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
				return n, nil
			}
		}
	case oidFloat8:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		case json.Number:
			if f, err := strconv.ParseFloat(string(x), 64); err == nil {
				return f, nil
			}
		case string:
			if f, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				return f, nil
			}
		}
	case oidTimestamp:
		switch x := v.(type) {
		case time.Time:
			return x, nil
		case string:
			if t, err := time.Parse(engine.TimeLayout, x); err == nil {
				return t, nil
			}
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return t.UTC(), nil
			}
		}
	case oidDate:
		// A day bucket: the date of its first instant, in the query time zone.
		t, err := convert(v, oidTimestamp)
		if err != nil {
			return nil, err
		}
		x := t.(time.Time)
		return time.Date(x.Year(), x.Month(), x.Day(), 0, 0, 0, 0, time.UTC), nil
	case oidBool:
		switch x := v.(type) {
		case bool:
			return x, nil
		case int64:
			return x != 0, nil
		case string:
			if b, err := strconv.ParseBool(x); err == nil {
				return b, nil
			}
		}
	case oidText:
		switch x := v.(type) {
		case string:
			return x, nil
		case json.Number:
			return string(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		case bool:
			return strconv.FormatBool(x), nil
		case time.Time:
			return x.Format(engine.TimeLayout), nil
		}
		b, _ := json.Marshal(v)
		return string(b), nil
	default:
		return v, nil
	}
	return nil, errs.Invalid("cannot read %v (%T) as %s", v, v, typeNames[oid])
}

// catalogRows are the rows of the information_schema tables the SQL API materialises.
func catalogRows(cat *catalog, which, database string) ([]string, []uint32, [][]any) {
	if which == "tables" {
		names := []string{"table_catalog", "table_schema", "table_name", "table_type",
			"self_referencing_column_name", "reference_generation", "user_defined_type_catalog",
			"user_defined_type_schema", "user_defined_type_name", "is_insertable_into", "is_typed", "commit_action"}
		oids := make([]uint32, len(names))
		for i := range oids {
			oids[i] = oidText
		}
		var rows [][]any
		for _, t := range cat.tables {
			rows = append(rows, []any{database, "public", t.Name, "BASE TABLE", nil, nil, nil, nil, nil, "NO", "NO", nil})
		}
		return names, oids, rows
	}
	names := []string{"table_catalog", "table_schema", "table_name", "column_name", "ordinal_position",
		"column_default", "is_nullable", "data_type", "character_maximum_length", "numeric_precision",
		"numeric_scale", "datetime_precision", "udt_catalog", "udt_schema", "udt_name", "is_identity",
		"is_generated", "is_updatable"}
	oids := make([]uint32, len(names))
	for i := range oids {
		oids[i] = oidText
	}
	for _, i := range []int{4, 8, 9, 10, 11} {
		oids[i] = oidInt4
	}
	udt := map[uint32]string{oidBool: "bool", oidInt8: "int8", oidText: "text", oidFloat8: "float8", oidTimestamp: "timestamp"}
	var rows [][]any
	for _, t := range cat.tables {
		for _, c := range t.Columns {
			var precision, scale, dtPrecision any
			switch c.OID {
			case oidInt8:
				precision, scale = int64(64), int64(0)
			case oidFloat8:
				precision = int64(53)
			case oidTimestamp:
				dtPrecision = int64(6)
			}
			rows = append(rows, []any{database, "public", t.Name, c.Name, int64(c.Attr), nil, "YES",
				typeNames[c.OID], nil, precision, scale, dtPrecision, database, "pg_catalog", udt[c.OID],
				"NO", "NEVER", "NO"})
		}
	}
	return names, oids, rows
}
