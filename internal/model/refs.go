package model

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// memberKind is what a reference outside SQL must point at.
type memberKind int

const (
	anyMember memberKind = iota
	measureOnly
	dimensionOnly
	timeDimensionOnly
	segmentOnly
)

func (k memberKind) String() string {
	switch k {
	case measureOnly:
		return "measure"
	case dimensionOnly:
		return "dimension"
	case timeDimensionOnly:
		return "time dimension"
	case segmentOnly:
		return "segment"
	}
	return "member"
}

// is reports whether member name of c is of kind k.
func (k memberKind) is(c *Cube, name string) bool {
	switch k {
	case measureOnly:
		return c.Measure(name) != nil
	case dimensionOnly:
		return c.Dimension(name) != nil
	case timeDimensionOnly:
		d := c.Dimension(name)
		return d != nil && d.Type == DimTime
	case segmentOnly:
		return c.Segment(name) != nil
	}
	return c.HasMember(name)
}

// names returns the qualified names of c's members of kind k, for suggestions.
func (k memberKind) names(c *Cube) []string {
	var names []string
	for _, n := range c.MemberNames() {
		if k.is(c, n) {
			names = append(names, c.Name+"."+n)
		}
	}
	return names
}

// ref checks a "cube.member" reference written outside SQL (pre-aggregation lists,
// drill_members, hierarchy levels). It returns the dimension it names, if any.
func (v *validator) ref(pos Pos, subject, where, ref string, want memberKind) *Dimension {
	cubeName, name := splitRef(ref)
	c := v.m.Cube(cubeName)
	switch {
	case c == nil:
		v.add(pos, "%s: Cube %s doesn't exist (%s in %s)%s", subject, cubeName, ref, where,
			didYouMean(cubeName, v.m.CubeNames()))
		return nil
	case want.is(c, name):
		return c.Dimension(name)
	case c.HasMember(name):
		v.add(pos, "%s: %s in %s is not a %s", subject, c.Name+"."+name, where, want)
		return nil
	}
	v.add(pos, "%s: unknown %s %s.%s in %s%s", subject, want, c.Name, name, where,
		didYouMean(c.Name+"."+name, want.names(c)))
	return nil
}

// splitRef splits "cube.member"; with a join path ("a.b.member") the cube is the last one.
func splitRef(ref string) (cube, member string) {
	i := strings.LastIndexByte(ref, '.')
	if i < 0 {
		return "", ref
	}
	cube = ref[:i]
	if j := strings.LastIndexByte(cube, '.'); j >= 0 {
		cube = cube[j+1:]
	}
	return cube, ref[i+1:]
}

// template checks the references of a SQL template owned by cube c.
func (v *validator) template(c *Cube, subject string, t *Template) {
	if t == nil {
		return
	}
	for _, p := range t.Refs() {
		if msg := v.templateRef(c, p); msg != "" {
			v.add(t.Pos, "%s: %s", subject, msg)
		}
	}
}

// templateRef returns what is wrong with one reference, or "".
func (v *validator) templateRef(c *Cube, p Part) string {
	written := "{" + refText(p) + "}"
	var target *Cube
	switch {
	case p.Kind == PartRef && p.Cube == "CUBE" && p.Member == "":
		return ""
	case p.Kind == PartRef && p.Cube == "CUBE":
		target = c
	case p.Kind == PartRef && p.Cube == "":
		if c.HasMember(p.Member) || v.m.Cube(p.Member) != nil {
			return ""
		}
		return fmt.Sprintf("unknown member or cube %s in %s%s", p.Member, written,
			didYouMean(p.Member, append(c.MemberNames(), v.m.CubeNames()...)))
	case p.Cube == c.Name:
		target = c
	default:
		if target = v.m.Cube(p.Cube); target == nil {
			return fmt.Sprintf("Cube %s doesn't exist in %s%s", p.Cube, written,
				didYouMean(p.Cube, v.m.CubeNames()))
		}
	}
	if target.HasMember(p.Member) {
		return ""
	}
	full := target.Name + "." + p.Member
	return fmt.Sprintf("unknown member %s in %s%s", full, written, didYouMean(full, anyMember.names(target)))
}

// measureRefs reports references to measures in a row-level template: a dimension is one
// value per row, and only a sub_query dimension may compute a measure per row.
func (v *validator) measureRefs(c *Cube, subject string, t *Template) {
	if t == nil {
		return
	}
	for _, p := range t.Refs() {
		full := v.resolve(c, p)
		cube, member, _ := strings.Cut(full, ".")
		if full != "" && v.m.Cube(cube).Measure(member) != nil {
			v.add(t.Pos, "%s: references measure %s; add sub_query: true to compute it for each row of %s", subject, full, c.Name)
		}
	}
}

// refText renders a reference as the user wrote it, for messages.
func refText(p Part) string {
	switch {
	case p.Kind == PartFilterParams:
		return fmt.Sprintf("FILTER_PARAMS.%s.%s.filter(%s)", p.Cube, p.Member, p.Arg)
	case p.Cube == "":
		return p.Member
	case p.Member == "":
		return p.Cube
	}
	return p.Cube + "." + p.Member
}

// resolve returns the "cube.member" a SQL reference expands to, or "" for a reference to a
// whole cube, a filter parameter or something that does not exist.
func (v *validator) resolve(c *Cube, p Part) string {
	if p.Kind != PartRef || p.Member == "" {
		return ""
	}
	target := c
	if p.Cube != "" && p.Cube != "CUBE" {
		target = v.m.Cube(p.Cube)
	}
	if target == nil || !target.HasMember(p.Member) {
		return ""
	}
	return target.Name + "." + p.Member
}

// cycles reports members whose SQL references lead back to themselves: such a member could
// never be expanded.
func (v *validator) cycles() {
	deps := map[string][]string{}
	pos := map[string]Pos{}
	var order []string
	node := func(c *Cube, name string, at Pos, ts ...*Template) {
		key := c.Name + "." + name
		if _, dup := pos[key]; dup {
			return
		}
		pos[key] = at
		order = append(order, key)
		for _, t := range ts {
			for _, p := range t.Refs() {
				if d := v.resolve(c, p); d != "" {
					deps[key] = append(deps[key], d)
				}
			}
		}
	}
	for _, c := range v.m.Cubes {
		if c.Kind != KindCube {
			continue
		}
		for _, m := range c.Measures {
			node(c, m.Name, m.Pos, append([]*Template{m.SQL}, m.Filters...)...)
		}
		for _, d := range c.Dimensions {
			node(c, d.Name, d.Pos, d.templates()...)
		}
		for _, s := range c.Segments {
			node(c, s.Name, s.Pos, s.SQL)
		}
	}
	w := &cycleWalk{v: v, deps: deps, pos: pos, color: map[string]int{}}
	for _, key := range order {
		if w.color[key] == white {
			w.visit(key)
		}
	}
}

const (
	white = iota
	grey
	black
)

// cycleWalk is a depth-first walk over member references that reports back edges.
type cycleWalk struct {
	v     *validator
	deps  map[string][]string
	pos   map[string]Pos
	color map[string]int
	stack []string
}

func (w *cycleWalk) visit(key string) {
	w.color[key] = grey
	w.stack = append(w.stack, key)
	for _, d := range w.deps[key] {
		switch w.color[d] {
		case white:
			w.visit(d)
		case grey:
			start := len(w.stack) - 1
			for w.stack[start] != d {
				start--
			}
			cycle := append(append([]string{}, w.stack[start:]...), d)
			w.v.add(w.pos[d], "circular reference: %s", strings.Join(cycle, " -> "))
		}
	}
	w.stack = w.stack[:len(w.stack)-1]
	w.color[key] = black
}

// validInterval reports whether s is "N unit [N unit ...]" with units second to year,
// singular or plural. signed allows negative quantities (granularity offsets).
func validInterval(s string, signed bool) bool {
	f := strings.Fields(s)
	if len(f) == 0 || len(f)%2 != 0 {
		return false
	}
	for i := 0; i < len(f); i += 2 {
		n := f[i]
		if signed {
			n = strings.TrimPrefix(n, "-")
		}
		if n == "" || strings.Trim(n, "0123456789") != "" || (!signed && strings.Trim(n, "0") == "") {
			return false
		}
		if !validUnit(f[i+1]) {
			return false
		}
	}
	return true
}

func validUnit(u string) bool {
	return slices.Contains(granularities, strings.TrimSuffix(strings.ToLower(u), "s"))
}

// validEvery reports whether a refresh_key every is an interval or a cron expression of
// five or six fields.
func validEvery(s string) bool {
	if validInterval(s, false) {
		return true
	}
	f := strings.Fields(s)
	if len(f) != 5 && len(f) != 6 {
		return false
	}
	for _, field := range f {
		if strings.Trim(strings.ToUpper(field), "0123456789*/,-?#ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			return false
		}
	}
	return true
}

// validTimestamp reports whether s is a date or a date and time, as Cube accepts for a
// granularity origin.
func validTimestamp(s string) bool {
	for _, layout := range []string{time.DateOnly, "2006-01-02T15:04", "2006-01-02T15:04:05",
		"2006-01-02 15:04:05", "2006-01-02T15:04:05.999999999", time.RFC3339Nano} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}
