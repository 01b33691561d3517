package sqlapi

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/query"
)

// env is what a rewrite needs from its session.
type env struct {
	cat       *catalog
	user      string // the session user
	superUser string // may switch the security context with __user; "" means nobody
	database  string
	pid       uint32 // pg_backend_pid()
	timezone  string // the session TimeZone; the query time zone unless UTC
	// params are the statement's parameter values; describe is true when they are not
	// known yet (a statement being prepared), and placeholders stand in for them.
	params   []any
	describe bool
	// paramTypes collects the types inferred for parameters ($n → OID).
	paramTypes map[int32]uint32
	// setting reads a run-time setting; setConfig changes one (set_config()).
	setting   func(name string) (string, bool)
	setConfig func(name, value string)
}

// cubePlan is a SELECT answered by one Cube query: the rows of the query, projected on the
// select list.
type cubePlan struct {
	Query   *query.Query `json:"query"`
	Columns []outCol     `json:"columns"`
	// LimitZero is a LIMIT 0: the query is checked but returns no rows.
	LimitZero bool `json:"limitZero,omitempty"`
	// User is the user WHERE __user switched to, if any; Query.SecurityContext holds the
	// resulting security context (not shown in JSON).
	User string `json:"user,omitempty"`
}

// outCol is one output column: its name, its type and the key of the engine's row that
// holds its value ("" for a column that is always NULL).
type outCol struct {
	Name string `json:"name"`
	OID  uint32 `json:"type"`
	Key  string `json:"key,omitempty"`
	// RawTime marks a time the engine returns as stored (UTC, Cube's assumption) rather
	// than in the query time zone: the value of a time measure. It is shown in the
	// session's time zone like the times of dimensions, which the engine converts.
	RawTime bool `json:"rawTime,omitempty"`
}

// boundTable is a cube table in a FROM clause with the name it is referred to by.
type boundTable struct {
	alias string
	t     *table
}

// rawTime reports whether the engine returns the leaf's times unconverted: those of time
// measures (a time dimension, with or without granularity, comes in the query time zone).
func (l *leaf) rawTime() bool {
	return l.oid == oidTimestamp && l.kind == leafMeasure
}

// leafKind tells apart the expressions a Cube query computes.
type leafKind int

const (
	leafDimension leafKind = iota // a dimension, raw
	leafTime                      // DATE_TRUNC('<granularity>', <time dimension>)
	leafMeasure                   // a measure: aggregated, or its row value when ungrouped
	leafNull                      // a column without values in results: segments, __user, __cubeJoinField
)

// leaf is an expression that is one member of the Cube query.
type leaf struct {
	kind leafKind
	col  *column
	gran string // leafTime
	// key is the key of the engine's result row (and the id in order); "" for leafNull.
	key string
	oid uint32
}

// block is one SELECT over cube tables being rewritten.
type block struct {
	env     *env
	sel     *pg.SelectStmt
	tables  []*boundTable
	grouped bool
	// groupKeys are the keys of the leaves the query groups by.
	groupKeys map[string]bool
	// groupNotExact says why GROUP BY is more than the Cube query's grouping.
	groupNotExact string
	q             *query.Query
	inQuery       map[string]bool
	user          string
}

// Granularities that DATE_TRUNC takes and Cube knows.
var truncGranularities = map[string]bool{"second": true, "minute": true, "hour": true, "day": true,
	"week": true, "month": true, "quarter": true, "year": true}

// aggregates are the aggregate functions the rewrites recognise (with no OVER clause).
var aggregates = map[string]bool{"measure": true, "sum": true, "count": true, "avg": true, "min": true,
	"max": true, "string_agg": true, "array_agg": true, "bool_and": true, "bool_or": true, "every": true,
	"stddev": true, "stddev_pop": true, "stddev_samp": true, "variance": true, "var_pop": true,
	"var_samp": true, "percentile_cont": true, "percentile_disc": true, "mode": true, "any_value": true,
	"json_agg": true, "jsonb_agg": true, "bit_and": true, "bit_or": true, "median": true,
	"approx_count_distinct": true, "corr": true, "covar_pop": true, "covar_samp": true}

func isAggregate(fc *pg.FuncCall) bool {
	return fc.Over == nil && aggregates[funcName(fc)]
}

// hasAggregate reports whether an aggregate call appears in the nodes, outside sub-queries.
func hasAggregate(nodes ...*pg.Node) bool {
	found := false
	for _, n := range nodes {
		visit(n, func(x *pg.Node) bool {
			switch v := x.Node.(type) {
			case *pg.Node_SubLink:
				return false
			case *pg.Node_FuncCall:
				if isAggregate(v.FuncCall) {
					found = true
				}
			case *pg.Node_GroupingFunc:
				found = true
			}
			return !found
		})
	}
	return found
}

// newBlock binds the FROM clause of sel. It returns nil when the FROM clause holds no cube
// table, and an error when cube tables are mixed with anything else or joined in a way
// Cube cannot join them.
func newBlock(e *env, sel *pg.SelectStmt, ctes map[string]bool) (*block, error) {
	b := &block{env: e, sel: sel, groupKeys: map[string]bool{}, inQuery: map[string]bool{},
		q: &query.Query{Order: query.Order{Set: true}, Numbers: "typed"}}
	if e.timezone != "" && !strings.EqualFold(e.timezone, "UTC") {
		b.q.Timezone = e.timezone
	}
	cubes, others := 0, 0
	var add func(n *pg.Node) error
	add = func(n *pg.Node) error {
		switch v := n.Node.(type) {
		case *pg.Node_RangeVar:
			t, err := cubeTable(e.cat, v.RangeVar, ctes)
			if err != nil {
				return err
			}
			if t == nil {
				others++
				return nil
			}
			cubes++
			alias := t.Name
			if v.RangeVar.Alias != nil {
				alias = v.RangeVar.Alias.Aliasname
				if len(v.RangeVar.Alias.Colnames) > 0 {
					return unsupported("column aliases on cube table "+t.Name, "alias the columns in the select list")
				}
			}
			for _, bt := range b.tables {
				if strings.EqualFold(bt.alias, alias) {
					return sqlErr("42712", "table name %q specified more than once", alias)
				}
			}
			b.tables = append(b.tables, &boundTable{alias: alias, t: t})
		case *pg.Node_JoinExpr:
			j := v.JoinExpr
			if err := add(j.Larg); err != nil {
				return err
			}
			if err := add(j.Rarg); err != nil {
				return err
			}
			if cubes == 0 {
				others++
				return nil
			}
			switch {
			case j.IsNatural || len(j.UsingClause) > 0:
				return unsupported("NATURAL and USING joins of cube tables", "join cubes with ON a.__cubeJoinField = b.__cubeJoinField, or CROSS JOIN them")
			case j.Jointype != pg.JoinType_JOIN_INNER && j.Jointype != pg.JoinType_JOIN_LEFT:
				return unsupported(strings.TrimPrefix(j.Jointype.String(), "JOIN_")+" JOIN of cube tables", "cube tables join as the model's joins do: use JOIN or LEFT JOIN on __cubeJoinField, or CROSS JOIN")
			case j.Alias != nil:
				return unsupported("an alias on a join of cube tables", "alias each table")
			}
		default:
			others++
		}
		return nil
	}
	for _, n := range sel.FromClause {
		if err := add(n); err != nil {
			return nil, err
		}
	}
	if cubes == 0 {
		return nil, nil
	}
	if others > 0 {
		return nil, unsupported("joining a cube table with a relation that is not a cube table",
			"join cube tables with each other (ON a.__cubeJoinField = b.__cubeJoinField, or CROSS JOIN), and put each cube query in its own sub-query to join it with anything else")
	}
	// Join conditions must be __cubeJoinField equalities: Cube joins along the model's joins.
	var checkQuals func(n *pg.Node) error
	checkQuals = func(n *pg.Node) error {
		j := n.GetJoinExpr()
		if j == nil {
			return nil
		}
		if err := checkQuals(j.Larg); err != nil {
			return err
		}
		if err := checkQuals(j.Rarg); err != nil {
			return err
		}
		if j.Quals == nil {
			return nil
		}
		for _, c := range conjuncts(j.Quals) {
			if !b.isJoinFieldEquality(c) {
				return unsupported("join condition "+nodeText(c), "cube tables join on a.__cubeJoinField = b.__cubeJoinField (the model's joins decide the condition)")
			}
		}
		return nil
	}
	for _, n := range sel.FromClause {
		if err := checkQuals(n); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// cubeTable returns the cube table a FROM item names, or nil when it names something else
// (a CTE, a catalog table); an unknown relation in schema public is an error.
func cubeTable(cat *catalog, rv *pg.RangeVar, ctes map[string]bool) (*table, error) {
	schema := strings.ToLower(rv.Schemaname)
	if schema == "" && ctes[strings.ToLower(rv.Relname)] {
		return nil, nil
	}
	if schema != "" && schema != "public" {
		return nil, nil
	}
	t := cat.table(rv.Relname)
	if t == nil {
		if schema == "" && catalogSchemaTable(rv.Relname) {
			return nil, nil
		}
		name := rv.Relname
		if schema != "" {
			name = rv.Schemaname + "." + rv.Relname
		}
		return nil, undefinedTable(name, cat.tableNames())
	}
	return t, nil
}

// catalogSchemaTable reports whether an unqualified name is a pg_catalog table, which
// PostgreSQL finds through the search path.
func catalogSchemaTable(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), "pg_")
}

// conjuncts splits an expression at its top-level ANDs.
func conjuncts(n *pg.Node) []*pg.Node {
	if n == nil {
		return nil
	}
	if be := n.GetBoolExpr(); be != nil && be.Boolop == pg.BoolExprType_AND_EXPR {
		var out []*pg.Node
		for _, a := range be.Args {
			out = append(out, conjuncts(a)...)
		}
		return out
	}
	return []*pg.Node{n}
}

func (b *block) isJoinFieldEquality(n *pg.Node) bool {
	e := n.GetAExpr()
	if e == nil || e.Kind != pg.A_Expr_Kind_AEXPR_OP || opName(e) != "=" {
		return false
	}
	l, r := e.Lexpr.GetColumnRef(), e.Rexpr.GetColumnRef()
	if l == nil || r == nil {
		return false
	}
	_, lc, err1 := b.resolve(l)
	_, rc, err2 := b.resolve(r)
	return err1 == nil && err2 == nil && lc.Kind == colJoinField && rc.Kind == colJoinField
}

// resolve finds the column a reference names: column, table.column, schema.table.column
// or database.schema.table.column, matched case-insensitively.
func (b *block) resolve(ref *pg.ColumnRef) (*boundTable, *column, error) {
	names := strs(ref.Fields)
	if len(names) != len(ref.Fields) || len(names) == 0 {
		return nil, nil, unsupported("column reference "+nodeText(&pg.Node{Node: &pg.Node_ColumnRef{ColumnRef: ref}}), "")
	}
	col := names[len(names)-1]
	if len(names) == 1 {
		var found *boundTable
		var c *column
		for _, bt := range b.tables {
			if x := bt.t.column(col); x != nil {
				if found != nil {
					return nil, nil, sqlErr("42702", "column reference %q is ambiguous", col)
				}
				found, c = bt, x
			}
		}
		if found == nil {
			var cands []string
			for _, bt := range b.tables {
				cands = append(cands, bt.t.columnNames()...)
			}
			return nil, nil, undefinedColumn(col, cands)
		}
		return found, c, nil
	}
	qual := names[len(names)-2]
	if len(names) >= 3 && !strings.EqualFold(names[len(names)-3], "public") {
		return nil, nil, sqlErr("42P01", "missing FROM-clause entry for table %q", names[len(names)-3]+"."+qual)
	}
	bt := b.table(qual)
	if bt == nil {
		return nil, nil, sqlErr("42P01", "missing FROM-clause entry for table %q", qual)
	}
	c := bt.t.column(col)
	if c == nil {
		e := undefinedColumn(col, bt.t.columnNames())
		e.Message = fmt.Sprintf("column %s.%s does not exist", qual, col)
		return nil, nil, e
	}
	return bt, c, nil
}

// table finds a FROM item by alias, or by table name when it has none.
func (b *block) table(name string) *boundTable {
	for _, bt := range b.tables {
		if strings.EqualFold(bt.alias, name) {
			return bt
		}
	}
	return nil
}

// isStar reports whether a column reference is * or t.*.
func isStar(ref *pg.ColumnRef) bool {
	return len(ref.Fields) > 0 && ref.Fields[len(ref.Fields)-1].GetAStar() != nil
}

// starTables returns the tables a * or t.* expands to.
func (b *block) starTables(ref *pg.ColumnRef) ([]*boundTable, error) {
	names := strs(ref.Fields)
	if len(names) == 0 {
		return b.tables, nil
	}
	bt := b.table(names[len(names)-1])
	if bt == nil {
		return nil, sqlErr("42P01", "missing FROM-clause entry for table %q", names[len(names)-1])
	}
	return []*boundTable{bt}, nil
}

// rowLevel reports whether a measure has a value per row in an ungrouped query: the
// aggregating types whose argument is the value (Cube renders the argument). count
// distinct, rolling windows and the non-aggregating types have none.
func rowLevel(m *model.Measure) bool {
	if m.RollingWindow != nil {
		return false
	}
	switch m.Type {
	case model.MeasureCount, model.MeasureSum, model.MeasureAvg, model.MeasureMin, model.MeasureMax:
		return true
	}
	return false
}

// columnLeaf is the leaf of a bare column reference.
func (b *block) columnLeaf(c *column) *leaf {
	switch c.Kind {
	case colDimension:
		return &leaf{kind: leafDimension, col: c, key: c.Member, oid: c.OID}
	case colMeasure:
		return &leaf{kind: leafMeasure, col: c, key: c.Member, oid: c.OID}
	}
	return &leaf{kind: leafNull, col: c, oid: c.OID}
}

// leafOf returns the leaf an expression is as a whole, or nil when it is not one member of
// a Cube query (an expression over members, a function Cube does not know).
func (b *block) leafOf(n *pg.Node) (*leaf, error) {
	switch v := n.Node.(type) {
	case *pg.Node_ColumnRef:
		if isStar(v.ColumnRef) {
			return nil, nil
		}
		_, c, err := b.resolve(v.ColumnRef)
		if err != nil {
			return nil, err
		}
		return b.columnLeaf(c), nil
	case *pg.Node_TypeCast:
		if isDateType(v.TypeCast.TypeName) {
			return b.dateLeaf(v.TypeCast.Arg)
		}
	case *pg.Node_FuncCall:
		fc := v.FuncCall
		if fc.Over != nil || fc.AggFilter != nil || len(fc.AggOrder) > 0 || fc.AggWithinGroup || fc.FuncVariadic {
			return nil, nil
		}
		name := funcName(fc)
		switch {
		case name == "date_trunc":
			return b.truncLeaf(fc)
		case name == "date" && len(fc.Args) == 1 && !fc.AggStar && !fc.AggDistinct:
			return b.dateLeaf(fc.Args[0])
		case aggregates[name]:
			return b.measureLeaf(fc, name)
		}
	}
	return nil, nil
}

// isDateType reports whether a cast is to date (not an array of dates).
func isDateType(tn *pg.TypeName) bool {
	if tn == nil || len(tn.ArrayBounds) > 0 || tn.Setof || len(tn.Typmods) > 0 {
		return false
	}
	names := strs(tn.Names)
	switch len(names) {
	case 1:
		return strings.EqualFold(names[0], "date")
	case 2:
		return strings.EqualFold(names[0], "pg_catalog") && strings.EqualFold(names[1], "date")
	}
	return false
}

// timeDimension returns the time dimension a bare column reference names, or nil.
func (b *block) timeDimension(n *pg.Node) (*column, error) {
	ref := n.GetColumnRef()
	if ref == nil || isStar(ref) {
		return nil, nil
	}
	_, c, err := b.resolve(ref)
	if err != nil {
		return nil, err
	}
	if c.Kind != colDimension || c.Dimension.Type != model.DimTime {
		return nil, nil
	}
	return c, nil
}

// dateLeaf is DATE(<time dimension>), CAST(<time dimension> AS date) or <time
// dimension>::date: the time dimension by day, as a date. The day bucket (in the query
// time zone, like the dimension's raw values) is exactly the date of every time in it.
func (b *block) dateLeaf(arg *pg.Node) (*leaf, error) {
	c, err := b.timeDimension(arg)
	if err != nil || c == nil {
		return nil, err
	}
	return &leaf{kind: leafTime, col: c, gran: "day", key: c.Member + ".day", oid: oidDate}, nil
}

// extractGranularities map the fields of EXTRACT and date_part to the coarsest
// granularity whose bucket gives the same field as every time in it; the fields not here
// (epoch, milliseconds, microseconds, julian, timezone...) read the raw time.
var extractGranularities = map[string]string{
	"millennium": "year", "century": "year", "decade": "year", "year": "year",
	"quarter": "quarter", "month": "month",
	"week": "week", "isoyear": "week",
	"day": "day", "dow": "day", "isodow": "day", "doy": "day",
	"hour": "hour", "minute": "minute", "second": "second",
}

// extractBucket recognises EXTRACT(field FROM <time dimension>) and date_part('field',
// <time dimension>) where a bucket of the time dimension gives the same answer as its raw
// value (extractGranularities): it returns the time dimension at that granularity and the
// index of the argument it replaces, so that the function runs in post-processing over
// the bucket, which the Cube query groups into far fewer rows than the raw times.
func (b *block) extractBucket(fc *pg.FuncCall) (*leaf, int, error) {
	if fc.Over != nil || fc.AggStar || fc.AggDistinct || fc.AggFilter != nil || len(fc.AggOrder) > 0 || fc.FuncVariadic || len(fc.Args) != 2 {
		return nil, 0, nil
	}
	switch funcName(fc) {
	case "extract", "date_part":
	default:
		return nil, 0, nil
	}
	field, ok := stringConstant(fc.Args[0])
	if !ok {
		return nil, 0, nil
	}
	gran, ok := extractGranularities[strings.ToLower(field)]
	if !ok {
		return nil, 0, nil
	}
	c, err := b.timeDimension(fc.Args[1])
	if err != nil || c == nil {
		return nil, 0, err
	}
	return &leaf{kind: leafTime, col: c, gran: gran, key: c.Member + "." + gran, oid: oidTimestamp}, 1, nil
}

// truncLeaf is DATE_TRUNC('<granularity>', <time dimension>) as a time dimension with that
// granularity.
func (b *block) truncLeaf(fc *pg.FuncCall) (*leaf, error) {
	if len(fc.Args) != 2 {
		return nil, nil
	}
	gran, ok := stringConstant(fc.Args[0])
	ref := fc.Args[1].GetColumnRef()
	if !ok || ref == nil || isStar(ref) || !truncGranularities[strings.ToLower(gran)] {
		return nil, nil
	}
	_, c, err := b.resolve(ref)
	if err != nil {
		return nil, err
	}
	if c.Kind != colDimension || c.Dimension.Type != model.DimTime {
		return nil, nil
	}
	gran = strings.ToLower(gran)
	return &leaf{kind: leafTime, col: c, gran: gran, key: c.Member + "." + gran, oid: oidTimestamp}, nil
}

// stringConstant returns the value of a string literal.
func stringConstant(n *pg.Node) (string, bool) {
	if c := n.GetAConst(); c != nil {
		if s := c.GetSval(); s != nil {
			return s.Sval, true
		}
	}
	if tc := n.GetTypeCast(); tc != nil {
		return stringConstant(tc.Arg)
	}
	return "", false
}

// measureLeaf is MEASURE(m), an aggregate over a measure that matches its type (spec F),
// or COUNT(*) as the cube's count measure. An aggregate over anything else is no leaf.
func (b *block) measureLeaf(fc *pg.FuncCall, name string) (*leaf, error) {
	if fc.AggStar {
		if name != "count" || fc.AggDistinct {
			return nil, nil
		}
		c, err := b.countMeasure()
		if err != nil || c == nil {
			return nil, err
		}
		return b.columnLeaf(c), nil
	}
	if len(fc.Args) != 1 {
		return nil, nil
	}
	ref := fc.Args[0].GetColumnRef()
	if ref == nil || isStar(ref) {
		if name == "measure" {
			return nil, unsupported("MEASURE() over "+nodeText(fc.Args[0]), "MEASURE() takes a measure column")
		}
		return nil, nil
	}
	_, c, err := b.resolve(ref)
	if err != nil {
		return nil, err
	}
	if c.Kind != colMeasure {
		if name == "measure" {
			return nil, groupingError("MEASURE() takes a measure, and %s is not one", c.Name)
		}
		return nil, nil
	}
	if name == "measure" {
		if fc.AggDistinct {
			return nil, groupingError("MEASURE(DISTINCT %s) is not valid: MEASURE() takes a measure as it is defined", c.Name)
		}
		return b.columnLeaf(c), nil
	}
	if !aggregationMatches(c.Measure.Type, name, fc.AggDistinct) {
		return nil, aggregationMismatch(c, name, fc.AggDistinct)
	}
	return b.columnLeaf(c), nil
}

// countMeasure is the measure COUNT(*) stands for: the one count measure without filters
// of the block's single table.
func (b *block) countMeasure() (*column, error) {
	if len(b.tables) != 1 {
		return nil, unsupported("COUNT(*) over several cube tables", "name the count measure: MEASURE(orders.count)")
	}
	t := b.tables[0].t
	for _, c := range t.Columns {
		if c.Kind == colMeasure && c.Measure.Type == model.MeasureCount && len(c.Measure.Filters) == 0 && c.Measure.SQL == nil {
			return c, nil
		}
	}
	return nil, unsupported("COUNT(*) on "+t.Name+", which has no count measure", "select a measure with MEASURE(<measure>)")
}

// aggregationMatches is spec F's table of the aggregate functions each measure type takes.
func aggregationMatches(t model.MeasureType, fn string, distinct bool) bool {
	switch fn {
	case "count":
		if distinct {
			return t == model.MeasureCountDistinct || t == model.MeasureCountDistinctApprox || t == model.MeasureNumber
		}
		return t == model.MeasureCount
	case "sum":
		return !distinct && (t == model.MeasureSum || t == model.MeasureCount || t == model.MeasureNumber || t == model.MeasureRunningTotal)
	case "avg":
		return !distinct && (t == model.MeasureAvg || t == model.MeasureNumber)
	case "min", "max":
		return !distinct && (t == model.MeasureMin || t == model.MeasureMax || t == model.MeasureNumber ||
			t == model.MeasureString || t == model.MeasureTime || t == model.MeasureBoolean)
	case "string_agg":
		return !distinct && t == model.MeasureString
	}
	return false
}

// aggregationMismatch is Cube's error for an aggregate that does not fit the measure,
// naming the aggregates that do.
func aggregationMismatch(c *column, fn string, distinct bool) error {
	takes := []string{"MEASURE()"}
	for _, f := range []struct {
		name     string
		distinct bool
		label    string
	}{{"count", false, "COUNT()"}, {"count", true, "COUNT(DISTINCT)"}, {"sum", false, "SUM()"}, {"avg", false, "AVG()"},
		{"min", false, "MIN()"}, {"max", false, "MAX()"}, {"string_agg", false, "STRING_AGG()"}} {
		if aggregationMatches(c.Measure.Type, f.name, f.distinct) {
			takes = append(takes, f.label)
		}
	}
	given := strings.ToUpper(fn) + "()"
	if distinct {
		given = strings.ToUpper(fn) + "(DISTINCT)"
	}
	return groupingError("Measure aggregation type doesn't match: %s has type %s, which takes %s, but %s was provided",
		c.Member, c.Measure.Type, strings.Join(takes, " or "), given)
}

// addLeaf puts a leaf's member in the query, once.
func (b *block) addLeaf(l *leaf) {
	if l.kind == leafNull || b.inQuery[l.key] {
		return
	}
	b.inQuery[l.key] = true
	switch l.kind {
	case leafDimension:
		b.q.Dimensions = append(b.q.Dimensions, l.key)
	case leafTime:
		b.q.TimeDimensions = append(b.q.TimeDimensions, query.TimeDimension{Dimension: l.col.Member, Granularity: l.gran})
	case leafMeasure:
		b.q.Measures = append(b.q.Measures, l.key)
	}
}

// target is one item of the select list after * is expanded.
type target struct {
	name string
	expr *pg.Node // nil for a column of *
	leaf *leaf    // nil when the item is not a leaf
	// star is set for the columns of *, where segments are NULL rather than an error.
	star bool
}

// outputName is the column name PostgreSQL gives a select item without an alias.
func outputName(n *pg.Node) string {
	switch v := n.Node.(type) {
	case *pg.Node_ColumnRef:
		names := strs(v.ColumnRef.Fields)
		if len(names) > 0 {
			return names[len(names)-1]
		}
	case *pg.Node_FuncCall:
		names := strs(v.FuncCall.Funcname)
		if len(names) > 0 {
			return names[len(names)-1]
		}
	case *pg.Node_TypeCast:
		if name := outputName(v.TypeCast.Arg); name != "?column?" {
			return name
		}
		names := strs(v.TypeCast.TypeName.Names)
		if len(names) > 0 {
			return names[len(names)-1]
		}
	case *pg.Node_SqlvalueFunction:
		return strings.ToLower(strings.TrimPrefix(v.SqlvalueFunction.Op.String(), "SVFOP_"))
	case *pg.Node_AConst:
		if v.AConst.GetBoolval() != nil {
			return "bool"
		}
	case *pg.Node_CaseExpr:
		return "case"
	case *pg.Node_CoalesceExpr:
		return "coalesce"
	case *pg.Node_MinMaxExpr:
		if v.MinMaxExpr.Op == pg.MinMaxOp_IS_LEAST {
			return "least"
		}
		return "greatest"
	case *pg.Node_AExpr:
		if v.AExpr.Kind == pg.A_Expr_Kind_AEXPR_NULLIF {
			return "nullif"
		}
	}
	return "?column?"
}

// groupingMode decides whether a block aggregates (spec F with Cubit's rules): with GROUP
// BY, aggregates or HAVING it is grouped; a select list of measures only is one row of
// totals; otherwise it is ungrouped, one row per row of the cube. SELECT DISTINCT over
// dimensions only is grouped by them.
func (b *block) groupingMode() (grouped, distinctGroup bool) {
	sel := b.sel
	if len(sel.GroupClause) > 0 || sel.HavingClause != nil {
		return true, false
	}
	var sorts []*pg.Node
	for _, s := range sel.SortClause {
		sorts = append(sorts, s.GetSortBy().GetNode())
	}
	if hasAggregate(append(append([]*pg.Node{}, sel.TargetList...), sorts...)...) {
		return true, false
	}
	dims, measures := false, false
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if rt == nil {
			continue
		}
		visit(rt.Val, func(x *pg.Node) bool {
			switch v := x.Node.(type) {
			case *pg.Node_SubLink:
				return false
			case *pg.Node_ColumnRef:
				if isStar(v.ColumnRef) {
					dims = true
					return false
				}
				_, c, err := b.resolve(v.ColumnRef)
				if err != nil {
					// A name that is not a column may be a sub-query's; the rewrite reports it.
					return false
				}
				switch c.Kind {
				case colDimension:
					dims = true
				case colMeasure:
					measures = true
				}
			}
			return true
		})
	}
	if !dims && measures {
		return true, false
	}
	if isPlainDistinct(sel) && !measures {
		return true, true
	}
	return false, false
}

// isPlainDistinct reports SELECT DISTINCT (not DISTINCT ON).
func isPlainDistinct(sel *pg.SelectStmt) bool {
	return len(sel.DistinctClause) == 1 && sel.DistinctClause[0].GetNode() == nil
}

// exact rewrites a block into one Cube query, or returns *needsPost when the block needs
// more than a Cube query can do, or a user error.
func (b *block) exact() (*cubePlan, error) {
	sel := b.sel
	switch {
	case sel.IntoClause != nil:
		return nil, unsupported("SELECT INTO", "the SQL API is read-only")
	case len(sel.LockingClause) > 0:
		return nil, unsupported("FOR UPDATE/FOR SHARE", "the SQL API is read-only")
	}
	grouped, distinctGroup := b.groupingMode()
	b.grouped = grouped
	post := func(why string) (*cubePlan, error) { return nil, &needsPost{why} }

	// The select list, with * expanded.
	targets, err := b.targets()
	if err != nil {
		return nil, err
	}
	// GROUP BY keys.
	if err := b.groupBy(targets); err != nil {
		return nil, err
	}
	if b.groupNotExact != "" {
		// PostgreSQL's grouping rules for expressions and grouping sets are checked by the
		// post-processing engine.
		return post(b.groupNotExact)
	}
	if distinctGroup {
		for _, t := range targets {
			if t.leaf != nil && t.leaf.kind != leafNull {
				b.groupKeys[t.leaf.key] = true
				b.addLeaf(t.leaf)
			}
		}
	}
	var nonLeaf string
	plan := &cubePlan{}
	for _, t := range targets {
		if t.leaf == nil {
			if nonLeaf == "" {
				nonLeaf = nodeText(t.expr)
			}
			continue
		}
		if !(t.star && t.leaf.kind == leafNull) {
			if err := b.checkProjected(t.leaf); err != nil {
				return nil, err
			}
		}
		b.addLeaf(t.leaf)
		plan.Columns = append(plan.Columns, outCol{Name: t.name, OID: t.leaf.oid, Key: t.leaf.key, RawTime: t.leaf.rawTime()})
	}
	// WHERE, then HAVING.
	w, err := b.where(sel.WhereClause, false)
	if err != nil {
		return nil, err
	}
	h, err := b.where(sel.HavingClause, true)
	if err != nil {
		return nil, err
	}
	if nonLeaf != "" {
		return post("expression " + nonLeaf)
	}
	if !w.exact() || !h.exact() {
		return post("a condition Cube cannot filter by")
	}
	b.q.Filters = append(w.filters, h.filters...)
	b.q.Segments = append(w.segments, h.segments...)
	b.user = w.user
	if h.user != "" {
		b.user = h.user
	}
	if ok, why := b.groupingExact(); !ok {
		return post(why)
	}
	switch {
	case len(sel.WindowClause) > 0:
		return post("WINDOW clause")
	case len(sel.DistinctClause) > 0 && !isPlainDistinct(sel):
		return post("DISTINCT ON")
	case isPlainDistinct(sel) && !distinctGroup && !b.distinctIsNoop(targets):
		return post("DISTINCT")
	}
	if why, err := b.orderBy(targets); err != nil || why != "" {
		if err != nil {
			return nil, err
		}
		return post(why)
	}
	if why, err := b.limits(plan); err != nil || why != "" {
		if err != nil {
			return nil, err
		}
		return post(why)
	}
	if !b.grouped {
		b.q.Ungrouped = true
		b.addPrimaryKeys()
	}
	b.q.SecurityContext = b.securityContext()
	plan.Query = b.q
	plan.User = b.user
	return plan, nil
}

// securityContext is the security context the block's Cube query runs under:
// {"user": name}, with the session user's name, or the name WHERE __user switched to (which
// userSwitch allows the super user only). Cube's default checkSqlAuth gives {}; the login
// name lets {SECURITY_CONTEXT.user.filter('...')} restrict rows per login.
func (b *block) securityContext() map[string]any {
	user := b.env.user
	if b.user != "" {
		user = b.user
	}
	return map[string]any{"user": user}
}

// targets expands the select list.
func (b *block) targets() ([]target, error) {
	var out []target
	for _, n := range b.sel.TargetList {
		rt := n.GetResTarget()
		if rt == nil || rt.Val == nil {
			continue
		}
		if ref := rt.Val.GetColumnRef(); ref != nil && isStar(ref) {
			tables, err := b.starTables(ref)
			if err != nil {
				return nil, err
			}
			for _, bt := range tables {
				for _, c := range bt.t.Columns {
					l := b.columnLeaf(c)
					switch {
					case l.kind == leafMeasure && !b.grouped && !rowLevel(c.Measure):
						// No per-row value: the column is NULL in SELECT * of an ungrouped query.
						l = &leaf{kind: leafNull, col: c, oid: c.OID}
					case l.kind == leafDimension && b.grouped:
						// SELECT * in a grouped query: every dimension must be grouped, checked below.
					}
					if c.Kind == colSegment {
						l = &leaf{kind: leafNull, col: c, oid: c.OID}
					}
					out = append(out, target{name: c.Name, leaf: l, expr: columnRef(bt.alias, c.Name), star: true})
				}
			}
			continue
		}
		l, err := b.leafOf(rt.Val)
		if err != nil {
			return nil, err
		}
		name := rt.Name
		if name == "" {
			name = outputName(rt.Val)
		}
		out = append(out, target{name: name, expr: rt.Val, leaf: l})
	}
	return out, nil
}

// checkProjected applies the grouping rules to a leaf of the select list or ORDER BY.
func (b *block) checkProjected(l *leaf) error {
	switch l.kind {
	case leafDimension, leafTime:
		if b.grouped && !b.groupKeys[l.key] && !b.groupKeys[l.col.Member] {
			return groupingError("column %q must appear in the GROUP BY clause or be used in an aggregate function", l.col.Member)
		}
	case leafMeasure:
		if !b.grouped && !rowLevel(l.col.Measure) {
			return unsupported(fmt.Sprintf("measure %s (%s) without GROUP BY", l.col.Member, l.col.Measure.Type),
				fmt.Sprintf("a %s measure has no value per row: aggregate it with MEASURE(%s) and GROUP BY, or select only measures for totals", l.col.Measure.Type, l.col.Name))
		}
	case leafNull:
		if l.col.Kind == colSegment {
			return unsupported("segment "+l.col.Member+" in the select list", "a segment filters: use it in WHERE ("+l.col.Name+" or "+l.col.Name+" = true)")
		}
	}
	return nil
}

// groupBy collects the GROUP BY keys: ordinals and output names of the select list,
// dimensions and DATE_TRUNC of time dimensions. A measure cannot be grouped by.
func (b *block) groupBy(targets []target) error {
	for _, g := range b.sel.GroupClause {
		expr, err := b.groupItem(g, targets)
		if err != nil {
			return err
		}
		if expr == nil {
			b.groupNotExact = "GROUPING SETS, ROLLUP or CUBE"
			continue
		}
		l, err := b.leafOf(expr)
		if err != nil {
			return err
		}
		if l == nil {
			if b.groupNotExact == "" {
				b.groupNotExact = "GROUP BY " + nodeText(expr)
			}
			continue
		}
		switch l.kind {
		case leafMeasure:
			return groupingError("measure %s cannot be used in GROUP BY; group by dimensions", l.col.Member)
		case leafNull:
			return unsupported("GROUP BY "+l.col.Name, "group by dimensions")
		}
		b.groupKeys[l.key] = true
		b.addLeaf(l)
	}
	return nil
}

// groupItem resolves a GROUP BY item to the expression it groups by: an ordinal or an
// output name stands for that select item. It returns nil for grouping sets.
func (b *block) groupItem(g *pg.Node, targets []target) (*pg.Node, error) {
	if g.GetGroupingSet() != nil {
		return nil, nil
	}
	if k, ok := intConstant(g); ok {
		if k < 1 || int(k) > len(targets) {
			return nil, sqlErr("42P10", "GROUP BY position %d is not in select list", k)
		}
		return targets[k-1].expr, nil
	}
	if ref := g.GetColumnRef(); ref != nil && len(ref.Fields) == 1 && !isStar(ref) {
		// PostgreSQL prefers an input column over an output name in GROUP BY.
		if _, _, err := b.resolve(ref); err != nil {
			name := strs(ref.Fields)
			for _, t := range targets {
				if len(name) == 1 && t.name == name[0] && t.expr != nil {
					return t.expr, nil
				}
			}
			return nil, err
		}
	}
	return g, nil
}

func intConstant(n *pg.Node) (int64, bool) {
	c := n.GetAConst()
	if c == nil || c.Isnull {
		return 0, false
	}
	if iv := c.GetIval(); iv != nil {
		return int64(iv.Ival), true
	}
	return 0, false
}

// groupingExact reports whether the GROUP BY clause is exactly the Cube query's grouping:
// every item a dimension or a DATE_TRUNC of one.
func (b *block) groupingExact() (bool, string) {
	if b.sel.GroupDistinct {
		return false, "GROUP BY DISTINCT"
	}
	if b.groupNotExact != "" {
		return false, b.groupNotExact
	}
	return true, ""
}

// distinctIsNoop reports whether SELECT DISTINCT changes nothing: a grouped query whose
// select list holds every grouping key has distinct rows already.
func (b *block) distinctIsNoop(targets []target) bool {
	if !b.grouped {
		return false
	}
	selected := map[string]bool{}
	for _, t := range targets {
		if t.leaf != nil {
			selected[t.leaf.key] = true
		}
	}
	for k := range b.groupKeys {
		if !selected[k] {
			return false
		}
	}
	return true
}

// orderBy turns ORDER BY into the query's order. It returns a reason when the order
// cannot be pushed down.
func (b *block) orderBy(targets []target) (string, error) {
	for _, s := range b.sel.SortClause {
		sb := s.GetSortBy()
		if sb == nil {
			return "ORDER BY", nil
		}
		if sb.SortbyNulls != pg.SortByNulls_SORTBY_NULLS_DEFAULT {
			return "NULLS FIRST/LAST", nil
		}
		if sb.SortbyDir == pg.SortByDir_SORTBY_USING {
			return "ORDER BY USING", nil
		}
		var l *leaf
		if k, ok := intConstant(sb.Node); ok {
			if k < 1 || int(k) > len(targets) {
				return "", sqlErr("42P10", "ORDER BY position %d is not in select list", k)
			}
			l = targets[k-1].leaf
		} else if t := outputTarget(sb.Node, targets); t != nil {
			l = t.leaf
		} else {
			var err error
			if l, err = b.leafOf(sb.Node); err != nil {
				return "", err
			}
			if l != nil {
				if err := b.checkProjected(l); err != nil {
					return "", err
				}
				b.addLeaf(l)
			}
		}
		if l == nil || l.kind == leafNull {
			return "ORDER BY " + nodeText(sb.Node), nil
		}
		id := l.key
		dup := slices.ContainsFunc(b.q.Order.Items, func(o query.OrderItem) bool { return o.ID == id })
		if !dup {
			b.q.Order.Items = append(b.q.Order.Items, query.OrderItem{ID: id, Desc: sb.SortbyDir == pg.SortByDir_SORTBY_DESC})
		}
	}
	return "", nil
}

// outputTarget returns the select item an unqualified ORDER BY name refers to: PostgreSQL
// matches output names before input columns in ORDER BY.
func outputTarget(n *pg.Node, targets []target) *target {
	ref := n.GetColumnRef()
	if ref == nil || len(ref.Fields) != 1 || isStar(ref) {
		return nil
	}
	name := strs(ref.Fields)
	if len(name) != 1 {
		return nil
	}
	var found *target
	for i := range targets {
		if targets[i].name == name[0] {
			if found != nil {
				return nil // ambiguous: leave it to the input columns
			}
			found = &targets[i]
		}
	}
	return found
}

// limits reads LIMIT and OFFSET: constants or parameters.
func (b *block) limits(plan *cubePlan) (string, error) {
	sel := b.sel
	if sel.LimitOption == pg.LimitOption_LIMIT_OPTION_WITH_TIES {
		return "FETCH FIRST ... WITH TIES", nil
	}
	if sel.LimitCount != nil {
		n, null, ok, err := b.intValue(sel.LimitCount)
		if err != nil {
			return "", err
		}
		if !ok {
			return "LIMIT " + nodeText(sel.LimitCount), nil
		}
		switch {
		case null:
		case n < 0:
			return "", sqlErr("2201W", "LIMIT must not be negative")
		case n == 0:
			plan.LimitZero = true
		case n > 1<<31-1:
		default:
			v := int(n)
			b.q.Limit = &v
		}
	}
	if sel.LimitOffset != nil {
		n, null, ok, err := b.intValue(sel.LimitOffset)
		if err != nil {
			return "", err
		}
		if !ok {
			return "OFFSET " + nodeText(sel.LimitOffset), nil
		}
		switch {
		case null || n == 0:
		case n < 0:
			return "", sqlErr("2201X", "OFFSET must not be negative")
		case n > 1<<31-1:
			plan.LimitZero = true
		default:
			v := int(n)
			b.q.Offset = &v
		}
	}
	return "", nil
}

// intValue reads an integer constant or parameter. null is true for NULL (LIMIT ALL).
func (b *block) intValue(n *pg.Node) (v int64, null, ok bool, err error) {
	if tc := n.GetTypeCast(); tc != nil {
		n = tc.Arg
	}
	if c := n.GetAConst(); c != nil {
		if c.Isnull {
			return 0, true, true, nil
		}
		if k, isInt := intConstant(n); isInt {
			return k, false, true, nil
		}
		if f := c.GetFval(); f != nil {
			x, perr := strconv.ParseFloat(f.Fval, 64)
			if perr != nil {
				return 0, false, false, nil
			}
			return int64(x + 0.5), false, true, nil
		}
		return 0, false, false, nil
	}
	if p := n.GetParamRef(); p != nil {
		b.env.inferParam(p.Number, oidInt8)
		val, present, perr := b.env.param(p.Number)
		if perr != nil {
			return 0, false, false, perr
		}
		if !present {
			return 0, true, true, nil // describing: no limit yet
		}
		switch x := val.(type) {
		case nil:
			return 0, true, true, nil
		case int64:
			return x, false, true, nil
		case float64:
			return int64(x), false, true, nil
		case string:
			k, perr := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if perr != nil {
				return 0, false, false, sqlErr("22P02", "invalid input syntax for type bigint: %q", x)
			}
			return k, false, true, nil
		}
		return 0, false, false, sqlErr("22P02", "LIMIT/OFFSET parameter $%d must be an integer", p.Number)
	}
	return 0, false, false, nil
}

// addPrimaryKeys adds to an ungrouped query the primary keys Cube requires of every cube
// it reads, where the tables show them. The rows are the same: an ungrouped query returns
// one row per row of the join tree whatever it selects.
func (b *block) addPrimaryKeys() {
	cubes := map[string]bool{}
	mark := func(member string) {
		cube, _, _ := strings.Cut(member, ".")
		c := b.env.cat.model.Cube(cube)
		if c == nil {
			return
		}
		if c.Kind != model.KindView {
			cubes[c.Name] = true
			return
		}
		_, short, _ := strings.Cut(member, ".")
		var path []string
		if d := c.Dimension(short); d != nil {
			path = d.Path
		} else if m := c.Measure(short); m != nil {
			path = m.Path
		} else if s := c.Segment(short); s != nil {
			path = s.Path
		}
		for _, p := range path {
			cubes[p] = true
		}
	}
	for _, d := range b.q.Dimensions {
		mark(d)
	}
	for _, td := range b.q.TimeDimensions {
		mark(td.Dimension)
	}
	for _, m := range b.q.Measures {
		mark(m)
	}
	for _, s := range b.q.Segments {
		mark(s)
	}
	var markFilters func(fs []query.Filter)
	markFilters = func(fs []query.Filter) {
		for _, f := range fs {
			if f.Member != "" {
				mark(f.Member)
			}
			markFilters(f.And)
			markFilters(f.Or)
		}
	}
	markFilters(b.q.Filters)
	for _, bt := range b.tables {
		for _, c := range bt.t.Columns {
			if c.Kind != colDimension || !c.Dimension.PrimaryKey || b.inQuery[c.Member] {
				continue
			}
			src := c.Member
			if c.Dimension.AliasOf != "" {
				src = c.Dimension.AliasOf
			}
			cube, _, _ := strings.Cut(src, ".")
			if cubes[cube] {
				b.addLeaf(b.columnLeaf(c))
			}
		}
	}
}
