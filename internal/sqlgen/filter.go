package sqlgen

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/query"
)

// valueType is how a filter's values are bound: as numbers, booleans, times or text.
type valueType int

const (
	valText valueType = iota
	valNumber
	valBool
	valTime
)

func dimensionValueType(d *model.Dimension) valueType {
	switch d.Type {
	case model.DimNumber:
		return valNumber
	case model.DimBoolean:
		return valBool
	case model.DimTime:
		return valTime
	}
	return valText
}

func measureValueType(m *model.Measure) valueType {
	switch m.Type {
	case model.MeasureString:
		return valText
	case model.MeasureBoolean:
		return valBool
	case model.MeasureTime:
		return valTime
	}
	return valNumber
}

// filter renders a filter node as a condition. Measure leaves need a measures context.
func (b *builder) filter(f *query.FilterNode, m *measures) (string, error) {
	if len(f.And) > 0 || len(f.Or) > 0 {
		children, op := f.And, " AND "
		if len(f.Or) > 0 {
			children, op = f.Or, " OR "
		}
		parts := make([]string, len(children))
		for i, c := range children {
			sql, err := b.filter(c, m)
			if err != nil {
				return "", err
			}
			parts[i] = sql
		}
		return "(" + strings.Join(parts, op) + ")", nil
	}
	if f.Operator == "measureFilter" {
		return b.measureFilter(f)
	}
	var expr string
	var typ valueType
	var err error
	switch {
	case f.Measure != nil:
		if m == nil {
			return "", fmt.Errorf("measure filter on %s outside an aggregation", f.Ref.Name)
		}
		expr, err = m.render(f.Ref.Cube, f.Measure)
		typ = measureValueType(f.Measure)
	default:
		expr, err = b.dimension(f.Dimension)
		typ = dimensionValueType(f.Dimension)
	}
	if err != nil {
		return "", err
	}
	return b.predicate(f.Ref.Name, expr, typ, f.Operator, f.Values)
}

// measureFilter applies a measure's own filters to the rows (Cube's drill-down operator).
func (b *builder) measureFilter(f *query.FilterNode) (string, error) {
	if f.Measure == nil || len(f.Measure.Filters) == 0 {
		return "1 = 1", nil
	}
	conds := make([]string, len(f.Measure.Filters))
	for i, t := range f.Measure.Filters {
		sql, err := b.template(t, f.Ref.Cube, nil)
		if err != nil {
			return "", err
		}
		conds[i] = "(" + sql + ")"
	}
	return "(" + strings.Join(conds, " AND ") + ")", nil
}

// predicate renders one operator over expr, with Cube's NULL semantics (spec B.2): positive
// operators never match NULL unless null is among the values; negative ones match NULL
// unless null is among the values.
func (b *builder) predicate(member, expr string, typ valueType, op query.Operator, values []*string) (string, error) {
	var vals []string
	hasNull := false
	for _, v := range values {
		if v == nil {
			hasNull = true
		} else {
			vals = append(vals, *v)
		}
	}
	bind := func(v string) (string, error) { return b.bindValue(member, typ, v) }
	switch op {
	case "equals", "in":
		return b.membership(expr, vals, hasNull, false, bind)
	case "notEquals", "notIn":
		return b.membership(expr, vals, hasNull, true, bind)
	case "contains", "notContains", "startsWith", "notStartsWith", "endsWith", "notEndsWith":
		// ILIKE over a number, time or boolean is an error on both engines: say so here,
		// rather than let the database fail.
		if typ != valText {
			return "", errs.Invalid("Operator %s needs a string member, and %s is not a string", op, member)
		}
		return b.like(expr, string(op), vals, hasNull)
	case "gt", "gte", "lt", "lte":
		if len(vals) == 0 {
			return "", errs.Invalid("Values required for filter on %s with operator %s", member, op)
		}
		ph, err := bind(vals[0])
		if err != nil {
			return "", err
		}
		return expr + " " + comparison[string(op)] + " " + ph, nil
	case "set":
		return expr + " IS NOT NULL", nil
	case "notSet":
		return expr + " IS NULL", nil
	case "inDateRange", "onTheDate", "notInDateRange":
		if typ != valTime {
			return "", notTime(member, op)
		}
		if len(vals) < 2 {
			return "", errs.Invalid("filter on %s with %s needs a date range [from, to]", member, op)
		}
		from, to, err := b.bounds(member, vals[0], vals[1])
		if err != nil {
			return "", err
		}
		if op == "notInDateRange" {
			return "(" + expr + " < " + from + " OR " + expr + " > " + to + ")", nil
		}
		return "(" + expr + " >= " + from + " AND " + expr + " <= " + to + ")", nil
	case "beforeDate", "beforeOrOnDate", "afterDate", "afterOrOnDate":
		if typ != valTime {
			return "", notTime(member, op)
		}
		if len(vals) == 0 {
			return "1 = 1", nil
		}
		// Normalisation left one local bound: the start or the end of the value (spec B.2).
		end := op == "beforeOrOnDate" || op == "afterDate"
		ph, err := b.bound(member, vals[0], end)
		if err != nil {
			return "", err
		}
		switch op {
		case "beforeDate":
			return expr + " < " + ph, nil
		case "beforeOrOnDate":
			return expr + " <= " + ph, nil
		case "afterDate":
			return expr + " > " + ph, nil
		}
		return expr + " >= " + ph, nil
	}
	return "", errs.Invalid("Operator %s not supported for filter on %s", op, member)
}

var comparison = map[string]string{"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

func notTime(member string, op query.Operator) error {
	return errs.Invalid("Operator %s needs a time member, and %s is not a time", op, member)
}

func (b *builder) membership(expr string, vals []string, hasNull, negate bool, bind func(string) (string, error)) (string, error) {
	phs := make([]string, len(vals))
	for i, v := range vals {
		ph, err := bind(v)
		if err != nil {
			return "", err
		}
		phs[i] = ph
	}
	var cond string
	switch {
	case len(phs) == 1 && !negate:
		cond = expr + " = " + phs[0]
	case len(phs) == 1:
		cond = expr + " <> " + phs[0]
	case len(phs) > 1 && !negate:
		cond = expr + " IN (" + strings.Join(phs, ", ") + ")"
	case len(phs) > 1:
		cond = expr + " NOT IN (" + strings.Join(phs, ", ") + ")"
	}
	switch {
	case cond == "" && negate:
		return expr + " IS NOT NULL", nil
	case cond == "":
		return expr + " IS NULL", nil
	case negate && !hasNull:
		return "(" + cond + " OR " + expr + " IS NULL)", nil
	case !negate && hasNull:
		return "(" + cond + " OR " + expr + " IS NULL)", nil
	}
	return cond, nil
}

// like renders the contains family: case-insensitive on every engine, user wildcards
// escaped, values ORed for positive operators and ANDed for negative ones.
func (b *builder) like(expr, op string, vals []string, hasNull bool) (string, error) {
	negate := strings.HasPrefix(op, "not")
	base := strings.ToLower(strings.TrimPrefix(op, "not"))
	var parts []string
	for _, v := range vals {
		p := escapeLike(v)
		switch base {
		case "contains":
			p = "%" + p + "%"
		case "startswith":
			p += "%"
		case "endswith":
			p = "%" + p
		}
		parts = append(parts, b.d.ILike(expr, b.arg(p), negate))
	}
	join := " OR "
	if negate {
		join = " AND "
	}
	cond := strings.Join(parts, join)
	switch {
	case cond == "" && hasNull && negate:
		return expr + " IS NOT NULL", nil
	case cond == "" && hasNull:
		return expr + " IS NULL", nil
	case cond == "":
		return "1 = 1", nil
	case negate != hasNull:
		return "(" + cond + " OR " + expr + " IS NULL)", nil
	}
	return "(" + cond + ")", nil
}

func escapeLike(v string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(v)
}

// bindValue binds one filter value as the member's type.
func (b *builder) bindValue(member string, typ valueType, v string) (string, error) {
	switch typ {
	case valNumber:
		if i, err := strconv.ParseInt(v, 10, 64); err == nil {
			return b.arg(i), nil
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return "", errs.Invalid("filter value %q for %s is not a number", v, member)
		}
		return b.arg(f), nil
	case valBool:
		t, err := strconv.ParseBool(v)
		if err != nil {
			return "", errs.Invalid("filter value %q for %s is not a boolean (true or false)", v, member)
		}
		return b.arg(t), nil
	case valTime:
		return b.bound(member, v, false)
	}
	return b.arg(v), nil
}

// dateRange is the condition of a time dimension's date range, on the raw column.
func (b *builder) dateRange(d *model.Dimension, from, to string) (string, error) {
	expr, err := b.dimension(d)
	if err != nil {
		return "", err
	}
	f, t, err := b.bounds(d.Cube.Name+"."+d.Name, from, to)
	if err != nil {
		return "", err
	}
	return "(" + expr + " >= " + f + " AND " + expr + " <= " + t + ")", nil
}

// bounds binds local wall-clock bounds as UTC timestamps. An end given to the millisecond
// (.999) covers its whole last millisecond, as engines keep microseconds.
func (b *builder) bounds(member, from, to string) (string, string, error) {
	f, err := b.bound(member, from, false)
	if err != nil {
		return "", "", err
	}
	t, err := b.bound(member, to, true)
	if err != nil {
		return "", "", err
	}
	return f, t, nil
}

// bound binds one local wall-clock bound as a UTC timestamp, converted by query.Instant: an
// end bound given to the millisecond (.999) covers its whole last millisecond, and around a
// DST change a start takes the earliest reading of an ambiguous wall clock and an end the
// latest. Only a bound that is used is bound: an unused parameter has no type on PostgreSQL
// and no value on DuckDB.
func (b *builder) bound(member, local string, end bool) (string, error) {
	w, err := parseLocal(local, time.UTC)
	if err != nil {
		return "", errs.Invalid("Can't parse date: '%s' (filter on %s)", local, member)
	}
	t, err := query.Instant(w.Format(wallLayout), b.root.Query.Location, end)
	if err != nil {
		return "", errs.Invalid("Can't parse date: '%s' (filter on %s)", local, member)
	}
	return b.d.Timestamp(b.arg(utcText(t))), nil
}

// wallLayout is the form of normalised local bounds, the one query.Instant reads.
const wallLayout = "2006-01-02T15:04:05.000"

var localLayouts = []string{
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

func parseLocal(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range localLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q", s)
}

func utcText(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000") }

// filterParams renders {FILTER_PARAMS.cube.member.filter(arg)}: the query's filters on that
// member applied to arg, or 1 = 1 when the query has none.
func (b *builder) filterParams(part model.Part) (string, error) {
	expr := part.Column()
	member := part.Cube + "." + part.Member
	var conds []string
	for _, td := range b.root.Query.TimeDimensions {
		if td.DateRange != nil && sourceName(td.Ref, td.Dimension.Name) == member {
			from, to, err := b.bounds(member, td.DateRange.From, td.DateRange.To)
			if err != nil {
				return "", err
			}
			conds = append(conds, "("+expr+" >= "+from+" AND "+expr+" <= "+to+")")
		}
	}
	for _, f := range b.root.Query.Filters {
		if f.Dimension == nil || sourceName(f.Ref, f.Dimension.Name) != member {
			continue
		}
		cond, err := b.predicate(member, expr, dimensionValueType(f.Dimension), f.Operator, f.Values)
		if err != nil {
			return "", err
		}
		conds = append(conds, cond)
	}
	if len(conds) == 0 {
		return "1 = 1", nil
	}
	return strings.Join(conds, " AND "), nil
}

func sourceName(r query.Ref, member string) string { return r.Cube.Name + "." + member }
