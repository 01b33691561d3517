package sqlapi

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/cubit-dev/cubit/internal/query"
)

// conds is a WHERE or HAVING clause split for a Cube query. Each top-level conjunct is
// either pushed down exactly (a filter, a segment, the __user switch, a join condition), or
// kept as a residual to apply after the query, possibly with a filter that keeps a superset
// of its rows pushed down to read less.
type conds struct {
	filters  []query.Filter
	segments []string
	user     string
	residual []*pg.Node
}

func (c conds) exact() bool { return len(c.residual) == 0 }

// filterKinds records what a translated filter reads, so that dimension and measure
// conditions are never mixed in one group (Cube refuses it).
type filterKinds struct{ dims, measures bool }

func (k filterKinds) or(o filterKinds) filterKinds {
	return filterKinds{k.dims || o.dims, k.measures || o.measures}
}

// translated is a predicate as a Cube filter: exact keeps the same rows, otherwise the
// filter keeps a superset of them (a pre-filter) and the predicate must be applied again.
type translated struct {
	f     *query.Filter
	exact bool
	kinds filterKinds
}

var noFilter = translated{}

// where splits a WHERE (having false) or HAVING clause.
func (b *block) where(n *pg.Node, having bool) (conds, error) {
	var c conds
	for _, x := range conjuncts(n) {
		if !having && b.isJoinFieldEquality(x) {
			continue
		}
		if user, ok, err := b.userSwitch(x); ok || err != nil {
			if err != nil {
				return c, err
			}
			if having {
				return c, unsupported("__user in HAVING", "switch the security context in WHERE")
			}
			c.user = user
			continue
		}
		if seg, ok, err := b.segmentCondition(x); ok || err != nil {
			if err != nil {
				return c, err
			}
			c.segments = append(c.segments, seg)
			continue
		}
		if err := b.checkCondition(x, having); err != nil {
			return c, err
		}
		t, err := b.pred(x, false, having)
		if err != nil {
			return c, err
		}
		if t.f != nil && t.kinds.dims && t.kinds.measures {
			t = noFilter
		}
		if t.f != nil {
			c.filters = append(c.filters, *t.f)
		}
		if t.f == nil || !t.exact {
			c.residual = append(c.residual, x)
		}
	}
	return c, nil
}

// checkCondition applies the grouping rules to the columns a condition reads: no
// aggregate in WHERE, no measure in the WHERE of a grouped query, only grouped dimensions
// in HAVING, and segments and pseudo columns only where they have a meaning.
func (b *block) checkCondition(n *pg.Node, having bool) error {
	var err error
	visit(n, func(x *pg.Node) bool {
		if err != nil {
			return false
		}
		switch v := x.Node.(type) {
		case *pg.Node_SubLink:
			return false
		case *pg.Node_FuncCall:
			if isAggregate(v.FuncCall) {
				if !having {
					err = groupingError("aggregate functions are not allowed in WHERE")
					return false
				}
				if l, lerr := b.leafOf(x); lerr != nil {
					err = lerr
					return false
				} else if l != nil {
					return false
				}
			}
		case *pg.Node_ColumnRef:
			if isStar(v.ColumnRef) {
				return false
			}
			_, c, rerr := b.resolve(v.ColumnRef)
			if rerr != nil {
				err = rerr
				return false
			}
			switch c.Kind {
			case colMeasure:
				if b.grouped && !having {
					err = groupingError("measure %s cannot be used in WHERE of a grouped query; filter on it in HAVING", c.Member)
				} else if !b.grouped && !rowLevel(c.Measure) {
					err = unsupported(fmt.Sprintf("condition on %s measure %s without GROUP BY", c.Measure.Type, c.Member), "it has no value per row: filter on it in HAVING with GROUP BY")
				}
			case colDimension:
				if having && !b.groupKeys[c.Member] {
					err = groupingError("column %q must appear in the GROUP BY clause or be used in an aggregate function", c.Member)
				}
			case colSegment:
				err = unsupported("segment "+c.Member+" inside "+nodeText(n), "a segment is a top-level condition of WHERE: AND it with the others")
			case colUser:
				err = unsupported("__user inside "+nodeText(n), "switch the security context with a top-level condition WHERE __user = 'name'")
			case colJoinField:
				err = unsupported("a condition on __cubeJoinField other than a join", "__cubeJoinField only joins cube tables: a.__cubeJoinField = b.__cubeJoinField")
			}
			return false
		}
		return true
	})
	return err
}

// userSwitch recognises WHERE __user = 'name' (spec F). Only the super user may switch to
// another user.
func (b *block) userSwitch(n *pg.Node) (string, bool, error) {
	e := n.GetAExpr()
	if e == nil || e.Kind != pg.A_Expr_Kind_AEXPR_OP || opName(e) != "=" {
		return "", false, nil
	}
	col, other := e.Lexpr, e.Rexpr
	if ref := col.GetColumnRef(); ref == nil || isStar(ref) {
		col, other = other, col
	}
	ref := col.GetColumnRef()
	if ref == nil || isStar(ref) {
		return "", false, nil
	}
	_, c, err := b.resolve(ref)
	if err != nil || c.Kind != colUser {
		return "", false, nil
	}
	v, ok, err := b.value(other, oidText)
	if err != nil {
		return "", true, err
	}
	if !ok || v.null {
		return "", true, unsupported("__user = "+nodeText(other), "switch the security context with WHERE __user = 'name'")
	}
	if v.text != b.env.user && (b.env.superUser == "" || b.env.user != b.env.superUser) {
		return "", true, sqlErr("42501", "You cannot change security context via __user from %s to %s, because it's not allowed.", b.env.user, v.text)
	}
	return v.text, true, nil
}

// segmentCondition recognises a segment used as a condition: seg, seg = true, seg IS TRUE.
func (b *block) segmentCondition(n *pg.Node) (string, bool, error) {
	var ref *pg.ColumnRef
	negated := false
	switch v := n.Node.(type) {
	case *pg.Node_ColumnRef:
		ref = v.ColumnRef
	case *pg.Node_BooleanTest:
		ref = v.BooleanTest.Arg.GetColumnRef()
		negated = v.BooleanTest.Booltesttype != pg.BoolTestType_IS_TRUE
	case *pg.Node_AExpr:
		e := v.AExpr
		if e.Kind != pg.A_Expr_Kind_AEXPR_OP || (opName(e) != "=" && opName(e) != "<>" && opName(e) != "!=") {
			return "", false, nil
		}
		col, other := e.Lexpr, e.Rexpr
		if col.GetColumnRef() == nil {
			col, other = other, col
		}
		ref = col.GetColumnRef()
		if ref == nil || isStar(ref) {
			return "", false, nil
		}
		if _, c, err := b.resolve(ref); err != nil || c.Kind != colSegment {
			return "", false, nil
		}
		val, ok, err := b.value(other, oidBool)
		if err != nil {
			return "", true, err
		}
		truth, terr := scalarText(&leaf{oid: oidBool}, val)
		negated = !ok || val.null || terr != nil || (truth == "true") == (opName(e) != "=")
	case *pg.Node_BoolExpr:
		if v.BoolExpr.Boolop == pg.BoolExprType_NOT_EXPR && len(v.BoolExpr.Args) == 1 {
			ref = v.BoolExpr.Args[0].GetColumnRef()
			negated = true
		}
	}
	if ref == nil || isStar(ref) {
		return "", false, nil
	}
	_, c, err := b.resolve(ref)
	if err != nil || c.Kind != colSegment {
		return "", false, nil
	}
	if negated {
		return "", true, unsupported("negated segment "+c.Member, "a segment applies as it is defined; define a segment for the opposite condition, or filter on dimensions")
	}
	return c.Member, true, nil
}

// pred translates one predicate; neg asks for the rows where it is false (NOT pushed down
// to the leaves, which is valid in SQL's three-valued logic).
func (b *block) pred(n *pg.Node, neg, having bool) (translated, error) {
	switch v := n.Node.(type) {
	case *pg.Node_BoolExpr:
		be := v.BoolExpr
		switch be.Boolop {
		case pg.BoolExprType_NOT_EXPR:
			if len(be.Args) != 1 {
				return noFilter, nil
			}
			return b.pred(be.Args[0], !neg, having)
		case pg.BoolExprType_AND_EXPR, pg.BoolExprType_OR_EXPR:
			isAnd := (be.Boolop == pg.BoolExprType_AND_EXPR) != neg
			return b.group(be.Args, isAnd, neg, having)
		}
		return noFilter, nil
	case *pg.Node_AExpr:
		return b.comparison(v.AExpr, neg)
	case *pg.Node_NullTest:
		l, err := b.operand(v.NullTest.Arg)
		if l == nil || err != nil {
			return noFilter, err
		}
		isNull := v.NullTest.Nulltesttype == pg.NullTestType_IS_NULL
		if isNull != neg {
			return exactFilter(l, query.OpNotSet), nil
		}
		return exactFilter(l, query.OpSet), nil
	case *pg.Node_BooleanTest:
		l, err := b.operand(v.BooleanTest.Arg)
		if l == nil || err != nil || !isBoolean(l) {
			return noFilter, err
		}
		var op query.Operator
		val := ""
		switch v.BooleanTest.Booltesttype {
		case pg.BoolTestType_IS_TRUE:
			op, val = query.OpEquals, "true"
		case pg.BoolTestType_IS_FALSE:
			op, val = query.OpEquals, "false"
		case pg.BoolTestType_IS_NOT_TRUE:
			op, val = query.OpNotEquals, "true"
		case pg.BoolTestType_IS_NOT_FALSE:
			op, val = query.OpNotEquals, "false"
		case pg.BoolTestType_IS_UNKNOWN:
			op = query.OpNotSet
		case pg.BoolTestType_IS_NOT_UNKNOWN:
			op = query.OpSet
		}
		// IS [NOT] TRUE/FALSE/UNKNOWN is never NULL: NOT is the opposite test.
		if neg {
			op = map[query.Operator]query.Operator{query.OpEquals: query.OpNotEquals, query.OpNotEquals: query.OpEquals,
				query.OpSet: query.OpNotSet, query.OpNotSet: query.OpSet}[op]
		}
		if val == "" {
			return exactFilter(l, op), nil
		}
		return exactFilter(l, op, val), nil
	case *pg.Node_ColumnRef:
		l, err := b.operand(n)
		if l == nil || err != nil || !isBoolean(l) {
			return noFilter, err
		}
		if neg {
			return exactFilter(l, query.OpEquals, "false"), nil
		}
		return exactFilter(l, query.OpEquals, "true"), nil
	}
	return noFilter, nil
}

// group translates AND (isAnd) or OR over args, each negated when neg is set.
func (b *block) group(args []*pg.Node, isAnd, neg, having bool) (translated, error) {
	var fs []query.Filter
	exact := true
	var kinds filterKinds
	for _, a := range args {
		t, err := b.pred(a, neg, having)
		if err != nil {
			return noFilter, err
		}
		if t.f == nil {
			if !isAnd {
				return noFilter, nil // an OR branch without a filter: no superset to push
			}
			exact = false
			continue
		}
		exact = exact && t.exact
		kinds = kinds.or(t.kinds)
		fs = append(fs, *t.f)
	}
	switch {
	case len(fs) == 0:
		return noFilter, nil
	case len(fs) == 1:
		return translated{f: &fs[0], exact: exact, kinds: kinds}, nil
	case isAnd:
		return translated{f: &query.Filter{And: fs}, exact: exact, kinds: kinds}, nil
	}
	return translated{f: &query.Filter{Or: fs}, exact: exact, kinds: kinds}, nil
}

// operand returns the leaf a filter can test: a dimension, or a measure (in HAVING, or
// ungrouped).
func (b *block) operand(n *pg.Node) (*leaf, error) {
	if tc := n.GetTypeCast(); tc != nil {
		return nil, nil // a cast changes the comparison: post-process it
	}
	l, err := b.leafOf(n)
	if err != nil || l == nil {
		return nil, err
	}
	switch l.kind {
	case leafDimension, leafMeasure:
		return l, nil
	}
	return nil, nil
}

func isBoolean(l *leaf) bool { return l.oid == oidBool }

func filterFor(l *leaf, op query.Operator, vals ...string) query.Filter {
	f := query.Filter{Member: l.col.Member, Operator: op}
	for _, v := range vals {
		f.Values = append(f.Values, &v)
	}
	return f
}

func kindsOf(l *leaf) filterKinds {
	if l.kind == leafMeasure {
		return filterKinds{measures: true}
	}
	return filterKinds{dims: true}
}

func exactFilter(l *leaf, op query.Operator, vals ...string) translated {
	f := filterFor(l, op, vals...)
	return translated{f: &f, exact: true, kinds: kindsOf(l)}
}

// notNull is a filter ANDed with "is not null", for SQL's negative comparisons, which never
// keep NULL where Cube's negative operators do.
func notNull(l *leaf, f query.Filter) translated {
	return translated{f: &query.Filter{And: []query.Filter{f, filterFor(l, query.OpSet)}}, exact: true, kinds: kindsOf(l)}
}

// negatedOp is the comparison that holds where op is false, for non-NULL operands.
var negatedOp = map[string]string{"=": "<>", "<>": "=", "!=": "=", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}

// swappedOp is the comparison with its operands exchanged.
var swappedOp = map[string]string{"=": "=", "<>": "<>", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}

// comparison translates the A_Expr forms: comparisons, IN, LIKE, ILIKE and BETWEEN.
func (b *block) comparison(e *pg.A_Expr, neg bool) (translated, error) {
	switch e.Kind {
	case pg.A_Expr_Kind_AEXPR_OP:
		op := opName(e)
		if e.Lexpr == nil || swappedOp[op] == "" {
			return noFilter, nil
		}
		colNode, valNode := e.Lexpr, e.Rexpr
		l, err := b.operand(colNode)
		if err != nil {
			return noFilter, err
		}
		if l == nil {
			colNode, valNode = e.Rexpr, e.Lexpr
			if l, err = b.operand(colNode); l == nil || err != nil {
				return noFilter, err
			}
			op = swappedOp[op]
		}
		if neg {
			op = negatedOp[op]
		}
		v, ok, err := b.value(valNode, l.oid)
		if !ok || err != nil || v.null {
			return noFilter, err
		}
		return b.compare(l, op, v)
	case pg.A_Expr_Kind_AEXPR_IN:
		l, err := b.operand(e.Lexpr)
		if l == nil || err != nil {
			return noFilter, err
		}
		list := e.Rexpr.GetList()
		if list == nil {
			return noFilter, nil
		}
		in := opName(e) == "="
		if neg {
			in = !in
		}
		var vals []sqlValue
		hasNull := false
		for _, item := range list.Items {
			v, ok, err := b.value(item, l.oid)
			if !ok || err != nil {
				return noFilter, err
			}
			if v.null {
				hasNull = true
				continue
			}
			vals = append(vals, v)
		}
		if len(vals) == 0 || (!in && hasNull) {
			return noFilter, nil // never true: let the post-processing say so
		}
		return b.membership(l, in, vals)
	case pg.A_Expr_Kind_AEXPR_LIKE, pg.A_Expr_Kind_AEXPR_ILIKE:
		l, err := b.operand(e.Lexpr)
		if l == nil || err != nil || l.oid != oidText || l.kind != leafDimension {
			return noFilter, err
		}
		pat, ok, err := b.value(e.Rexpr, oidText)
		if !ok || err != nil || pat.null {
			return noFilter, err
		}
		positive := !strings.HasPrefix(opName(e), "!")
		if neg {
			positive = !positive
		}
		return likeFilter(l, pat.text, e.Kind == pg.A_Expr_Kind_AEXPR_ILIKE, positive), nil
	case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN:
		l, err := b.operand(e.Lexpr)
		if l == nil || err != nil {
			return noFilter, err
		}
		list := e.Rexpr.GetList()
		if list == nil || len(list.Items) != 2 {
			return noFilter, nil
		}
		lo, ok1, err := b.value(list.Items[0], l.oid)
		if err != nil {
			return noFilter, err
		}
		hi, ok2, err := b.value(list.Items[1], l.oid)
		if err != nil || !ok1 || !ok2 || lo.null || hi.null {
			return noFilter, err
		}
		inside := e.Kind == pg.A_Expr_Kind_AEXPR_BETWEEN
		if neg {
			inside = !inside
		}
		return b.between(l, lo, hi, inside)
	}
	return noFilter, nil
}

// compare translates column <op> value.
func (b *block) compare(l *leaf, op string, v sqlValue) (translated, error) {
	if l.oid == oidTimestamp {
		if l.kind != leafDimension {
			return noFilter, nil
		}
		ts, exact, err := timeValue(v)
		if err != nil || ts == "" {
			return noFilter, err
		}
		var t translated
		switch op {
		case "=":
			t = exactFilter(l, query.OpInDateRange, ts, ts)
			exact = exact && !endsIn999(ts)
		case "<>", "!=":
			t = exactFilter(l, query.OpNotInDateRange, ts, ts)
			if endsIn999(ts) {
				return noFilter, nil // the padded end would drop rows SQL keeps
			}
		case ">=":
			t = exactFilter(l, query.OpAfterOrOnDate, ts)
		case ">":
			t = exactFilter(l, query.OpAfterDate, ts)
			if endsIn999(ts) {
				return noFilter, nil
			}
		case "<":
			t = exactFilter(l, query.OpBeforeDate, ts)
		case "<=":
			t = exactFilter(l, query.OpBeforeOrOnDate, ts)
			exact = exact && !endsIn999(ts)
		default:
			return noFilter, nil
		}
		t.exact = exact
		return t, nil
	}
	if l.kind == leafMeasure && !numericOID(l.oid) {
		return noFilter, nil
	}
	text, err := scalarText(l, v)
	if err != nil {
		return noFilter, err
	}
	switch op {
	case "=":
		return exactFilter(l, query.OpEquals, text), nil
	case "<>", "!=":
		return notNull(l, filterFor(l, query.OpNotEquals, text)), nil
	case "<":
		return exactFilter(l, query.OpLt, text), nil
	case "<=":
		return exactFilter(l, query.OpLte, text), nil
	case ">":
		return exactFilter(l, query.OpGt, text), nil
	case ">=":
		return exactFilter(l, query.OpGte, text), nil
	}
	return noFilter, nil
}

// membership translates IN (in) and NOT IN over non-NULL values.
func (b *block) membership(l *leaf, in bool, vals []sqlValue) (translated, error) {
	if l.oid == oidTimestamp {
		var fs []query.Filter
		exact := true
		for _, v := range vals {
			op := "="
			if !in {
				op = "<>"
			}
			t, err := b.compare(l, op, v)
			if err != nil || t.f == nil {
				return noFilter, err
			}
			exact = exact && t.exact
			fs = append(fs, *t.f)
		}
		if len(fs) == 1 {
			return translated{f: &fs[0], exact: exact, kinds: kindsOf(l)}, nil
		}
		if in {
			return translated{f: &query.Filter{Or: fs}, exact: exact, kinds: kindsOf(l)}, nil
		}
		return translated{f: &query.Filter{And: fs}, exact: exact, kinds: kindsOf(l)}, nil
	}
	if l.kind == leafMeasure && !numericOID(l.oid) {
		return noFilter, nil
	}
	texts := make([]string, len(vals))
	for i, v := range vals {
		t, err := scalarText(l, v)
		if err != nil {
			return noFilter, err
		}
		texts[i] = t
	}
	if in {
		return exactFilter(l, query.OpEquals, texts...), nil
	}
	return notNull(l, filterFor(l, query.OpNotEquals, texts...)), nil
}

// between translates BETWEEN (inside) and NOT BETWEEN.
func (b *block) between(l *leaf, lo, hi sqlValue, inside bool) (translated, error) {
	if l.oid == oidTimestamp {
		if l.kind != leafDimension {
			return noFilter, nil
		}
		from, exact1, err := timeValue(lo)
		if err != nil || from == "" {
			return noFilter, err
		}
		to, exact2, err := timeValue(hi)
		if err != nil || to == "" {
			return noFilter, err
		}
		if inside {
			t := exactFilter(l, query.OpInDateRange, from, to)
			t.exact = exact1 && exact2 && !endsIn999(to)
			return t, nil
		}
		if endsIn999(to) || !exact1 || !exact2 {
			return noFilter, nil
		}
		return exactFilter(l, query.OpNotInDateRange, from, to), nil
	}
	if l.kind == leafMeasure && !numericOID(l.oid) {
		return noFilter, nil
	}
	a, err := scalarText(l, lo)
	if err != nil {
		return noFilter, err
	}
	z, err := scalarText(l, hi)
	if err != nil {
		return noFilter, err
	}
	if inside {
		return translated{f: &query.Filter{And: []query.Filter{filterFor(l, query.OpGte, a), filterFor(l, query.OpLte, z)}},
			exact: true, kinds: kindsOf(l)}, nil
	}
	return translated{f: &query.Filter{Or: []query.Filter{filterFor(l, query.OpLt, a), filterFor(l, query.OpGt, z)}},
		exact: true, kinds: kindsOf(l)}, nil
}

func numericOID(oid uint32) bool { return oid == oidInt8 || oid == oidFloat8 }

// likeFilter translates LIKE and ILIKE patterns of the forms 'x', 'x%', '%x', '%x%' and
// '%'. Cube's contains family is case-insensitive, so it is exact for ILIKE and for LIKE
// over text without letters of two cases; otherwise it pre-filters a superset.
func likeFilter(l *leaf, pattern string, ilike, positive bool) translated {
	lit, prefix, suffix, ok := splitPattern(pattern)
	if !ok {
		return noFilter
	}
	caseless := ilike || !hasCase(lit)
	whole := !prefix && !suffix
	if lit == "" {
		if prefix || suffix {
			if positive {
				return exactFilter(l, query.OpSet) // '%' matches every non-NULL value
			}
			return noFilter
		}
		lit = ""
	}
	if whole {
		switch {
		case !ilike && positive:
			return exactFilter(l, query.OpEquals, lit)
		case !ilike:
			return notNull(l, filterFor(l, query.OpNotEquals, lit))
		case positive:
			t := exactFilter(l, query.OpContains, lit)
			t.exact = false
			return t
		}
		return noFilter
	}
	op := query.OpContains
	switch {
	case prefix && !suffix:
		op = query.OpEndsWith
	case suffix && !prefix:
		op = query.OpStartsWith
	}
	if positive {
		t := exactFilter(l, op, lit)
		t.exact = caseless
		return t
	}
	if !caseless {
		return noFilter // a case-insensitive NOT would drop rows the case-sensitive one keeps
	}
	neg := map[query.Operator]query.Operator{query.OpContains: query.OpNotContains,
		query.OpStartsWith: query.OpNotStartsWith, query.OpEndsWith: query.OpNotEndsWith}[op]
	return notNull(l, filterFor(l, neg, lit))
}

// splitPattern parses a LIKE pattern with the default escape (backslash) into a literal
// with % at its start (prefix) and/or end (suffix). ok is false for any other pattern:
// _ anywhere, % inside.
func splitPattern(p string) (lit string, prefix, suffix, ok bool) {
	var sb strings.Builder
	rs := []rune(p)
	i := 0
	for i < len(rs) && rs[i] == '%' {
		prefix = true
		i++
	}
	for ; i < len(rs); i++ {
		switch rs[i] {
		case '\\':
			if i+1 >= len(rs) {
				return "", false, false, false
			}
			i++
			sb.WriteRune(rs[i])
		case '_':
			return "", false, false, false
		case '%':
			for j := i; j < len(rs); j++ {
				if rs[j] != '%' {
					return "", false, false, false
				}
			}
			return sb.String(), prefix, true, true
		default:
			sb.WriteRune(rs[i])
		}
	}
	return sb.String(), prefix, false, true
}

// hasCase reports whether s has a letter whose upper and lower case differ.
func hasCase(s string) bool {
	for _, r := range s {
		if unicode.ToUpper(r) != unicode.ToLower(r) {
			return true
		}
	}
	return false
}

// sqlValue is a constant or parameter value of a condition.
type sqlValue struct {
	text string
	null bool
	// when is set for a time.Time parameter.
	when *time.Time
}

// value reads a literal, a cast literal or a parameter. ok is false for anything else.
// oid is the type of the column it is compared with, to infer the parameter's type.
func (b *block) value(n *pg.Node, oid uint32) (sqlValue, bool, error) {
	if n == nil {
		return sqlValue{}, false, nil
	}
	switch v := n.Node.(type) {
	case *pg.Node_AConst:
		c := v.AConst
		switch {
		case c.Isnull:
			return sqlValue{null: true}, true, nil
		case c.GetIval() != nil:
			return sqlValue{text: strconv.FormatInt(int64(c.GetIval().Ival), 10)}, true, nil
		case c.GetFval() != nil:
			return sqlValue{text: c.GetFval().Fval}, true, nil
		case c.GetBoolval() != nil:
			return sqlValue{text: strconv.FormatBool(c.GetBoolval().Boolval)}, true, nil
		case c.GetSval() != nil:
			return sqlValue{text: c.GetSval().Sval}, true, nil
		}
	case *pg.Node_TypeCast:
		names := strs(v.TypeCast.TypeName.GetNames())
		if len(names) == 0 || v.TypeCast.TypeName.ArrayBounds != nil {
			return sqlValue{}, false, nil
		}
		switch names[len(names)-1] {
		case "date", "timestamp", "text", "varchar", "bpchar", "int2", "int4", "int8", "float4", "float8", "numeric", "bool":
			return b.value(v.TypeCast.Arg, oid)
		}
	case *pg.Node_AExpr:
		// A negative number the parser did not fold: - <number>.
		e := v.AExpr
		if e.Kind == pg.A_Expr_Kind_AEXPR_OP && e.Lexpr == nil && opName(e) == "-" {
			x, ok, err := b.value(e.Rexpr, oid)
			if !ok || err != nil || x.null || x.when != nil {
				return sqlValue{}, false, err
			}
			if _, perr := strconv.ParseFloat(x.text, 64); perr != nil {
				return sqlValue{}, false, nil
			}
			if strings.HasPrefix(x.text, "-") {
				return sqlValue{text: x.text[1:]}, true, nil
			}
			return sqlValue{text: "-" + x.text}, true, nil
		}
	case *pg.Node_ParamRef:
		b.env.inferParam(v.ParamRef.Number, oid)
		val, present, err := b.env.param(v.ParamRef.Number)
		if err != nil {
			return sqlValue{}, false, err
		}
		if !present {
			return placeholder(oid), true, nil
		}
		return paramValue(val)
	}
	return sqlValue{}, false, nil
}

// placeholder stands in for a parameter while a statement is prepared.
func placeholder(oid uint32) sqlValue {
	switch oid {
	case oidTimestamp:
		return sqlValue{text: "2000-01-01T00:00:00.000"}
	case oidBool:
		return sqlValue{text: "true"}
	case oidInt8, oidFloat8:
		return sqlValue{text: "0"}
	}
	return sqlValue{text: "%x%"}
}

// paramValue turns a decoded parameter into a condition value.
func paramValue(val any) (sqlValue, bool, error) {
	switch x := val.(type) {
	case nil:
		return sqlValue{null: true}, true, nil
	case string:
		return sqlValue{text: x}, true, nil
	case []byte:
		return sqlValue{text: string(x)}, true, nil
	case int64:
		return sqlValue{text: strconv.FormatInt(x, 10)}, true, nil
	case int32:
		return sqlValue{text: strconv.FormatInt(int64(x), 10)}, true, nil
	case int:
		return sqlValue{text: strconv.Itoa(x)}, true, nil
	case float64:
		return sqlValue{text: strconv.FormatFloat(x, 'f', -1, 64)}, true, nil
	case bool:
		return sqlValue{text: strconv.FormatBool(x)}, true, nil
	case time.Time:
		return sqlValue{text: x.Format("2006-01-02 15:04:05.999999"), when: &x}, true, nil
	}
	return sqlValue{}, false, nil
}

// scalarText checks a value against the column it is compared with and returns the text
// of the filter value.
func scalarText(l *leaf, v sqlValue) (string, error) {
	switch l.oid {
	case oidBool:
		switch strings.ToLower(strings.TrimSpace(v.text)) {
		case "t", "true", "y", "yes", "on", "1":
			return "true", nil
		case "f", "false", "n", "no", "off", "0":
			return "false", nil
		}
		return "", sqlErr("22P02", "invalid input syntax for type boolean: %q", v.text)
	case oidInt8, oidFloat8:
		s := strings.TrimSpace(v.text)
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "", sqlErr("22P02", "invalid input syntax for type double precision: %q", v.text)
		}
		return s, nil
	}
	return v.text, nil
}

// timeValue parses a date or timestamp value into Cube's local wall-clock form
// (YYYY-MM-DDTHH:mm:ss.SSS). exact is false when the value has digits below the
// millisecond, which Cube cuts. An empty result means the value cannot be compared
// exactly (an offset, a relative word): the condition is post-processed.
func timeValue(v sqlValue) (ts string, exact bool, err error) {
	if v.when != nil {
		w := *v.when
		return w.Format(cubeTimeLayout), w.Nanosecond()%int(time.Millisecond) == 0, nil
	}
	s := strings.TrimSpace(v.text)
	layouts := []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05",
		"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"}
	for _, layout := range layouts {
		w, perr := time.Parse(layout, s)
		if perr != nil {
			continue
		}
		return w.Format(cubeTimeLayout), w.Nanosecond()%int(time.Millisecond) == 0, nil
	}
	// An offset: PostgreSQL ignores it when the literal becomes a timestamp (without time
	// zone), so the wall clock as written is the value.
	for _, layout := range []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z07", "2006-01-02T15:04Z07:00"} {
		if w, perr := time.Parse(layout, strings.Replace(s, " ", "T", 1)); perr == nil {
			return w.Format(cubeTimeLayout), w.Nanosecond()%int(time.Millisecond) == 0, nil
		}
	}
	switch strings.ToLower(s) {
	case "now", "today", "tomorrow", "yesterday", "infinity", "-infinity", "epoch":
		return "", false, nil
	}
	return "", false, sqlErr("22007", "invalid input syntax for type timestamp: %q", v.text)
}

// cubeTimeLayout is how Cube writes local times.
const cubeTimeLayout = "2006-01-02T15:04:05.000"

// endsIn999 reports a bound Cube pads to the end of its millisecond (.999 → .999999).
func endsIn999(ts string) bool { return strings.HasSuffix(ts, ".999") }

// param returns the value of $n: present is false while describing.
func (e *env) param(n int32) (any, bool, error) {
	if e.describe {
		return nil, false, nil
	}
	if n < 1 || int(n) > len(e.params) {
		return nil, false, sqlErr("42P02", "there is no parameter $%d", n)
	}
	return e.params[n-1], true, nil
}

// inferParam records the type of $n from the column it is compared with.
func (e *env) inferParam(n int32, oid uint32) {
	if e.paramTypes == nil || oid == 0 {
		return
	}
	if _, ok := e.paramTypes[n]; !ok {
		e.paramTypes[n] = oid
	}
}
