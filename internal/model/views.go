package model

import (
	"cmp"
	"slices"
	"strings"
)

// resolveViews gives every view its members: new definitions that alias cube members
// (AliasOf) reached through the join path of one of the view's cubes entries.
func (l *loader) resolveViews(m *Model) {
	for _, v := range m.Cubes {
		if v.Kind != KindView {
			continue
		}
		b := &viewBuilder{probs: &l.probs, m: m, v: v,
			origin: map[string]viewOrigin{}, bySource: map[string]string{}}
		for _, vc := range v.ViewCubes {
			b.entry(vc)
		}
		b.mapHierarchyLevels()
		v.index()
	}
}

// viewOrigin is the join path and the "cube.member" a view member aliases.
type viewOrigin struct{ joinPath, alias string }

// viewBuilder builds the members of one view.
type viewBuilder struct {
	probs *Problems
	m     *Model
	v     *Cube
	// origin maps a view member (or hierarchy, prefixed "hierarchy:") to what it aliases, to
	// tell a harmless repeat from a collision.
	origin map[string]viewOrigin
	// bySource maps "cube.member" to the first view member aliasing it, to rewrite the
	// levels of included hierarchies.
	bySource map[string]string
}

func (b *viewBuilder) entry(vc *ViewCube) {
	path := b.joinPath(vc)
	if path == nil {
		return
	}
	src := b.m.Cube(path[len(path)-1])
	excluded := b.excludes(vc, src)
	includes := vc.Includes
	if vc.All {
		includes = allMembers(src, vc.Pos)
	}
	prefix := ""
	if vc.Prefix {
		prefix = cmp.Or(vc.Alias, src.Name) + "_"
	}
	for _, inc := range withLevels(src, includes) {
		member, ok := b.sourceName(vc, src, inc)
		if ok && !excluded[member] {
			b.add(vc, src, path, prefix+cmp.Or(inc.Alias, member), inc, member)
		}
	}
}

// joinPath checks the join path of an entry: cubes that exist and are joined pairwise (a
// join declared on either side). It returns nil when the path is unusable.
func (b *viewBuilder) joinPath(vc *ViewCube) []string {
	if vc.JoinPath == "" {
		b.probs.add(vc.Pos, "view %s: join_path is missing", b.v.Name)
		return nil
	}
	path := strings.Split(vc.JoinPath, ".")
	for i, name := range path {
		c := b.m.Cube(name)
		switch {
		case c == nil:
			b.probs.add(vc.Pos, "view %s: join_path %s: Cube %s doesn't exist%s", b.v.Name,
				vc.JoinPath, name, didYouMean(name, cubeNames(b.m)))
			return nil
		case c.Kind == KindView:
			b.probs.add(vc.Pos, "view %s: join_path %s: %s is a view; a join path goes through cubes",
				b.v.Name, vc.JoinPath, name)
			return nil
		case i > 0 && !joined(b.m.Cube(path[i-1]), c):
			b.probs.add(vc.Pos, "view %s: join_path %s: %s and %s are not joined", b.v.Name,
				vc.JoinPath, path[i-1], name)
			return nil
		}
	}
	return path
}

func joined(a, b *Cube) bool { return a.Join(b.Name) != nil || b.Join(a.Name) != nil }

// cubeNames returns the names of the cubes (not views) of m, for suggestions.
func cubeNames(m *Model) []string {
	var names []string
	for _, c := range m.Cubes {
		if c.Kind == KindCube {
			names = append(names, c.Name)
		}
	}
	return names
}

// allMembers is `includes: "*"`: every measure, dimension, segment and hierarchy.
func allMembers(src *Cube, pos Pos) []*ViewMember {
	var out []*ViewMember
	for _, n := range src.MemberNames() {
		out = append(out, &ViewMember{Name: n, Pos: pos})
	}
	for _, h := range src.Hierarchies {
		out = append(out, &ViewMember{Name: h.Name, Pos: pos})
	}
	return out
}

// withLevels adds the levels of included hierarchies to the includes, as Cube does, so that
// a hierarchy of a view never points at a member the view lacks.
func withLevels(src *Cube, includes []*ViewMember) []*ViewMember {
	out := includes
	for _, inc := range includes {
		h := hierarchy(src, inc.Name)
		if h == nil {
			continue
		}
		for _, level := range h.Levels {
			name, ok := strings.CutPrefix(level, src.Name+".")
			has := func(m *ViewMember) bool { return m.Name == name }
			if ok && !slices.ContainsFunc(out, has) {
				out = append(slices.Clip(out), &ViewMember{Name: name, Pos: inc.Pos})
			}
		}
	}
	return out
}

func hierarchy(c *Cube, name string) *Hierarchy {
	for _, h := range c.Hierarchies {
		if h.Name == name {
			return h
		}
	}
	return nil
}

// sourceName returns the member an include names: `status`, `CUBE.status` or
// `orders.status` for the entry's cube. Other paths are refused, as in Cube.
func (b *viewBuilder) sourceName(vc *ViewCube, src *Cube, inc *ViewMember) (string, bool) {
	name := strings.TrimSpace(inc.Name)
	name = cutEither(name, "CUBE.", src.Name+".")
	if strings.Contains(name, ".") {
		b.probs.add(cmp.Or(inc.Pos, vc.Pos),
			"view %s: Paths aren't allowed in cube includes but '%s' provided as include member",
			b.v.Name, inc.Name)
		return "", false
	}
	return name, true
}

func cutEither(s string, prefixes ...string) string {
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(s, p); ok {
			return rest
		}
	}
	return s
}

// excludes checks the excludes of an entry and returns them as a set.
func (b *viewBuilder) excludes(vc *ViewCube, src *Cube) map[string]bool {
	set := make(map[string]bool, len(vc.Excludes))
	for _, e := range vc.Excludes {
		name := cutEither(strings.TrimSpace(e), "CUBE.", src.Name+".")
		if !src.HasMember(name) && hierarchy(src, name) == nil {
			b.probs.add(vc.Pos, "view %s: unknown member %s.%s in excludes%s", b.v.Name,
				src.Name, name, didYouMean(src.Name+"."+name, includable(src)))
			continue
		}
		set[name] = true
	}
	return set
}

// includable returns the qualified names a view may include from c.
func includable(c *Cube) []string {
	var names []string
	for _, n := range c.MemberNames() {
		names = append(names, c.Name+"."+n)
	}
	for _, h := range c.Hierarchies {
		names = append(names, c.Name+"."+h.Name)
	}
	return names
}

// add creates the view member name aliasing src.member.
func (b *viewBuilder) add(vc *ViewCube, src *Cube, path []string, name string, inc *ViewMember, member string) {
	pos := cmp.Or(inc.Pos, vc.Pos)
	alias := src.Name + "." + member
	if h := hierarchy(src, member); h != nil && !src.HasMember(member) {
		if b.claim("hierarchy:"+name, vc, alias, pos) {
			b.v.Hierarchies = append(b.v.Hierarchies, &Hierarchy{Name: name,
				Title: cmp.Or(inc.Title, h.Title), Levels: h.Levels, Public: h.Public, Pos: pos})
		}
		return
	}
	if !src.HasMember(member) {
		b.probs.add(pos, "view %s: unknown member %s in includes%s", b.v.Name, alias,
			didYouMean(alias, includable(src)))
		return
	}
	if !b.claim(name, vc, alias, pos) {
		return
	}
	if _, ok := b.bySource[alias]; !ok {
		b.bySource[alias] = name
	}
	b.member(src, path, name, inc, member, pos)
}

// member appends the new view member; the source member exists.
func (b *viewBuilder) member(src *Cube, path []string, name string, inc *ViewMember, member string, pos Pos) {
	alias := src.Name + "." + member
	if m := src.Measure(member); m != nil {
		b.v.Measures = append(b.v.Measures, &Measure{Name: name, Type: m.Type,
			Title: cmp.Or(inc.Title, m.Title), Description: cmp.Or(inc.Description, m.Description),
			Format: cmp.Or(inc.Format, m.Format), Meta: metaOr(inc.Meta, m.Meta),
			Public: m.Public, AliasOf: alias, Path: path, Pos: pos})
		return
	}
	if d := src.Dimension(member); d != nil {
		b.v.Dimensions = append(b.v.Dimensions, &Dimension{Name: name, Type: d.Type,
			Title: cmp.Or(inc.Title, d.Title), Description: cmp.Or(inc.Description, d.Description),
			Format: cmp.Or(inc.Format, d.Format), Meta: metaOr(inc.Meta, d.Meta),
			Public: d.Public, PrimaryKey: d.PrimaryKey, Granularities: d.Granularities,
			AliasOf: alias, Path: path, Pos: pos})
		return
	}
	s := src.Segment(member)
	b.v.Segments = append(b.v.Segments, &Segment{Name: name,
		Title: cmp.Or(inc.Title, s.Title), Description: cmp.Or(inc.Description, s.Description),
		Meta: metaOr(inc.Meta, s.Meta), Public: s.Public, AliasOf: alias, Path: path, Pos: pos})
}

func metaOr(a, b map[string]any) map[string]any {
	if a != nil {
		return a
	}
	return b
}

// claim reserves a member name of the view. Including the same member by the same path twice
// is harmless; anything else under a taken name is a collision.
func (b *viewBuilder) claim(name string, vc *ViewCube, alias string, pos Pos) bool {
	origin := viewOrigin{vc.JoinPath, alias}
	prev, taken := b.origin[name]
	switch {
	case !taken:
		b.origin[name] = origin
		return true
	case prev != origin:
		b.probs.add(pos, "view %s: included member %s (%s) conflicts with the member of the "+
			"same name (%s); exclude one of them or give it an alias", b.v.Name,
			strings.TrimPrefix(name, "hierarchy:"), alias, prev.alias)
	}
	return false
}

// mapHierarchyLevels points the levels of the view's hierarchies at the view's own members.
func (b *viewBuilder) mapHierarchyLevels() {
	for _, h := range b.v.Hierarchies {
		levels := make([]string, len(h.Levels))
		for i, l := range h.Levels {
			levels[i] = l
			if name, ok := b.bySource[l]; ok {
				levels[i] = b.v.Name + "." + name
			}
		}
		h.Levels = levels
	}
}
