package model

import (
	"slices"
	"strings"
)

// extendState tracks the depth-first walk over `extends`, to resolve parents first and to
// find cycles.
type extendState int

const (
	extendNew extendState = iota
	extendVisiting
	extendDone
)

// resolveExtends copies into every cube and view what it inherits from the definition it
// extends, parents first.
func (l *loader) resolveExtends() {
	byName := make(map[string]*decoded, len(l.defs))
	for _, d := range l.defs {
		if _, dup := byName[d.cube.Name]; !dup {
			byName[d.cube.Name] = d
		}
	}
	state := make(map[*decoded]extendState, len(l.defs))
	for _, d := range l.defs {
		l.extend(d, byName, state, nil)
	}
}

func (l *loader) extend(d *decoded, byName map[string]*decoded, state map[*decoded]extendState, chain []string) {
	c := d.cube
	switch state[d] {
	case extendDone:
		return
	case extendVisiting:
		cycle := slices.Concat(chain[slices.Index(chain, c.Name):], []string{c.Name})
		l.probs.add(c.Pos, "%s %s extends %s: cycle %s", c.Kind, c.Name, c.Extends,
			strings.Join(cycle, " -> "))
		return
	}
	defer func() { state[d] = extendDone }()
	if c.Extends == "" {
		return
	}
	state[d] = extendVisiting
	parent := byName[c.Extends]
	switch {
	case parent == nil:
		l.probs.add(c.Pos, "%s %s extends %s: Cube %s doesn't exist%s", c.Kind, c.Name,
			c.Extends, c.Extends, didYouMean(c.Extends, l.names(c.Kind)))
		return
	case parent.cube.Kind != c.Kind:
		l.probs.add(c.Pos, "%s %s extends %s: a %s can only extend a %s, and %s is a %s",
			c.Kind, c.Name, c.Extends, c.Kind, c.Kind, c.Extends, parent.cube.Kind)
		return
	}
	l.extend(parent, byName, state, append(chain, c.Name))
	if state[parent] != extendDone {
		return // a cycle, reported where it closes
	}
	inherit(d, parent)
}

// names returns the names of the definitions of one kind, for suggestions.
func (l *loader) names(k Kind) []string {
	var names []string
	for _, d := range l.defs {
		if d.cube.Kind == k {
			names = append(names, d.cube.Name)
		}
	}
	return names
}

// inherit applies Cube's extends semantics: the child gets the parent's members, joins,
// pre-aggregations and hierarchies (its own definitions with the same name win) and every
// property it does not set itself.
func inherit(child, parent *decoded) {
	c, p := child.cube, parent.cube
	from, to := p.Name, c.Name
	c.Measures = merge(p.Measures, c.Measures, func(m *Measure) string { return m.Name },
		func(m *Measure) *Measure {
			cp := *m
			cp.DrillMembers = rebase(m.DrillMembers, from, to)
			return &cp
		})
	c.Dimensions = merge(p.Dimensions, c.Dimensions, func(d *Dimension) string { return d.Name },
		func(d *Dimension) *Dimension { cp := *d; return &cp })
	c.Segments = merge(p.Segments, c.Segments, func(s *Segment) string { return s.Name },
		func(s *Segment) *Segment { cp := *s; return &cp })
	c.Joins = merge(p.Joins, c.Joins, func(j *Join) string { return j.Name },
		func(j *Join) *Join { cp := *j; return &cp })
	c.PreAggregations = merge(p.PreAggregations, c.PreAggregations,
		func(a *PreAggregation) string { return a.Name },
		func(a *PreAggregation) *PreAggregation { return rebasePreAgg(a, from, to) })
	c.Hierarchies = merge(p.Hierarchies, c.Hierarchies, func(h *Hierarchy) string { return h.Name },
		func(h *Hierarchy) *Hierarchy {
			cp := *h
			cp.Levels = rebase(h.Levels, from, to)
			return &cp
		})
	c.ViewCubes = append(slices.Clip(p.ViewCubes), c.ViewCubes...)
	inheritProperties(child, parent)
}

// inheritProperties copies the properties the child leaves unset.
func inheritProperties(child, parent *decoded) {
	c, p, set := child.cube, parent.cube, child.set
	if !set["sql"] && !set["sql_table"] {
		c.SQL, c.SQLTable = p.SQL, p.SQLTable
	}
	if !set["public"] && !set["shown"] {
		c.Public = p.Public
	}
	if !set["title"] {
		c.Title = p.Title
	}
	if !set["description"] {
		c.Description = p.Description
	}
	if !set["data_source"] {
		c.DataSource = p.DataSource
	}
	if !set["refresh_key"] {
		c.RefreshKey = p.RefreshKey
	}
	if !set["meta"] {
		c.Meta = p.Meta
	}
	if !set["folders"] {
		c.Folders = p.Folders
	}
	if !set["access_policy"] {
		c.AccessPolicy = p.AccessPolicy
	}
}

// merge returns the parent's definitions (cloned, so that the child can own them) with the
// child's own ones overriding by name, in the parent's order, followed by the child's new
// ones. Duplicates among the child's own definitions are kept for validation to report.
func merge[T any](parent, own []T, name func(T) string, clone func(T) T) []T {
	if len(parent) == 0 {
		return own
	}
	out := make([]T, 0, len(parent)+len(own))
	inherited := make(map[string]int, len(parent))
	for _, x := range parent {
		inherited[name(x)] = len(out)
		out = append(out, clone(x))
	}
	for _, x := range own {
		if i, ok := inherited[name(x)]; ok {
			out[i] = x
			delete(inherited, name(x))
			continue
		}
		out = append(out, x)
	}
	return out
}

// rebase rewrites "parent.member" references to "child.member": the parent wrote them as
// `member` or `CUBE.member`, which mean the child once inherited.
func rebase(refs []string, from, to string) []string {
	if len(refs) == 0 {
		return refs
	}
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = rebaseRef(r, from, to)
	}
	return out
}

func rebaseRef(ref, from, to string) string {
	if rest, ok := strings.CutPrefix(ref, from+"."); ok {
		return to + "." + rest
	}
	return ref
}

func rebasePreAgg(a *PreAggregation, from, to string) *PreAggregation {
	cp := *a
	cp.Measures = rebase(a.Measures, from, to)
	cp.Dimensions = rebase(a.Dimensions, from, to)
	cp.Segments = rebase(a.Segments, from, to)
	cp.Rollups = rebase(a.Rollups, from, to)
	cp.TimeDimension = rebaseRef(a.TimeDimension, from, to)
	cp.Indexes = make([]*Index, len(a.Indexes))
	for i, ix := range a.Indexes {
		cp.Indexes[i] = &Index{Name: ix.Name, Type: ix.Type, Columns: rebase(ix.Columns, from, to)}
	}
	return &cp
}
