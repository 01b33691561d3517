package model

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The keys each definition accepts, in snake_case. They are read-only tables, kept next to
// each other so that a reader can compare them with Cube's reference pages at a glance. Keys
// that Cubit accepts but does not use yet (multi-stage measures, lambda pre-aggregations,
// access policies) are listed so that an existing Cube model loads unchanged.
var (
	cubeKeys = []string{"name", "sql_table", "sql", "sql_alias", "extends", "data_source",
		"title", "description", "public", "shown", "refresh_key", "meta", "measures",
		"dimensions", "segments", "joins", "pre_aggregations", "hierarchies", "folders",
		"access_policy", "calendar"}
	viewKeys = []string{"name", "title", "description", "public", "shown", "meta", "extends",
		"cubes", "folders", "access_policy"}
	refreshKeyKeys = []string{"every", "sql", "timezone", "incremental", "update_window"}
	measureKeys    = []string{"name", "sql", "type", "title", "description", "public", "shown",
		"visible", "meta", "filters", "format", "drill_members", "rolling_window", "multi_stage",
		"time_shift", "group_by", "reduce_by", "add_group_by", "order_by", "case", "currency"}
	dimensionKeys = []string{"name", "sql", "type", "primary_key", "public", "shown", "visible",
		"title", "description", "format", "meta", "case", "sub_query",
		"propagate_filters_to_sub_query", "granularities", "latitude", "longitude", "order",
		"links", "time_shift", "values", "multi_stage", "suggest_filter_values"}
	segmentKeys       = []string{"name", "sql", "title", "description", "public", "shown", "meta"}
	joinKeys          = []string{"name", "relationship", "sql"}
	rollingWindowKeys = []string{"trailing", "leading", "offset", "type", "granularity"}
	granularityKeys   = []string{"name", "title", "interval", "offset", "origin"}
	preAggKeys        = []string{"name", "type", "measures", "dimensions", "segments",
		"time_dimension", "time_dimensions", "granularity", "partition_granularity",
		"refresh_key", "build_range_start", "build_range_end", "indexes", "scheduled_refresh",
		"allow_non_strict_date_range_match", "use_original_sql_pre_aggregations", "external",
		"rollups", "union_with_source_data", "unique_key_columns", "sql_alias",
		"output_column_types", "stream_offset", "read_only", "lambda"}
	indexKeys      = []string{"name", "columns", "type"}
	hierarchyKeys  = []string{"name", "title", "levels", "public"}
	folderKeys     = []string{"name", "members", "includes"}
	viewCubeKeys   = []string{"join_path", "includes", "excludes", "prefix", "alias"}
	viewMemberKeys = []string{"name", "alias", "title", "description", "format", "meta"}
)

// decoded is a cube or view as read from its file, with the keys it set: extends only
// inherits what the child leaves unset.
type decoded struct {
	cube *Cube
	set  map[string]bool
}

func (f fields) keySet() map[string]bool {
	set := make(map[string]bool, len(f.vals))
	for k := range f.vals {
		set[k] = true
	}
	return set
}

// each reads a list of named definitions (measures, joins, ...). Items without a name are
// reported, as Cube does, and skipped.
func (f fields) each(key, kind, owner string, allowed []string, fn func(name string, g fields)) {
	for i, item := range f.list(key) {
		name := f.r.peekName(item)
		g, ok := f.r.fields(item, kind+" "+owner+"."+name, allowed)
		if !ok {
			continue
		}
		// The name is read again: it may come from a merged anchor that peekName cannot see.
		if name = g.str("name"); name == "" {
			f.r.probs.add(g.pos, "name isn't defined for %s #%d of %s", kind, i+1, f.what)
			continue
		}
		fn(name, g)
	}
}

// public reads visibility: `public`, or its older spellings `visible` and `shown`.
func (f fields) public(def bool) bool {
	for _, k := range []string{"public", "visible", "shown"} {
		if f.has(k) {
			return f.boolean(k, def)
		}
	}
	return def
}

func (r *reader) cube(n *yaml.Node) *decoded {
	name := r.peekName(n)
	f, ok := r.fields(n, "cube "+name, cubeKeys)
	if !ok {
		return nil
	}
	if name = f.str("name"); name == "" {
		r.probs.add(f.pos, "name isn't defined for cube")
		return nil
	}
	c := &Cube{
		Name: name, Kind: KindCube, Pos: f.pos,
		Title: f.str("title"), Description: f.str("description"),
		SQLTable: f.str("sql_table"), SQL: f.template("sql"), SQLAlias: f.str("sql_alias"),
		DataSource: f.str("data_source"), Extends: f.str("extends"),
		Public: f.public(true), RefreshKey: f.refreshKey("refresh_key"), Meta: f.meta("meta"),
	}
	if f.has("access_policy") {
		c.AccessPolicy = r.value(f.vals["access_policy"], 0)
	}
	f.each("measures", "measure", name, measureKeys, func(n string, g fields) {
		c.Measures = append(c.Measures, g.measure(name, n))
	})
	f.each("dimensions", "dimension", name, dimensionKeys, func(n string, g fields) {
		c.Dimensions = append(c.Dimensions, g.dimension(n))
	})
	f.each("segments", "segment", name, segmentKeys, func(n string, g fields) {
		c.Segments = append(c.Segments, &Segment{Name: n, Title: g.str("title"),
			Description: g.str("description"), SQL: g.template("sql"), Public: g.public(true),
			Meta: g.meta("meta"), Pos: g.pos})
	})
	f.each("joins", "join", name, joinKeys, func(n string, g fields) {
		c.Joins = append(c.Joins, &Join{Name: n, SQL: g.template("sql"), Pos: g.pos,
			Relationship: relationship(g.str("relationship"))})
	})
	f.each("pre_aggregations", "pre-aggregation", name, preAggKeys, func(n string, g fields) {
		c.PreAggregations = append(c.PreAggregations, g.preAggregation(name, n))
	})
	f.each("hierarchies", "hierarchy", name, hierarchyKeys, func(n string, g fields) {
		c.Hierarchies = append(c.Hierarchies, &Hierarchy{Name: n, Title: g.str("title"),
			Levels: memberRefs(name, g.strs("levels")), Public: g.public(true), Pos: g.pos})
	})
	c.Folders = f.folders("cube " + name)
	return &decoded{cube: c, set: f.keySet()}
}

func (g fields) measure(cube, name string) *Measure {
	m := &Measure{
		Name: name, Title: g.str("title"), Description: g.str("description"),
		Type: MeasureType(snake(g.str("type"))), SQL: g.template("sql"),
		Format: g.format("format"), Public: g.public(true), Meta: g.meta("meta"),
		DrillMembers: memberRefs(cube, g.strs("drill_members")), Pos: g.pos,
	}
	for _, item := range g.list("filters") {
		if h, ok := g.r.fields(item, "filter of "+g.what, []string{"sql"}); ok {
			if t := h.template("sql"); t != nil {
				m.Filters = append(m.Filters, t)
			}
		}
	}
	if g.has("rolling_window") {
		h, ok := g.r.fields(g.vals["rolling_window"], "rolling_window of "+g.what, rollingWindowKeys)
		if ok {
			m.RollingWindow = &RollingWindow{Trailing: h.str("trailing"), Leading: h.str("leading"),
				Offset: h.str("offset"), Type: snake(h.str("type")),
				Granularity: h.str("granularity"), Pos: h.pos}
		}
	}
	return m
}

func (g fields) dimension(name string) *Dimension {
	d := &Dimension{
		Name: name, Title: g.str("title"), Description: g.str("description"),
		Type: DimensionType(g.str("type")), SQL: g.template("sql"),
		PrimaryKey: g.boolean("primary_key", false), SubQuery: g.boolean("sub_query", false),
		PropagateFiltersToSubQuery: g.boolean("propagate_filters_to_sub_query", false),
		Latitude:                   g.sqlObject("latitude"), Longitude: g.sqlObject("longitude"),
		Format: g.format("format"), Meta: g.meta("meta"), Case: g.caseOf("case"), Pos: g.pos,
	}
	d.Public = g.public(!d.PrimaryKey)
	for i, item := range g.list("granularities") {
		h, ok := g.r.fields(item, fmt.Sprintf("granularity #%d of %s", i+1, g.what), granularityKeys)
		if ok {
			d.Granularities = append(d.Granularities, &Granularity{Name: h.str("name"),
				Title: h.str("title"), Interval: h.str("interval"), Offset: h.str("offset"),
				Origin: h.str("origin"), Pos: h.pos})
		}
	}
	return d
}

// caseOf reads `case: {when: [{sql, label}], else: {label}}`.
func (g fields) caseOf(key string) *Case {
	if !g.has(key) {
		return nil
	}
	h, ok := g.r.fields(g.vals[key], "case of "+g.what, []string{"when", "else"})
	if !ok {
		return nil
	}
	c := &Case{}
	for _, item := range h.list("when") {
		if w, ok := g.r.fields(item, "when of "+g.what, []string{"sql", "label"}); ok {
			c.When = append(c.When, CaseWhen{SQL: w.template("sql"), Label: w.label("label")})
		}
	}
	if h.has("else") {
		if e, ok := g.r.fields(h.vals["else"], "else of "+g.what, []string{"label"}); ok {
			c.Else = e.label("label")
		}
	}
	return c
}

// label reads a case label: a literal string or `{sql: ...}`.
func (f fields) label(key string) CaseLabel {
	n := f.vals[key]
	if n != nil && n.Kind == yaml.MappingNode {
		return CaseLabel{SQL: f.sqlObject(key)}
	}
	return CaseLabel{Text: f.str(key)}
}

func (f fields) refreshKey(key string) *RefreshKey {
	if !f.has(key) {
		return nil
	}
	g, ok := f.r.fields(f.vals[key], key+" of "+f.what, refreshKeyKeys)
	if !ok {
		return nil
	}
	return &RefreshKey{Every: g.str("every"), SQL: g.template("sql"), Timezone: g.str("timezone"),
		Incremental: g.boolean("incremental", false), UpdateWindow: g.str("update_window"),
		Pos: g.pos}
}

func (g fields) preAggregation(cube, name string) *PreAggregation {
	p := &PreAggregation{
		Name: name, Type: snake(g.str("type")),
		Measures:                memberRefs(cube, g.strs("measures")),
		Dimensions:              memberRefs(cube, g.strs("dimensions")),
		Segments:                memberRefs(cube, g.strs("segments")),
		Granularity:             g.str("granularity"),
		PartitionGranularity:    g.str("partition_granularity"),
		RefreshKey:              g.refreshKey("refresh_key"),
		BuildRangeStart:         g.sqlObject("build_range_start"),
		BuildRangeEnd:           g.sqlObject("build_range_end"),
		Rollups:                 memberRefs(cube, g.strs("rollups")),
		ScheduledRefresh:        g.boolPtr("scheduled_refresh"),
		AllowNonStrictDateRange: g.boolean("allow_non_strict_date_range_match", false),
		UseOriginalSQL:          g.boolean("use_original_sql_pre_aggregations", false),
		Pos:                     g.pos,
	}
	if p.Type == "" {
		p.Type = "rollup"
	}
	if td := g.str("time_dimension"); td != "" {
		p.TimeDimension = memberRef(cube, td)
	}
	for i, item := range g.list("indexes") {
		h, ok := g.r.fields(item, fmt.Sprintf("index #%d of %s", i+1, g.what), indexKeys)
		if ok {
			p.Indexes = append(p.Indexes, &Index{Name: h.str("name"),
				Columns: memberRefs(cube, h.strs("columns")), Type: h.str("type")})
		}
	}
	return p
}

// folders reads `folders: [{name, includes: [member | folder]}]`.
func (f fields) folders(owner string) []*Folder {
	var out []*Folder
	for _, item := range f.list("folders") {
		if folder := f.r.folder(item, owner); folder != nil {
			out = append(out, folder)
		}
	}
	return out
}

func (r *reader) folder(n *yaml.Node, owner string) *Folder {
	name := r.peekName(n)
	f, ok := r.fields(n, "folder "+name+" of "+owner, folderKeys)
	if !ok {
		return nil
	}
	if name = f.str("name"); name == "" {
		r.probs.add(f.pos, "name isn't defined for folder of %s", owner)
		return nil
	}
	folder := &Folder{Name: name, Pos: f.pos}
	for _, key := range []string{"members", "includes"} {
		for _, item := range f.list(key) {
			if item.Kind != yaml.MappingNode {
				folder.Members = append(folder.Members, item.Value)
				continue
			}
			if sub := r.folder(item, owner); sub != nil {
				folder.Members = append(folder.Members, sub.Name)
				folder.Folders = append(folder.Folders, sub)
			}
		}
	}
	return folder
}

func (r *reader) view(n *yaml.Node) *decoded {
	name := r.peekName(n)
	f, ok := r.fields(n, "view "+name, viewKeys)
	if !ok {
		return nil
	}
	if name = f.str("name"); name == "" {
		r.probs.add(f.pos, "name isn't defined for view")
		return nil
	}
	v := &Cube{
		Name: name, Kind: KindView, Pos: f.pos,
		Title: f.str("title"), Description: f.str("description"), Extends: f.str("extends"),
		Public: f.public(true), Meta: f.meta("meta"), Folders: f.folders("view " + name),
	}
	if f.has("access_policy") {
		v.AccessPolicy = r.value(f.vals["access_policy"], 0)
	}
	for _, item := range f.list("cubes") {
		if g, ok := r.fields(item, "cubes entry of view "+name, viewCubeKeys); ok {
			v.ViewCubes = append(v.ViewCubes, g.viewCube())
		}
	}
	return &decoded{cube: v, set: f.keySet()}
}

func (g fields) viewCube() *ViewCube {
	vc := &ViewCube{JoinPath: g.str("join_path"), Prefix: g.boolean("prefix", false),
		Alias: g.str("alias"), Excludes: g.strs("excludes"), Pos: g.pos}
	inc := g.vals["includes"]
	switch {
	case inc == nil:
	case inc.Kind == yaml.ScalarNode && inc.Value == "*":
		vc.All = true
	case inc.Kind == yaml.SequenceNode:
		for _, item := range g.list("includes") {
			if m := g.viewMember(item); m != nil {
				vc.Includes = append(vc.Includes, m)
			}
		}
	default:
		g.r.probs.add(g.r.pos(inc), `includes of %s must be "*" or a list`, g.what)
	}
	return vc
}

func (g fields) viewMember(n *yaml.Node) *ViewMember {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		return &ViewMember{Name: n.Value, Pos: g.r.pos(n)}
	}
	h, ok := g.r.fields(n, "include of "+g.what, viewMemberKeys)
	if !ok {
		return nil
	}
	if h.str("name") == "" {
		g.r.probs.add(h.pos, "name isn't defined for include of %s", g.what)
		return nil
	}
	return &ViewMember{Name: h.str("name"), Alias: h.str("alias"), Title: h.str("title"),
		Description: h.str("description"), Format: h.format("format"), Meta: h.meta("meta"),
		Pos: h.pos}
}

// relationship normalises the spellings Cube accepts. An unknown spelling is kept as written
// so that validation can name it.
func relationship(s string) Relationship {
	switch snake(s) {
	case "one_to_one", "has_one":
		return OneToOne
	case "one_to_many", "has_many":
		return OneToMany
	case "many_to_one", "belongs_to":
		return ManyToOne
	}
	return Relationship(s)
}

// memberRef normalises a member written outside SQL (`status`, `CUBE.status`,
// `orders.status`) to `cube.member`.
func memberRef(cube, s string) string {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "CUBE."); ok {
		return cube + "." + rest
	}
	if strings.Contains(s, ".") {
		return s
	}
	return cube + "." + s
}

func memberRefs(cube string, list []string) []string {
	if len(list) == 0 {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = memberRef(cube, s)
	}
	return out
}
