package sqlgen

import (
	"fmt"
	"strings"

	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/plan"
)

// measures renders measure expressions in one context: inline aggregates over the join
// tree, row-level expressions (ungrouped), or references to the columns of groups.
type measures struct {
	b          *builder
	p          *plan.Plan
	inline     bool
	rowLevel   bool
	multiplied map[*model.Cube]bool
	// leafAt maps a leaf measure to the group column that holds it (multi-group plans).
	leafAt map[*model.Measure]string
	depth  int
}

func (m *measures) render(c *model.Cube, mm *model.Measure) (string, error) {
	if at, ok := m.leafAt[mm]; ok {
		return at, nil
	}
	m.depth++
	defer func() { m.depth-- }()
	if m.depth > 32 {
		return "", fmt.Errorf("measure %s.%s references itself", c.Name, mm.Name)
	}
	if !mm.Type.Aggregating() {
		sql, err := m.b.template(mm.SQL, c, m)
		if err != nil {
			return "", err
		}
		return "(" + sql + ")", nil
	}
	if !m.inline {
		return "", fmt.Errorf("measure %s.%s is not computed by any group", c.Name, mm.Name)
	}
	arg, err := m.argument(c, mm)
	if err != nil {
		return "", err
	}
	if m.rowLevel {
		return arg, nil
	}
	return m.aggregate(c, mm, arg), nil
}

// argument is the row-level expression a measure aggregates, with its filters applied.
func (m *measures) argument(c *model.Cube, mm *model.Measure) (string, error) {
	var arg string
	var err error
	switch {
	case mm.SQL != nil:
		arg, err = m.b.template(mm.SQL, c, m)
	case m.rowLevel && len(c.PrimaryKeys()) > 0:
		// An ungrouped row counts once, as in Cube, and a row the LEFT JOIN did not find
		// counts zero (Cube says 1 there too).
		var pk string
		if pk, err = m.b.primaryKey(c); err == nil {
			arg = "CASE WHEN " + pk + " IS NOT NULL THEN 1 ELSE 0 END"
		}
	case m.rowLevel:
		arg = "1"
	case mm.Type == model.MeasureCount && len(c.PrimaryKeys()) > 0:
		arg, err = m.b.primaryKey(c)
	default:
		arg = "1"
	}
	if err != nil || len(mm.Filters) == 0 {
		return arg, err
	}
	conds := make([]string, len(mm.Filters))
	for i, f := range mm.Filters {
		sql, err := m.b.template(f, c, m)
		if err != nil {
			return "", err
		}
		conds[i] = "(" + sql + ")"
	}
	return "CASE WHEN " + strings.Join(conds, " AND ") + " THEN " + arg + " END", nil
}

func (m *measures) aggregate(c *model.Cube, mm *model.Measure, arg string) string {
	switch mm.Type {
	case model.MeasureCount:
		if mm.SQL == nil && m.multiplied[c] {
			return "count(DISTINCT " + arg + ")"
		}
		if arg == "1" {
			return "count(*)"
		}
		return "count(" + arg + ")"
	case model.MeasureCountDistinct:
		return "count(DISTINCT " + arg + ")"
	case model.MeasureCountDistinctApprox:
		return m.b.d.CountDistinctApprox(arg)
	case model.MeasureSum, model.MeasureRunningTotal:
		return "sum(" + arg + ")"
	case model.MeasureAvg:
		return "avg(" + arg + ")"
	case model.MeasureMin:
		return "min(" + arg + ")"
	case model.MeasureMax:
		return "max(" + arg + ")"
	}
	return arg
}

// primaryKey is the key expression of a cube; a composite key is its parts as text,
// concatenated.
func (b *builder) primaryKey(c *model.Cube) (string, error) {
	pks := c.PrimaryKeys()
	if len(pks) == 1 {
		return b.dimension(pks[0])
	}
	parts := make([]string, len(pks))
	for i, pk := range pks {
		sql, err := b.dimension(pk)
		if err != nil {
			return "", err
		}
		parts[i] = b.d.CastText(sql)
	}
	return "(" + strings.Join(parts, " || '|' || ") + ")", nil
}

// dimension is the row-level expression of a dimension (raw, not converted to the query
// time zone), memoised per statement.
func (b *builder) dimension(d *model.Dimension) (string, error) {
	if sql, ok := b.dims[d]; ok {
		return sql, nil
	}
	sql, err := b.renderDimension(d)
	if err != nil {
		return "", err
	}
	b.dims[d] = sql
	return sql, nil
}

func (b *builder) renderDimension(d *model.Dimension) (string, error) {
	c := d.Cube
	switch {
	case d.SubQuery:
		return b.subQueryDimension(d)
	case d.Case != nil:
		return b.caseDimension(d)
	case d.Type == model.DimGeo && d.Latitude != nil && d.Longitude != nil:
		lat, err := b.template(d.Latitude, c, nil)
		if err != nil {
			return "", err
		}
		lng, err := b.template(d.Longitude, c, nil)
		if err != nil {
			return "", err
		}
		return "(" + b.d.CastText(lat) + " || ',' || " + b.d.CastText(lng) + ")", nil
	case d.SQL == nil:
		return "", fmt.Errorf("dimension %s.%s has no sql", c.Name, d.Name)
	}
	sql, err := b.template(d.SQL, c, nil)
	if err != nil {
		return "", err
	}
	if len(d.SQL.Parts) == 1 && d.SQL.Parts[0].Kind == model.PartColumn {
		return sql, nil
	}
	return "(" + sql + ")", nil
}

func (b *builder) caseDimension(d *model.Dimension) (string, error) {
	var sb strings.Builder
	sb.WriteString("CASE")
	label := func(l model.CaseLabel) (string, error) {
		if l.SQL != nil {
			return b.template(l.SQL, d.Cube, nil)
		}
		return b.arg(l.Text), nil
	}
	for _, w := range d.Case.When {
		cond, err := b.template(w.SQL, d.Cube, nil)
		if err != nil {
			return "", err
		}
		l, err := label(w.Label)
		if err != nil {
			return "", err
		}
		sb.WriteString(" WHEN " + cond + " THEN " + l)
	}
	if d.Case.Else.SQL != nil || d.Case.Else.Text != "" {
		l, err := label(d.Case.Else)
		if err != nil {
			return "", err
		}
		sb.WriteString(" ELSE " + l)
	}
	sb.WriteString(" END")
	return sb.String(), nil
}

// subQueryDimension reads a sub_query dimension from its joined subquery.
func (b *builder) subQueryDimension(d *model.Dimension) (string, error) {
	sq := b.root.SubQueries[d]
	if sq == nil {
		return "", fmt.Errorf("sub_query dimension %s.%s is not planned", d.Cube.Name, d.Name)
	}
	at := map[*model.Measure]string{}
	for _, m := range sq.Plan.Query.Measures {
		at[m.Measure] = b.subQueryAlias(d) + "." + b.q(plan.Alias(m.Name))
	}
	sql, err := b.template(d.SQL, d.Cube, &measures{b: b, p: b.root, leafAt: at})
	if err != nil {
		return "", err
	}
	return "(" + sql + ")", nil
}

// timeColumn is a time dimension truncated to a granularity in the query time zone.
func (b *builder) timeColumn(d *model.Dimension, gran string, custom *model.Granularity) (string, error) {
	raw, err := b.dimension(d)
	if err != nil {
		return "", err
	}
	local := b.local(raw)
	if custom != nil {
		return b.customGranularity(local, custom)
	}
	return b.d.Trunc(dialectUnit(gran), local), nil
}

// template renders model SQL for cube c. References to members become their SQL; measure
// references need a measures context (nil outside measures).
func (b *builder) template(t *model.Template, c *model.Cube, m *measures) (string, error) {
	var sb strings.Builder
	for _, part := range t.Parts {
		switch part.Kind {
		case model.PartText:
			sb.WriteString(part.Text)
		case model.PartColumn:
			sb.WriteString(b.cubeAlias(c) + "." + part.Text)
		case model.PartFilterParams:
			sql, err := b.filterParams(part)
			if err != nil {
				return "", err
			}
			sb.WriteString(sql)
		case model.PartSecurityContext:
			sql, err := b.securityContext(part)
			if err != nil {
				return "", err
			}
			sb.WriteString(sql)
		case model.PartRef:
			sql, err := b.ref(part, c, m)
			if err != nil {
				return "", err
			}
			sb.WriteString(sql)
		}
	}
	return sb.String(), nil
}

func (b *builder) ref(part model.Part, c *model.Cube, m *measures) (string, error) {
	target, member := plan.ResolveRef(b.model, c, part)
	switch {
	case target == nil:
		return "", fmt.Errorf("unresolved reference {%s} in %s", part.Member, c.Name)
	case member == "":
		return b.cubeAlias(target), nil
	case target.Dimension(member) != nil:
		return b.dimension(target.Dimension(member))
	case target.Segment(member) != nil:
		sql, err := b.template(target.Segment(member).SQL, target, m)
		return "(" + sql + ")", err
	case target.Measure(member) != nil:
		if m == nil {
			return "", fmt.Errorf("measure %s.%s is referenced where only row-level SQL is allowed", target.Name, member)
		}
		return m.render(target, target.Measure(member))
	}
	return "", fmt.Errorf("unknown member %s.%s", target.Name, member)
}
