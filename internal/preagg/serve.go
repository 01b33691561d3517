package preagg

import (
	"strings"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/plan"
	"github.com/cubit-dev/cubit/internal/query"
	"github.com/cubit-dev/cubit/internal/sqlgen"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

// Use is a query answered by a rollup: the SQL over the rollup's table, in DuckDB's dialect,
// and where to run it.
type Use struct {
	Rollup *Rollup
	Table  *Table
	// Plan is the query planned over the rollup's table (its Query is resolved against a
	// model whose cube reads the table); Statement is its SQL.
	Plan      *plan.Plan
	Statement *sqlgen.Statement
	// Warehouse is the rollup store's database.
	Warehouse warehouse.Warehouse
}

// storeDialect is the rollup store's dialect, whatever the source's.
var storeDialect = dialect.DuckDB{}

// Dialect returns the dialect of the SQL a Use runs.
func (u *Use) Dialect() dialect.Dialect { return storeDialect }

// Rewrite returns how the first rollup (in model order) that is built and matches q answers
// it, or nil when none does and q reads the source.
func (s *Set) Rewrite(q *query.Resolved) (*Use, error) {
	if q.Ungrouped {
		return nil, nil
	}
	for _, r := range s.rollups {
		if r.Unusable != "" {
			continue
		}
		t := s.store.Current(s.key(r, q.Timezone))
		if t == nil || Match(q, r, t.Coverage) != "" {
			continue
		}
		return s.serve(q, r, t)
	}
	return nil, nil
}

// Explain says, for each rollup, why it does or does not answer q ("" for the one that
// does), for tests and for the jobs API's diagnostics.
func (s *Set) Explain(q *query.Resolved) map[string]string {
	out := map[string]string{}
	for _, r := range s.rollups {
		t := s.store.Current(s.key(r, q.Timezone))
		if t == nil {
			out[r.ID()] = "not built in time zone " + q.Timezone
			continue
		}
		out[r.ID()] = Match(q, r, t.Coverage)
	}
	return out
}

// serve plans q over table t of rollup r: the query with its members renamed to the cube's
// own names (view members included), resolved against a model whose cube reads the table,
// and rendered for DuckDB. The rollup's measures re-aggregate their stored values (sum of
// sums and of counts, min of mins, max of maxes; a non-additive measure, only ever matched
// exactly, takes its single stored value); time buckets are cut again at the query's
// granularity in the query's zone; filters apply to the stored columns.
func (s *Set) serve(q *query.Resolved, r *Rollup, t *Table) (*Use, error) {
	m, err := s.tableModel(r, t)
	if err != nil {
		return nil, err
	}
	rq, err := query.Resolve(renamed(q, r), m)
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "rewriting the query for pre-aggregation %s", r.ID())
	}
	p, err := plan.Build(rq, plan.Options{})
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "planning the query over pre-aggregation %s", r.ID())
	}
	stmt, err := sqlgen.Render(p, storeDialect)
	if err != nil {
		return nil, err
	}
	return &Use{Rollup: r, Table: t, Plan: p, Statement: stmt, Warehouse: s.store.wh}, nil
}

// tableModel is a model of one cube named like r's cube that reads table t: a dimension per
// stored dimension and time bucket, a measure per stored measure that aggregates its column
// again. A dimension of a joined cube is named by its column (localName), so the one cube
// holds every member and the query over the table needs no join.
func (s *Set) tableModel(r *Rollup, t *Table) (*model.Model, error) {
	if m, ok := s.store.models.Load(t.Name); ok {
		return m.(*model.Model), nil
	}
	col := func(alias string) (*model.Template, error) {
		return model.ParseTemplate("{CUBE}."+quote(alias), model.Pos{})
	}
	c := &model.Cube{Name: r.Cube.Name, Kind: model.KindCube, SQLTable: t.Name, Public: true}
	member := func(name string) string { return plan.Alias(r.Cube.Name + "." + name) }
	for _, d := range r.Dimensions {
		sql, err := col(plan.Alias(d.Cube.Name + "." + d.Name))
		if err != nil {
			return nil, err
		}
		typ := d.Type
		if typ == model.DimGeo || typ == model.DimSwitch {
			typ = model.DimString
		}
		c.Dimensions = append(c.Dimensions, &model.Dimension{Name: localName(r, d.Cube, d.Name), Type: typ, SQL: sql, Public: true,
			Granularities: d.Granularities})
	}
	if r.Time != nil && !containsDim(r.Dimensions, r.Time) {
		sql, err := col(member(r.Time.Name) + "_" + r.Granularity)
		if err != nil {
			return nil, err
		}
		c.Dimensions = append(c.Dimensions, &model.Dimension{Name: r.Time.Name, Type: model.DimTime, SQL: sql, Public: true})
	}
	for _, mm := range r.Measures {
		sql, err := col(member(mm.Name))
		if err != nil {
			return nil, err
		}
		typ := model.MeasureMax // a non-additive measure: one stored row per group
		switch mm.Type {
		case model.MeasureCount:
			// A count of no rows is 0, not the NULL a sum of nothing is.
			typ = model.MeasureNumber
			if sql, err = model.ParseTemplate("CAST(COALESCE(sum({CUBE}."+quote(member(mm.Name))+"), 0) AS BIGINT)", model.Pos{}); err != nil {
				return nil, err
			}
		case model.MeasureSum:
			typ = model.MeasureSum
		case model.MeasureMin:
			typ = model.MeasureMin
		}
		c.Measures = append(c.Measures, &model.Measure{Name: mm.Name, Type: typ, SQL: sql, Public: true})
	}
	m := model.New([]*model.Cube{c})
	s.store.models.Store(t.Name, m)
	return m, nil
}

func containsDim(list []*model.Dimension, d *model.Dimension) bool {
	for _, x := range list {
		if x == d {
			return true
		}
	}
	return false
}

// localName is the name in the table model (tableModel) of member name of cube c: its own
// name for r's cube, its column alias ("users__city") for a joined cube.
func localName(r *Rollup, c *model.Cube, name string) string {
	if c == r.Cube {
		return name
	}
	return plan.Alias(c.Name + "." + name)
}

// renamed is q with every member named as the table model of r names it ("orders.status",
// not "orders_view.status"; "orders.users__city" for "users.city") and without segments,
// which the rollup's rows already satisfy.
func renamed(q *query.Resolved, r *Rollup) *query.Normalized {
	local := func(c *model.Cube, name string) string { return r.Cube.Name + "." + localName(r, c, name) }
	names := map[string]string{}
	for _, m := range q.Measures {
		names[m.Name] = local(m.Cube, m.Measure.Name)
	}
	for _, d := range q.Dimensions {
		names[d.Name] = local(d.Cube, d.Dimension.Name)
	}
	for _, td := range q.TimeDimensions {
		names[td.Name] = local(td.Cube, td.Dimension.Name)
	}
	var walk func(f *query.FilterNode)
	walk = func(f *query.FilterNode) {
		switch {
		case f.Measure != nil:
			names[f.Ref.Name] = local(f.Ref.Cube, f.Measure.Name)
		case f.Dimension != nil:
			names[f.Ref.Name] = local(f.Ref.Cube, f.Dimension.Name)
		}
		for _, c := range f.And {
			walk(c)
		}
		for _, c := range f.Or {
			walk(c)
		}
	}
	for _, f := range q.Filters {
		walk(f)
	}
	rename := func(n string) string {
		if v, ok := names[n]; ok {
			return v
		}
		return n
	}
	n := *q.Normalized
	qq := *n.Query
	qq.Measures = mapStrings(qq.Measures, rename)
	qq.Dimensions = mapStrings(qq.Dimensions, rename)
	qq.Segments, qq.JoinHints = nil, nil
	n.Query = &qq
	n.TimeDimensions = make([]query.NormTimeDimension, len(q.Normalized.TimeDimensions))
	for i, td := range q.Normalized.TimeDimensions {
		td.Dimension = rename(td.Dimension)
		n.TimeDimensions[i] = td
	}
	n.Filters = renameFilters(q.Normalized.Filters, rename)
	n.Order = make([]query.OrderItem, len(q.Normalized.Order))
	for i, o := range q.Normalized.Order {
		if v, ok := names[o.ID]; ok {
			o.ID = v
		} else if i := strings.LastIndexByte(o.ID, '.'); i > 0 {
			if v, ok := names[o.ID[:i]]; ok {
				o.ID = v + o.ID[i:]
			}
		}
		n.Order[i] = o
	}
	return &n
}

func mapStrings(list []string, f func(string) string) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = f(s)
	}
	return out
}

func renameFilters(list []query.Filter, rename func(string) string) []query.Filter {
	if list == nil {
		return nil
	}
	out := make([]query.Filter, len(list))
	for i, f := range list {
		f.Member = rename(f.Member)
		f.And = renameFilters(f.And, rename)
		f.Or = renameFilters(f.Or, rename)
		out[i] = f
	}
	return out
}
