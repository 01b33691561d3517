package plan

import (
	"fmt"
	"strings"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/query"
)

// group assigns every leaf measure of the query (selected or filtered on) to a group.
// Count-distinct measures and counts of rows are safe under any join; other measures of a
// multiplied cube get a keys group for that cube.
func (p *Plan) group() error {
	r := p.Query
	main := &Group{}
	keyGroups := map[*model.Cube]*Group{}
	var extra []*Group
	seen := map[*model.Measure]bool{}
	var place func(c *model.Cube, m *model.Measure) error
	place = func(c *model.Cube, m *model.Measure) error {
		if seen[m] {
			return nil
		}
		seen[m] = true
		if refs := MeasureRefs(r.Model, c, m); len(refs) > 0 {
			for _, ref := range refs {
				if err := place(ref.Cube, ref.Measure); err != nil {
					return err
				}
			}
			return nil
		}
		if IsRolling(m) {
			g, err := p.rollingGroup(m)
			if err != nil {
				return err
			}
			extra = append(extra, g)
			return nil
		}
		if !p.Multiplied[c] || safeUnderFanOut(m) {
			main.Leaves = append(main.Leaves, m)
			return nil
		}
		if len(c.PrimaryKeys()) == 0 {
			return errs.Invalid("measure %s.%s would be multiplied by the joins %s; define a primary key on %s so it can be aggregated at its own grain",
				c.Name, m.Name, p.Tree, c.Name)
		}
		g := keyGroups[c]
		if g == nil {
			g = &Group{KeyCube: c}
			keyGroups[c] = g
			extra = append(extra, g)
		}
		g.Leaves = append(g.Leaves, m)
		return nil
	}
	for _, m := range r.Measures {
		if err := place(m.Cube, m.Measure); err != nil {
			return err
		}
	}
	for _, f := range p.Having {
		for _, leaf := range filterMeasures(f) {
			if err := place(leaf.Ref.Cube, leaf.Measure); err != nil {
				return err
			}
		}
	}
	for _, g := range extra {
		if g.KeyCube != nil {
			if err := p.measureSource(g); err != nil {
				return err
			}
		}
	}
	if len(main.Leaves) > 0 || len(extra) == 0 {
		p.Groups = append(p.Groups, main)
	}
	p.Groups = append(p.Groups, extra...)
	return nil
}

// safeUnderFanOut reports whether duplicated rows cannot change the measure: distinct
// counts, and counts of rows, which are rendered as a distinct count of the primary key.
func safeUnderFanOut(m *model.Measure) bool {
	switch m.Type {
	case model.MeasureCountDistinct, model.MeasureCountDistinctApprox:
		return true
	case model.MeasureCount:
		return m.SQL == nil && len(m.Cube.PrimaryKeys()) > 0
	}
	return false
}

// IsRolling reports whether m is cumulative over a window of time.
func IsRolling(m *model.Measure) bool {
	return m.RollingWindow != nil || m.Type == model.MeasureRunningTotal
}

// MeasureRef is a measure referenced from another measure's SQL.
type MeasureRef struct {
	Cube    *model.Cube
	Measure *model.Measure
}

// MeasureRefs returns the measures that m's SQL references, when m is a composite of other
// measures (a number, string, time or boolean measure). It is nil for a leaf.
func MeasureRefs(m *model.Model, c *model.Cube, mm *model.Measure) []MeasureRef {
	if mm.Type.Aggregating() {
		return nil
	}
	var refs []MeasureRef
	for _, part := range mm.SQL.Refs() {
		if part.Kind != model.PartRef {
			continue
		}
		target, member := ResolveRef(m, c, part)
		if target == nil {
			continue
		}
		if ref := target.Measure(member); ref != nil {
			refs = append(refs, MeasureRef{Cube: target, Measure: ref})
		}
	}
	return refs
}

// measureSource sets the tree a keys group reads its cube's rows from when the SQL of its
// measures reads other cubes (Cube's measure join): the key cube joined to those cubes only.
// That join must not multiply the key cube, or the measure has no single value per key.
func (p *Plan) measureSource(g *Group) error {
	var refs refSet
	refs.add(g.KeyCube)
	names := make([]string, len(g.Leaves))
	for i, m := range g.Leaves {
		refs.measure(p.Query.Model, g.KeyCube, m)
		names[i] = g.KeyCube.Name + "." + m.Name
	}
	if len(refs.list) == 1 {
		return nil
	}
	tree, err := buildTree(p.Query.Model, refs.list, nil)
	if err != nil {
		return err
	}
	if tree.Multiplied()[g.KeyCube] {
		return errs.Invalid("'%s' references cubes that lead to row multiplication (%s). Please rewrite it using sub query.",
			strings.Join(names, ", "), tree)
	}
	g.Source = tree
	return nil
}

func filterMeasures(f *query.FilterNode) []*query.FilterNode {
	if f.Measure != nil {
		return []*query.FilterNode{f}
	}
	var out []*query.FilterNode
	for _, c := range append(f.And, f.Or...) {
		out = append(out, filterMeasures(c)...)
	}
	return out
}

// rollingGroup plans a cumulative measure over the query's first time dimension.
func (p *Plan) rollingGroup(m *model.Measure) (*Group, error) {
	var td *query.TimeDimensionRef
	for _, t := range p.Query.TimeDimensions {
		if t.Granularity != "" || t.DateRange != nil {
			td = t
			break
		}
	}
	if td == nil {
		return nil, errs.Invalid("measure %s.%s is a rolling window: add a time dimension with a granularity or a dateRange to the query", m.Cube.Name, m.Name)
	}
	if td.Granularity != "" && td.Custom == nil && td.DateRange == nil && p.Query.Ungrouped {
		return nil, errs.Invalid("rolling window measures cannot be used in an ungrouped query")
	}
	return &Group{Rolling: &Rolling{Measure: m, Time: td}, Leaves: []*model.Measure{m}}, nil
}

// checkUngrouped enforces Cube's rule that an ungrouped query selects every primary key of
// the cubes it reads, so that each output row is one source row.
func (p *Plan) checkUngrouped(opt Options) error {
	for _, m := range p.Query.Measures {
		if IsRolling(m.Measure) {
			return errs.Invalid("rolling window measure %s cannot be used in an ungrouped query", m.Name)
		}
	}
	if opt.AllowUngroupedWithoutPrimaryKey {
		return nil
	}
	selected := map[*model.Dimension]bool{}
	for _, d := range p.Query.Dimensions {
		selected[d.Dimension] = true
	}
	var missing []string
	for _, c := range p.Tree.Cubes() {
		for _, pk := range c.PrimaryKeys() {
			if !selected[pk] {
				missing = append(missing, fmt.Sprintf("'%s.%s'", c.Name, pk.Name))
			}
		}
	}
	if len(missing) > 0 {
		return errs.Invalid("Ungrouped query requires primary keys to be present in dimensions: %s. Pass allowUngroupedWithoutPrimaryKey option to disable this check.", strings.Join(missing, ", "))
	}
	return nil
}

// subQueries plans the sub_query dimensions the query selects or filters on: each is the
// measures its SQL references, grouped by the primary key of the dimension's cube.
func (p *Plan) subQueries(opt Options) error {
	var dims []*query.DimensionRef
	dims = append(dims, p.Query.Dimensions...)
	var walk func(f *query.FilterNode)
	walk = func(f *query.FilterNode) {
		if f.Dimension != nil {
			dims = append(dims, &query.DimensionRef{Ref: f.Ref, Dimension: f.Dimension})
		}
		for _, c := range append(f.And, f.Or...) {
			walk(c)
		}
	}
	for _, f := range p.Where {
		walk(f)
	}
	for _, d := range dims {
		if !d.Dimension.SubQuery || p.SubQueries[d.Dimension] != nil {
			continue
		}
		sq, err := p.subQuery(d, opt)
		if err != nil {
			return err
		}
		p.SubQueries[d.Dimension] = sq
	}
	return nil
}

func (p *Plan) subQuery(d *query.DimensionRef, opt Options) (*SubQuery, error) {
	c := d.Cube
	keys := c.PrimaryKeys()
	if len(keys) == 0 {
		return nil, errs.Invalid("sub_query dimension %s.%s needs a primary key on %s", c.Name, d.Dimension.Name, c.Name)
	}
	r := &query.Resolved{Normalized: p.Query.Normalized, Model: p.Query.Model}
	for _, k := range keys {
		r.Dimensions = append(r.Dimensions, &query.DimensionRef{Ref: query.Ref{Name: c.Name + "." + k.Name, Cube: c}, Dimension: k})
	}
	for _, part := range d.Dimension.SQL.Refs() {
		target, member := ResolveRef(p.Query.Model, c, part)
		if target == nil || target.Measure(member) == nil {
			continue
		}
		r.Measures = append(r.Measures, &query.MeasureRef{Ref: query.Ref{Name: target.Name + "." + member, Cube: target}, Measure: target.Measure(member)})
	}
	if len(r.Measures) == 0 {
		return nil, errs.Invalid("sub_query dimension %s.%s must reference a measure, e.g. {orders.count}", c.Name, d.Dimension.Name)
	}
	if d.Dimension.PropagateFiltersToSubQuery {
		// As Cube does: the outer dimension filters, segments and date ranges, but no filter
		// on a sub_query dimension, which would plan this sub-query again inside itself.
		for _, f := range p.Where {
			if !onSubQueryDimension(f) {
				r.Filters = append(r.Filters, f)
			}
		}
		r.Segments = p.Query.Segments
		for _, td := range p.DateRanges {
			r.TimeDimensions = append(r.TimeDimensions, &query.TimeDimensionRef{Ref: td.Ref, Dimension: td.Dimension, DateRange: td.DateRange})
		}
	}
	sub, err := Build(r, opt)
	if err != nil {
		return nil, err
	}
	return &SubQuery{Plan: sub, Key: keys}, nil
}

// onSubQueryDimension reports whether a filter reads a sub_query dimension.
func onSubQueryDimension(f *query.FilterNode) bool {
	if f.Dimension != nil && f.Dimension.SubQuery {
		return true
	}
	for _, c := range append(f.And, f.Or...) {
		if onSubQueryDimension(c) {
			return true
		}
	}
	return false
}
