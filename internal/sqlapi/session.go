package sqlapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/cubit-dev/cubit/internal/pgwire"
)

// session is one connection's state: settings and transaction status.
type session struct {
	h        *Handler
	user     string
	database string
	settings settings
	// pid is the process id the client knows the connection by.
	pid uint32

	inTx, failed bool
	// implicit: the transaction is the implicit block PostgreSQL runs the statements of a
	// multi-statement simple query in; it ends with the query (EndQuery).
	implicit bool
	// txSettings are the settings at BEGIN, restored by ROLLBACK; local are the names SET
	// LOCAL changed, restored by COMMIT too.
	txSettings settings
	local      map[string]bool

	// cursors are the open SQL cursors, by name (cursor.go).
	cursors map[string]*cursor
}

var _ pgwire.Session = (*session)(nil)

func (s *session) Parameters() map[string]string { return s.settings.reported() }

func (s *session) TxStatus() byte {
	switch {
	case s.inTx && s.failed:
		return 'E'
	case s.inTx:
		return 'T'
	}
	return 'I'
}

func (s *session) Close() { s.cursors = nil }

// EndQuery ends a simple query: its implicit transaction block commits, or rolls back
// after a failure, and a failure pgwire found itself fails an explicit block too.
func (s *session) EndQuery(failed bool) {
	if s.implicit {
		s.endTx(!failed && !s.failed)
		return
	}
	if failed {
		s.fail()
	}
}

// Prepare parses one statement for the extended protocol and describes its result.
func (s *session) Prepare(ctx context.Context, sql string, paramTypes []uint32) (pgwire.Statement, error) {
	stmts, err := parse(sql)
	if err != nil {
		s.fail()
		return nil, err
	}
	if len(stmts) > 1 {
		s.fail()
		return nil, sqlErr("42601", "cannot insert multiple commands into a prepared statement")
	}
	if len(stmts) == 0 {
		return nil, nil // comments only: an empty query
	}
	st := &statement{s: s, declared: paramTypes, node: stmts[0].node, text: stmts[0].text}
	if err := s.checkAborted(st); err != nil {
		return nil, err
	}
	if err := st.describe(ctx); err != nil {
		s.fail()
		return nil, err
	}
	return st, nil
}

// PrepareAll parses a simple-protocol query string. Its statements are described when
// their columns are first asked for, so that each runs after the ones before it. As in
// PostgreSQL, the statements of a string of more than one run in an implicit transaction
// block (so DECLARE works without BEGIN), which EndQuery ends.
func (s *session) PrepareAll(ctx context.Context, sql string) ([]pgwire.Statement, error) {
	stmts, err := parse(sql)
	if err != nil {
		s.fail()
		return nil, err
	}
	out := make([]pgwire.Statement, len(stmts))
	for i, p := range stmts {
		out[i] = &statement{s: s, node: p.node, text: p.text, lazy: true, implicit: len(stmts) > 1}
	}
	return out, nil
}

// fail marks the transaction failed after an error, as PostgreSQL does.
func (s *session) fail() {
	if s.inTx {
		s.failed = true
	}
}

// checkAborted refuses everything but the end of a failed transaction.
func (s *session) checkAborted(st *statement) error {
	if !s.failed {
		return nil
	}
	if tx := st.node.GetTransactionStmt(); tx != nil {
		switch tx.Kind {
		case pg.TransactionStmtKind_TRANS_STMT_COMMIT, pg.TransactionStmtKind_TRANS_STMT_ROLLBACK,
			pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
			return nil
		}
	}
	return sqlErr("25P02", "current transaction is aborted, commands ignored until end of transaction block")
}

// env is the rewrite environment of a statement: describing (params nil) or executing.
func (s *session) env(cat *catalog, params []any, describe bool) *env {
	tz := s.settings["timezone"].value
	return &env{cat: cat, user: s.user, superUser: s.h.opt.SuperUser, database: s.database, pid: s.pid,
		timezone: tz, params: params, describe: describe, paramTypes: map[int32]uint32{},
		setting: func(name string) (string, bool) {
			v, ok := s.settings.get(name)
			return v.value, ok
		},
		setConfig: func(name, value string) { _ = s.settings.set(name, value) },
	}
}

// statement is a parsed statement.
type statement struct {
	s        *session
	node     *pg.Node // nil for an empty query
	text     string
	declared []uint32
	lazy     bool
	// implicit: the statement is one of a multi-statement simple query, and runs in an
	// implicit transaction block when no block is open.
	implicit bool

	described  bool
	cols       []pgwire.Column
	paramTypes []uint32
}

var _ pgwire.Statement = (*statement)(nil)

func (st *statement) ParamTypes() []uint32 { return st.paramTypes }

func (st *statement) Columns() []pgwire.Column {
	if !st.described && st.lazy {
		// A failure here is reported again when the statement executes.
		_ = st.describe(context.Background())
	}
	return st.cols
}

// describe works out the statement's result columns and parameter types.
func (st *statement) describe(ctx context.Context) error {
	st.described = true
	n := maxParam(st.node)
	st.paramTypes = make([]uint32, n)
	copy(st.paramTypes, st.declared)
	if st.node == nil {
		return nil
	}
	cols, inferred, err := st.s.describeNode(ctx, st.node)
	for i := range st.paramTypes {
		if st.paramTypes[i] == 0 {
			st.paramTypes[i] = oidText
			if t, ok := inferred[int32(i+1)]; ok {
				st.paramTypes[i] = t
			}
		}
	}
	if err != nil {
		return err
	}
	st.cols = cols
	return nil
}

// maxParam is the highest $n of a statement.
func maxParam(n *pg.Node) int {
	max := 0
	if n == nil {
		return 0
	}
	visit(n, func(x *pg.Node) bool {
		if p := x.GetParamRef(); p != nil && int(p.Number) > max {
			max = int(p.Number)
		}
		return true
	})
	return max
}

// castTypes are the OIDs of the casts that type a parameter ($1::int).
var castTypes = map[string]uint32{"int2": oidInt2, "int4": oidInt4, "int8": oidInt8, "float4": oidFloat4,
	"float8": oidFloat8, "numeric": oidNumeric, "text": oidText, "varchar": oidText, "bool": oidBool,
	"date": oidDate, "timestamp": oidTimestamp, "timestamptz": oidTimestamptz}

func (s *session) describeNode(ctx context.Context, n *pg.Node) ([]pgwire.Column, map[int32]uint32, error) {
	inferred := map[int32]uint32{}
	visit(n, func(x *pg.Node) bool {
		if tc := x.GetTypeCast(); tc != nil {
			if p := tc.Arg.GetParamRef(); p != nil {
				names := strs(tc.TypeName.GetNames())
				if len(names) > 0 && castTypes[names[len(names)-1]] != 0 {
					inferred[p.Number] = castTypes[names[len(names)-1]]
				}
			}
		}
		return true
	})
	switch v := n.Node.(type) {
	case *pg.Node_SelectStmt:
		eng, err := s.h.engine()
		if err != nil {
			return nil, inferred, err
		}
		e := s.env(s.h.catalog(eng), nil, true)
		plan, err := planSelect(e, n)
		for k, t := range e.paramTypes {
			if _, ok := inferred[k]; !ok {
				inferred[k] = t
			}
		}
		if err != nil {
			return nil, inferred, err
		}
		cols, err := s.planColumns(ctx, e, plan)
		return cols, inferred, err
	case *pg.Node_ExplainStmt:
		return []pgwire.Column{{Name: "QUERY PLAN", Type: oidText}}, inferred, nil
	case *pg.Node_FetchStmt:
		cols, err := s.fetchColumns(v.FetchStmt)
		return cols, inferred, err
	case *pg.Node_DeclareCursorStmt:
		// The parameters of the cursor's SELECT are typed as the SELECT's.
		if q := v.DeclareCursorStmt.Query; q.GetSelectStmt() != nil && maxParam(q) > 0 {
			_, in, err := s.describeNode(ctx, q)
			return nil, in, err
		}
	case *pg.Node_VariableShowStmt:
		if strings.EqualFold(v.VariableShowStmt.Name, "all") {
			return []pgwire.Column{{Name: "name", Type: oidText}, {Name: "setting", Type: oidText}, {Name: "description", Type: oidText}}, inferred, nil
		}
		name := v.VariableShowStmt.Name
		if set, ok := s.settings.get(name); ok {
			name = set.name
		} else {
			return nil, inferred, sqlErr("42704", "unrecognized configuration parameter %q", name)
		}
		return []pgwire.Column{{Name: name, Type: oidText}}, inferred, nil
	}
	return nil, inferred, nil
}

// planColumns describes the result of a plan.
func (s *session) planColumns(ctx context.Context, e *env, plan any) ([]pgwire.Column, error) {
	switch p := plan.(type) {
	case *cubePlan:
		cols := make([]pgwire.Column, len(p.Columns))
		for i, c := range p.Columns {
			cols[i] = pgwire.Column{Name: c.Name, Type: c.OID}
		}
		return cols, nil
	case *postPlan:
		inputs := make([]loadedInput, len(p.Inputs))
		for i, in := range p.Inputs {
			inputs[i] = s.describedInput(e.cat, in)
		}
		res, err := s.h.post.run(ctx, inputs, p.SQL, p.Args, s.postZone())
		if err != nil {
			return nil, err
		}
		return res.columns, nil
	}
	return nil, nil
}

// describedInput is an input table without rows (but for the emulated catalog tables,
// which come with theirs).
func (s *session) describedInput(cat *catalog, in *input) loadedInput {
	database := s.database
	if catTables[in.Catalog] != nil {
		return catalogTableInput(&catEnv{cat: cat, user: s.user, database: s.database, pid: s.pid, settings: s.settings.all(), cursors: s.cursorRows()}, in.Catalog, in.Table)
	}
	if in.Cube != nil {
		li := loadedInput{name: in.Table}
		for i, c := range in.Cube.Columns {
			li.names = append(li.names, inputColumn(i))
			li.oids = append(li.oids, c.OID)
		}
		return li
	}
	names, oids, _ := catalogRows(cat, in.Catalog, database)
	return loadedInput{name: in.Table, names: names, oids: oids}
}

// postZone is the time zone the post-processing engine runs in: the session's, when it is
// not UTC.
func (s *session) postZone() string {
	tz := s.settings["timezone"].value
	if strings.EqualFold(tz, "UTC") {
		return ""
	}
	return tz
}

// Execute runs the statement.
func (st *statement) Execute(ctx context.Context, params []any) (pgwire.Rows, error) {
	s := st.s
	if err := s.checkAborted(st); err != nil {
		return nil, err
	}
	if st.implicit && !s.inTx {
		// PostgreSQL starts the block before each statement of the string, so a COMMIT
		// in the middle ends one block and the next statement opens another.
		s.beginTx()
		s.implicit = true
	}
	rows, err := s.execute(ctx, st, params)
	if err != nil {
		s.fail()
		s.h.opt.Logger.Debug("sql statement failed", "user", s.user, "statement", st.text, "error", err)
		return nil, err
	}
	return rows, nil
}

func (s *session) execute(ctx context.Context, st *statement, params []any) (pgwire.Rows, error) {
	n := st.node
	if n == nil {
		return &rows{}, nil
	}
	switch v := n.Node.(type) {
	case *pg.Node_SelectStmt:
		return s.selectRows(ctx, st, n, params)
	case *pg.Node_ExplainStmt:
		return s.explain(v.ExplainStmt, params)
	case *pg.Node_VariableSetStmt:
		return s.set(v.VariableSetStmt)
	case *pg.Node_VariableShowStmt:
		return s.show(v.VariableShowStmt.Name)
	case *pg.Node_TransactionStmt:
		return s.transaction(v.TransactionStmt)
	case *pg.Node_DeclareCursorStmt:
		return s.declareCursor(ctx, st, v.DeclareCursorStmt, params)
	case *pg.Node_FetchStmt:
		return s.fetch(v.FetchStmt)
	case *pg.Node_ClosePortalStmt:
		return s.closeCursor(v.ClosePortalStmt)
	case *pg.Node_DiscardStmt:
		switch v.DiscardStmt.Target {
		case pg.DiscardMode_DISCARD_ALL:
			if s.inTx {
				return nil, sqlErr("25001", "DISCARD ALL cannot run inside a transaction block")
			}
			s.settings = defaultSettings(s.user)
			s.cursors = nil
			return &rows{tag: "DISCARD ALL"}, nil
		case pg.DiscardMode_DISCARD_PLANS:
			return &rows{tag: "DISCARD PLANS"}, nil
		case pg.DiscardMode_DISCARD_SEQUENCES:
			return &rows{tag: "DISCARD SEQUENCES"}, nil
		}
		return &rows{tag: "DISCARD TEMP"}, nil
	case *pg.Node_DeallocateStmt:
		// The protocol layer owns prepared statements: the rows tell it which to drop. A
		// name it does not hold fails here, so that it fails the transaction as well.
		if v.DeallocateStmt.Isall {
			return &deallocation{rows: rows{tag: "DEALLOCATE ALL"}, all: true}, nil
		}
		name := v.DeallocateStmt.Name
		if prepared, ok := pgwire.StatementPrepared(ctx, name); ok && !prepared {
			return nil, sqlErr("26000", "prepared statement %q does not exist", name)
		}
		return &deallocation{rows: rows{tag: "DEALLOCATE"}, name: name}, nil
	}
	return nil, unsupported(statementName(n), "the SQL API answers SELECT (and SET, SHOW, BEGIN, COMMIT, EXPLAIN, DECLARE/FETCH/CLOSE cursors) over the cube tables; it is read-only")
}

// statementName names a statement kind for an error message: "InsertStmt" → "INSERT".
func statementName(n *pg.Node) string {
	name := fmt.Sprintf("%T", n.Node)
	name = strings.TrimPrefix(name, "*pg_query.Node_")
	name = strings.TrimSuffix(name, "Stmt")
	return strings.ToUpper(name) + " statements"
}

// selectRows plans and runs a SELECT.
func (s *session) selectRows(ctx context.Context, st *statement, n *pg.Node, params []any) (pgwire.Rows, error) {
	eng, err := s.h.engine()
	if err != nil {
		return nil, err
	}
	cat := s.h.catalog(eng)
	e := s.env(cat, params, false)
	plan, err := planSelect(e, n)
	if err != nil {
		return nil, err
	}
	var data [][]any
	var cols []pgwire.Column
	switch p := plan.(type) {
	case *cubePlan:
		if data, err = runCube(ctx, eng, p); err != nil {
			return nil, err
		}
	case *postPlan:
		inputs := make([]loadedInput, len(p.Inputs))
		for i, in := range p.Inputs {
			li := s.describedInput(cat, in)
			if in.Cube != nil {
				if li.rows, err = runCube(ctx, eng, in.Cube); err != nil {
					return nil, err
				}
			} else if li.stmts == nil {
				_, _, li.rows = catalogRows(cat, in.Catalog, s.database)
			}
			inputs[i] = li
		}
		res, err := s.h.post.run(ctx, inputs, p.SQL, p.Args, s.postZone())
		if err != nil {
			return nil, err
		}
		data, cols = res.rows, res.columns
	}
	if st.described && len(st.cols) > 0 && cols != nil && len(cols) == len(st.cols) {
		// Rows must have the types the client was told about.
		for _, r := range data {
			for i, v := range r {
				if st.cols[i].Type != cols[i].Type {
					if cv, err := convert(v, st.cols[i].Type); err == nil {
						r[i] = cv
					}
				}
			}
		}
	} else if cols != nil && !st.described {
		st.cols, st.described = cols, true
	}
	return &rows{data: data, tag: fmt.Sprintf("SELECT %d", len(data))}, nil
}

// set runs SET and RESET.
func (s *session) set(v *pg.VariableSetStmt) (pgwire.Rows, error) {
	switch v.Kind {
	case pg.VariableSetKind_VAR_SET_VALUE:
		value := setValue(v.Args)
		if err := s.settings.set(v.Name, value); err != nil {
			return nil, err
		}
		if v.IsLocal {
			s.markLocal(v.Name)
		}
		return &rows{tag: "SET"}, nil
	case pg.VariableSetKind_VAR_SET_DEFAULT, pg.VariableSetKind_VAR_RESET:
		if def := settingIndex[strings.ToLower(v.Name)]; def != nil && def.readOnly {
			return nil, sqlErr("55P02", "parameter %q cannot be changed", v.Name)
		}
		s.settings.reset(v.Name, s.user)
		if v.Kind == pg.VariableSetKind_VAR_RESET {
			return &rows{tag: "RESET"}, nil
		}
		return &rows{tag: "SET"}, nil
	case pg.VariableSetKind_VAR_RESET_ALL:
		s.settings = defaultSettings(s.user)
		return &rows{tag: "RESET"}, nil
	}
	// SET TRANSACTION ..., SET SESSION CHARACTERISTICS, SET x FROM CURRENT: nothing to do
	// for a read-only API.
	return &rows{tag: "SET"}, nil
}

func (s *session) markLocal(name string) {
	if !s.inTx {
		return
	}
	if s.local == nil {
		s.local = map[string]bool{}
	}
	s.local[strings.ToLower(name)] = true
}

// setValue renders SET's arguments as the value PostgreSQL stores.
func setValue(args []*pg.Node) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		if tc := a.GetTypeCast(); tc != nil {
			a = tc.Arg
		}
		c := a.GetAConst()
		switch {
		case c == nil:
			parts = append(parts, nodeText(a))
		case c.GetSval() != nil:
			parts = append(parts, c.GetSval().Sval)
		case c.GetIval() != nil:
			parts = append(parts, fmt.Sprint(c.GetIval().Ival))
		case c.GetFval() != nil:
			parts = append(parts, c.GetFval().Fval)
		case c.GetBoolval() != nil:
			parts = append(parts, map[bool]string{true: "on", false: "off"}[c.GetBoolval().Boolval])
		default:
			parts = append(parts, "0")
		}
	}
	return strings.Join(parts, ", ")
}

// show runs SHOW name and SHOW ALL.
func (s *session) show(name string) (pgwire.Rows, error) {
	if strings.EqualFold(name, "all") {
		return &rows{data: s.settings.all(), tag: "SHOW"}, nil
	}
	v, ok := s.settings.get(name)
	if !ok {
		return nil, sqlErr("42704", "unrecognized configuration parameter %q", name)
	}
	return &rows{data: [][]any{{v.value}}, tag: "SHOW"}, nil
}

// beginTx opens a transaction block.
func (s *session) beginTx() {
	s.inTx, s.failed, s.implicit = true, false, false
	s.txSettings, s.local = s.settings.clone(), nil
}

// transaction runs BEGIN, COMMIT, ROLLBACK and savepoints. The SQL API is read-only, so a
// transaction only groups statements and scopes SET.
//
// In the implicit block of a multi-statement query, BEGIN makes the block explicit (it
// outlives the query), COMMIT and ROLLBACK end it (PostgreSQL warns that no transaction is
// in progress; pgwire sends no warnings), and savepoints fail as outside a block.
func (s *session) transaction(v *pg.TransactionStmt) (pgwire.Rows, error) {
	inBlock := s.inTx && !s.implicit
	switch v.Kind {
	case pg.TransactionStmtKind_TRANS_STMT_BEGIN, pg.TransactionStmtKind_TRANS_STMT_START:
		if !s.inTx {
			s.beginTx()
		}
		s.implicit = false
		if v.Kind == pg.TransactionStmtKind_TRANS_STMT_START {
			return &rows{tag: "START TRANSACTION"}, nil
		}
		return &rows{tag: "BEGIN"}, nil
	case pg.TransactionStmtKind_TRANS_STMT_COMMIT:
		failed := s.failed
		s.endTx(!failed)
		if failed {
			return &rows{tag: "ROLLBACK"}, nil
		}
		return &rows{tag: "COMMIT"}, nil
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		s.endTx(false)
		return &rows{tag: "ROLLBACK"}, nil
	case pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT:
		if !inBlock {
			return nil, sqlErr("25P01", "SAVEPOINT can only be used in transaction blocks")
		}
		return &rows{tag: "SAVEPOINT"}, nil
	case pg.TransactionStmtKind_TRANS_STMT_RELEASE:
		if !inBlock {
			return nil, sqlErr("25P01", "RELEASE SAVEPOINT can only be used in transaction blocks")
		}
		return &rows{tag: "RELEASE"}, nil
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		if !inBlock {
			return nil, sqlErr("25P01", "ROLLBACK TO SAVEPOINT can only be used in transaction blocks")
		}
		s.failed = false
		return &rows{tag: "ROLLBACK"}, nil
	}
	return nil, unsupported("two-phase commit", "the SQL API is read-only")
}

// endTx ends a transaction: COMMIT keeps the settings changed by SET (not SET LOCAL),
// ROLLBACK restores those of BEGIN.
func (s *session) endTx(commit bool) {
	if !s.inTx {
		return
	}
	s.endTxCursors(commit)
	if commit {
		for name := range s.local {
			if v, ok := s.txSettings[name]; ok {
				s.settings[name] = v
			} else {
				delete(s.settings, name)
			}
		}
	} else {
		s.settings = s.txSettings
	}
	s.inTx, s.failed, s.implicit, s.txSettings, s.local = false, false, false, nil, nil
}

// explain shows the Cube queries a SELECT runs and the SQL they compile to.
func (s *session) explain(v *pg.ExplainStmt, params []any) (pgwire.Rows, error) {
	if v.Query.GetSelectStmt() == nil {
		return nil, unsupported("EXPLAIN of "+statementName(v.Query), "EXPLAIN a SELECT")
	}
	eng, err := s.h.engine()
	if err != nil {
		return nil, err
	}
	e := s.env(s.h.catalog(eng), params, params == nil && maxParam(v.Query) > 0)
	plan, err := planSelect(e, v.Query)
	if err != nil {
		return nil, err
	}
	var lines []string
	cube := func(indent string, cp *cubePlan) error {
		q := *cp.Query
		j, _ := json.Marshal(q)
		lines = append(lines, indent+"Cube query: "+string(j))
		c, err := eng.Compile(&q)
		if err != nil {
			return err
		}
		lines = append(lines, indent+"SQL:")
		for _, l := range strings.Split(c.Statement.SQL, "\n") {
			lines = append(lines, indent+"  "+l)
		}
		if len(c.Statement.Args) > 0 {
			a, _ := json.Marshal(c.Statement.Args)
			lines = append(lines, indent+"Parameters: "+string(a))
		}
		return nil
	}
	switch p := plan.(type) {
	case *cubePlan:
		if err := cube("", p); err != nil {
			return nil, err
		}
	case *postPlan:
		lines = append(lines, "Post-processing (DuckDB): "+p.SQL)
		for _, in := range p.Inputs {
			if in.Cube == nil {
				lines = append(lines, fmt.Sprintf("  %s: information_schema.%s", in.Table, in.Catalog))
				continue
			}
			lines = append(lines, "  "+in.Table+":")
			if err := cube("    ", in.Cube); err != nil {
				return nil, err
			}
		}
	}
	data := make([][]any, len(lines))
	for i, l := range lines {
		data[i] = []any{l}
	}
	return &rows{data: data, tag: "EXPLAIN"}, nil
}

// rows is a materialised result.
type rows struct {
	data [][]any
	i    int
	tag  string
	err  error
}

func (r *rows) Next() ([]any, bool) {
	if r.i >= len(r.data) {
		return nil, false
	}
	r.i++
	return r.data[r.i-1], true
}

func (r *rows) Err() error  { return r.err }
func (r *rows) Tag() string { return r.tag }
func (r *rows) Close()      { r.i = len(r.data) }

// deallocation is the result of DEALLOCATE: pgwire drops the prepared statement it names,
// or all of them.
type deallocation struct {
	rows
	name string
	all  bool
}

var _ pgwire.Deallocation = (*deallocation)(nil)

func (d *deallocation) Deallocate() (string, bool) { return d.name, d.all }
