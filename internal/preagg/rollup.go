package preagg

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/plan"
	"github.com/cubit-dev/cubit/internal/query"
)

// Rollup is a `rollup` pre-aggregation of the model with its members bound: the cube it
// belongs to, the measures, dimensions and segments it stores, its time dimension at its
// granularity, and the joins its build reads. One Rollup is built once per time zone the
// store builds.
type Rollup struct {
	Cube *model.Cube
	Def  *model.PreAggregation
	// Measures, Dimensions and Segments are the members, in the order of the model.
	// Measures and segments are the cube's own; a dimension may belong to a cube joined
	// many_to_one from it (its Cube field says which).
	Measures   []*model.Measure
	Dimensions []*model.Dimension
	Segments   []*model.Segment
	// Time is the time dimension, nil for a rollup without one; Granularity is its
	// granularity (built-in only: a custom granularity makes the rollup unusable).
	Time        *model.Dimension
	Granularity string
	// Original is the original_sql pre-aggregation of the cube that the rollup builds from
	// (use_original_sql_pre_aggregations), nil when it builds from the source.
	Original *Rollup
	// Tree is the join tree the compiler picks for the rollup's grouped query: rooted at
	// Cube, every edge many_to_one, so no join fans out the cube's measures. Nil when the
	// rollup is unusable or not a rollup.
	Tree *plan.JoinTree
	// Unusable says why Cubit will neither build nor serve this rollup; "" when usable.
	Unusable string
}

// ID is the rollup's name as Cube writes it: "<cube>.<name>".
func (r *Rollup) ID() string { return r.Cube.Name + "." + r.Def.Name }

// Rollups binds the rollup pre-aggregations of m, in model order: cubes in the order of
// their files, pre-aggregations in the order of their cube. Other types (original_sql,
// rollup_join, rollup_lambda) are listed as unusable, except original_sql, which is built
// (a copy of its cube's SQL) but answers no query itself.
func Rollups(m *model.Model) []*Rollup {
	var out []*Rollup
	for _, c := range m.Cubes {
		if c.Kind != model.KindCube {
			continue
		}
		var original *Rollup
		start := len(out)
		for _, p := range c.PreAggregations {
			r := bind(m, c, p)
			if p.Type == "original_sql" && r.Unusable == "" && original == nil {
				original = r
			}
			out = append(out, r)
		}
		for _, r := range out[start:] {
			if r.Def.Type == "rollup" && r.Def.UseOriginalSQL {
				r.Original = original // as in Cube, none means the source
			}
		}
	}
	return out
}

// bindOriginal checks an original_sql pre-aggregation: Cubit copies its cube's SQL as
// written, so the SQL may not depend on the request nor reference members.
func bindOriginal(c *model.Cube, p *model.PreAggregation, r *Rollup) *Rollup {
	switch {
	case p.PartitionGranularity != "":
		r.Unusable = "a partitioned original_sql is not supported yet"
	case c.SQLTable == "" && c.SQL == nil:
		r.Unusable = "cube " + c.Name + " has no sql"
	case c.SQLTable == "":
		for _, part := range c.SQL.Parts {
			if part.Kind != model.PartText {
				r.Unusable = "cube " + c.Name + "'s sql has references: original_sql copies plain SQL only"
				break
			}
		}
	}
	return r
}

// originalSQL is the query whose rows an original_sql pre-aggregation copies.
func originalSQL(c *model.Cube) string {
	if c.SQLTable != "" {
		return "SELECT * FROM " + c.SQLTable
	}
	var sb strings.Builder
	for _, part := range c.SQL.Parts {
		sb.WriteString(part.Text)
	}
	return "SELECT * FROM (" + sb.String() + ") AS " + quote(c.Name)
}

func bind(m *model.Model, c *model.Cube, p *model.PreAggregation) *Rollup {
	r := &Rollup{Cube: c, Def: p, Granularity: p.Granularity}
	why := func(format string, args ...any) *Rollup {
		if r.Unusable == "" {
			r.Unusable = fmt.Sprintf(format, args...)
		}
		return r
	}
	switch p.Type {
	case "rollup":
	case "original_sql":
		return bindOriginal(c, p, r)
	default:
		return why("type %s is not supported yet", p.Type)
	}
	for _, ref := range p.Measures {
		cube, mm := member(m, ref)
		if cube != c || cube.Measure(mm) == nil {
			return why("measure %s is not a measure of cube %s", ref, c.Name)
		}
		r.Measures = append(r.Measures, cube.Measure(mm))
	}
	for _, ref := range p.Dimensions {
		cube, d := member(m, ref)
		if cube == nil || cube.Dimension(d) == nil {
			return why("dimension %s is not a dimension", ref)
		}
		if cube != c && c.HasMember(plan.Alias(ref)) {
			// The rollup table model names a joined dimension by its alias in c.
			return why("dimension %s has the name of cube %s's member %s", ref, c.Name, plan.Alias(ref))
		}
		r.Dimensions = append(r.Dimensions, cube.Dimension(d))
	}
	for _, ref := range p.Segments {
		cube, s := member(m, ref)
		if cube != c || cube.Segment(s) == nil {
			return why("segment %s is not a segment of cube %s", ref, c.Name)
		}
		r.Segments = append(r.Segments, cube.Segment(s))
	}
	if p.TimeDimension != "" {
		cube, d := member(m, p.TimeDimension)
		if cube != c || cube.Dimension(d) == nil {
			return why("time_dimension %s is not a dimension of cube %s", p.TimeDimension, c.Name)
		}
		r.Time = cube.Dimension(d)
		if _, ok := granRank[p.Granularity]; !ok {
			return why("granularity %s is not a built-in granularity", p.Granularity)
		}
	}
	if len(r.Measures) == 0 && len(r.Dimensions) == 0 && r.Time == nil {
		return why("it has no members")
	}
	for _, d := range r.Dimensions {
		if d.SubQuery {
			return why("dimension %s is a sub_query dimension", d.Name)
		}
	}
	for _, mm := range r.Measures {
		if mm.RollingWindow != nil || mm.Type == model.MeasureRunningTotal {
			return why("measure %s has a rolling window", mm.Name)
		}
	}
	if t := contextual(m, r); t != "" {
		return why("%s", t)
	}
	tree, err := joinTree(m, r)
	if err != nil {
		return why("its joins: %v", err)
	}
	if tree.Root != c {
		return why("its members do not join from cube %s", c.Name)
	}
	for _, e := range tree.Edges {
		if e.Relationship() != model.ManyToOne {
			return why("the join %s -> %s is %s, not many_to_one: it would fan out the measures of %s",
				e.From.Name, e.To.Name, e.Relationship(), c.Name)
		}
		if t := contextualCube(e.To); t != "" {
			return why("%s", t)
		}
		if t := contextualTemplate(e.Join.SQL); t != "" {
			return why("the join %s -> %s: %s", e.From.Name, e.To.Name, t)
		}
	}
	r.Tree = tree
	return r
}

// joinTree is the join tree the compiler picks for r's grouped query, the one its build
// reads. The rollup's own query is planned, not a join path of its own, so the build and a
// query that matches it join alike.
func joinTree(m *model.Model, r *Rollup) (*plan.JoinTree, error) {
	n, err := query.Normalize(buildQuery(r, "UTC", partition{}), query.Options{DefaultTimezone: "UTC"})
	if err != nil {
		return nil, err
	}
	res, err := query.Resolve(n, m)
	if err != nil {
		return nil, err
	}
	p, err := plan.Build(res, plan.Options{})
	if err != nil {
		return nil, err
	}
	return p.Tree, nil
}

// joins reports whether r's build joins other cubes to its own.
func (r *Rollup) joins() bool { return r.Tree != nil && len(r.Tree.Edges) > 0 }

// path is the join path from r's cube to cube c in r's tree, root first, as a view writes
// it; false when the tree does not hold c.
func (r *Rollup) path(c *model.Cube) ([]string, bool) {
	if r.Tree == nil {
		return nil, false
	}
	out := []string{c.Name}
	for at := c; at != r.Tree.Root; {
		var from *model.Cube
		for _, e := range r.Tree.Edges {
			if e.To == at {
				from = e.From
				break
			}
		}
		if from == nil {
			return nil, false
		}
		out = append(out, from.Name)
		at = from
	}
	slices.Reverse(out)
	return out, true
}

// member splits a pre-aggregation reference ("orders.status") into its cube and member.
func member(m *model.Model, ref string) (*model.Cube, string) {
	cube, name, ok := strings.Cut(ref, ".")
	if !ok {
		return nil, ""
	}
	return m.Cube(cube), name
}

// contextual says why the rows of the rollup depend on who asks, on the query's filters or
// on how its cube joins: a SECURITY_CONTEXT or FILTER_PARAMS reference in the cube's SQL or
// in its members', or a measure or segment that reads another cube. A rollup is built once
// for everybody, so it would leak one tenant's rows to another or keep rows a FILTER_PARAMS
// would have dropped. Dimensions may read other cubes: the join tree bind checks holds
// them. The cubes joined in are checked with the tree. "" when none applies.
func contextual(m *model.Model, r *Rollup) string {
	if t := contextualCube(r.Cube); t != "" {
		return t
	}
	var own, joined []*model.Template // own may reference only r.Cube
	for _, d := range r.Dimensions {
		joined = append(joined, dimensionTemplates(d)...)
	}
	if r.Time != nil {
		joined = append(joined, dimensionTemplates(r.Time)...)
	}
	for _, mm := range r.Measures {
		own = append(own, mm.SQL)
		own = append(own, mm.Filters...)
	}
	for _, s := range r.Segments {
		own = append(own, s.SQL)
	}
	for _, t := range own {
		if t == nil {
			continue
		}
		for _, p := range t.Parts {
			if p.Kind != model.PartRef {
				continue
			}
			if target, _ := plan.ResolveRef(m, r.Cube, p); target != nil && target != r.Cube {
				return "a measure or segment reads cube " + target.Name + " (only dimensions may come from joined cubes)"
			}
		}
	}
	for _, t := range append(own, joined...) {
		if why := contextualTemplate(t); why != "" {
			return "a member of the rollup " + why
		}
	}
	return ""
}

// contextualCube says why the rows of cube c's SQL depend on who asks or on the query.
func contextualCube(c *model.Cube) string {
	if why := contextualTemplate(c.SQL); why != "" {
		return "cube " + c.Name + " " + why
	}
	return ""
}

// contextualTemplate says why template t depends on who asks or on the query.
func contextualTemplate(t *model.Template) string {
	if t == nil {
		return ""
	}
	for _, p := range t.Parts {
		switch p.Kind {
		case model.PartSecurityContext:
			return "reads SECURITY_CONTEXT"
		case model.PartFilterParams:
			return "reads FILTER_PARAMS"
		}
	}
	return ""
}

// dimensionTemplates lists the SQL templates of a dimension.
func dimensionTemplates(d *model.Dimension) []*model.Template {
	out := []*model.Template{d.SQL, d.Latitude, d.Longitude}
	if d.Case != nil {
		for _, w := range d.Case.When {
			out = append(out, w.SQL, w.Label.SQL)
		}
		out = append(out, d.Case.Else.SQL)
	}
	return out
}

// granRank orders the built-in granularities from finest to coarsest.
var granRank = map[string]int{"second": 0, "minute": 1, "hour": 2, "day": 3, "week": 4, "month": 5, "quarter": 6, "year": 7}

// RollsUp reports whether buckets of granularity fine group exactly into buckets of coarse:
// year ⊃ quarter ⊃ month ⊃ day ⊃ hour ⊃ minute ⊃ second, and week ⊃ day; a week does not
// roll up into a month, a quarter or a year (spec B.5).
func RollsUp(fine, coarse string) bool {
	f, okf := granRank[fine]
	c, okc := granRank[coarse]
	switch {
	case !okf || !okc:
		return false
	case fine == coarse:
		return true
	case fine == "week":
		return false
	case coarse == "week":
		return f <= granRank["day"]
	}
	return f < c
}
