package sqlapi

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/testdb"
)

// capturedStatement is one statement of a capture fixture, with its parameters.
type capturedStatement struct {
	label  string
	sql    string
	params []any
}

// readCapture reads testdata/captures/<name>.sql: entries start with "-- statement", an
// optional "-- params: $1 = 'x', ..." line, then the statement.
func readCapture(t *testing.T, name string) []capturedStatement {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "captures", name+".sql"))
	if err != nil {
		t.Fatal(err)
	}
	var out []capturedStatement
	for i, part := range strings.Split(string(data), "\n-- statement")[1:] {
		st := capturedStatement{label: name + "#" + strconv.Itoa(i+1)}
		lines := strings.Split(part, "\n")
		st.label += strings.TrimSpace(lines[0])
		var body []string
		for _, l := range lines[1:] {
			if p, ok := strings.CutPrefix(l, "-- params: "); ok && len(body) == 0 {
				for _, kv := range strings.Split(p, ", ") {
					_, v, _ := strings.Cut(kv, " = ")
					st.params = append(st.params, strings.Trim(v, "'"))
				}
				continue
			}
			body = append(body, l)
		}
		st.sql = strings.TrimSuffix(strings.TrimSpace(strings.Join(body, "\n")), ";")
		out = append(out, st)
	}
	return out
}

// capturedOrdersOID is the OID the captured PostgreSQL gave table orders.
const capturedOrdersOID = "16386"

// TestCatalogCaptures runs every statement the real clients sent (testdata/captures)
// through a session on the demo model.
func TestCatalogCaptures(t *testing.T) {
	sh := openShop(t)
	_, s := newTestSession(t, sh.eng, "cube")
	orders := s.h.catalog(sh.eng).table("orders")
	if orders == nil {
		t.Fatal("no table orders")
	}
	oid := strconv.Itoa(int(orders.OID))
	for _, name := range []string{"psql", "sqlalchemy", "psycopg2", "pgjdbc"} {
		for _, st := range readCapture(t, name) {
			sql := strings.ReplaceAll(st.sql, capturedOrdersOID, oid)
			if _, err := run(t, s, sql, st.params...); err != nil {
				t.Errorf("%s: %v\n%s", st.label, err, sql)
			}
		}
	}
}

// findCaptured returns the first captured statement of a client containing all parts.
func findCaptured(t *testing.T, client string, parts ...string) capturedStatement {
	t.Helper()
next:
	for _, st := range readCapture(t, client) {
		for _, p := range parts {
			if !strings.Contains(st.sql, p) {
				continue next
			}
		}
		return st
	}
	t.Fatalf("%s: no captured statement with %q", client, parts)
	return capturedStatement{}
}

// TestCatalogRows checks the rows of the key introspection queries.
func TestCatalogRows(t *testing.T) {
	sh := openShop(t)
	_, s := newTestSession(t, sh.eng, "cube")
	cat := s.h.catalog(sh.eng)
	orders := cat.table("orders")
	oid := strconv.Itoa(int(orders.OID))
	runCaptured := func(st capturedStatement) [][]string {
		t.Helper()
		return textRows(mustRun(t, s, strings.ReplaceAll(st.sql, capturedOrdersOID, oid), st.params...).rows)
	}
	var wantTables, wantRelations []string
	for _, tb := range cat.tables {
		wantRelations = append(wantRelations, tb.Name)
		if relkind(tb) == "r" {
			wantTables = append(wantTables, tb.Name)
		}
	}
	names := func(rows [][]string, col int) []string {
		var out []string
		for _, r := range rows {
			out = append(out, r[col])
		}
		return out
	}
	// psql \dt: the cubes; \d: cubes and views.
	dt := runCaptured(findCaptured(t, "psql", "c.relkind IN ('r','p','')"))
	if got := names(dt, 1); strings.Join(got, ",") != strings.Join(wantTables, ",") {
		t.Errorf(`\dt = %v, want %v`, got, wantTables)
	}
	for _, r := range dt {
		if r[0] != "public" || r[2] != "table" || r[3] != "cube" {
			t.Errorf(`\dt row %v`, r)
		}
	}
	d := runCaptured(findCaptured(t, "psql", "c.relkind IN ('r','p','v','m','S','f','')"))
	if got := names(d, 1); strings.Join(got, ",") != strings.Join(wantRelations, ",") {
		t.Errorf(`\d = %v, want %v`, got, wantRelations)
	}
	// psql \d orders: the table's OID, then its columns with their types.
	look := runCaptured(findCaptured(t, "psql", "OPERATOR(pg_catalog.~) '^(orders)$'"))
	if len(look) != 1 || look[0][0] != oid || look[0][2] != "orders" {
		t.Fatalf(`\d orders lookup = %v`, look)
	}
	attrs := runCaptured(findCaptured(t, "psql", "pg_catalog.format_type(a.atttypid, a.atttypmod)", "a.attcollation"))
	if len(attrs) != len(orders.Columns) {
		t.Fatalf(`\d orders: %d columns, want %d`, len(attrs), len(orders.Columns))
	}
	for i, c := range orders.Columns {
		if attrs[i][0] != c.Name || attrs[i][1] != typeNames[c.OID] {
			t.Errorf(`\d orders column %d = %v, want %s %s`, i, attrs[i][:2], c.Name, typeNames[c.OID])
		}
	}
	// SQLAlchemy's get_columns.
	cols := runCaptured(findCaptured(t, "sqlalchemy", "pgd.description as comment"))
	if len(cols) != len(orders.Columns) || cols[0][0] != orders.Columns[0].Name || cols[0][1] != typeNames[orders.Columns[0].OID] {
		t.Errorf("SQLAlchemy get_columns = %v", cols)
	}
	// SQLAlchemy's get_table_names.
	if got := names(runCaptured(findCaptured(t, "sqlalchemy", "c.relkind in ('r', 'p')")), 0); strings.Join(got, ",") != strings.Join(wantTables, ",") {
		t.Errorf("SQLAlchemy get_table_names = %v, want %v", got, wantTables)
	}
	// pgjdbc's getTables: every cube and view, with its type.
	jt := runCaptured(findCaptured(t, "pgjdbc", "AS TABLE_TYPE"))
	if len(jt) != len(cat.tables) {
		t.Fatalf("JDBC getTables = %v", jt)
	}
	for _, r := range jt {
		tb := cat.table(r[2])
		want := "TABLE"
		if tb != nil && relkind(tb) == "v" {
			want = "VIEW"
		}
		if tb == nil || r[1] != "public" || r[3] != want {
			t.Errorf("JDBC getTables row %v", r)
		}
	}
	// pgjdbc's getColumns.
	jc := runCaptured(findCaptured(t, "pgjdbc", "a.attnum > 0 AND NOT a.attisdropped"))
	if len(jc) != len(orders.Columns) {
		t.Errorf("JDBC getColumns: %d rows, want %d", len(jc), len(orders.Columns))
	}
}

// TestCatalogPrimaryKeys checks that a cube's primary key is an index and a constraint
// for the captured clients, and that views and cubes with a hidden key have none.
func TestCatalogPrimaryKeys(t *testing.T) {
	sh := openShop(t)
	_, s := newTestSession(t, sh.eng, "cube")
	cat := s.h.catalog(sh.eng)
	runOn := func(st capturedStatement, table string) string {
		t.Helper()
		tb := cat.table(table)
		if tb == nil {
			t.Fatalf("no table %s", table)
		}
		sql := strings.ReplaceAll(st.sql, capturedOrdersOID, strconv.Itoa(int(tb.OID)))
		sql = strings.ReplaceAll(sql, "'orders'", "'"+table+"'")
		return fmt.Sprint(textRows(mustRun(t, s, sql, st.params...).rows))
	}
	// SQLAlchemy's get_pk_constraint: the key's columns in order, then its name.
	pkCols := findCaptured(t, "sqlalchemy", "generate_subscripts(ix.indkey, 1)")
	pkName := findCaptured(t, "sqlalchemy", "r.contype = 'p'")
	// pgjdbc's getPrimaryKeys.
	jdbc := findCaptured(t, "pgjdbc", "AS PK_NAME")
	// psql \d orders: the indexes.
	psqlIdx := findCaptured(t, "psql", "pg_get_indexdef(i.indexrelid, 0, true)")
	for _, c := range []struct {
		table                     string
		cols, name, jdbc, psqlIdx string
	}{
		{"orders", "[[id]]", "[[orders_pkey]]", "[[NULL public orders id 1 orders_pkey]]",
			"[[orders_pkey true true false true CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id) PRIMARY KEY (id) p false false false 0]]"},
		{"daily_sales", "[[channel] [day]]", "[[daily_sales_pkey]]",
			"[[NULL public daily_sales channel 1 daily_sales_pkey] [NULL public daily_sales day 2 daily_sales_pkey]]",
			"[[daily_sales_pkey true true false true CREATE UNIQUE INDEX daily_sales_pkey ON public.daily_sales USING btree (channel, day) PRIMARY KEY (channel, day) p false false false 0]]"},
		// products.id is not public; views have no keys.
		{"products", "[]", "[]", "[]", "[]"},
		{"orders_view", "[]", "[]", "[]", "[]"},
	} {
		for _, q := range []struct {
			what string
			st   capturedStatement
			want string
		}{{"SQLAlchemy pk columns", pkCols, c.cols}, {"SQLAlchemy pk name", pkName, c.name},
			{"JDBC getPrimaryKeys", jdbc, c.jdbc}, {"psql indexes", psqlIdx, c.psqlIdx}} {
			if got := runOn(q.st, c.table); got != q.want {
				t.Errorf("%s of %s = %s, want %s", q.what, c.table, got, q.want)
			}
		}
	}
	// information_schema, the index in pg_class, the definitions.
	for _, c := range []struct{ sql, want string }{
		{"SELECT tc.constraint_name, k.column_name, k.ordinal_position FROM information_schema.table_constraints tc " +
			"JOIN information_schema.key_column_usage k ON k.constraint_name = tc.constraint_name AND k.table_name = tc.table_name " +
			"WHERE tc.table_schema = 'public' AND tc.table_name = 'daily_sales' AND tc.constraint_type = 'PRIMARY KEY' ORDER BY 3",
			"[[daily_sales_pkey channel 1] [daily_sales_pkey day 2]]"},
		{"SELECT table_name FROM information_schema.table_constraints ORDER BY 1", "[[daily_sales] [line_items] [orders] [users]]"},
		{"SELECT c.relname, c.relkind, am.amname, i.indkey, t.relname, t.relhasindex FROM pg_class c JOIN pg_am am ON am.oid = c.relam " +
			"JOIN pg_index i ON i.indexrelid = c.oid JOIN pg_class t ON t.oid = i.indrelid WHERE c.relname = 'orders_pkey'",
			"[[orders_pkey i btree [" + strconv.Itoa(int(cat.table("orders").column("id").Attr)) + "] orders true]]"},
		{"SELECT pg_get_indexdef('orders_pkey'::regclass), pg_get_indexdef('orders_pkey'::regclass::oid, 1, true), " +
			"pg_get_constraintdef(oid), pg_get_constraintdef(oid, true), pg_get_indexdef(0), pg_get_constraintdef(NULL) " +
			"FROM pg_constraint WHERE conname = 'orders_pkey'",
			"[[CREATE UNIQUE INDEX orders_pkey ON public.orders USING btree (id) id PRIMARY KEY (id) PRIMARY KEY (id) NULL NULL]]"},
		{"SELECT relhasindex FROM pg_class WHERE relname IN ('products', 'orders_view')", "[[false] [false]]"},
	} {
		if got := fmt.Sprint(textRows(mustRun(t, s, c.sql).rows)); got != c.want {
			t.Errorf("%s\n= %s, want %s", c.sql, got, c.want)
		}
	}
}

// TestPsqlCatalog runs psql's \d, \dt and \d orders against a pgwire server.
func TestPsqlCatalog(t *testing.T) {
	psql, err := exec.LookPath("psql")
	testdb.Need(t, "psql", err)
	sh := openShop(t)
	h := NewHandler(Options{Engines: fixedEngine{sh.eng}, User: "cube", Password: "secret", SuperUser: "admin"})
	t.Cleanup(func() { h.Close() })
	connStr := servePG(t, h)
	orders := h.catalog(sh.eng).table("orders")
	for _, c := range []struct {
		cmd  string
		want []string
	}{
		{`\d`, []string{"List of relations", "orders", "table"}},
		{`\dt`, []string{"List of relations", " orders ", "| table | cube"}},
		{`\d orders`, []string{`Table "public.orders"`, orders.Columns[0].Name + " ", typeNames[orders.Columns[0].OID],
			"Indexes:", `"orders_pkey" PRIMARY KEY, btree (id)`}},
		{`\d daily_sales`, []string{"Indexes:", `"daily_sales_pkey" PRIMARY KEY, btree (channel, day)`}},
		{`\di`, []string{" orders_pkey ", "| index | cube  | orders"}},
		{`\d orders_pkey`, []string{`Index "public.orders_pkey"`, "primary key, btree, for table \"public.orders\""}},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, psql, "-X", "-c", c.cmd, connStr)
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("psql %s: %v\n%s", c.cmd, err, out)
		}
		for _, w := range c.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("psql %s: no %q in\n%s", c.cmd, w, out)
			}
		}
		if c.cmd == `\dt` && strings.Contains(string(out), "| view ") {
			t.Errorf("psql \\dt lists views:\n%s", out)
		}
	}
}
