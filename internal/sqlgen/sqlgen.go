package sqlgen

import (
	"fmt"
	"strings"
	"time"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/plan"
)

// Statement is rendered SQL with its arguments, in placeholder order.
type Statement struct {
	SQL     string
	Args    []any
	Columns []*plan.Column
	// LimitArg is the index in Args of the row limit, or -1 when there is none; the engine
	// asks for one row more than the limit to tell a complete result from a cut one.
	LimitArg int
}

// Render renders the query of a plan, with its order, limit and offset.
func Render(p *plan.Plan, d dialect.Dialect) (*Statement, error) {
	b := newBuilder(p, d)
	sql, err := b.query(p, true)
	if err != nil {
		return nil, err
	}
	return &Statement{SQL: sql, Args: b.args, Columns: p.Columns, LimitArg: b.limitArg}, nil
}

// RenderTotal renders the count of rows the query has without its limit and offset, for
// the response's total.
func RenderTotal(p *plan.Plan, d dialect.Dialect) (*Statement, error) {
	b := newBuilder(p, d)
	sql, err := b.query(p, false)
	if err != nil {
		return nil, err
	}
	return &Statement{SQL: "SELECT count(*) AS " + d.Quote("total") + " FROM (" + sql + ") AS " + d.Quote("q"), Args: b.args, LimitArg: -1}, nil
}

// builder accumulates the arguments of one statement. Placeholders are numbered, so pieces
// may be rendered in any order and a placeholder (the time zone) may be used many times.
type builder struct {
	d     dialect.Dialect
	model *model.Model
	root  *plan.Plan
	args  []any
	tz    string
	dims  map[*model.Dimension]string
	// limitArg is the index of the limit in args, -1 until one is bound.
	limitArg int
}

func newBuilder(p *plan.Plan, d dialect.Dialect) *builder {
	return &builder{d: d, model: p.Query.Model, root: p, dims: map[*model.Dimension]string{}, limitArg: -1}
}

func (b *builder) arg(v any) string {
	b.args = append(b.args, v)
	return b.d.Placeholder(len(b.args))
}

// tzParam is the placeholder of the query time zone, bound once.
func (b *builder) tzParam() string {
	if b.tz == "" {
		b.tz = b.arg(b.root.Query.Location.String())
	}
	return b.tz
}

// local converts a UTC timestamp expression to the query time zone. Stored times are UTC,
// so in UTC there is nothing to convert, and skipping the conversion keeps the engine's
// fast paths (zone maps, plain date_trunc) for the most common query.
func (b *builder) local(expr string) string {
	if b.root.Query.Location == time.UTC {
		return expr
	}
	return b.d.ToLocal(expr, b.tzParam())
}

func (b *builder) q(ident string) string { return b.d.Quote(ident) }

// query renders a whole plan; outer adds ORDER BY, LIMIT and OFFSET.
func (b *builder) query(p *plan.Plan, outer bool) (string, error) {
	var sql string
	var err error
	switch {
	case p.Query.Ungrouped:
		sql, err = b.ungrouped(p)
	case p.Single():
		sql, err = b.single(p)
	default:
		sql, err = b.multi(p)
	}
	if err != nil || !outer {
		return sql, err
	}
	return sql + b.orderLimit(p), nil
}

// orderLimit renders ORDER BY on output positions, then LIMIT and OFFSET. NULLs sort as
// PostgreSQL sorts them (last ascending, first descending) on every engine.
func (b *builder) orderLimit(p *plan.Plan) string {
	var sb strings.Builder
	var items []string
	for _, o := range p.Query.Order {
		for i, c := range p.Columns {
			if c.Key != o.Key {
				continue
			}
			dir := " ASC NULLS LAST"
			if o.Desc {
				dir = " DESC NULLS FIRST"
			}
			items = append(items, fmt.Sprintf("%d%s", i+1, dir))
			break
		}
	}
	if len(items) > 0 {
		sb.WriteString("\nORDER BY " + strings.Join(items, ", "))
	}
	if p.Query.Limit > 0 {
		sb.WriteString("\nLIMIT " + b.arg(int64(p.Query.Limit)))
		b.limitArg = len(b.args) - 1
	}
	if p.Query.Offset > 0 {
		sb.WriteString("\nOFFSET " + b.arg(int64(p.Query.Offset)))
	}
	return sb.String()
}

// cubeAlias is the quoted alias of a cube in the FROM clause.
func (b *builder) cubeAlias(c *model.Cube) string {
	if c.SQLAlias != "" {
		return b.q(c.SQLAlias)
	}
	return b.q(c.Name)
}

// source renders a cube's table or SQL as a FROM item.
func (b *builder) source(c *model.Cube) (string, error) {
	if c.SQLTable != "" {
		return c.SQLTable + " AS " + b.cubeAlias(c), nil
	}
	if c.SQL == nil {
		return "", fmt.Errorf("cube %s has neither sql nor sql_table", c.Name)
	}
	sql, err := b.template(c.SQL, c, nil)
	if err != nil {
		return "", err
	}
	return "(" + sql + ") AS " + b.cubeAlias(c), nil
}

// joins renders a join tree: its root, then every edge as a LEFT JOIN.
func (b *builder) joins(t *plan.JoinTree) ([]string, error) {
	root, err := b.source(t.Root)
	if err != nil {
		return nil, err
	}
	parts := []string{root}
	for _, e := range t.Edges {
		src, err := b.source(e.To)
		if err != nil {
			return nil, err
		}
		on, err := b.template(e.Join.SQL, e.Join.From, nil)
		if err != nil {
			return nil, err
		}
		parts = append(parts, "LEFT JOIN "+src+" ON "+on)
	}
	return parts, nil
}

// from renders the join tree, then the sub-query dimensions joined on their keys.
func (b *builder) from(p *plan.Plan) (string, error) {
	parts, err := b.joins(p.Tree)
	if err != nil {
		return "", err
	}
	for _, d := range sortedSubQueries(p) {
		sq := p.SubQueries[d]
		sql, err := b.query(sq.Plan, false)
		if err != nil {
			return "", err
		}
		var on []string
		for _, k := range sq.Key {
			ks, err := b.dimension(k)
			if err != nil {
				return "", err
			}
			on = append(on, ks+" = "+b.subQueryAlias(d)+"."+b.q(plan.Alias(d.Cube.Name+"."+k.Name)))
		}
		parts = append(parts, "LEFT JOIN ("+sql+") AS "+b.subQueryAlias(d)+" ON "+strings.Join(on, " AND "))
	}
	return strings.Join(parts, "\n"), nil
}

func (b *builder) subQueryAlias(d *model.Dimension) string {
	return b.q(d.Cube.Name + "_" + d.Name + "_subquery")
}

func sortedSubQueries(p *plan.Plan) []*model.Dimension {
	var out []*model.Dimension
	for _, c := range p.Tree.Cubes() {
		for _, d := range c.Dimensions {
			if p.SubQueries[d] != nil {
				out = append(out, d)
			}
		}
	}
	return out
}

// where renders the dimension filters, segments and date ranges of a plan.
func (b *builder) where(p *plan.Plan, skipRange *plan.Rolling) (string, error) {
	var conds []string
	for _, s := range p.Query.Segments {
		sql, err := b.template(s.Segment.SQL, s.Cube, nil)
		if err != nil {
			return "", err
		}
		conds = append(conds, "("+sql+")")
	}
	for _, td := range p.DateRanges {
		if skipRange != nil && td == skipRange.Time {
			continue
		}
		cond, err := b.dateRange(td.Dimension, td.DateRange.From, td.DateRange.To)
		if err != nil {
			return "", err
		}
		conds = append(conds, cond)
	}
	for _, f := range p.Where {
		cond, err := b.filter(f, nil)
		if err != nil {
			return "", err
		}
		conds = append(conds, cond)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return "\nWHERE " + strings.Join(conds, "\n  AND "), nil
}

func positions(n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = fmt.Sprint(i + 1)
	}
	return strings.Join(ps, ", ")
}

// keyColumns are the output columns the groups of a plan join on.
func keyColumns(p *plan.Plan) []*plan.Column {
	var cols []*plan.Column
	for _, c := range p.Columns {
		if c.Kind != plan.ColMeasure {
			cols = append(cols, c)
		}
	}
	return cols
}
