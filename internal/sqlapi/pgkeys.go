package sqlapi

import (
	"regexp"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// Primary keys in the catalog. A cube table whose primary-key dimensions are all columns of
// the table (public: see newCatalog) has a primary key, as a PostgreSQL table would: a
// unique btree index <cube>_pkey over those columns (pg_class relkind 'i', pg_index,
// pg_attribute) and its constraint (pg_constraint contype 'p', information_schema's
// table_constraints, key_column_usage and constraint_column_usage), with pg_get_indexdef
// and pg_get_constraintdef answering their definitions. Views have none; nor has a cube
// whose key is hidden, in part or whole, since a partial key is no key.

// OID offsets of the synthetic index and constraint of a table's primary key: table OID +
// offset. The tables' composite types use table OID + 100000.
const (
	oidIndexOffset      = 200000
	oidConstraintOffset = 300000
	oidBtreeAM          = 403
)

// pkey is the primary key of a cube table.
type pkey struct {
	t     *table
	name  string    // of the index and of the constraint: <cube>_pkey
	index int       // the index's pg_class OID
	con   int       // the constraint's pg_constraint OID
	cols  []*column // in the key's order
}

// attnums are the attribute numbers of the key's columns in the table.
func (k *pkey) attnums() []int {
	out := make([]int, len(k.cols))
	for i, c := range k.cols {
		out[i] = int(c.Attr)
	}
	return out
}

func (k *pkey) colList() string {
	names := make([]string, len(k.cols))
	for i, c := range k.cols {
		names[i] = pgQuoteIdent(c.Name)
	}
	return strings.Join(names, ", ")
}

// indexDef is pg_get_indexdef's definition of the key's index.
func (k *pkey) indexDef() string {
	return "CREATE UNIQUE INDEX " + pgQuoteIdent(k.name) + " ON public." + pgQuoteIdent(k.t.Name) + " USING btree (" + k.colList() + ")"
}

// constraintDef is pg_get_constraintdef's definition of the key's constraint.
func (k *pkey) constraintDef() string { return "PRIMARY KEY (" + k.colList() + ")" }

// primaryKey is t's primary key, or nil.
func (c *catalog) primaryKey(t *table) *pkey {
	if relkind(t) != "r" {
		return nil
	}
	pks := t.Cube.PrimaryKeys()
	if len(pks) == 0 {
		return nil
	}
	k := &pkey{t: t, name: t.Name + "_pkey", index: int(t.OID) + oidIndexOffset, con: int(t.OID) + oidConstraintOffset}
	if c.table(k.name) != nil {
		return nil // the name is a table's: relation names are unique in a schema
	}
	for _, d := range pks {
		col := t.column(d.Name)
		if col == nil || col.Dimension != d {
			return nil
		}
		k.cols = append(k.cols, col)
	}
	return k
}

// primaryKeys are the primary keys of the catalog's tables, in the tables' order.
func (c *catalog) primaryKeys() []*pkey {
	var out []*pkey
	for _, t := range c.tables {
		if k := c.primaryKey(t); k != nil {
			out = append(out, k)
		}
	}
	return out
}

// opclasses are the default btree operator classes of the column types.
var opclasses = map[uint32]int{oidBool: 424, oidInt8: 1980, oidText: 3126, oidFloat8: 1971, oidTimestamp: 3128}

var simpleIdent = regexp.MustCompile(`^[a-z_][a-z0-9_$]*$`)

// pgQuoteIdent quotes an identifier as PostgreSQL's quote_ident does: unless it is lower
// case and no keyword that a column reference cannot be.
func pgQuoteIdent(s string) string {
	if simpleIdent.MatchString(s) {
		if res, err := pg.Parse("SELECT " + s + " FROM t"); err == nil && len(res.Stmts) == 1 {
			if sel := res.Stmts[0].Stmt.GetSelectStmt(); sel != nil && len(sel.TargetList) == 1 {
				if cr := sel.TargetList[0].GetResTarget().GetVal().GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
					return s
				}
			}
		}
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// pkeyCatalogRows are the rows the primary keys add to the catalog tables, by key.
func pkeyCatalogRows(e *catEnv, key string) [][]any {
	var rows [][]any
	for _, k := range e.cat.primaryKeys() {
		att := k.attnums()
		switch key {
		case "pg_catalog.pg_class":
			rows = append(rows, []any{k.index, k.name, oidNspPublic, 0, 0, oidOwner, oidBtreeAM, 0, 0, 1, 0.0, 0, 0, false, false,
				"p", "i", len(k.cols), 0, false, false, false, false, false, true, "n", false, 0, "0", "0", nil, nil, nil})
		case "pg_catalog.pg_attribute":
			for i, c := range k.cols {
				coll := 0
				if c.OID == oidText {
					coll = 100
				}
				l := typlen(c.OID)
				rows = append(rows, []any{k.index, c.Name, c.OID, -1, l, i + 1, 0, -1, -1, l > 0, "d", "p", "", false, false,
					false, "", "", false, true, 0, coll, nil, nil, nil, nil})
			}
		case "pg_catalog.pg_index":
			colls, classes, opts := make([]int, len(k.cols)), make([]int, len(k.cols)), make([]int, len(k.cols))
			for i, c := range k.cols {
				if c.OID == oidText {
					colls[i] = 100
				}
				classes[i] = opclasses[c.OID]
			}
			rows = append(rows, []any{k.index, int(k.t.OID), len(k.cols), len(k.cols), true, false, true, false, true, false,
				true, false, true, true, false, att, colls, classes, opts, nil, nil})
		case "pg_catalog.pg_constraint":
			rows = append(rows, []any{k.con, k.name, oidNspPublic, "p", false, false, true, int(k.t.OID), 0, k.index, 0, 0,
				" ", " ", " ", true, 0, true, att, nil, nil, nil, nil, nil, nil, nil})
		case "information_schema.table_constraints":
			rows = append(rows, []any{e.database, "public", k.name, e.database, "public", k.t.Name, "PRIMARY KEY", "NO", "NO", "YES", nil})
		case "information_schema.key_column_usage":
			for i, c := range k.cols {
				rows = append(rows, []any{e.database, "public", k.name, e.database, "public", k.t.Name, c.Name, i + 1, nil})
			}
		case "information_schema.constraint_column_usage":
			for _, c := range k.cols {
				rows = append(rows, []any{e.database, "public", k.t.Name, c.Name, e.database, "public", k.name})
			}
		}
	}
	return rows
}

// pkeyRows is the rows function of a catalog table that only the primary keys fill.
func pkeyRows(key string) func(e *catEnv) [][]any {
	return func(e *catEnv) [][]any { return pkeyCatalogRows(e, key) }
}

// indexDefExpr is pg_get_indexdef(oid [, column, pretty]): the index's definition for column
// 0 (or none), else the name of its column-th column; NULL for other OIDs.
func (p *postBuilder) indexDefExpr(args []*pg.Node) *pg.Node {
	keys := p.env.cat.primaryKeys()
	if len(keys) == 0 || len(args) == 0 {
		return nullText()
	}
	col := pg.MakeAConstIntNode(0, -1)
	if len(args) > 1 {
		col = args[1]
	}
	var b strings.Builder
	b.WriteString("list_extract(CASE CAST($1 AS bigint)")
	for _, k := range keys {
		b.WriteString(" WHEN " + strconv.Itoa(k.index) + " THEN ARRAY[" + quoteDuckString(k.indexDef()))
		for _, c := range k.cols {
			b.WriteString(", " + quoteDuckString(pgQuoteIdent(c.Name)))
		}
		b.WriteString("]")
	}
	b.WriteString(" END, CAST($2 AS bigint) + 1)")
	return snippet(b.String(), args[0], col)
}

// constraintDefExpr is pg_get_constraintdef(oid [, pretty]); NULL for other OIDs.
func (p *postBuilder) constraintDefExpr(args []*pg.Node) *pg.Node {
	keys := p.env.cat.primaryKeys()
	if len(keys) == 0 || len(args) == 0 {
		return nullText()
	}
	var b strings.Builder
	b.WriteString("CASE CAST($1 AS bigint)")
	for _, k := range keys {
		b.WriteString(" WHEN " + strconv.Itoa(k.con) + " THEN " + quoteDuckString(k.constraintDef()))
	}
	b.WriteString(" ELSE CAST(NULL AS text) END")
	return snippet(b.String(), args[0])
}
