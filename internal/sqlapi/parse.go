package sqlapi

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	pg "github.com/pganalyze/pg_query_go/v6"
	"github.com/pganalyze/pg_query_go/v6/parser"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/cubit-dev/cubit/internal/pgwire"
)

// parsed is one statement of a query string, with its text.
type parsed struct {
	node *pg.Node
	text string
}

// maxSQLLength bounds the statements the parser is given: a BI tool's longest generated
// query is far shorter, and the parser's memory grows with the input.
const maxSQLLength = 1 << 20

// parse splits sql into its statements with PostgreSQL's own grammar. A syntax error is
// SQLSTATE 42601 with the position PostgreSQL would report.
func parse(sql string) ([]parsed, error) {
	if len(sql) > maxSQLLength {
		return nil, &pgwire.Error{Code: "54000", Message: fmt.Sprintf("statement is too long (%d bytes; the limit is %d)", len(sql), maxSQLLength)}
	}
	if strings.IndexByte(sql, 0) >= 0 {
		return nil, &pgwire.Error{Code: "22021", Message: "invalid byte sequence for encoding \"UTF8\": 0x00"}
	}
	tree, err := pg.Parse(sql)
	if err != nil {
		return nil, syntaxError(err)
	}
	out := make([]parsed, 0, len(tree.Stmts))
	for _, raw := range tree.Stmts {
		start := int(raw.StmtLocation)
		end := len(sql)
		if raw.StmtLen > 0 {
			end = start + int(raw.StmtLen)
		}
		text := ""
		if start >= 0 && start <= end && end <= len(sql) {
			text = strings.TrimSpace(sql[start:end])
		}
		out = append(out, parsed{node: raw.Stmt, text: text})
	}
	return out, nil
}

// syntaxError turns the parser's error into SQLSTATE 42601 with PostgreSQL's position
// (a 1-based character index).
func syntaxError(err error) error {
	var pe *parser.Error
	if !errors.As(err, &pe) {
		return &pgwire.Error{Code: "42601", Message: err.Error()}
	}
	e := &pgwire.Error{Code: "42601", Message: pe.Message}
	// The parser counts characters, as PostgreSQL reports them.
	e.Position = pe.Cursorpos
	return e
}

// deparse renders a statement back to SQL text (for the post-processing engine).
func deparse(stmt *pg.Node) (string, error) {
	return pg.Deparse(&pg.ParseResult{Version: grammarVersion(), Stmts: []*pg.RawStmt{{Stmt: stmt}}})
}

// grammarVersion is the parser's PostgreSQL version number, which Deparse checks.
var grammarVersion = sync.OnceValue(func() int32 {
	tree, err := pg.Parse("SELECT 1")
	if err != nil {
		return 0
	}
	return tree.Version
})

// cloneNode deep-copies a tree, so that a rewrite never changes a prepared statement.
func cloneNode(n *pg.Node) *pg.Node { return proto.Clone(n).(*pg.Node) }

// visit calls fn for every node under m, depth first, parents before children. When fn
// returns false the node's children are skipped. It walks the protobuf structure, so it
// reaches nodes in every field of every statement type.
func visit(m proto.Message, fn func(*pg.Node) bool) {
	if m == nil {
		return
	}
	visitMessage(m.ProtoReflect(), fn)
}

func visitMessage(m protoreflect.Message, fn func(*pg.Node) bool) {
	if !m.IsValid() {
		return
	}
	if n, ok := m.Interface().(*pg.Node); ok {
		if !fn(n) {
			return
		}
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				visitMessage(l.Get(i).Message(), fn)
			}
		case fd.Message() != nil && !fd.IsMap():
			visitMessage(v.Message(), fn)
		}
		return true
	})
}

// strs returns the string values of a list of String nodes (names, qualified names).
func strs(nodes []*pg.Node) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		if s := n.GetString_(); s != nil {
			out = append(out, s.Sval)
		}
	}
	return out
}

// funcName is the lower-case unqualified name of a function call, with pg_catalog dropped.
func funcName(fc *pg.FuncCall) string {
	names := strs(fc.Funcname)
	if len(names) == 0 {
		return ""
	}
	if len(names) == 2 && strings.EqualFold(names[0], "pg_catalog") || len(names) == 1 {
		return strings.ToLower(names[len(names)-1])
	}
	return strings.ToLower(strings.Join(names, "."))
}

// opName is the operator of an expression ("=", "<>", "~~").
func opName(e *pg.A_Expr) string {
	names := strs(e.Name)
	if len(names) == 0 {
		return ""
	}
	return names[len(names)-1]
}

// nodeText renders an expression for an error message.
func nodeText(n *pg.Node) string {
	if n == nil {
		return ""
	}
	sel := &pg.Node{Node: &pg.Node_SelectStmt{SelectStmt: &pg.SelectStmt{
		TargetList: []*pg.Node{{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{Val: n}}}},
	}}}
	s, err := deparse(sel)
	if err != nil {
		return "expression"
	}
	return strings.TrimPrefix(s, "SELECT ")
}

// Constructors of the nodes the rewrites create.

func strNode(s string) *pg.Node { return pg.MakeStrNode(s) }

func columnRef(names ...string) *pg.Node {
	fields := make([]*pg.Node, len(names))
	for i, n := range names {
		fields[i] = strNode(n)
	}
	return pg.MakeColumnRefNode(fields, -1)
}

func funcCall(name string, args ...*pg.Node) *pg.Node {
	return pg.MakeFuncCallNode([]*pg.Node{strNode(name)}, args, -1)
}

func stringConst(s string) *pg.Node { return pg.MakeAConstStrNode(s, -1) }

func nullConst() *pg.Node {
	return &pg.Node{Node: &pg.Node_AConst{AConst: &pg.A_Const{Isnull: true, Location: -1}}}
}

func typeCast(n *pg.Node, typ string) *pg.Node {
	return &pg.Node{Node: &pg.Node_TypeCast{TypeCast: &pg.TypeCast{Arg: n,
		TypeName: &pg.TypeName{Names: []*pg.Node{strNode(typ)}, Typemod: -1, Location: -1}, Location: -1}}}
}

func resTarget(name string, val *pg.Node) *pg.Node {
	return &pg.Node{Node: &pg.Node_ResTarget{ResTarget: &pg.ResTarget{Name: name, Val: val, Location: -1}}}
}

func rangeVar(name, alias string) *pg.Node {
	rv := &pg.RangeVar{Relname: name, Inh: true, Relpersistence: "p", Location: -1}
	if alias != "" {
		rv.Alias = &pg.Alias{Aliasname: alias}
	}
	return &pg.Node{Node: &pg.Node_RangeVar{RangeVar: rv}}
}
