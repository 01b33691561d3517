package sqlapi

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// serverVersion is the PostgreSQL version the SQL API reports; clients pick their
// features by it.
const serverVersion = "15.0"

// versionString is what version() returns.
const versionString = "PostgreSQL 15.0 (Cubit) on x86_64-pc-linux-gnu, compiled by Go, 64-bit"

// finish prepares a rewritten tree for the post-processing engine: the session functions
// PostgreSQL clients call become constants, and the parameters left in the tree are
// renumbered in order of appearance, with their values returned as the arguments.
func (p *postBuilder) finish(root *pg.Node) ([]any, error) {
	var args []any
	renumbered := map[int32]int32{}
	var err error
	visit(root, func(x *pg.Node) bool {
		if err != nil {
			return false
		}
		switch v := x.Node.(type) {
		case *pg.Node_ParamRef:
			n := v.ParamRef.Number
			k, ok := renumbered[n]
			if !ok {
				val, present, perr := p.env.param(n)
				if perr != nil {
					err = perr
					return false
				}
				if !present {
					val = nil
				}
				args = append(args, val)
				k = int32(len(args))
				renumbered[n] = k
			}
			v.ParamRef.Number = k
		case *pg.Node_SqlvalueFunction:
			switch v.SqlvalueFunction.Op {
			case pg.SQLValueFunctionOp_SVFOP_CURRENT_USER, pg.SQLValueFunctionOp_SVFOP_CURRENT_ROLE,
				pg.SQLValueFunctionOp_SVFOP_SESSION_USER, pg.SQLValueFunctionOp_SVFOP_USER:
				x.Node = stringConst(p.env.user).Node
			case pg.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG:
				x.Node = stringConst(p.env.database).Node
			case pg.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA:
				x.Node = stringConst("public").Node
			}
		case *pg.Node_FuncCall:
			var repl *pg.Node
			repl, err = p.sessionFunction(v.FuncCall)
			if repl != nil {
				x.Node = repl.Node
				return false
			}
		}
		return true
	})
	return args, err
}

// sessionFunction answers the functions about the session and the server; nil means the
// call is left to the post-processing engine.
func (p *postBuilder) sessionFunction(fc *pg.FuncCall) (*pg.Node, error) {
	if fc.Over != nil {
		return nil, nil
	}
	switch funcName(fc) {
	case "version":
		return stringConst(versionString), nil
	case "current_schema":
		return stringConst("public"), nil
	case "current_database", "current_catalog":
		return stringConst(p.env.database), nil
	case "current_user", "session_user":
		return stringConst(p.env.user), nil
	case "pg_backend_pid":
		return pg.MakeAConstIntNode(int64(p.env.pid), -1), nil
	case "current_setting":
		if len(fc.Args) < 1 || len(fc.Args) > 2 {
			return nil, nil
		}
		name, ok := p.constText(fc.Args[0])
		if !ok {
			return nil, unsupported("current_setting() of a computed name", "name the setting with a literal")
		}
		if v, ok := p.env.setting(name); ok {
			return stringConst(v), nil
		}
		if len(fc.Args) == 2 {
			if missingOK, ok := p.constText(fc.Args[1]); ok && (missingOK == "true" || missingOK == "t") {
				return typeCast(nullConst(), "text"), nil
			}
		}
		return nil, sqlErr("42704", "unrecognized configuration parameter %q", name)
	case "set_config":
		if len(fc.Args) != 3 {
			return nil, nil
		}
		name, ok1 := p.constText(fc.Args[0])
		value, ok2 := p.constText(fc.Args[1])
		if !ok1 || !ok2 {
			return nil, unsupported("set_config() with computed arguments", "use SET name = value")
		}
		if !p.env.describe && p.env.setConfig != nil {
			p.env.setConfig(name, value)
		}
		return stringConst(value), nil
	}
	return nil, nil
}

// constText reads a literal or parameter as text.
func (p *postBuilder) constText(n *pg.Node) (string, bool) {
	if c := n.GetAConst(); c != nil {
		switch {
		case c.GetSval() != nil:
			return c.GetSval().Sval, true
		case c.GetBoolval() != nil:
			if c.GetBoolval().Boolval {
				return "true", true
			}
			return "false", true
		case c.GetIval() != nil, c.GetFval() != nil:
			v, ok, _ := (&block{env: p.env}).value(n, oidText)
			return v.text, ok
		}
		return "", false
	}
	if tc := n.GetTypeCast(); tc != nil {
		return p.constText(tc.Arg)
	}
	if pr := n.GetParamRef(); pr != nil {
		val, present, err := p.env.param(pr.Number)
		if err != nil || !present {
			return "", !p.env.describe && err == nil
		}
		v, ok, _ := paramValue(val)
		return strings.TrimSpace(v.text), ok && !v.null
	}
	return "", false
}
