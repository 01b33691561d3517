package sqlgen

import (
	"fmt"
	"strings"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/plan"
)

// single renders the common plan: one SELECT over the join tree, grouped by the
// dimensions, with measure filters in HAVING.
func (b *builder) single(p *plan.Plan) (string, error) {
	m := &measures{b: b, p: p, inline: true, multiplied: p.Multiplied}
	var sel []string
	nkeys := 0
	for _, c := range p.Columns {
		expr, err := b.column(c, m)
		if err != nil {
			return "", err
		}
		sel = append(sel, expr+" AS "+b.q(c.Alias))
		if c.Kind != plan.ColMeasure {
			nkeys++
		}
	}
	from, err := b.from(p)
	if err != nil {
		return "", err
	}
	where, err := b.where(p, nil)
	if err != nil {
		return "", err
	}
	sql := "SELECT " + strings.Join(sel, ",\n  ") + "\nFROM " + from + where
	if nkeys > 0 {
		sql += "\nGROUP BY " + positions(nkeys)
	}
	var having []string
	for _, f := range p.Having {
		cond, err := b.filter(f, m)
		if err != nil {
			return "", err
		}
		having = append(having, cond)
	}
	if len(having) > 0 {
		sql += "\nHAVING " + strings.Join(having, " AND ")
	}
	return sql, nil
}

// column renders the expression of an output column.
func (b *builder) column(c *plan.Column, m *measures) (string, error) {
	switch c.Kind {
	case plan.ColDimension:
		return b.dimensionOutput(c.Dimension.Dimension)
	case plan.ColTime:
		return b.timeColumn(c.Time.Dimension, c.Time.Granularity, c.Time.Custom)
	}
	return m.render(c.Measure.Cube, c.Measure.Measure)
}

// dimensionOutput is a dimension as selected: time dimensions in the query time zone.
func (b *builder) dimensionOutput(d *model.Dimension) (string, error) {
	sql, err := b.dimension(d)
	if err != nil || d.Type != model.DimTime {
		return sql, err
	}
	return b.local(sql), nil
}

// multi renders a plan of several groups: each group is a subquery at the query's grain,
// joined to the others on every dimension (NULL matching NULL), and composite measures and
// measure filters are evaluated over the groups' columns.
func (b *builder) multi(p *plan.Plan) (string, error) {
	keys := keyColumns(p)
	leafAt := map[*model.Measure]string{}
	var from []string
	for i, g := range p.Groups {
		sql, err := b.group(p, g)
		if err != nil {
			return "", err
		}
		alias := b.q(fmt.Sprintf("q_%d", i))
		for _, leaf := range g.Leaves {
			leafAt[leaf] = alias + "." + b.q(leafAlias(leaf))
		}
		item := "(" + sql + ") AS " + alias
		switch {
		case i == 0:
			from = append(from, item)
		case len(keys) == 0:
			from = append(from, "CROSS JOIN "+item)
		default:
			var on []string
			for _, k := range keys {
				on = append(on, b.d.NullSafeEqual(b.q("q_0")+"."+b.q(k.Alias), alias+"."+b.q(k.Alias)))
			}
			from = append(from, "INNER JOIN "+item+" ON "+strings.Join(on, " AND "))
		}
	}
	m := &measures{b: b, p: p, leafAt: leafAt}
	var sel []string
	for _, c := range p.Columns {
		expr := b.q("q_0") + "." + b.q(c.Alias)
		if c.Kind == plan.ColMeasure {
			var err error
			if expr, err = m.render(c.Measure.Cube, c.Measure.Measure); err != nil {
				return "", err
			}
		}
		sel = append(sel, expr+" AS "+b.q(c.Alias))
	}
	sql := "SELECT " + strings.Join(sel, ",\n  ") + "\nFROM " + strings.Join(from, "\n")
	var conds []string
	for _, f := range p.Having {
		cond, err := b.filter(f, m)
		if err != nil {
			return "", err
		}
		conds = append(conds, cond)
	}
	if len(conds) > 0 {
		sql += "\nWHERE " + strings.Join(conds, " AND ")
	}
	return sql, nil
}

func leafAlias(m *model.Measure) string { return plan.Alias(m.Cube.Name + "." + m.Name) }

// group renders one group of a multi-group plan: the key columns and its leaf measures.
func (b *builder) group(p *plan.Plan, g *plan.Group) (string, error) {
	switch {
	case g.Rolling != nil:
		return b.rolling(p, g.Rolling)
	case g.KeyCube != nil:
		return b.keysGroup(p, g)
	}
	m := &measures{b: b, p: p, inline: true, multiplied: p.Multiplied}
	var sel []string
	keys := keyColumns(p)
	for _, c := range keys {
		expr, err := b.column(c, m)
		if err != nil {
			return "", err
		}
		sel = append(sel, expr+" AS "+b.q(c.Alias))
	}
	for _, leaf := range g.Leaves {
		expr, err := m.render(leaf.Cube, leaf)
		if err != nil {
			return "", err
		}
		sel = append(sel, expr+" AS "+b.q(leafAlias(leaf)))
	}
	from, err := b.from(p)
	if err != nil {
		return "", err
	}
	where, err := b.where(p, nil)
	if err != nil {
		return "", err
	}
	sql := "SELECT " + strings.Join(sel, ",\n  ") + "\nFROM " + from + where
	if len(keys) > 0 {
		sql += "\nGROUP BY " + positions(len(keys))
	}
	return sql, nil
}

// keysGroup aggregates the measures of a multiplied cube at its own grain: first the
// distinct (dimensions, primary key) over the filtered join tree, then the cube joined back
// on its key, so every row of the cube counts once per dimension combination.
func (b *builder) keysGroup(p *plan.Plan, g *plan.Group) (string, error) {
	m := &measures{b: b, p: p, inline: true}
	keys := keyColumns(p)
	var inner, outer []string
	for _, c := range keys {
		expr, err := b.column(c, m)
		if err != nil {
			return "", err
		}
		inner = append(inner, expr+" AS "+b.q(c.Alias))
		outer = append(outer, b.q("keys")+"."+b.q(c.Alias)+" AS "+b.q(c.Alias))
	}
	pks := make([]string, len(g.KeyCube.PrimaryKeys()))
	for i, pk := range g.KeyCube.PrimaryKeys() {
		expr, err := b.dimension(pk)
		if err != nil {
			return "", err
		}
		pks[i] = expr
		inner = append(inner, expr+" AS "+b.q(pkAlias(i)))
	}
	from, err := b.from(p)
	if err != nil {
		return "", err
	}
	where, err := b.where(p, nil)
	if err != nil {
		return "", err
	}
	src, on, leaves, err := b.keyCubeRows(m, g, pks)
	if err != nil {
		return "", err
	}
	sql := "SELECT " + strings.Join(append(outer, leaves...), ",\n  ") +
		"\nFROM (SELECT DISTINCT " + strings.Join(inner, ",\n  ") + "\nFROM " + from + where + ") AS " + b.q("keys") +
		"\nLEFT JOIN " + src + " ON " + strings.Join(on, " AND ")
	if len(keys) > 0 {
		sql += "\nGROUP BY " + positions(len(keys))
	}
	return sql, nil
}

func pkAlias(i int) string { return fmt.Sprintf("__pk_%d", i) }

// keyCubeRows renders the rows a keys group joins back on the primary key (pks are the key
// expressions over the cube's alias), the join condition and the aggregated leaves. Without
// a measure join that is the cube itself; with one, a subquery over the measure join giving
// each key's row-level measure values, which are aggregated outside it.
func (b *builder) keyCubeRows(m *measures, g *plan.Group, pks []string) (src string, on, leaves []string, err error) {
	keys, alias := b.q("keys"), b.cubeAlias(g.KeyCube)
	if g.Source == nil {
		if src, err = b.source(g.KeyCube); err != nil {
			return "", nil, nil, err
		}
		for i, pk := range pks {
			on = append(on, keys+"."+b.q(pkAlias(i))+" = "+pk)
		}
		for _, leaf := range g.Leaves {
			expr, err := m.render(leaf.Cube, leaf)
			if err != nil {
				return "", nil, nil, err
			}
			leaves = append(leaves, expr+" AS "+b.q(leafAlias(leaf)))
		}
		return src, on, leaves, nil
	}
	var sel []string
	for i, pk := range pks {
		sel = append(sel, pk+" AS "+b.q(pkAlias(i)))
		on = append(on, keys+"."+b.q(pkAlias(i))+" = "+alias+"."+b.q(pkAlias(i)))
	}
	for _, leaf := range g.Leaves {
		if !leaf.Type.Aggregating() {
			return "", nil, nil, errs.Invalid("measure %s.%s is already an aggregate and cannot be computed over a join to other cubes", leaf.Cube.Name, leaf.Name)
		}
		arg, err := m.argument(leaf.Cube, leaf)
		if err != nil {
			return "", nil, nil, err
		}
		sel = append(sel, arg+" AS "+b.q(leafAlias(leaf)))
		leaves = append(leaves, m.aggregate(leaf.Cube, leaf, alias+"."+b.q(leafAlias(leaf)))+" AS "+b.q(leafAlias(leaf)))
	}
	parts, err := b.joins(g.Source)
	if err != nil {
		return "", nil, nil, err
	}
	src = "(SELECT " + strings.Join(sel, ",\n  ") + "\nFROM " + strings.Join(parts, "\n") + ") AS " + alias
	return src, on, leaves, nil
}

// ungrouped renders a query without aggregation: one output row per row of the join tree,
// measures as their row-level expressions.
func (b *builder) ungrouped(p *plan.Plan) (string, error) {
	m := &measures{b: b, p: p, inline: true, rowLevel: true}
	var sel []string
	for _, c := range p.Columns {
		expr, err := b.column(c, m)
		if err != nil {
			return "", err
		}
		sel = append(sel, expr+" AS "+b.q(c.Alias))
	}
	from, err := b.from(p)
	if err != nil {
		return "", err
	}
	where, err := b.where(p, nil)
	if err != nil {
		return "", err
	}
	var conds []string
	for _, f := range p.Having {
		cond, err := b.filter(f, m)
		if err != nil {
			return "", err
		}
		conds = append(conds, cond)
	}
	if len(conds) > 0 {
		if where == "" {
			where = "\nWHERE "
		} else {
			where += "\n  AND "
		}
		where += strings.Join(conds, "\n  AND ")
	}
	return "SELECT " + strings.Join(sel, ",\n  ") + "\nFROM " + from + where, nil
}
