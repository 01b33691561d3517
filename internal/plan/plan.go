package plan

import (
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/query"
)

// Options are the planner's switches.
type Options struct {
	// AllowUngroupedWithoutPrimaryKey lifts the rule that an ungrouped query must select
	// the primary key of every cube it reads (CUBEJS_ALLOW_UNGROUPED_WITHOUT_PRIMARY_KEY).
	AllowUngroupedWithoutPrimaryKey bool
}

// ColumnKind tells the output columns apart.
type ColumnKind int

const (
	ColDimension ColumnKind = iota
	ColTime
	ColMeasure
)

// Column is one output column of the query.
type Column struct {
	// Key is the member key of the column in the response: "orders.status",
	// "orders.created_at.day".
	Key string
	// Alias is the SQL column alias: "orders__status", "orders__created_at_day".
	Alias     string
	Kind      ColumnKind
	Dimension *query.DimensionRef
	Time      *query.TimeDimensionRef
	Measure   *query.MeasureRef
}

// Plan is the logical plan of one query.
type Plan struct {
	Query *query.Resolved
	Tree  *JoinTree
	// Columns are the output columns: dimensions, time dimensions with a granularity, then
	// measures, each in query order.
	Columns []*Column
	// Multiplied are the cubes of the tree whose rows the joins duplicate.
	Multiplied map[*model.Cube]bool
	// Groups aggregate the leaf measures. The common case is one group over the join tree;
	// measures of multiplied cubes get a group each that first takes the distinct keys.
	Groups []*Group
	// Where holds dimension filters; Having holds measure filters.
	Where, Having []*query.FilterNode
	// DateRanges are the time dimensions that carry a date range (filters on the raw column).
	DateRanges []*query.TimeDimensionRef
	// SubQueries are the plans of sub_query dimensions, joined back on their cube's key.
	SubQueries map[*model.Dimension]*SubQuery
}

// Group computes some leaf measures at the query's grain.
type Group struct {
	// KeyCube is nil for a plain aggregation over the join tree. Otherwise the group takes
	// the distinct (dimensions, primary key of KeyCube) from the tree, joins KeyCube back on
	// its key and aggregates, so no join can multiply KeyCube's rows.
	KeyCube *model.Cube
	// Source, when set, is the join tree KeyCube's rows are read from because the SQL of
	// the group's measures reads other cubes; nil reads KeyCube alone.
	Source *JoinTree
	// Rolling is the rolling-window measure this group computes; nil for other groups.
	Rolling *Rolling
	// Leaves are the aggregating measures computed here.
	Leaves []*model.Measure
}

// Rolling is a cumulative measure: for each bucket of the time dimension, the measure over
// the rows in the window around it.
type Rolling struct {
	Measure *model.Measure
	Time    *query.TimeDimensionRef
}

// SubQuery is a sub_query dimension: the measure its SQL references, computed per primary
// key of the dimension's cube.
type SubQuery struct {
	Plan *Plan
	Key  []*model.Dimension
}

// Single reports whether the plan is one plain aggregation, rendered as a single SELECT.
func (p *Plan) Single() bool {
	return len(p.Groups) == 1 && p.Groups[0].KeyCube == nil && p.Groups[0].Rolling == nil
}

// Build plans a resolved query.
func Build(r *query.Resolved, opt Options) (*Plan, error) {
	p := &Plan{Query: r, SubQueries: map[*model.Dimension]*SubQuery{}}
	p.columns()
	cubes, paths, err := p.cubes()
	if err != nil {
		return nil, err
	}
	if p.Tree, err = buildTree(r.Model, cubes, paths); err != nil {
		return nil, err
	}
	p.Multiplied = p.Tree.Multiplied()
	for _, f := range r.Filters {
		if f.IsMeasure() {
			p.Having = append(p.Having, f)
		} else {
			p.Where = append(p.Where, f)
		}
	}
	for _, td := range r.TimeDimensions {
		if td.DateRange != nil {
			p.DateRanges = append(p.DateRanges, td)
		}
	}
	if r.Ungrouped {
		if err := p.checkUngrouped(opt); err != nil {
			return nil, err
		}
		return p, p.subQueries(opt)
	}
	if err := p.group(); err != nil {
		return nil, err
	}
	return p, p.subQueries(opt)
}

func (p *Plan) columns() {
	r := p.Query
	for _, d := range r.Dimensions {
		p.Columns = append(p.Columns, &Column{Key: d.Name, Alias: Alias(d.Name), Kind: ColDimension, Dimension: d})
	}
	for _, td := range r.TimeDimensions {
		if td.Granularity == "" {
			continue
		}
		key := td.Name + "." + td.Granularity
		p.Columns = append(p.Columns, &Column{Key: key, Alias: Alias(td.Name) + "_" + td.Granularity, Kind: ColTime, Time: td})
	}
	for _, m := range r.Measures {
		p.Columns = append(p.Columns, &Column{Key: m.Name, Alias: Alias(m.Name), Kind: ColMeasure, Measure: m})
	}
}

// cubes lists the cubes the query reads, in the order of spec E.2, with the cubes their
// SQL references, and the join paths fixed by views and join hints.
func (p *Plan) cubes() ([]*model.Cube, [][]string, error) {
	r := p.Query
	var refs refSet
	var paths [][]string
	addPath := func(path []string) {
		if len(path) > 1 {
			paths = append(paths, path)
		}
	}
	for _, m := range r.Measures {
		refs.measure(r.Model, m.Cube, m.Measure)
		addPath(m.Path)
	}
	for _, d := range r.Dimensions {
		refs.dimension(r.Model, d.Cube, d.Dimension)
		addPath(d.Path)
	}
	for _, s := range r.Segments {
		refs.template(r.Model, s.Cube, s.Segment.SQL)
		addPath(s.Path)
	}
	var walk func(f *query.FilterNode)
	walk = func(f *query.FilterNode) {
		switch {
		case f.Measure != nil:
			refs.measure(r.Model, f.Ref.Cube, f.Measure)
			addPath(f.Ref.Path)
		case f.Dimension != nil:
			refs.dimension(r.Model, f.Ref.Cube, f.Dimension)
			addPath(f.Ref.Path)
		}
		for _, c := range append(f.And, f.Or...) {
			walk(c)
		}
	}
	for _, f := range r.Filters {
		walk(f)
	}
	for _, td := range r.TimeDimensions {
		refs.dimension(r.Model, td.Cube, td.Dimension)
		addPath(td.Path)
	}
	for _, hint := range r.JoinHints {
		names := make([]string, len(hint))
		for i, c := range hint {
			names[i] = c.Name
			refs.add(c)
		}
		addPath(names)
	}
	if len(refs.list) == 0 {
		return nil, nil, errs.Invalid("Query should contain either measures, dimensions or timeDimensions with granularities in order to be valid")
	}
	return refs.list, paths, nil
}

// refSet collects cubes in first-seen order, following member references in SQL.
type refSet struct {
	list []*model.Cube
	seen map[*model.Cube]bool
	done map[any]bool
}

func (s *refSet) add(c *model.Cube) {
	if s.seen == nil {
		s.seen, s.done = map[*model.Cube]bool{}, map[any]bool{}
	}
	if !s.seen[c] {
		s.seen[c] = true
		s.list = append(s.list, c)
	}
}

func (s *refSet) measure(m *model.Model, c *model.Cube, mm *model.Measure) {
	s.add(c)
	if s.done[mm] {
		return
	}
	s.done[mm] = true
	s.template(m, c, mm.SQL)
	for _, f := range mm.Filters {
		s.template(m, c, f)
	}
}

func (s *refSet) dimension(m *model.Model, c *model.Cube, d *model.Dimension) {
	s.add(c)
	if s.done[d] || d.SubQuery {
		return
	}
	s.done[d] = true
	for _, t := range dimensionTemplates(d) {
		s.template(m, c, t)
	}
}

func (s *refSet) template(m *model.Model, c *model.Cube, t *model.Template) {
	for _, part := range t.Refs() {
		if part.Kind != model.PartRef {
			continue
		}
		target, member := ResolveRef(m, c, part)
		if target == nil {
			continue
		}
		s.add(target)
		if mm := target.Measure(member); mm != nil {
			s.measure(m, target, mm)
		} else if d := target.Dimension(member); d != nil {
			s.dimension(m, target, d)
		}
	}
}

// ResolveRef finds the cube and member a template reference of cube c points at. The member
// is "" for a reference to a whole cube; the cube is nil when nothing matches (validation
// reports that).
func ResolveRef(m *model.Model, c *model.Cube, part model.Part) (*model.Cube, string) {
	switch {
	case part.Cube == "CUBE":
		return c, part.Member
	case part.Cube == "":
		if c.HasMember(part.Member) {
			return c, part.Member
		}
		return m.Cube(part.Member), ""
	}
	return m.Cube(part.Cube), part.Member
}

// dimensionTemplates are every SQL template of a dimension.
func dimensionTemplates(d *model.Dimension) []*model.Template {
	ts := []*model.Template{d.SQL, d.Latitude, d.Longitude}
	if d.Case != nil {
		for _, w := range d.Case.When {
			ts = append(ts, w.SQL, w.Label.SQL)
		}
		ts = append(ts, d.Case.Else.SQL)
	}
	var out []*model.Template
	for _, t := range ts {
		if t != nil {
			out = append(out, t)
		}
	}
	return out
}
