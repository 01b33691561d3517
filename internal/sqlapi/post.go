package sqlapi

import (
	"errors"
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/cubit-dev/cubit/internal/model"
)

// postPlan is a statement that the embedded post-processing engine (DuckDB) answers over
// inputs loaded as temporary tables: the results of Cube queries, and catalog tables.
type postPlan struct {
	Inputs []*input `json:"inputs,omitempty"`
	// SQL is the statement rewritten to read the inputs; Args are its parameters.
	SQL  string `json:"sql"`
	Args []any  `json:"args,omitempty"`
}

// input is one temporary table of a postPlan. A Cube query's table has one column per
// output column, named c1, c2, ...
type input struct {
	Table   string    `json:"table"`
	Cube    *cubePlan `json:"cube,omitempty"`
	Catalog string    `json:"catalog,omitempty"` // "tables" or "columns" of information_schema, or an emulated table ("pg_catalog.pg_class")
}

// planSelect rewrites a SELECT: into one Cube query when it is one, else into a postPlan
// whose cube sub-queries push down as much as Cube can compute.
func planSelect(e *env, root *pg.Node) (any, error) {
	sel := root.GetSelectStmt()
	if sel == nil {
		return nil, unsupported("statement", "")
	}
	if sel.WithClause == nil && sel.Op == pg.SetOperation_SETOP_NONE {
		b, err := newBlock(e, sel, nil)
		if err != nil {
			return nil, err
		}
		if b != nil {
			plan, err := b.exact()
			var np *needsPost
			if err == nil || !errors.As(err, &np) {
				return plan, err
			}
		}
	}
	tree := cloneNode(root)
	p := &postBuilder{env: e}
	if err := p.selectStmt(tree.GetSelectStmt(), nil); err != nil {
		return nil, err
	}
	if err := p.catalogExprs(tree); err != nil {
		return nil, err
	}
	args, err := p.finish(tree)
	if err != nil {
		return nil, err
	}
	sql, err := deparse(tree)
	if err != nil {
		return nil, unsupported("statement that cannot be rewritten for post-processing: "+err.Error(), "")
	}
	return &postPlan{Inputs: p.inputs, SQL: sql, Args: args}, nil
}

// postBuilder rewrites a statement tree in place for the post-processing engine.
type postBuilder struct {
	env       *env
	inputs    []*input
	catInputs map[string]string // emulated catalog tables already added, by key
}

func (p *postBuilder) addInput(in *input) string {
	in.Table = fmt.Sprintf("__cubit_%d", len(p.inputs)+1)
	p.inputs = append(p.inputs, in)
	return in.Table
}

// selectStmt rewrites one SELECT (and everything under it). ctes are the names of the
// common table expressions in scope.
func (p *postBuilder) selectStmt(sel *pg.SelectStmt, ctes map[string]bool) error {
	if sel == nil {
		return nil
	}
	if sel.IntoClause != nil || len(sel.LockingClause) > 0 {
		return unsupported("SELECT INTO and FOR UPDATE", "the SQL API is read-only")
	}
	if w := sel.WithClause; w != nil {
		if w.Recursive {
			return unsupported("WITH RECURSIVE", "")
		}
		scope := map[string]bool{}
		for k := range ctes {
			scope[k] = true
		}
		for _, c := range w.Ctes {
			cte := c.GetCommonTableExpr()
			if cte == nil {
				continue
			}
			inner := cte.Ctequery.GetSelectStmt()
			if inner == nil {
				return unsupported("data-modifying WITH", "the SQL API is read-only")
			}
			if err := p.selectStmt(inner, scope); err != nil {
				return err
			}
			scope[strings.ToLower(cte.Ctename)] = true
		}
		ctes = scope
	}
	if sel.Op != pg.SetOperation_SETOP_NONE {
		if err := p.selectStmt(sel.Larg, ctes); err != nil {
			return err
		}
		if err := p.selectStmt(sel.Rarg, ctes); err != nil {
			return err
		}
		return p.exprs(ctes, sortNodes(sel)...)
	}
	nameTargets(sel)
	b, err := newBlock(p.env, sel, ctes)
	if err != nil {
		return err
	}
	if b != nil {
		return p.cubeBlock(b, ctes)
	}
	for _, f := range sel.FromClause {
		if err := p.fromItem(f, ctes); err != nil {
			return err
		}
	}
	var nodes []*pg.Node
	nodes = append(nodes, sel.TargetList...)
	nodes = append(nodes, sel.WhereClause, sel.HavingClause, sel.LimitCount, sel.LimitOffset)
	nodes = append(nodes, sel.GroupClause...)
	nodes = append(nodes, sel.DistinctClause...)
	nodes = append(nodes, sel.WindowClause...)
	nodes = append(nodes, sortNodes(sel)...)
	nodes = append(nodes, sel.ValuesLists...)
	return p.exprs(ctes, nodes...)
}

func sortNodes(sel *pg.SelectStmt) []*pg.Node {
	out := append([]*pg.Node{}, sel.SortClause...)
	return append(out, sel.LimitCount, sel.LimitOffset)
}

// nameTargets gives every select item the column name PostgreSQL would, so that the
// post-processing engine's own naming never shows.
func nameTargets(sel *pg.SelectStmt) {
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if rt == nil || rt.Name != "" || rt.Val == nil {
			continue
		}
		if ref := rt.Val.GetColumnRef(); ref != nil && isStar(ref) {
			continue
		}
		rt.Name = outputName(rt.Val)
	}
}

// exprs rewrites the sub-queries inside expressions.
func (p *postBuilder) exprs(ctes map[string]bool, nodes ...*pg.Node) error {
	var err error
	for _, n := range nodes {
		if n == nil {
			continue
		}
		visit(n, func(x *pg.Node) bool {
			if err != nil {
				return false
			}
			switch v := x.Node.(type) {
			case *pg.Node_SubLink:
				if v.SubLink.Testexpr != nil {
					err = p.exprs(ctes, v.SubLink.Testexpr)
				}
				if err == nil {
					err = p.subquery(v.SubLink.Subselect, ctes)
				}
				return false
			case *pg.Node_SelectStmt:
				err = p.selectStmt(v.SelectStmt, ctes)
				return false
			}
			return true
		})
	}
	return err
}

func (p *postBuilder) subquery(n *pg.Node, ctes map[string]bool) error {
	sel := n.GetSelectStmt()
	if sel == nil {
		return unsupported("sub-query "+nodeText(n), "")
	}
	return p.selectStmt(sel, ctes)
}

// fromItem rewrites one FROM item of a block without cube tables.
func (p *postBuilder) fromItem(n *pg.Node, ctes map[string]bool) error {
	switch v := n.Node.(type) {
	case *pg.Node_RangeVar:
		return p.relation(v.RangeVar, ctes)
	case *pg.Node_RangeSubselect:
		if v.RangeSubselect.Lateral {
			return unsupported("LATERAL sub-queries", "")
		}
		return p.subquery(v.RangeSubselect.Subquery, ctes)
	case *pg.Node_JoinExpr:
		if err := p.fromItem(v.JoinExpr.Larg, ctes); err != nil {
			return err
		}
		if err := p.fromItem(v.JoinExpr.Rarg, ctes); err != nil {
			return err
		}
		return p.exprs(ctes, v.JoinExpr.Quals)
	case *pg.Node_RangeFunction:
		// generate_series and unnest read no table: DuckDB has them (catalog queries use them).
		rf := v.RangeFunction
		if !rf.Lateral && !rf.Ordinality && !rf.IsRowsfrom && len(rf.Functions) == 1 {
			if l := rf.Functions[0].GetList(); l != nil && len(l.Items) > 0 {
				if fc := l.Items[0].GetFuncCall(); fc != nil {
					switch funcName(fc) {
					case "generate_series", "unnest":
						// As in PostgreSQL, the alias of a one-column function names its column too.
						if rf.Alias != nil && len(rf.Alias.Colnames) == 0 {
							rf.Alias.Colnames = []*pg.Node{strNode(rf.Alias.Aliasname)}
						}
						return p.exprs(ctes, fc.Args...)
					}
				}
			}
		}
		return unsupported("functions in FROM", "select from cube tables")
	}
	return unsupported("FROM item "+nodeText(n), "")
}

// relation resolves a table that is not a cube table: a CTE, or one of the catalog tables
// the SQL API materialises. Other catalog tables are not emulated yet.
func (p *postBuilder) relation(rv *pg.RangeVar, ctes map[string]bool) error {
	schema := strings.ToLower(rv.Schemaname)
	name := strings.ToLower(rv.Relname)
	if schema == "" && ctes[name] {
		return nil
	}
	if key := catalogKey(schema, name); key != "" {
		if rv.Alias == nil {
			rv.Alias = &pg.Alias{Aliasname: rv.Relname}
		}
		if key == "tables" || key == "columns" {
			rv.Relname = p.addInput(&input{Catalog: key})
		} else {
			rv.Relname = p.catalogInput(key)
		}
		rv.Schemaname, rv.Catalogname = "", ""
		return nil
	}
	full := rv.Relname
	if rv.Schemaname != "" {
		full = rv.Schemaname + "." + rv.Relname
	}
	if schema == "pg_catalog" || schema == "information_schema" || (schema == "" && catalogSchemaTable(name)) {
		return unsupported("catalog table "+full, "this catalog table is not emulated; query the cube tables of schema public")
	}
	return undefinedTable(full, p.env.cat.tableNames())
}

// cubeBlock rewrites a SELECT over cube tables: when one Cube query answers it, its
// result replaces the block; otherwise the block reads a wider Cube query (see widen).
func (p *postBuilder) cubeBlock(b *block, ctes map[string]bool) error {
	plan, err := b.exact()
	var np *needsPost
	switch {
	case err == nil:
		name := p.addInput(&input{Cube: plan})
		sel := b.sel
		targets := make([]*pg.Node, len(plan.Columns))
		for i, c := range plan.Columns {
			targets[i] = resTarget(c.Name, columnRef(name, inputColumn(i)))
		}
		*sel = pg.SelectStmt{TargetList: targets, FromClause: []*pg.Node{rangeVar(name, "")},
			LimitOption: pg.LimitOption_LIMIT_OPTION_DEFAULT, Op: pg.SetOperation_SETOP_NONE}
		return nil
	case !errors.As(err, &np):
		return err
	}
	// exact() filled b's query: start again from the same FROM clause.
	fresh, err := newBlock(p.env, b.sel, ctes)
	if err != nil {
		return err
	}
	return p.widen(fresh, ctes)
}

// inputColumn is the name of the i-th column (0-based) of an input table.
func inputColumn(i int) string { return fmt.Sprintf("c%d", i+1) }

// widener rewrites a block to read a wider Cube query: every dimension and DATE_TRUNC the
// block reads (outside aggregates) becomes a grouping column of the Cube query, every
// measure a measure column; the block then aggregates those rows again. Additive measures
// (count, sum, min, max) re-aggregate exactly; any other measure is taken as it is, with a
// check that each group of the block holds exactly one row of the Cube query, so that a
// non-additive measure is never summed into a wrong number.
type widener struct {
	p     *postBuilder
	b     *block
	ctes  map[string]bool
	table string
	cols  []outCol
	index map[string]int
	// targets are the output names of the select list, which ORDER BY and GROUP BY may use.
	targets map[string]bool
}

func (p *postBuilder) widen(b *block, ctes map[string]bool) error {
	sel := b.sel
	b.grouped, _ = b.groupingMode()
	for _, g := range sel.GroupClause {
		// Grouping keys matter for HAVING's rule on dimensions.
		if l, lerr := b.leafOf(g); lerr == nil && l != nil && l.kind != leafMeasure {
			b.groupKeys[l.key] = true
		}
	}
	in := &input{}
	w := &widener{p: p, b: b, ctes: ctes, table: p.addInput(in), index: map[string]int{}, targets: map[string]bool{}}

	// WHERE: exact conditions push down; the rest stays, reading pushed columns.
	if sel.WhereClause != nil {
		c, err := b.where(sel.WhereClause, false)
		if err != nil {
			return err
		}
		b.q.Filters, b.q.Segments, b.user = c.filters, c.segments, c.user
		sel.WhereClause = andNodes(c.residual)
		if err := w.expr(sel.WhereClause, clauseWhere); err != nil {
			return err
		}
	}
	// The select list, with * expanded to explicit columns.
	var targets []*pg.Node
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if rt == nil {
			continue
		}
		if ref := rt.Val.GetColumnRef(); ref != nil && isStar(ref) {
			tables, err := b.starTables(ref)
			if err != nil {
				return err
			}
			for _, bt := range tables {
				for _, c := range bt.t.Columns {
					var val *pg.Node
					if c.Kind == colMeasure && !b.grouped && !rowLevel(c.Measure) {
						// No value per row: NULL in SELECT *, as in a Cube query's result.
						val = typeCast(nullConst(), pgTypeName(c.OID))
					} else if val, err = w.column(c, clauseSelect, false); err != nil {
						return err
					}
					targets = append(targets, resTarget(c.Name, val))
					w.targets[c.Name] = true
				}
			}
			continue
		}
		w.targets[rt.Name] = true
		if err := w.expr(rt.Val, clauseSelect); err != nil {
			return err
		}
		targets = append(targets, t)
	}
	sel.TargetList = targets
	for _, g := range sel.GroupClause {
		if err := w.expr(g, clauseGroup); err != nil {
			return err
		}
	}
	if err := w.expr(sel.HavingClause, clauseHaving); err != nil {
		return err
	}
	for _, s := range sel.SortClause {
		if err := w.expr(s, clauseOrder); err != nil {
			return err
		}
	}
	for _, d := range sel.DistinctClause {
		if err := w.expr(d, clauseSelect); err != nil {
			return err
		}
	}
	for _, wd := range sel.WindowClause {
		if err := w.expr(wd, clauseSelect); err != nil {
			return err
		}
	}
	if err := p.exprs(ctes, sel.LimitCount, sel.LimitOffset); err != nil {
		return err
	}
	sel.FromClause = []*pg.Node{rangeVar(w.table, "")}
	if !b.grouped {
		b.q.Ungrouped = true
		b.addPrimaryKeys()
	}
	if len(w.cols) == 0 && len(b.q.Dimensions)+len(b.q.Measures)+len(b.q.TimeDimensions) == 0 {
		// Nothing read from the cube (SELECT 1 FROM orders): count its rows through a key.
		if err := w.anyColumn(); err != nil {
			return err
		}
	}
	b.q.SecurityContext = b.securityContext()
	in.Cube = &cubePlan{Query: b.q, Columns: w.cols, User: b.user}
	return nil
}

// anyColumn makes a block that reads no column still read the cube: its rows through
// their primary key when ungrouped, its totals through the count measure when grouped.
func (w *widener) anyColumn() error {
	for _, bt := range w.b.tables {
		for _, c := range bt.t.Columns {
			if !w.b.grouped && c.Kind == colDimension && c.Dimension.PrimaryKey {
				w.push(w.b.columnLeaf(c))
				return nil
			}
		}
	}
	if w.b.grouped && len(w.b.tables) == 1 {
		if c, err := w.b.countMeasure(); err == nil {
			w.push(w.b.columnLeaf(c))
			return nil
		}
	}
	return unsupported("a query that reads no column of the cube", "select a dimension or a measure")
}

type clause int

const (
	clauseSelect clause = iota
	clauseWhere
	clauseGroup
	clauseHaving
	clauseOrder
)

func andNodes(nodes []*pg.Node) *pg.Node {
	switch len(nodes) {
	case 0:
		return nil
	case 1:
		return nodes[0]
	}
	return pg.MakeBoolExprNode(pg.BoolExprType_AND_EXPR, nodes, -1)
}

// push adds a leaf to the columns of the Cube query's result and returns its column name.
func (w *widener) push(l *leaf) string {
	// A day bucket may be read as a timestamp (DATE_TRUNC) and as a date (DATE): one
	// column each, from the same member.
	k := fmt.Sprintf("%s:%d", l.key, l.oid)
	if i, ok := w.index[k]; ok {
		return inputColumn(i)
	}
	w.b.addLeaf(l)
	w.index[k] = len(w.cols)
	w.cols = append(w.cols, outCol{Name: inputColumn(len(w.cols)), OID: l.oid, Key: l.key, RawTime: l.rawTime()})
	return inputColumn(len(w.cols) - 1)
}

// ref is a reference to a pushed column.
func (w *widener) ref(l *leaf) *pg.Node { return columnRef(w.table, w.push(l)) }

// column is the expression that replaces a cube column outside aggregates.
func (w *widener) column(c *column, cl clause, inAgg bool) (*pg.Node, error) {
	l := w.b.columnLeaf(c)
	switch l.kind {
	case leafDimension:
		return w.ref(l), nil
	case leafMeasure:
		if inAgg {
			return nil, unsupported("an aggregate over an expression of measure "+c.Member, "aggregate the measure itself: MEASURE("+c.Name+")")
		}
		if cl == clauseWhere && w.b.grouped {
			return nil, groupingError("measure %s cannot be used in WHERE of a grouped query; filter on it in HAVING", c.Member)
		}
		return w.measure(l)
	}
	if cl != clauseSelect {
		return nil, unsupported(c.Name+" outside the select list and top-level WHERE conditions", "")
	}
	return typeCast(nullConst(), pgTypeName(c.OID)), nil
}

// pgTypeName is the type name of a cast to a column type.
func pgTypeName(oid uint32) string {
	switch oid {
	case oidBool:
		return "bool"
	case oidInt8:
		return "int8"
	case oidFloat8:
		return "float8"
	case oidTimestamp:
		return "timestamp"
	}
	return "text"
}

// measure is the expression of a measure: its row value in an ungrouped block, else its
// re-aggregation.
func (w *widener) measure(l *leaf) (*pg.Node, error) {
	t := l.col.Measure.Type
	if !w.b.grouped {
		if !rowLevel(l.col.Measure) {
			return nil, unsupported(fmt.Sprintf("measure %s (%s) without GROUP BY", l.col.Member, t),
				"it has no value per row: aggregate it with MEASURE() and GROUP BY")
		}
		return w.ref(l), nil
	}
	ref := w.ref(l)
	switch t {
	case model.MeasureCount:
		sum := &pg.Node{Node: &pg.Node_CoalesceExpr{CoalesceExpr: &pg.CoalesceExpr{
			Args: []*pg.Node{funcCall("sum", ref), pg.MakeAConstIntNode(0, -1)}, Location: -1}}}
		return typeCast(sum, "int8"), nil
	case model.MeasureSum:
		return funcCall("sum", ref), nil
	case model.MeasureMin:
		return funcCall("min", ref), nil
	case model.MeasureMax:
		return funcCall("max", ref), nil
	}
	// Not additive: valid only where a group is one row of the Cube query.
	msg := fmt.Sprintf("measure %s (%s) is not additive, and this query groups the rows Cube returns for it again "+
		"(by an expression, or more coarsely than the conditions it cannot push down need); "+
		"group by plain columns and filter with conditions Cube can evaluate, or compute the rest in an outer query",
		l.col.Member, t)
	more := pg.MakeAExprNode(pg.A_Expr_Kind_AEXPR_OP, []*pg.Node{strNode(">")},
		&pg.Node{Node: &pg.Node_FuncCall{FuncCall: &pg.FuncCall{Funcname: []*pg.Node{strNode("count")}, AggStar: true, Location: -1}}},
		pg.MakeAConstIntNode(1, -1), -1)
	when := pg.MakeCaseWhenNode(more, funcCall("error", stringConst(msg)), -1)
	return &pg.Node{Node: &pg.Node_CaseExpr{CaseExpr: &pg.CaseExpr{Args: []*pg.Node{when},
		Defresult: funcCall("any_value", ref), Location: -1}}}, nil
}

// idempotent aggregates give the same result over rows that repeat; with DISTINCT every
// aggregate does. Only those may read dimensions of a re-aggregated block.
var idempotent = map[string]bool{"min": true, "max": true, "bool_and": true, "bool_or": true, "every": true, "any_value": true}

// expr rewrites the cube columns of an expression in place.
func (w *widener) expr(n *pg.Node, cl clause) error {
	return w.walk(n, cl, false)
}

func (w *widener) walk(n *pg.Node, cl clause, inAgg bool) error {
	if n == nil {
		return nil
	}
	var err error
	visit(n, func(x *pg.Node) bool {
		if err != nil {
			return false
		}
		switch v := x.Node.(type) {
		case *pg.Node_SubLink:
			if v.SubLink.Testexpr != nil {
				err = w.walk(v.SubLink.Testexpr, cl, inAgg)
			}
			if err == nil {
				err = w.p.subquery(v.SubLink.Subselect, w.ctes)
			}
			return false
		case *pg.Node_ColumnRef:
			ref := v.ColumnRef
			if isStar(ref) {
				err = unsupported(nodeText(x)+" here", "")
				return false
			}
			_, c, rerr := w.b.resolve(ref)
			if rerr != nil {
				// An output name in ORDER BY or GROUP BY stays for the engine to bind.
				if names := strs(ref.Fields); len(names) == 1 && w.targets[names[0]] && (cl == clauseOrder || cl == clauseGroup) {
					return false
				}
				err = rerr
				return false
			}
			var repl *pg.Node
			if repl, err = w.column(c, cl, inAgg); err == nil {
				x.Node = repl.Node
			}
			return false
		case *pg.Node_TypeCast:
			// <time dimension>::date reads the day bucket.
			l, lerr := w.b.leafOf(x)
			if lerr != nil {
				err = lerr
				return false
			}
			if l != nil {
				x.Node = w.ref(l).Node
				return false
			}
		case *pg.Node_FuncCall:
			fc := v.FuncCall
			// EXTRACT and date_part of a time dimension read the bucket they need.
			bl, i, berr := w.b.extractBucket(fc)
			if berr != nil {
				err = berr
				return false
			}
			if bl != nil {
				fc.Args[i] = w.ref(bl)
				return false
			}
			l, lerr := w.b.leafOf(x)
			if lerr != nil {
				err = lerr
				return false
			}
			if l != nil {
				if inAgg && l.kind == leafMeasure {
					err = groupingError("aggregate function calls cannot be nested")
					return false
				}
				switch l.kind {
				case leafTime, leafDimension:
					x.Node = w.ref(l).Node
				case leafMeasure:
					if !w.b.grouped {
						err = groupingError("aggregate function in a query that is not grouped")
						return false
					}
					var repl *pg.Node
					if repl, err = w.measure(l); err == nil {
						x.Node = repl.Node
					}
				default:
					err = unsupported(nodeText(x), "")
				}
				return false
			}
			if isAggregate(fc) {
				if inAgg {
					err = groupingError("aggregate function calls cannot be nested")
					return false
				}
				name := funcName(fc)
				if !fc.AggDistinct && !idempotent[name] {
					err = unsupported(fmt.Sprintf("%s() over dimensions or expressions", strings.ToUpper(name)),
						"Cube aggregates measures: use a measure (MEASURE(<measure>), or the aggregate its type takes); over dimensions only MIN, MAX and DISTINCT aggregates are computed")
					return false
				}
				for _, a := range fc.Args {
					if err = w.walk(a, cl, true); err != nil {
						return false
					}
				}
				for _, o := range fc.AggOrder {
					if err = w.walk(o, cl, true); err != nil {
						return false
					}
				}
				err = w.walk(fc.AggFilter, cl, true)
				return false
			}
		}
		return true
	})
	return err
}
