package sqlgen

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/plan"
	"github.com/cubit-dev/cubit/internal/query"
)

func dialectUnit(gran string) dialect.Unit { return dialect.Unit(gran) }

// interval is a parsed model interval such as "1 year", "2 weeks" or "1 month 15 days".
type interval struct {
	months  int
	seconds int64
	// unit is set when the interval is exactly one calendar unit.
	unit dialect.Unit
}

var unitSeconds = map[dialect.Unit]int64{
	dialect.Second: 1, dialect.Minute: 60, dialect.Hour: 3600, dialect.Day: 86400, dialect.Week: 7 * 86400,
}

var unitMonths = map[dialect.Unit]int{dialect.Month: 1, dialect.Quarter: 3, dialect.Year: 12}

func parseInterval(s string) (interval, error) {
	fields := strings.Fields(strings.ToLower(s))
	if len(fields) == 0 || len(fields)%2 != 0 {
		return interval{}, fmt.Errorf("bad interval %q: want pairs like \"1 month 15 days\"", s)
	}
	var iv interval
	for i := 0; i < len(fields); i += 2 {
		n, err := strconv.Atoi(fields[i])
		if err != nil {
			return interval{}, fmt.Errorf("bad interval %q: %q is not a number", s, fields[i])
		}
		u := dialect.Unit(strings.TrimSuffix(fields[i+1], "s"))
		switch {
		case unitSeconds[u] > 0:
			iv.seconds += int64(n) * unitSeconds[u]
		case unitMonths[u] > 0:
			iv.months += n * unitMonths[u]
		default:
			return interval{}, fmt.Errorf("bad interval %q: unknown unit %q", s, fields[i+1])
		}
		if len(fields) == 2 && n == 1 {
			iv.unit = u
		}
	}
	return iv, nil
}

// sql renders the interval as a literal.
func (iv interval) sql(d dialect.Dialect) string {
	var parts []string
	if iv.months != 0 {
		parts = append(parts, d.Interval(iv.months, dialect.Month))
	}
	if iv.seconds != 0 || iv.months == 0 {
		parts = append(parts, d.Interval(int(iv.seconds), dialect.Second))
	}
	return strings.Join(parts, " + ")
}

// customGranularity renders origin-anchored buckets of a custom granularity over a local
// timestamp: one calendar unit shifted by an offset, or a fixed-length interval counted
// from an origin.
func (b *builder) customGranularity(local string, g *model.Granularity) (string, error) {
	iv, err := parseInterval(g.Interval)
	if err != nil {
		return "", errs.Invalid("granularity %s: %v", g.Name, err)
	}
	var offset interval
	if g.Offset != "" {
		if offset, err = parseInterval(strings.TrimPrefix(g.Offset, "+")); err != nil {
			return "", errs.Invalid("granularity %s offset: %v", g.Name, err)
		}
	}
	if iv.unit != "" && g.Origin == "" {
		if g.Offset == "" {
			return b.d.Trunc(iv.unit, local), nil
		}
		off := offset.sql(b.d)
		return "(" + b.d.Trunc(iv.unit, "("+local+" - "+off+")") + " + " + off + ")", nil
	}
	origin := time.Unix(0, 0).UTC()
	if g.Origin != "" {
		if origin, err = parseLocal(g.Origin, time.UTC); err != nil {
			return "", errs.Invalid("granularity %s: bad origin %q", g.Name, g.Origin)
		}
	}
	if iv.months != 0 {
		return b.monthBuckets(local, g, iv, offset, origin)
	}
	base := origin.Unix() + offset.seconds
	return b.d.FromEpochSeconds(fmt.Sprintf("%d + floor((%s - %d) / %d) * %d",
		base, b.d.EpochSeconds(local), base, iv.seconds, iv.seconds)), nil
}

// monthBuckets renders buckets of a whole number of months counted from an origin:
// origin + N * floor(months(origin → t) / N) months.
func (b *builder) monthBuckets(local string, g *model.Granularity, iv, offset interval, origin time.Time) (string, error) {
	if iv.seconds != 0 || offset.seconds != 0 && offset.months != 0 {
		return "", errs.Invalid("granularity %s: an interval mixing months with days or hours is not supported", g.Name)
	}
	start := origin.AddDate(0, offset.months, 0).Add(time.Duration(offset.seconds) * time.Second)
	o := b.d.Timestamp(b.arg(localText(start)))
	k := dialect.MonthsBetween(b.d, o, local)
	return b.d.AddMonths(o, fmt.Sprintf("floor(%s / %d) * %d", k, iv.months, iv.months)), nil
}

// granularityStep is the interval between buckets of a granularity, for time series.
func granularityStep(d dialect.Dialect, gran string) string {
	u := dialect.Unit(gran)
	if u == dialect.Quarter {
		return d.Interval(3, dialect.Month)
	}
	return d.Interval(1, u)
}

// rolling renders a rolling-window group: a series of buckets of the time dimension, each
// joined to the base rows inside its window, aggregated per bucket. The date range limits
// the buckets, not the rows, so a window may reach before the range.
func (b *builder) rolling(p *plan.Plan, r *plan.Rolling) (string, error) {
	td := r.Time
	raw, err := b.dimension(td.Dimension)
	if err != nil {
		return "", err
	}
	local := b.local(raw)
	m := &measures{b: b, p: p, inline: true}
	mm := r.Measure
	arg, err := m.argument(mm.Cube, mm)
	if err != nil {
		return "", err
	}
	if mm.Type == model.MeasureCount {
		// Cube sums the counts in a window (spec E.7), so a window without rows is NULL, not
		// 0: each base row counts 1 or 0 and the buckets sum them.
		arg = "CASE WHEN " + arg + " IS NOT NULL THEN 1 ELSE 0 END"
	}
	// Base rows: the dimensions, the local time and the value, distinct per primary key when
	// the joins multiply the measure's cube.
	var base []string
	var dimCols []string
	for _, c := range keyColumns(p) {
		if c.Kind == plan.ColTime {
			if c.Time != td {
				return "", errs.Invalid("a rolling window measure can be grouped by one time dimension only")
			}
			continue
		}
		expr, err := b.column(c, m)
		if err != nil {
			return "", err
		}
		base = append(base, expr+" AS "+b.q(c.Alias))
		dimCols = append(dimCols, c.Alias)
	}
	base = append(base, local+" AS "+b.q("__time"), arg+" AS "+b.q("__value"))
	distinct := ""
	if p.Multiplied[mm.Cube] && len(mm.Cube.PrimaryKeys()) > 0 {
		pk, err := b.primaryKey(mm.Cube)
		if err != nil {
			return "", err
		}
		base = append(base, pk+" AS "+b.q("__pk"))
		distinct = "DISTINCT "
	}
	from, err := b.from(p)
	if err != nil {
		return "", err
	}
	where, err := b.where(p, r)
	if err != nil {
		return "", err
	}
	baseSQL := "SELECT " + distinct + strings.Join(base, ",\n  ") + "\nFROM " + from + where
	series, err := b.series(td, baseSQL)
	if err != nil {
		return "", err
	}
	cond, err := b.window(mm, td.Granularity)
	if err != nil {
		return "", err
	}
	var sel []string
	for _, c := range dimCols {
		sel = append(sel, b.q("base")+"."+b.q(c)+" AS "+b.q(c))
	}
	if td.Granularity != "" {
		sel = append(sel, b.q("series")+"."+b.q("date_from")+" AS "+b.q(plan.Alias(td.Name)+"_"+td.Granularity))
	}
	value := b.q("base") + "." + b.q("__value")
	agg := m.aggregate(mm.Cube, mm, value)
	if mm.Type == model.MeasureCount {
		agg = "sum(" + value + ")"
	}
	sel = append(sel, agg+" AS "+b.q(leafAlias(mm)))
	sql := "SELECT " + strings.Join(sel, ",\n  ") +
		"\nFROM (" + series + ") AS " + b.q("series") +
		"\nLEFT JOIN (" + baseSQL + ") AS " + b.q("base") + " ON " + cond
	if n := len(sel) - 1; n > 0 {
		sql += "\nGROUP BY " + positions(n)
	}
	return sql, nil
}

// series renders the buckets of the rolling window's time dimension as rows of
// (date_from, date_to) in local time: the date range cut into granularity steps, or one
// bucket for the whole range, or, without a range, the span of the data.
func (b *builder) series(td *query.TimeDimensionRef, baseSQL string) (string, error) {
	q := b.q
	if td.DateRange == nil && td.Granularity == "" {
		return "", errs.Invalid("rolling window over %s needs a granularity or a dateRange", td.Name)
	}
	var from, to string
	if td.DateRange != nil {
		loc := b.root.Query.Location
		f, err := parseLocal(td.DateRange.From, loc)
		if err != nil {
			return "", errs.Invalid("Can't parse date: '%s'", td.DateRange.From)
		}
		t, err := parseLocal(td.DateRange.To, loc)
		if err != nil {
			return "", errs.Invalid("Can't parse date: '%s'", td.DateRange.To)
		}
		from, to = b.d.Timestamp(b.arg(localText(f))), b.d.Timestamp(b.arg(localText(t)))
	} else {
		span := "(SELECT %s(" + q("__time") + ") FROM (" + baseSQL + ") AS " + q("span") + ")"
		from, to = fmt.Sprintf(span, "min"), fmt.Sprintf(span, "max")
	}
	if td.Granularity == "" {
		return "SELECT " + from + " AS " + q("date_from") + ", " + to + " AS " + q("date_to"), nil
	}
	start, step := b.d.Trunc(dialectUnit(td.Granularity), from), granularityStep(b.d, td.Granularity)
	if td.Custom != nil {
		// The buckets of a custom granularity: the bucket holding from, then one interval
		// after another, the same values the time column of other groups takes.
		iv, err := parseInterval(td.Custom.Interval)
		if err != nil {
			return "", errs.Invalid("granularity %s: %v", td.Custom.Name, err)
		}
		if start, err = b.customGranularity(from, td.Custom); err != nil {
			return "", err
		}
		step = "(" + iv.sql(b.d) + ")"
	}
	return "SELECT " + q("d") + " AS " + q("date_from") + ", " + q("d") + " + " + step + " - " + b.d.Interval(1, "microsecond") +
		" AS " + q("date_to") + "\nFROM " + b.d.Series(start, to, step, q("d")), nil
}

func localText(t time.Time) string { return t.Format("2006-01-02T15:04:05.000000") }

// window is the join condition of a base row to a bucket (spec E.7).
func (b *builder) window(mm *model.Measure, gran string) (string, error) {
	t := b.q("base") + "." + b.q("__time")
	from := b.q("series") + "." + b.q("date_from")
	to := b.q("series") + "." + b.q("date_to")
	rw := mm.RollingWindow
	if rw == nil { // running_total: everything up to the end of the bucket
		return t + " <= " + to, nil
	}
	// year_to_date, quarter_to_date and month_to_date are to_date with their unit.
	if unit, ok := strings.CutSuffix(rw.Type, "_to_date"); ok || rw.Type == "to_date" {
		g := rw.Granularity
		if ok {
			g = unit
		}
		if g == "" {
			g = gran
		}
		if !dialect.Unit(g).Valid() {
			return "", errs.Invalid("rolling_window of %s.%s: to_date needs a built-in granularity, not %q", mm.Cube.Name, mm.Name, g)
		}
		return t + " >= " + b.d.Trunc(dialectUnit(g), to) + " AND " + t + " <= " + to, nil
	}
	shift := func(edge, amount, sign string) (string, error) {
		if amount == "" {
			return edge, nil
		}
		iv, err := parseInterval(amount)
		if err != nil {
			return "", errs.Invalid("rolling_window of %s.%s: %v", mm.Cube.Name, mm.Name, err)
		}
		return "(" + edge + " " + sign + " " + iv.sql(b.d) + ")", nil
	}
	edge, lowOp, highOp := to, " > ", " <= "
	if rw.Offset == "start" {
		edge, lowOp, highOp = from, " >= ", " < "
	}
	var conds []string
	if rw.Trailing != "unbounded" {
		low, err := shift(edge, rw.Trailing, "-")
		if err != nil {
			return "", err
		}
		conds = append(conds, t+lowOp+low)
	}
	if rw.Leading != "unbounded" {
		high, err := shift(edge, rw.Leading, "+")
		if err != nil {
			return "", err
		}
		conds = append(conds, t+highOp+high)
	}
	if len(conds) == 0 {
		return "1 = 1", nil
	}
	return strings.Join(conds, " AND "), nil
}
