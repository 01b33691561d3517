package model

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// validator applies the model-wide rules to a built model. Each rule reports every violation
// it finds and never stops the others, so that one run of `cubit validate` lists everything.
type validator struct {
	m     *Model
	probs Problems
	// pkReported keeps the missing-primary-key problem to one per cube.
	pkReported map[*Cube]bool
}

// validate returns every problem of m that the loader has not already reported.
func validate(m *Model) Problems {
	v := &validator{m: m, pkReported: map[*Cube]bool{}}
	v.names()
	for _, c := range m.Cubes {
		if c.Kind == KindCube {
			v.cube(c)
		}
		v.hierarchies(c)
		v.folders(c, c.Folders)
	}
	v.cycles()
	return v.probs
}

func (v *validator) add(pos Pos, format string, args ...any) { v.probs.add(pos, format, args...) }

// validName reports whether s is a Cube name: a letter, then letters, digits and _.
func validName(s string) bool {
	return s != "" && isIdentifier(s) && s[0] != '_'
}

const nameRule = "a name starts with a letter and has only letters, digits and _"

// names checks that cube and view names are valid and unique in the model, and member names
// valid and unique in their cube across measures, dimensions and segments.
func (v *validator) names() {
	first := map[string]*Cube{}
	for _, c := range v.m.Cubes {
		if !validName(c.Name) {
			v.add(c.Pos, "invalid %s name %s: %s", c.Kind, c.Name, nameRule)
		}
		if prev, dup := first[c.Name]; dup {
			v.add(c.Pos, "%s %s is already defined at %s", c.Kind, c.Name, prev.Pos)
			continue
		}
		first[c.Name] = c
		v.memberNames(c)
	}
}

// memberNames checks the member names of one cube or view.
func (v *validator) memberNames(c *Cube) {
	type def struct {
		kind string
		pos  Pos
	}
	seen := map[string]def{}
	check := func(kind, name string, pos Pos) {
		if !validName(name) {
			v.add(pos, "invalid %s name %s in %s %s: %s", kind, name, c.Kind, c.Name, nameRule)
		}
		if prev, dup := seen[name]; dup {
			v.add(pos, "%s %s.%s is already defined as a %s at %s", kind, c.Name, name, prev.kind, prev.pos)
			return
		}
		seen[name] = def{kind, pos}
	}
	for _, m := range c.Measures {
		check("measure", m.Name, m.Pos)
	}
	for _, d := range c.Dimensions {
		check("dimension", d.Name, d.Pos)
	}
	for _, s := range c.Segments {
		check("segment", s.Name, s.Pos)
	}
}

// cube checks one cube (not a view) and everything it defines.
func (v *validator) cube(c *Cube) {
	switch {
	case c.SQL == nil && c.SQLTable == "":
		v.add(c.Pos, "cube %s: sql or sql_table is required", c.Name)
	case c.SQL != nil && c.SQLTable != "":
		v.add(c.Pos, "cube %s: sql and sql_table are exclusive; use one", c.Name)
	}
	v.template(c, "cube "+c.Name, c.SQL)
	v.refreshKey(c, "cube "+c.Name, c.RefreshKey)
	v.cubeRefreshSQL(c)
	for _, m := range c.Measures {
		v.measure(c, m)
	}
	for _, d := range c.Dimensions {
		v.dimension(c, d)
	}
	for _, s := range c.Segments {
		subject := "segment " + c.Name + "." + s.Name
		if s.SQL == nil {
			v.add(s.Pos, "%s: sql is required", subject)
		}
		v.template(c, subject, s.SQL)
	}
	v.joins(c)
	v.preAggregations(c)
}

func (v *validator) measure(c *Cube, m *Measure) {
	subject := "measure " + c.Name + "." + m.Name
	switch {
	case m.Type == "":
		v.add(m.Pos, "%s: type is missing (valid: %s)", subject, list(measureTypes))
	case !m.Type.Valid():
		v.add(m.Pos, "%s: invalid type %s (valid: %s)%s", subject, m.Type, list(measureTypes),
			didYouMean(string(m.Type), strs(measureTypes)))
	case m.SQL == nil && m.Type != MeasureCount:
		v.add(m.Pos, "%s: sql is required for type %s", subject, m.Type)
	}
	v.template(c, subject, m.SQL)
	for _, f := range m.Filters {
		v.template(c, subject, f)
	}
	for _, ref := range m.DrillMembers {
		v.ref(m.Pos, subject, "drill_members", ref, anyMember)
	}
	if w := m.RollingWindow; w != nil {
		v.rollingWindow(subject, w)
	}
}

func (v *validator) rollingWindow(subject string, w *RollingWindow) {
	for _, side := range []struct{ key, val string }{{"trailing", w.Trailing}, {"leading", w.Leading}} {
		if side.val != "" && side.val != "unbounded" && !validInterval(side.val, false) {
			v.add(w.Pos, `%s: rolling_window %s %q must be "unbounded" or an interval like "7 days"`,
				subject, side.key, side.val)
		}
	}
	if w.Offset != "" && w.Offset != "start" && w.Offset != "end" {
		v.add(w.Pos, "%s: rolling_window offset must be start or end, not %s", subject, w.Offset)
	}
	switch w.Type {
	case "", "fixed", "year_to_date", "quarter_to_date", "month_to_date":
	case "to_date":
		if !slices.Contains(granularities, w.Granularity) {
			v.add(w.Pos, "%s: rolling_window of type to_date needs a granularity (%s)%s", subject,
				strings.Join(granularities, ", "), didYouMean(w.Granularity, granularities))
		}
	default:
		v.add(w.Pos, "%s: invalid rolling_window type %s (valid: fixed, to_date, year_to_date, "+
			"quarter_to_date, month_to_date)", subject, w.Type)
	}
}

func (v *validator) dimension(c *Cube, d *Dimension) {
	subject := "dimension " + c.Name + "." + d.Name
	switch {
	case d.Type == "":
		v.add(d.Pos, "%s: type is missing (valid: %s)", subject, list(dimensionTypes))
	case !d.Type.Valid():
		v.add(d.Pos, "%s: invalid type %s (valid: %s)%s", subject, d.Type, list(dimensionTypes),
			didYouMean(string(d.Type), strs(dimensionTypes)))
	case d.Type == DimGeo && (d.Latitude == nil || d.Longitude == nil):
		v.add(d.Pos, "%s: a geo dimension needs latitude and longitude", subject)
	case d.SQL == nil && d.Case == nil && d.Type != DimGeo && d.Type != DimSwitch:
		v.add(d.Pos, "%s: sql is required", subject)
	}
	for _, t := range d.templates() {
		v.template(c, subject, t)
		if !d.SubQuery {
			v.measureRefs(c, subject, t)
		}
	}
	if d.Case != nil && len(d.Case.When) == 0 {
		v.add(d.Pos, "%s: case needs at least one when", subject)
	}
	if len(d.Granularities) > 0 && d.Type != DimTime {
		v.add(d.Pos, "%s: granularities are only allowed on time dimensions", subject)
	}
	for _, g := range d.Granularities {
		v.granularity(subject, g)
	}
}

// templates returns every SQL template of a dimension.
func (d *Dimension) templates() []*Template {
	ts := []*Template{d.SQL, d.Latitude, d.Longitude}
	if d.Case != nil {
		for _, w := range d.Case.When {
			ts = append(ts, w.SQL, w.Label.SQL)
		}
		ts = append(ts, d.Case.Else.SQL)
	}
	return ts
}

func (v *validator) granularity(dimension string, g *Granularity) {
	if !validName(g.Name) {
		v.add(g.Pos, "invalid granularity name %q of %s: %s", g.Name, dimension, nameRule)
	}
	subject := fmt.Sprintf("granularity %s of %s", g.Name, dimension)
	switch {
	case g.Interval == "":
		v.add(g.Pos, "%s: interval is required", subject)
	case !validInterval(g.Interval, false):
		v.add(g.Pos, `%s: invalid interval %q; write it like "1 year", "2 weeks" or "3 months 15 days"`,
			subject, g.Interval)
	}
	if g.Offset != "" && g.Origin != "" {
		v.add(g.Pos, "%s: offset and origin are exclusive; use one", subject)
	}
	if g.Offset != "" && !validInterval(g.Offset, true) {
		v.add(g.Pos, `%s: invalid offset %q; write it like "1 week" or "-2 days"`, subject, g.Offset)
	}
	if g.Origin != "" && !validTimestamp(g.Origin) {
		v.add(g.Pos, `%s: invalid origin %q; write a timestamp like "2024-01-01" or "2024-01-01T06:00:00"`,
			subject, g.Origin)
	}
}

func (v *validator) refreshKey(c *Cube, subject string, k *RefreshKey) {
	if k == nil {
		return
	}
	if k.Every != "" && !validEvery(k.Every) {
		v.add(k.Pos, `%s: refresh_key every %q is neither an interval like "1 hour" nor a cron expression`,
			subject, k.Every)
	}
	if k.Timezone != "" {
		if _, err := time.LoadLocation(k.Timezone); err != nil {
			v.add(k.Pos, `%s: refresh_key timezone %q is not an IANA time zone like "Europe/Berlin"`,
				subject, k.Timezone)
		}
	}
	if k.UpdateWindow != "" && !validInterval(k.UpdateWindow, false) {
		v.add(k.Pos, `%s: refresh_key update_window %q must be an interval like "7 days"`,
			subject, k.UpdateWindow)
	}
	v.template(c, subject, k.SQL)
}

// cubeRefreshSQL checks that a cube's refresh_key sql is plain SQL: Cubit runs it on the
// data source as written, once per renewal interval for every request, so it can bind
// neither members, FILTER_PARAMS nor a request's SECURITY_CONTEXT.
func (v *validator) cubeRefreshSQL(c *Cube) {
	k := c.RefreshKey
	if k == nil || k.SQL == nil {
		return
	}
	for _, p := range k.SQL.Parts {
		if p.Kind != PartText && p.Kind != PartColumn {
			v.add(k.Pos, "cube %s: refresh_key sql must be plain SQL, without {...} references; write the table name instead",
				c.Name)
			return
		}
	}
}

// joins checks the joins of c: target, relationship, sql, and the primary keys that fan-out
// protection needs on both sides.
func (v *validator) joins(c *Cube) {
	first := map[string]*Join{}
	for _, j := range c.Joins {
		subject := fmt.Sprintf("join %s -> %s", c.Name, j.Name)
		if prev, dup := first[j.Name]; dup {
			v.add(j.Pos, "%s is already defined at %s", subject, prev.Pos)
		} else {
			first[j.Name] = j
		}
		target := v.m.Cube(j.Name)
		switch {
		case target == nil:
			v.add(j.Pos, "%s: Cube %s doesn't exist%s", subject, j.Name, didYouMean(j.Name, cubeNames(v.m)))
		case target.Kind == KindView:
			v.add(j.Pos, "%s: %s is a view; joins go to cubes", subject, j.Name)
		}
		switch {
		case j.Relationship == "":
			v.add(j.Pos, "%s: relationship is missing (valid: %s)", subject, list(relationships))
		case !j.Relationship.Valid():
			v.add(j.Pos, "%s: invalid relationship %s (valid: %s)%s", subject, j.Relationship,
				list(relationships), didYouMean(string(j.Relationship), relationshipSpellings))
		}
		if j.SQL == nil {
			v.add(j.Pos, "%s: sql is required", subject)
		}
		v.template(c, subject, j.SQL)
		v.primaryKey(c, j)
		if target != nil && target.Kind == KindCube {
			v.primaryKey(target, j)
		}
	}
}

func (v *validator) primaryKey(c *Cube, j *Join) {
	if len(c.Measures) == 0 || len(c.PrimaryKeys()) > 0 || v.pkReported[c] {
		return
	}
	v.pkReported[c] = true
	v.add(j.Pos, "primary key for '%s' is required when join is defined in order to make "+
		"aggregates work properly", c.Name)
}

func (v *validator) preAggregations(c *Cube) {
	first := map[string]*PreAggregation{}
	for _, p := range c.PreAggregations {
		subject := "pre-aggregation " + c.Name + "." + p.Name
		if !validName(p.Name) {
			v.add(p.Pos, "invalid pre-aggregation name %s in cube %s: %s", p.Name, c.Name, nameRule)
		}
		if prev, dup := first[p.Name]; dup {
			v.add(p.Pos, "%s is already defined at %s", subject, prev.Pos)
		} else {
			first[p.Name] = p
		}
		if !slices.Contains(preAggTypes, p.Type) {
			v.add(p.Pos, "%s: invalid type %s (valid: %s)%s", subject, p.Type,
				strings.Join(preAggTypes, ", "), didYouMean(p.Type, preAggTypes))
		}
		v.preAggMembers(subject, p)
		v.preAggTime(subject, p)
		v.refreshKey(c, subject, p.RefreshKey)
		v.template(c, subject, p.BuildRangeStart)
		v.template(c, subject, p.BuildRangeEnd)
	}
}

func (v *validator) preAggMembers(subject string, p *PreAggregation) {
	for _, ref := range p.Measures {
		v.ref(p.Pos, subject, "measures", ref, measureOnly)
	}
	for _, ref := range p.Dimensions {
		v.ref(p.Pos, subject, "dimensions", ref, dimensionOnly)
	}
	for _, ref := range p.Segments {
		v.ref(p.Pos, subject, "segments", ref, segmentOnly)
	}
	for _, ix := range p.Indexes {
		for _, ref := range ix.Columns {
			v.ref(p.Pos, subject, "index "+ix.Name, ref, anyMember)
		}
	}
	for _, ref := range p.Rollups {
		cube, name, _ := strings.Cut(ref, ".")
		c := v.m.Cube(cube)
		if c == nil || !slices.ContainsFunc(c.PreAggregations, func(a *PreAggregation) bool { return a.Name == name }) {
			v.add(p.Pos, "%s: unknown pre-aggregation %s in rollups%s", subject, ref,
				didYouMean(ref, preAggNames(v.m)))
		}
	}
}

func preAggNames(m *Model) []string {
	var names []string
	for _, c := range m.Cubes {
		for _, p := range c.PreAggregations {
			names = append(names, c.Name+"."+p.Name)
		}
	}
	return names
}

// preAggTime checks time_dimension, granularity and partition_granularity.
func (v *validator) preAggTime(subject string, p *PreAggregation) {
	if p.TimeDimension == "" {
		if p.Granularity != "" || p.PartitionGranularity != "" {
			v.add(p.Pos, "%s: granularity and partition_granularity need a time_dimension", subject)
		}
		return
	}
	d := v.ref(p.Pos, subject, "time_dimension", p.TimeDimension, timeDimensionOnly)
	switch {
	case p.Granularity == "" && p.Type == "rollup":
		v.add(p.Pos, "%s: granularity is required with time_dimension", subject)
	case p.Granularity != "" && d != nil && !d.hasGranularity(p.Granularity):
		valid := d.granularityNames()
		v.add(p.Pos, "%s: invalid granularity %s (valid: %s)%s", subject, p.Granularity,
			strings.Join(valid, ", "), didYouMean(p.Granularity, valid))
	}
	if g := p.PartitionGranularity; g != "" && !slices.Contains(partitionGranularities, g) {
		v.add(p.Pos, "%s: invalid partition_granularity %s (valid: %s)%s", subject, g,
			strings.Join(partitionGranularities, ", "), didYouMean(g, partitionGranularities))
	}
}

func (d *Dimension) hasGranularity(name string) bool {
	return slices.Contains(d.granularityNames(), name)
}

// granularityNames returns the predefined granularities followed by d's custom ones.
func (d *Dimension) granularityNames() []string {
	names := slices.Clone(granularities)
	for _, g := range d.Granularities {
		names = append(names, g.Name)
	}
	return names
}

// hierarchies checks that levels are dimensions.
func (v *validator) hierarchies(c *Cube) {
	for _, h := range c.Hierarchies {
		subject := fmt.Sprintf("hierarchy %s.%s", c.Name, h.Name)
		if !validName(h.Name) {
			v.add(h.Pos, "invalid hierarchy name %s in %s %s: %s", h.Name, c.Kind, c.Name, nameRule)
		}
		for _, ref := range h.Levels {
			v.ref(h.Pos, subject, "levels", ref, dimensionOnly)
		}
	}
}

// folders checks that folder members are members, hierarchies or nested folders of c.
func (v *validator) folders(c *Cube, folders []*Folder) {
	for _, f := range folders {
		subject := fmt.Sprintf("folder %s of %s %s", f.Name, c.Kind, c.Name)
		nested := make([]string, len(f.Folders))
		for i, sub := range f.Folders {
			nested[i] = sub.Name
		}
		for _, member := range f.Members {
			name := cutEither(member, "CUBE.", c.Name+".")
			if c.HasMember(name) || hierarchy(c, name) != nil || slices.Contains(nested, name) {
				continue
			}
			v.add(f.Pos, "%s: unknown member %s.%s%s", subject, c.Name, name,
				didYouMean(c.Name+"."+name, includable(c)))
		}
		v.folders(c, f.Folders)
	}
}

// Valid values, in the order the messages list them.
var (
	measureTypes = []MeasureType{MeasureCount, MeasureCountDistinct, MeasureCountDistinctApprox,
		MeasureSum, MeasureAvg, MeasureMin, MeasureMax, MeasureNumber, MeasureString, MeasureTime,
		MeasureBoolean, MeasureRunningTotal}
	dimensionTypes = []DimensionType{DimString, DimNumber, DimTime, DimBoolean, DimGeo, DimSwitch}
	relationships  = []Relationship{OneToOne, OneToMany, ManyToOne}
	// relationshipSpellings are what a user may write, for suggestions.
	relationshipSpellings = []string{"one_to_one", "has_one", "hasOne", "one_to_many", "has_many",
		"hasMany", "many_to_one", "belongs_to", "belongsTo"}
	preAggTypes            = []string{"rollup", "original_sql", "rollup_join", "rollup_lambda"}
	granularities          = []string{"second", "minute", "hour", "day", "week", "month", "quarter", "year"}
	partitionGranularities = []string{"hour", "day", "week", "month", "quarter", "year"}
)

func strs[T ~string](vals []T) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

func list[T ~string](vals []T) string { return strings.Join(strs(vals), ", ") }
