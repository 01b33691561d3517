package query

import (
	"fmt"
	"strings"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
)

// Resolved is a normalised query whose member names are bound to the model. Members of
// views are bound to the cube members they alias, with the view's join path kept.
type Resolved struct {
	*Normalized
	Model          *model.Model
	Measures       []*MeasureRef
	Dimensions     []*DimensionRef
	TimeDimensions []*TimeDimensionRef
	Segments       []*SegmentRef
	// Filters are ANDed; leaves on measures become HAVING conditions.
	Filters   []*FilterNode
	Order     []OrderRef
	JoinHints [][]*model.Cube
	// Ungrouped selects rows without aggregation.
	Ungrouped bool
}

// Ref names a member as the query wrote it and where its definition lives.
type Ref struct {
	// Name is the member as the query named it, e.g. "orders_view.status".
	Name string
	// Cube is the cube that defines the member (for a view member, the aliased cube).
	Cube *model.Cube
	// Path is the join path a view fixes, root first; nil for a cube member.
	Path []string
}

// MeasureRef is a measure of the query.
type MeasureRef struct {
	Ref
	Measure *model.Measure
}

// DimensionRef is a dimension of the query.
type DimensionRef struct {
	Ref
	Dimension *model.Dimension
}

// TimeDimensionRef is a time dimension of the query, with its granularity and range.
type TimeDimensionRef struct {
	Ref
	Dimension   *model.Dimension
	Granularity string             // built-in or custom name; "" for a filter only
	Custom      *model.Granularity // set for a custom granularity
	DateRange   *Range
}

// SegmentRef is a segment of the query.
type SegmentRef struct {
	Ref
	Segment *model.Segment
}

// FilterNode is a filter leaf or an and/or group.
type FilterNode struct {
	And, Or   []*FilterNode
	Ref       Ref
	Dimension *model.Dimension // exactly one of Dimension and Measure is set on a leaf
	Measure   *model.Measure
	Operator  Operator
	Values    []*string
}

// IsMeasure reports whether the node filters on measures (a HAVING condition). The
// measureFilter operator applies a measure's own filters to rows, so it is not one.
func (f *FilterNode) IsMeasure() bool {
	if f.Measure != nil {
		return f.Operator != "measureFilter"
	}
	for _, c := range append(f.And, f.Or...) {
		if c.IsMeasure() {
			return true
		}
	}
	return false
}

// OrderRef is one ORDER BY item: Key is the output column key ("orders.count",
// "orders.created_at.day").
type OrderRef struct {
	Key  string
	Desc bool
}

// Resolve binds the members of a normalised query to m. Errors name the member and suggest
// the nearest valid one.
func Resolve(n *Normalized, m *model.Model) (*Resolved, error) {
	q := n.Query
	r := &Resolved{Normalized: n, Model: m, Ungrouped: q.Ungrouped}
	for _, name := range q.Measures {
		ref, mm, err := resolveMeasure(m, name)
		if err == nil {
			err = visible(m, name)
		}
		if err != nil {
			return nil, err
		}
		r.Measures = append(r.Measures, &MeasureRef{Ref: ref, Measure: mm})
	}
	for _, name := range q.Dimensions {
		ref, d, err := resolveDimension(m, name)
		if err == nil {
			err = visible(m, name)
		}
		if err != nil {
			return nil, err
		}
		r.Dimensions = append(r.Dimensions, &DimensionRef{Ref: ref, Dimension: d})
	}
	for _, td := range n.TimeDimensions {
		t, err := resolveTimeDimension(m, td)
		if err != nil {
			return nil, err
		}
		r.TimeDimensions = append(r.TimeDimensions, t)
	}
	for _, name := range q.Segments {
		ref, s, err := resolveSegment(m, name)
		if err == nil {
			err = visible(m, name)
		}
		if err != nil {
			return nil, err
		}
		r.Segments = append(r.Segments, &SegmentRef{Ref: ref, Segment: s})
	}
	for _, f := range n.Filters {
		node, err := resolveFilter(m, f)
		if err != nil {
			return nil, err
		}
		r.Filters = append(r.Filters, node)
	}
	for _, hint := range q.JoinHints {
		var cubes []*model.Cube
		for _, name := range hint {
			c := m.Cube(name)
			if c == nil {
				return nil, errs.UnknownMember("cube in joinHints", name, m.CubeNames())
			}
			cubes = append(cubes, c)
		}
		r.JoinHints = append(r.JoinHints, cubes)
	}
	r.Order = resolveOrder(r, n.Order)
	return r, nil
}

// visible refuses a member the model hides (public: false, or in a hidden cube) from a
// query's result, as Cube does; hidden members may still be filtered on.
func visible(m *model.Model, name string) error {
	cubeName, member, _ := strings.Cut(name, ".")
	c := m.Cube(cubeName)
	public := c.Public
	switch {
	case c.Measure(member) != nil:
		public = public && c.Measure(member).Public
	case c.Dimension(member) != nil:
		public = public && c.Dimension(member).Public
	case c.Segment(member) != nil:
		public = public && c.Segment(member).Public
	}
	if public {
		return nil
	}
	return &errs.Error{Kind: errs.KindInvalid, Member: name, Message: fmt.Sprintf(
		"You requested hidden member: '%s'. Please make it visible using `public: true` (primary keys are hidden by default)", name)}
}

// lookup splits "cube.member" and finds the cube, with a suggestion when it is unknown.
func lookup(m *model.Model, what, name string) (*model.Cube, string, error) {
	cubeName, member, ok := strings.Cut(name, ".")
	if !ok {
		return nil, "", errs.Invalid("%s %s must be written cube.member", what, name)
	}
	c := m.Cube(cubeName)
	if c == nil {
		return nil, "", errs.UnknownMember(what, name, m.MemberNames())
	}
	return c, member, nil
}

// source follows a view member to the cube that defines it.
func source(m *model.Model, name string, c *model.Cube, aliasOf string, path []string) (Ref, *model.Cube, string) {
	if aliasOf == "" {
		return Ref{Name: name, Cube: c}, c, ""
	}
	cubeName, member, _ := strings.Cut(aliasOf, ".")
	src := m.Cube(cubeName)
	return Ref{Name: name, Cube: src, Path: path}, src, member
}

func candidates(c *model.Cube, names func(*model.Cube) []string) []string {
	var out []string
	for _, n := range names(c) {
		out = append(out, c.Name+"."+n)
	}
	return out
}

func measureNames(c *model.Cube) []string {
	var n []string
	for _, m := range c.Measures {
		n = append(n, m.Name)
	}
	return n
}

func dimensionNames(c *model.Cube) []string {
	var n []string
	for _, d := range c.Dimensions {
		n = append(n, d.Name)
	}
	return n
}

func segmentNames(c *model.Cube) []string {
	var n []string
	for _, s := range c.Segments {
		n = append(n, s.Name)
	}
	return n
}

func resolveMeasure(m *model.Model, name string) (Ref, *model.Measure, error) {
	c, member, err := lookup(m, "measure", name)
	if err != nil {
		return Ref{}, nil, err
	}
	mm := c.Measure(member)
	if mm == nil {
		if c.Dimension(member) != nil {
			return Ref{}, nil, errs.Invalid("%s is a dimension, not a measure: put it in dimensions", name)
		}
		return Ref{}, nil, errs.UnknownMember("measure", name, candidates(c, measureNames))
	}
	ref, src, srcName := source(m, name, c, mm.AliasOf, mm.Path)
	if src != c {
		mm = src.Measure(srcName)
	}
	return ref, mm, nil
}

func resolveDimension(m *model.Model, name string) (Ref, *model.Dimension, error) {
	c, member, err := lookup(m, "dimension", name)
	if err != nil {
		return Ref{}, nil, err
	}
	d := c.Dimension(member)
	if d == nil {
		if c.Measure(member) != nil {
			return Ref{}, nil, errs.Invalid("%s is a measure, not a dimension: put it in measures", name)
		}
		return Ref{}, nil, errs.UnknownMember("dimension", name, candidates(c, dimensionNames))
	}
	ref, src, srcName := source(m, name, c, d.AliasOf, d.Path)
	if src != c {
		d = src.Dimension(srcName)
	}
	return ref, d, nil
}

func resolveSegment(m *model.Model, name string) (Ref, *model.Segment, error) {
	c, member, err := lookup(m, "segment", name)
	if err != nil {
		return Ref{}, nil, err
	}
	s := c.Segment(member)
	if s == nil {
		return Ref{}, nil, errs.UnknownMember("segment", name, candidates(c, segmentNames))
	}
	ref, src, srcName := source(m, name, c, s.AliasOf, s.Path)
	if src != c {
		s = src.Segment(srcName)
	}
	return ref, s, nil
}

// builtinGranularities are the granularities every time dimension has.
var builtinGranularities = []string{"second", "minute", "hour", "day", "week", "month", "quarter", "year"}

func resolveTimeDimension(m *model.Model, td NormTimeDimension) (*TimeDimensionRef, error) {
	ref, d, err := resolveDimension(m, td.Dimension)
	if err != nil {
		return nil, err
	}
	if d.Type != model.DimTime {
		return nil, errs.Invalid("%s is a %s dimension; timeDimensions need a time dimension", td.Dimension, d.Type)
	}
	if td.Granularity != "" {
		if err := visible(m, td.Dimension); err != nil {
			return nil, err
		}
	}
	t := &TimeDimensionRef{Ref: ref, Dimension: d, Granularity: td.Granularity, DateRange: td.DateRange}
	if td.Granularity == "" || isBuiltin(td.Granularity) {
		return t, nil
	}
	names := append([]string{}, builtinGranularities...)
	for _, g := range d.Granularities {
		if g.Name == td.Granularity {
			t.Custom = g
			return t, nil
		}
		names = append(names, g.Name)
	}
	e := errs.UnknownMember("granularity", td.Granularity, names)
	e.Message += " of " + td.Dimension
	return nil, e
}

func isBuiltin(g string) bool {
	for _, b := range builtinGranularities {
		if b == g {
			return true
		}
	}
	return false
}

func resolveFilter(m *model.Model, f Filter) (*FilterNode, error) {
	node := &FilterNode{}
	if len(f.And) > 0 || len(f.Or) > 0 {
		for _, c := range f.And {
			child, err := resolveFilter(m, c)
			if err != nil {
				return nil, err
			}
			node.And = append(node.And, child)
		}
		for _, c := range f.Or {
			child, err := resolveFilter(m, c)
			if err != nil {
				return nil, err
			}
			node.Or = append(node.Or, child)
		}
		if node.IsMeasure() && hasDimension(node) {
			return nil, errs.Invalid("You cannot use dimension and measure in same condition")
		}
		return node, nil
	}
	node.Operator, node.Values = f.Operator, f.Values
	c, member, err := lookup(m, "member", f.Member)
	if err != nil {
		return nil, err
	}
	switch {
	case c.Measure(member) != nil:
		node.Ref, node.Measure, err = resolveMeasure(m, f.Member)
	case c.Dimension(member) != nil:
		node.Ref, node.Dimension, err = resolveDimension(m, f.Member)
	default:
		return nil, errs.UnknownMember("member", f.Member, append(candidates(c, measureNames), candidates(c, dimensionNames)...))
	}
	return node, err
}

func hasDimension(f *FilterNode) bool {
	if f.Dimension != nil {
		return true
	}
	for _, c := range append(f.And, f.Or...) {
		if hasDimension(c) {
			return true
		}
	}
	return false
}

// resolveOrder maps order ids to output keys. An id names a measure, a dimension, a time
// dimension with granularity ("cube.td.gran"), or a time dimension ("cube.td", meaning its
// first granularity in the query). Ids of members the query does not select are dropped,
// as Cube drops them.
func resolveOrder(r *Resolved, items []OrderItem) []OrderRef {
	keys := map[string]string{}
	for _, mm := range r.Measures {
		keys[mm.Name] = mm.Name
	}
	for _, d := range r.Dimensions {
		keys[d.Name] = d.Name
	}
	for _, td := range r.TimeDimensions {
		if td.Granularity == "" {
			continue
		}
		key := td.Name + "." + td.Granularity
		keys[key] = key
		if _, ok := keys[td.Name]; !ok {
			keys[td.Name] = key
		}
	}
	var out []OrderRef
	for _, it := range items {
		if key, ok := keys[it.ID]; ok {
			out = append(out, OrderRef{Key: key, Desc: it.Desc})
		}
	}
	return out
}
