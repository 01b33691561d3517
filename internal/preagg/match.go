package preagg

import (
	"slices"
	"time"

	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/plan"
	"github.com/cubit-dev/cubit/internal/query"
)

// Coverage is what a built rollup holds: its time zone (the zone its time buckets were cut
// in) and, when a build range bounded it, the instants its rows cover, [From, To).
type Coverage struct {
	Timezone string
	// From and To are zero when the rollup holds every row of the source.
	From, To time.Time
}

// Additive reports whether a measure's rollup values can be aggregated again over coarser
// groups and give the measure over those groups: sums of sums and of counts, minimums of
// minimums, maximums of maximums. Measure filters only change which rows enter the
// aggregate, so they keep it additive. Approximate distinct counts are not: the store keeps
// no HyperLogLog state to merge.
func Additive(m *model.Measure) bool {
	if m.RollingWindow != nil {
		return false
	}
	switch m.Type {
	case model.MeasureCount, model.MeasureSum, model.MeasureMin, model.MeasureMax:
		return true
	}
	return false
}

// Match decides whether rollup r, built as cov says, answers the resolved query q with the
// same rows as the source. It returns "" when it does, else why not. It follows Cube's
// rules (spec D.7, B.5):
//
//   - the query is grouped and in the rollup's time zone; every measure and segment belongs
//     to the rollup's cube, by the cube itself or a view reaching it without a join; a
//     dimension may belong to a cube the rollup joins, by that cube or a view reaching it
//     along the rollup's join path;
//   - every measure is in the rollup; additive ones (Additive) may be re-aggregated over a
//     subset of the dimensions and coarser time buckets; any other one needs an exact match:
//     the same dimensions and the time dimension at the rollup's own granularity;
//   - dimensions and filtered dimensions are in the rollup; the segments are the rollup's;
//   - the rollup's time dimension is asked at a granularity its buckets roll up into, and a
//     date range on it starts and ends on bucket boundaries (unless the rollup allows
//     non-strict matching) and lies inside what was built. A time dimension the rollup
//     stores as a plain dimension keeps its raw values, so it matches at any granularity;
//   - when the rollup joins other cubes, the compiler joins the query's cubes along the
//     rollup's joins from the rollup's cube: a query reading a joined cube alone, or
//     reaching it another way, would group other rows.
func Match(q *query.Resolved, r *Rollup, cov Coverage) string {
	if r.Unusable != "" {
		return "rollup unusable: " + r.Unusable
	}
	if r.Def.Type != "rollup" {
		return "a " + r.Def.Type + " pre-aggregation answers no query"
	}
	if q.Ungrouped {
		return "ungrouped query"
	}
	if q.Timezone != cov.Timezone {
		return "time zone " + q.Timezone + " is not the rollup's " + cov.Timezone
	}
	if len(q.JoinHints) > 0 {
		return "join hints"
	}
	// in says whether the query reaches ref's cube as the rollup does; own, also that it is
	// the rollup's cube.
	in := func(ref query.Ref) bool {
		p, ok := r.path(ref.Cube)
		return ok && (len(ref.Path) == 0 || slices.Equal(ref.Path, p))
	}
	own := func(ref query.Ref) bool { return ref.Cube == r.Cube && in(ref) }
	exact := false
	for _, m := range q.Measures {
		if !own(m.Ref) || !slices.Contains(r.Measures, m.Measure) {
			return "measure " + m.Name + " is not in the rollup"
		}
		exact = exact || !Additive(m.Measure)
	}
	dims := map[*model.Dimension]bool{}
	for _, d := range q.Dimensions {
		if !in(d.Ref) || !slices.Contains(r.Dimensions, d.Dimension) {
			return "dimension " + d.Name + " is not in the rollup"
		}
		dims[d.Dimension] = true
	}
	if len(q.Segments) != len(r.Segments) {
		return "the query's segments are not the rollup's"
	}
	for _, s := range q.Segments {
		if !own(s.Ref) || !slices.Contains(r.Segments, s.Segment) {
			return "segment " + s.Name + " is not the rollup's"
		}
	}
	var filterWhy string
	var walk func(f *query.FilterNode)
	walk = func(f *query.FilterNode) {
		switch {
		case filterWhy != "":
		case f.Measure != nil:
			switch {
			case f.Operator == query.OpMeasureFilter:
				filterWhy = "measureFilter on " + f.Ref.Name
			case !own(f.Ref) || !slices.Contains(r.Measures, f.Measure):
				filterWhy = "filtered measure " + f.Ref.Name + " is not in the rollup"
			case !Additive(f.Measure):
				exact = true
			}
		case f.Dimension != nil:
			if !in(f.Ref) || !slices.Contains(r.Dimensions, f.Dimension) {
				filterWhy = "filtered dimension " + f.Ref.Name + " is not in the rollup"
			}
		}
		for _, c := range append(slices.Clone(f.And), f.Or...) {
			walk(c)
		}
	}
	for _, f := range q.Filters {
		walk(f)
	}
	if filterWhy != "" {
		return filterWhy
	}
	atRollupGrain := false // the query groups by the rollup's time bucket itself
	otherGrain := false    // the query groups by some other time bucket
	for _, td := range q.TimeDimensions {
		if !in(td.Ref) || td.Dimension == r.Time && !own(td.Ref) {
			return "time dimension " + td.Name + " is not in the rollup"
		}
		if td.Dimension != r.Time {
			if !slices.Contains(r.Dimensions, td.Dimension) {
				return "time dimension " + td.Name + " is not in the rollup"
			}
			otherGrain = otherGrain || td.Granularity != ""
			continue
		}
		switch {
		case td.Granularity == "":
		case td.Custom != nil:
			return "custom granularity " + td.Granularity
		case !RollsUp(r.Granularity, td.Granularity):
			return "granularity " + td.Granularity + " is not made of the rollup's " + r.Granularity
		case td.Granularity == r.Granularity:
			atRollupGrain = true
		default:
			otherGrain = true
		}
		if why := inRange(q, td, r, cov); why != "" {
			return why
		}
	}
	if !cov.From.IsZero() && !rangedOn(q, r.Time) {
		return "the rollup holds a build range only; the query reads all time"
	}
	if why := sameJoins(q, r); why != "" {
		return why
	}
	if exact {
		switch {
		case len(dims) != len(r.Dimensions):
			return "a non-additive measure needs the rollup's exact dimensions"
		case r.Time != nil && (!atRollupGrain || otherGrain):
			return "a non-additive measure needs the rollup's time dimension at " + r.Granularity
		case r.Time == nil && otherGrain:
			return "a non-additive measure cannot be grouped by a coarser time"
		case r.Def.PartitionGranularity != "" && !RollsUp(r.Granularity, r.Def.PartitionGranularity):
			return "partitions split the rollup's " + r.Granularity + " buckets"
		}
	}
	return ""
}

// sameJoins checks that the compiler joins q's cubes along r's joins: its tree starts at r's
// cube and each of its joins is one of r's. It plans q only when r joins other cubes;
// otherwise every member of q is r's cube's own and reads no other cube. An ambiguous join
// path is the compiler's error, and refuses.
func sameJoins(q *query.Resolved, r *Rollup) string {
	if !r.joins() {
		return ""
	}
	p, err := plan.Build(q, plan.Options{})
	if err != nil {
		return "the query's joins: " + err.Error()
	}
	if p.Tree.Root != r.Tree.Root {
		return "the query joins from cube " + p.Tree.Root.Name + ", the rollup from " + r.Tree.Root.Name
	}
	for _, e := range p.Tree.Edges {
		if !slices.ContainsFunc(r.Tree.Edges, func(x *plan.Edge) bool {
			return x.From == e.From && x.To == e.To && x.Join == e.Join && x.Reversed == e.Reversed
		}) {
			return "the query joins " + e.From.Name + " -> " + e.To.Name + ", which the rollup does not"
		}
	}
	return ""
}

// rangedOn reports whether the query has a date range on the time dimension d.
func rangedOn(q *query.Resolved, d *model.Dimension) bool {
	for _, td := range q.TimeDimensions {
		if td.Dimension == d && td.DateRange != nil {
			return true
		}
	}
	return false
}

// inRange checks a date range on the rollup's time dimension: aligned to the rollup's
// buckets, and inside the coverage.
func inRange(q *query.Resolved, td *query.TimeDimensionRef, r *Rollup, cov Coverage) string {
	if td.DateRange == nil {
		return ""
	}
	if !r.Def.AllowNonStrictDateRange {
		from, err1 := time.Parse(wallLayout, td.DateRange.From)
		to, err2 := time.Parse(wallLayout, td.DateRange.To)
		if err1 != nil || err2 != nil {
			return "unreadable date range"
		}
		if !Trunc(from, r.Granularity).Equal(from) || !Trunc(to.Add(time.Millisecond), r.Granularity).Equal(to.Add(time.Millisecond)) {
			return "date range " + td.DateRange.String() + " is not aligned to " + r.Granularity
		}
	}
	if cov.From.IsZero() {
		return ""
	}
	from, to, err := td.DateRange.UTC(q.Location)
	if err != nil {
		return "unreadable date range"
	}
	if from.Before(cov.From) || !to.Before(cov.To) {
		return "date range " + td.DateRange.String() + " is outside the rollup's build range"
	}
	return ""
}

// wallLayout is how normalised date ranges write local wall clocks.
const wallLayout = "2006-01-02T15:04:05.000"

// Trunc is the start of the bucket of granularity g holding the wall clock t (weeks start
// on Monday). t's location is kept: pass wall clocks as UTC times.
func Trunc(t time.Time, g string) time.Time {
	y, mo, d := t.Date()
	loc := t.Location()
	switch g {
	case "second":
		return t.Truncate(time.Second)
	case "minute":
		return time.Date(y, mo, d, t.Hour(), t.Minute(), 0, 0, loc)
	case "hour":
		return time.Date(y, mo, d, t.Hour(), 0, 0, 0, loc)
	case "day":
		return time.Date(y, mo, d, 0, 0, 0, 0, loc)
	case "week":
		back := (int(t.Weekday()) + 6) % 7
		return time.Date(y, mo, d-back, 0, 0, 0, 0, loc)
	case "month":
		return time.Date(y, mo, 1, 0, 0, 0, 0, loc)
	case "quarter":
		return time.Date(y, mo-(mo-1)%3, 1, 0, 0, 0, 0, loc)
	case "year":
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc)
	}
	return t
}

// Next is the start of the bucket of granularity g after the one starting at t.
func Next(t time.Time, g string) time.Time {
	switch g {
	case "second":
		return t.Add(time.Second)
	case "minute":
		return t.Add(time.Minute)
	case "hour":
		return t.Add(time.Hour)
	case "day":
		return t.AddDate(0, 0, 1)
	case "week":
		return t.AddDate(0, 0, 7)
	case "month":
		return t.AddDate(0, 1, 0)
	case "quarter":
		return t.AddDate(0, 3, 0)
	case "year":
		return t.AddDate(1, 0, 0)
	}
	return t
}
