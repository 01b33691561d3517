package engine

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/cubit-dev/cubit/internal/model"
)

// MetaOptions select what /v1/meta shows.
type MetaOptions struct {
	// Extended adds the raw definitions: SQL, joins, pre-aggregations. It also keeps hidden
	// members and cubes, marked isVisible false, since it describes the model as written.
	Extended bool
	// OnlyViews drops cubes and keeps views.
	OnlyViews bool
}

// Meta is the body of a /v1/meta response (spec C.4).
type Meta struct {
	Cubes []*MetaCube `json:"cubes"`
}

// MetaCube describes one cube or view. The fields after NestedFolders are set only in the
// extended response.
type MetaCube struct {
	Name        string     `json:"name"`
	Type        model.Kind `json:"type"`
	Title       string     `json:"title"`
	Description string     `json:"description,omitempty"`
	IsVisible   bool       `json:"isVisible"`
	Public      bool       `json:"public"`
	// ConnectedComponent is equal for cubes that a chain of joins, in either direction,
	// connects; a view has its root cube's.
	ConnectedComponent int                `json:"connectedComponent"`
	Meta               map[string]any     `json:"meta,omitempty"`
	Measures           []MetaMeasure      `json:"measures"`
	Dimensions         []MetaDimension    `json:"dimensions"`
	Segments           []MetaSegment      `json:"segments"`
	Hierarchies        []MetaHierarchy    `json:"hierarchies"`
	Folders            []MetaFolder       `json:"folders"`
	NestedFolders      []MetaNestedFolder `json:"nestedFolders"`

	SQL             string               `json:"sql,omitempty"`
	SQLTable        string               `json:"sqlTable,omitempty"`
	Joins           []MetaJoin           `json:"joins,omitempty"`
	PreAggregations []MetaPreAggregation `json:"preAggregations,omitempty"`
}

// MetaMeasure describes one measure.
type MetaMeasure struct {
	Name       string `json:"name"`
	Title      string `json:"title"`
	ShortTitle string `json:"shortTitle"`
	// Description is omitted when the model has none, as Cube does.
	Description string `json:"description,omitempty"`
	// Type is the data type of the values: number for every aggregating type.
	Type string `json:"type"`
	// AggType is the measure type in Cube's camelCase spelling (countDistinct, runningTotal).
	AggType string `json:"aggType"`
	// Cumulative is true for rolling windows and running totals; CumulativeTotal repeats it
	// for older clients.
	Cumulative          bool               `json:"cumulative"`
	CumulativeTotal     bool               `json:"cumulativeTotal"`
	DrillMembers        []string           `json:"drillMembers"`
	DrillMembersGrouped DrillMembersGroups `json:"drillMembersGrouped"`
	Format              string             `json:"format,omitempty"`
	Meta                map[string]any     `json:"meta,omitempty"`
	IsVisible           bool               `json:"isVisible"`
	Public              bool               `json:"public"`
	// AliasMember is the "cube.member" a view member stands for.
	AliasMember string `json:"aliasMember,omitempty"`
	// SQL is the raw SQL of the definition, in the extended response only.
	SQL string `json:"sql,omitempty"`
}

// MetaDimension describes one dimension.
type MetaDimension struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	ShortTitle  string `json:"shortTitle"`
	Description string `json:"description,omitempty"`
	// Type is time, string, number or boolean; geo and switch dimensions are strings.
	Type                string         `json:"type"`
	SuggestFilterValues bool           `json:"suggestFilterValues"`
	Format              string         `json:"format,omitempty"`
	Meta                map[string]any `json:"meta,omitempty"`
	IsVisible           bool           `json:"isVisible"`
	Public              bool           `json:"public"`
	PrimaryKey          bool           `json:"primaryKey"`
	AliasMember         string         `json:"aliasMember,omitempty"`
	// Granularities are the custom granularities of a time dimension.
	Granularities []MetaGranularity `json:"granularities,omitempty"`
	SQL           string            `json:"sql,omitempty"`
}

// MetaGranularity describes a custom granularity of a time dimension.
type MetaGranularity struct {
	Name     string `json:"name"`
	Title    string `json:"title"`
	Interval string `json:"interval"`
	Offset   string `json:"offset,omitempty"`
	Origin   string `json:"origin,omitempty"`
}

// MetaSegment describes one segment.
type MetaSegment struct {
	Name        string         `json:"name"`
	Title       string         `json:"title"`
	ShortTitle  string         `json:"shortTitle"`
	Description string         `json:"description,omitempty"`
	Meta        map[string]any `json:"meta,omitempty"`
	IsVisible   bool           `json:"isVisible"`
	Public      bool           `json:"public"`
	AliasMember string         `json:"aliasMember,omitempty"`
	SQL         string         `json:"sql,omitempty"`
}

// MetaHierarchy describes a drill path of dimensions.
type MetaHierarchy struct {
	Name   string   `json:"name"`
	Title  string   `json:"title"`
	Levels []string `json:"levels"`
	Public bool     `json:"public"`
}

// MetaFolder is a top-level folder with the members of its nested folders merged in.
type MetaFolder struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// MetaNestedFolder is a folder as written: members and nested folders, in order.
type MetaNestedFolder struct {
	Name    string             `json:"name"`
	Members []MetaFolderMember `json:"members"`
}

// MetaFolderMember is one entry of a nested folder: a "cube.member" name or a folder.
type MetaFolderMember struct {
	Member string
	Folder *MetaNestedFolder
}

// MarshalJSON writes the entry as a string or as a folder object, as Cube does.
func (f MetaFolderMember) MarshalJSON() ([]byte, error) {
	if f.Folder != nil {
		return json.Marshal(f.Folder)
	}
	return json.Marshal(f.Member)
}

// MetaJoin is a join of the extended response.
type MetaJoin struct {
	Name         string             `json:"name"`
	Relationship model.Relationship `json:"relationship"`
	SQL          string             `json:"sql"`
}

// MetaPreAggregation is a pre-aggregation of the extended response. References are
// "cube.member" names.
type MetaPreAggregation struct {
	Name                         string          `json:"name"`
	Type                         string          `json:"type"`
	MeasureReferences            []string        `json:"measureReferences"`
	DimensionReferences          []string        `json:"dimensionReferences"`
	SegmentReferences            []string        `json:"segmentReferences,omitempty"`
	TimeDimensionReference       string          `json:"timeDimensionReference,omitempty"`
	Granularity                  string          `json:"granularity,omitempty"`
	PartitionGranularity         string          `json:"partitionGranularity,omitempty"`
	RollupReferences             []string        `json:"rollupReferences,omitempty"`
	RefreshKey                   *MetaRefreshKey `json:"refreshKey,omitempty"`
	BuildRangeStart              string          `json:"buildRangeStart,omitempty"`
	BuildRangeEnd                string          `json:"buildRangeEnd,omitempty"`
	Indexes                      []MetaIndex     `json:"indexes,omitempty"`
	ScheduledRefresh             *bool           `json:"scheduledRefresh,omitempty"`
	AllowNonStrictDateRangeMatch bool            `json:"allowNonStrictDateRangeMatch,omitempty"`
}

// MetaRefreshKey is the refresh key of a pre-aggregation in the extended response.
type MetaRefreshKey struct {
	Every        string `json:"every,omitempty"`
	SQL          string `json:"sql,omitempty"`
	Timezone     string `json:"timezone,omitempty"`
	Incremental  bool   `json:"incremental,omitempty"`
	UpdateWindow string `json:"updateWindow,omitempty"`
}

// MetaIndex is an index of a rollup in the extended response.
type MetaIndex struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Type    string   `json:"type,omitempty"`
}

// Meta describes the model's cubes and views for /v1/meta (spec C.4). Without
// opt.Extended it keeps only visible members and drops cubes left with none, as Cube's
// gateway does outside dev mode. The result is computed once per engine and options and
// shared between callers, who must not modify it.
func (e *Engine) Meta(opt MetaOptions) *Meta {
	return e.meta.get(e.model, opt)
}

// metaCache holds the four /meta variants of one engine, each built on first use. It
// keeps no reference to the engine, so that the engine can be collected.
type metaCache struct {
	once [4]sync.Once
	meta [4]*Meta
}

func (c *metaCache) get(m *model.Model, opt MetaOptions) *Meta {
	i := 0
	if opt.Extended {
		i |= 1
	}
	if opt.OnlyViews {
		i |= 2
	}
	c.once[i].Do(func() { c.meta[i] = buildMeta(m, opt) })
	return c.meta[i]
}

// buildMeta describes m. Cubes keep model order and members definition order.
func buildMeta(m *model.Model, opt MetaOptions) *Meta {
	components := connectedComponents(m)
	out := &Meta{Cubes: []*MetaCube{}}
	for _, c := range m.Cubes {
		if opt.OnlyViews && c.Kind != model.KindView {
			continue
		}
		mc := metaCube(m, c, components[c.Name], opt.Extended)
		if !opt.Extended {
			mc = visibleOnly(mc)
			if mc == nil {
				continue
			}
		}
		out.Cubes = append(out.Cubes, mc)
	}
	return out
}

// connectedComponents numbers the cubes of m so that cubes joined by any path of joins, in
// either direction, share a number. Numbers start at 1 in model order. A view gets the
// number of the root cube of its first join path.
func connectedComponents(m *model.Model) map[string]int {
	parent := map[string]string{}
	var find func(string) string
	find = func(n string) string {
		p, ok := parent[n]
		if !ok || p == n {
			return n
		}
		r := find(p)
		parent[n] = r
		return r
	}
	for _, c := range m.Cubes {
		if c.Kind != model.KindCube {
			continue
		}
		parent[c.Name] = c.Name
	}
	for _, c := range m.Cubes {
		if c.Kind != model.KindCube {
			continue
		}
		for _, j := range c.Joins {
			if _, ok := parent[j.Name]; ok {
				parent[find(j.Name)] = find(c.Name)
			}
		}
	}
	numbers := map[string]int{}
	out := map[string]int{}
	next := 1
	number := func(root string) int {
		if n, ok := numbers[root]; ok {
			return n
		}
		numbers[root] = next
		next++
		return numbers[root]
	}
	for _, c := range m.Cubes {
		if c.Kind == model.KindCube {
			out[c.Name] = number(find(c.Name))
		}
	}
	for _, v := range m.Cubes {
		if v.Kind != model.KindView {
			continue
		}
		if root := viewRoot(v); root != "" {
			if n, ok := out[root]; ok {
				out[v.Name] = n
				continue
			}
		}
		out[v.Name] = number("view:" + v.Name)
	}
	return out
}

// viewRoot returns the first cube of the view's first join path, or "".
func viewRoot(v *model.Cube) string {
	for _, vc := range v.ViewCubes {
		if root, _, _ := strings.Cut(vc.JoinPath, "."); root != "" {
			return root
		}
	}
	return ""
}

// metaCube describes c with every member, visible or not.
func metaCube(m *model.Model, c *model.Cube, component int, extended bool) *MetaCube {
	title := cmp.Or(c.Title, Titleize(c.Name))
	mc := &MetaCube{
		Name: c.Name, Type: c.Kind, Title: title, Description: c.Description,
		IsVisible: c.Public, Public: c.Public, ConnectedComponent: component, Meta: c.Meta,
		Measures:      make([]MetaMeasure, 0, len(c.Measures)),
		Dimensions:    make([]MetaDimension, 0, len(c.Dimensions)),
		Segments:      make([]MetaSegment, 0, len(c.Segments)),
		Hierarchies:   make([]MetaHierarchy, 0, len(c.Hierarchies)),
		Folders:       []MetaFolder{},
		NestedFolders: make([]MetaNestedFolder, 0, len(c.Folders)),
	}
	viewMembers := aliasIndex(c)
	for _, ms := range c.Measures {
		mc.Measures = append(mc.Measures, metaMeasure(m, c, title, ms, viewMembers, extended))
	}
	for _, d := range c.Dimensions {
		mc.Dimensions = append(mc.Dimensions, metaDimension(c, title, d, extended))
	}
	for _, s := range c.Segments {
		short := cmp.Or(s.Title, Titleize(s.Name))
		visible := c.Public && s.Public
		ms := MetaSegment{Name: c.Name + "." + s.Name, Title: title + " " + short,
			ShortTitle: short, Description: s.Description, Meta: s.Meta, IsVisible: visible,
			Public: visible, AliasMember: s.AliasOf}
		if extended {
			ms.SQL = raw(s.SQL)
		}
		mc.Segments = append(mc.Segments, ms)
	}
	for _, h := range c.Hierarchies {
		mc.Hierarchies = append(mc.Hierarchies, MetaHierarchy{Name: c.Name + "." + h.Name,
			Title: cmp.Or(h.Title, Titleize(h.Name)), Levels: nonNil(h.Levels),
			Public: c.Public && h.Public})
	}
	for _, f := range c.Folders {
		nested, flat := metaFolder(c, f)
		mc.NestedFolders = append(mc.NestedFolders, nested)
		mc.Folders = append(mc.Folders, MetaFolder{Name: f.Name, Members: uniq(flat)})
	}
	if extended {
		extend(mc, c)
	}
	return mc
}

// aliasIndex maps the "cube.member" each member of view v stands for to the first view
// member standing for it, to carry drill members over to the view. It is nil for a cube.
func aliasIndex(v *model.Cube) map[string]string {
	if v.Kind != model.KindView {
		return nil
	}
	index := map[string]string{}
	add := func(alias, name string) {
		if _, ok := index[alias]; !ok && alias != "" {
			index[alias] = v.Name + "." + name
		}
	}
	for _, ms := range v.Measures {
		add(ms.AliasOf, ms.Name)
	}
	for _, d := range v.Dimensions {
		add(d.AliasOf, d.Name)
	}
	return index
}

func metaMeasure(m *model.Model, c *model.Cube, cubeTitle string, ms *model.Measure, viewMembers map[string]string, extended bool) MetaMeasure {
	short := cmp.Or(ms.Title, Titleize(ms.Name))
	visible := c.Public && ms.Public
	// A view member carries only what a view may override; drill members and windows stay
	// on the measure it stands for.
	src := ms
	if s := sourceMeasure(m, ms.AliasOf); s != nil {
		src = s
	}
	drill := src.DrillMembers
	if viewMembers != nil {
		drill = nil
		for _, d := range src.DrillMembers {
			if name, ok := viewMembers[d]; ok {
				drill = append(drill, name)
			}
		}
	}
	cumulative := src.RollingWindow != nil || src.Type == model.MeasureRunningTotal
	out := MetaMeasure{
		Name: c.Name + "." + ms.Name, Title: cubeTitle + " " + short, ShortTitle: short,
		Description: ms.Description, Type: measureDataType(ms.Type), AggType: aggType(ms.Type),
		Cumulative: cumulative, CumulativeTotal: cumulative, DrillMembers: nonNil(drill),
		DrillMembersGrouped: groupDrillMembers(m, drill), Format: ms.Format, Meta: ms.Meta,
		IsVisible: visible, Public: visible, AliasMember: ms.AliasOf,
	}
	if extended {
		out.SQL = raw(ms.SQL)
	}
	return out
}

// sourceMeasure returns the measure a view member stands for, or nil.
func sourceMeasure(m *model.Model, alias string) *model.Measure {
	cube, member, ok := strings.Cut(alias, ".")
	if !ok || m.Cube(cube) == nil {
		return nil
	}
	return m.Cube(cube).Measure(member)
}

// groupDrillMembers splits drill members into measures and dimensions; a name that is
// neither is left out, as Cube does.
func groupDrillMembers(m *model.Model, drill []string) DrillMembersGroups {
	g := DrillMembersGroups{Measures: []string{}, Dimensions: []string{}}
	for _, d := range drill {
		cube, member, _ := strings.Cut(d, ".")
		c := m.Cube(cube)
		switch {
		case c == nil:
		case c.Measure(member) != nil:
			g.Measures = append(g.Measures, d)
		case c.Dimension(member) != nil:
			g.Dimensions = append(g.Dimensions, d)
		}
	}
	return g
}

func metaDimension(c *model.Cube, cubeTitle string, d *model.Dimension, extended bool) MetaDimension {
	short := cmp.Or(d.Title, Titleize(d.Name))
	visible := c.Public && d.Public
	out := MetaDimension{
		Name: c.Name + "." + d.Name, Title: cubeTitle + " " + short, ShortTitle: short,
		Description: d.Description, Type: dimensionDataType(d.Type), SuggestFilterValues: true,
		Format: d.Format, Meta: d.Meta, IsVisible: visible, Public: visible,
		PrimaryKey: d.PrimaryKey, AliasMember: d.AliasOf,
	}
	if d.Type == model.DimTime {
		for _, g := range d.Granularities {
			out.Granularities = append(out.Granularities, MetaGranularity{Name: g.Name,
				Title: cmp.Or(g.Title, Titleize(g.Name)), Interval: g.Interval,
				Offset: g.Offset, Origin: g.Origin})
		}
	}
	if extended {
		out.SQL = raw(d.SQL)
	}
	return out
}

// metaFolder returns f as written and the "cube.member" names of f and of its nested
// folders, which Cube merges into the top-level folder.
func metaFolder(c *model.Cube, f *model.Folder) (MetaNestedFolder, []string) {
	out := MetaNestedFolder{Name: f.Name, Members: make([]MetaFolderMember, 0, len(f.Members))}
	var flat []string
	// f.Members lists member names and nested folder names in order; f.Folders holds the
	// nested folders in the same order.
	sub := 0
	for _, name := range f.Members {
		if sub < len(f.Folders) && f.Folders[sub].Name == name {
			nested, members := metaFolder(c, f.Folders[sub])
			sub++
			out.Members = append(out.Members, MetaFolderMember{Folder: &nested})
			flat = append(flat, members...)
			continue
		}
		member := c.Name + "." + strings.TrimPrefix(strings.TrimPrefix(name, "CUBE."), c.Name+".")
		out.Members = append(out.Members, MetaFolderMember{Member: member})
		flat = append(flat, member)
	}
	return out, flat
}

// extend adds the raw definitions of the extended response.
func extend(mc *MetaCube, c *model.Cube) {
	mc.SQLTable = c.SQLTable
	mc.SQL = raw(c.SQL)
	for _, j := range c.Joins {
		mc.Joins = append(mc.Joins, MetaJoin{Name: j.Name, Relationship: j.Relationship, SQL: raw(j.SQL)})
	}
	for _, p := range c.PreAggregations {
		mp := MetaPreAggregation{
			Name: p.Name, Type: camel(p.Type),
			MeasureReferences: nonNil(p.Measures), DimensionReferences: nonNil(p.Dimensions),
			SegmentReferences: p.Segments, TimeDimensionReference: p.TimeDimension,
			Granularity: p.Granularity, PartitionGranularity: p.PartitionGranularity,
			RollupReferences: p.Rollups, BuildRangeStart: raw(p.BuildRangeStart),
			BuildRangeEnd: raw(p.BuildRangeEnd), ScheduledRefresh: p.ScheduledRefresh,
			AllowNonStrictDateRangeMatch: p.AllowNonStrictDateRange,
		}
		if k := p.RefreshKey; k != nil {
			mp.RefreshKey = &MetaRefreshKey{Every: k.Every, SQL: raw(k.SQL), Timezone: k.Timezone,
				Incremental: k.Incremental, UpdateWindow: k.UpdateWindow}
		}
		for _, ix := range p.Indexes {
			mp.Indexes = append(mp.Indexes, MetaIndex{Name: ix.Name, Columns: nonNil(ix.Columns), Type: ix.Type})
		}
		mc.PreAggregations = append(mc.PreAggregations, mp)
	}
}

// visibleOnly returns a copy of mc without its hidden members, or nil when no measure,
// dimension or segment is left.
func visibleOnly(mc *MetaCube) *MetaCube {
	out := *mc
	out.Measures = slices.DeleteFunc(slices.Clone(mc.Measures), func(m MetaMeasure) bool { return !m.IsVisible })
	out.Dimensions = slices.DeleteFunc(slices.Clone(mc.Dimensions), func(d MetaDimension) bool { return !d.IsVisible })
	out.Segments = slices.DeleteFunc(slices.Clone(mc.Segments), func(s MetaSegment) bool { return !s.IsVisible })
	out.Hierarchies = slices.DeleteFunc(slices.Clone(mc.Hierarchies), func(h MetaHierarchy) bool { return !h.Public })
	if len(out.Measures)+len(out.Dimensions)+len(out.Segments) == 0 {
		return nil
	}
	return &out
}

// measureDataType is the type of a measure's values: number for every aggregating type.
func measureDataType(t model.MeasureType) string {
	switch t {
	case model.MeasureString:
		return "string"
	case model.MeasureTime:
		return "time"
	case model.MeasureBoolean:
		return "boolean"
	case model.MeasureCount, model.MeasureCountDistinct, model.MeasureCountDistinctApprox,
		model.MeasureSum, model.MeasureAvg, model.MeasureMin, model.MeasureMax,
		model.MeasureNumber, model.MeasureRunningTotal:
		return "number"
	}
	return "number"
}

// aggType spells a measure type as Cube's meta does: countDistinct, runningTotal.
func aggType(t model.MeasureType) string { return camel(string(t)) }

// dimensionDataType is the type clients see: geo and switch dimensions hold strings.
func dimensionDataType(t model.DimensionType) string {
	switch t {
	case model.DimGeo, model.DimSwitch:
		return "string"
	case model.DimString, model.DimNumber, model.DimTime, model.DimBoolean:
		return string(t)
	}
	return string(t)
}

// camel turns snake_case into camelCase.
func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

func raw(t *model.Template) string {
	if t == nil {
		return ""
	}
	return t.Raw
}

// nonNil makes an absent list an empty JSON array rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// uniq drops repeated names, keeping the first.
func uniq(names []string) []string {
	out := make([]string, 0, len(names))
	seen := map[string]bool{}
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
