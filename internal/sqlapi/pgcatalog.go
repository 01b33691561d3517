package sqlapi

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/cubit-dev/cubit/internal/model"
)

// Catalog emulation. The pg_catalog and information_schema tables that clients introspect
// (psql's \d family, SQLAlchemy's inspector, pgjdbc's DatabaseMetaData: see
// testdata/captures) are built from the model and loaded, like the results of Cube
// queries, as temporary tables of the post-processing engine; the statement is rewritten
// on its parse tree to read them, with the PostgreSQL functions and casts those queries
// use replaced by what DuckDB understands. Cubes are tables (relkind 'r') and views views
// ('v') of schema public; a cube's primary key is an index and a constraint (pgkeys.go);
// there are no other indexes or constraints, nor defaults or functions.

// OIDs of the emulated namespaces, relations and owners.
const (
	oidNspCatalog    = 11
	oidNspPublic     = 2200
	oidNspInfoSchema = 13000
	oidPgClass       = 1259
	oidPgDatabase    = 1262
	oidDatabase      = 16383
	oidOwner         = 10
	oidHeapAM        = 2
)

// catCol is a column of an emulated catalog table: a name and a DuckDB type.
type catCol struct{ name, typ string }

// catEnv is what the rows of the catalog tables depend on besides the model.
type catEnv struct {
	cat      *catalog
	user     string
	database string
	pid      uint32
	settings [][]any // name, value, description
	cursors  [][]any // pg_cursors' rows
}

// catTable is an emulated catalog table.
type catTable struct {
	cols []catCol
	rows func(e *catEnv) [][]any
}

// cols parses "name type, name type" (types: o oid, i2, i4, i8, f float8, b bool, t text,
// t[] text[], i2[], o[]).
func cols(spec string) []catCol {
	var out []catCol
	for _, f := range strings.Split(spec, ",") {
		parts := strings.Fields(f)
		typ := "VARCHAR"
		switch parts[1] {
		case "o", "i4":
			typ = "INTEGER"
		case "i2":
			typ = "SMALLINT"
		case "i8":
			typ = "BIGINT"
		case "f":
			typ = "DOUBLE"
		case "b":
			typ = "BOOLEAN"
		case "t[]":
			typ = "VARCHAR[]"
		case "i2[]":
			typ = "SMALLINT[]"
		case "o[]":
			typ = "INTEGER[]"
		case "ts":
			typ = "TIMESTAMPTZ"
		}
		out = append(out, catCol{parts[0], typ})
	}
	return out
}

func empty(*catEnv) [][]any { return nil }

// pgTypes are the rows of pg_type: oid, name, length, category, array type.
var pgTypes = []struct {
	oid      int
	name     string
	len      int
	category string
	array    int
	elem     int
}{
	{16, "bool", 1, "B", 1000, 0}, {17, "bytea", -1, "U", 1001, 0}, {18, "char", 1, "Z", 1002, 0},
	{19, "name", 64, "S", 1003, 0}, {20, "int8", 8, "N", 1016, 0}, {21, "int2", 2, "N", 1005, 0},
	{22, "int2vector", -1, "A", 1006, 21}, {23, "int4", 4, "N", 1007, 0}, {25, "text", -1, "S", 1009, 0},
	{26, "oid", 4, "N", 1028, 0}, {30, "oidvector", -1, "A", 1013, 26}, {114, "json", -1, "U", 199, 0},
	{700, "float4", 4, "N", 1021, 0}, {701, "float8", 8, "N", 1022, 0}, {1000, "_bool", -1, "A", 0, 16},
	{1005, "_int2", -1, "A", 0, 21}, {1007, "_int4", -1, "A", 0, 23}, {1009, "_text", -1, "A", 0, 25},
	{1016, "_int8", -1, "A", 0, 20}, {1022, "_float8", -1, "A", 0, 701}, {1028, "_oid", -1, "A", 0, 26},
	{1043, "varchar", -1, "S", 1015, 0}, {1082, "date", 4, "D", 1182, 0}, {1083, "time", 8, "D", 1183, 0},
	{1114, "timestamp", 8, "D", 1115, 0}, {1184, "timestamptz", 8, "D", 1185, 0},
	{1186, "interval", 16, "T", 1187, 0}, {1700, "numeric", -1, "N", 1231, 0}, {2950, "uuid", 16, "U", 2951, 0},
	{3802, "jsonb", -1, "U", 3807, 0},
}

// formatTypes are format_type's names of the type OIDs.
var formatTypes = map[int]string{
	16: "boolean", 17: "bytea", 18: `"char"`, 19: "name", 20: "bigint", 21: "smallint", 22: "int2vector",
	23: "integer", 25: "text", 26: "oid", 30: "oidvector", 114: "json", 700: "real", 701: "double precision",
	1000: "boolean[]", 1005: "smallint[]", 1007: "integer[]", 1009: "text[]", 1016: "bigint[]",
	1022: "double precision[]", 1028: "oid[]", 1043: "character varying", 1082: "date",
	1083: "time without time zone", 1114: "timestamp without time zone", 1184: "timestamp with time zone",
	1186: "interval", 1700: "numeric", 2950: "uuid", 3802: "jsonb",
}

// relkind is a table's pg_class.relkind: 'v' for a view, 'r' for a cube.
func relkind(t *table) string {
	if t.Cube.Kind == model.KindView {
		return "v"
	}
	return "r"
}

// descriptions are the comments of the tables (objsubid 0) and of their columns.
func descriptions(t *table) []struct {
	sub  int
	text string
} {
	var out []struct {
		sub  int
		text string
	}
	add := func(sub int, s string) {
		if s != "" {
			out = append(out, struct {
				sub  int
				text string
			}{sub, s})
		}
	}
	add(0, firstNonEmpty(t.Cube.Description, t.Cube.Title))
	for _, c := range t.Columns {
		switch {
		case c.Measure != nil:
			add(int(c.Attr), firstNonEmpty(c.Measure.Description, c.Measure.Title))
		case c.Dimension != nil:
			add(int(c.Attr), firstNonEmpty(c.Dimension.Description, c.Dimension.Title))
		}
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func typlen(oid uint32) int {
	for _, t := range pgTypes {
		if uint32(t.oid) == oid {
			return t.len
		}
	}
	return -1
}

// catTables are the emulated tables, by "schema.name".
var catTables = map[string]*catTable{
	"pg_catalog.pg_namespace": {cols("oid o, nspname t, nspowner o, nspacl t[]"), func(e *catEnv) [][]any {
		return [][]any{{oidNspCatalog, "pg_catalog", oidOwner, nil}, {oidNspPublic, "public", oidOwner, nil},
			{oidNspInfoSchema, "information_schema", oidOwner, nil}}
	}},
	"pg_catalog.pg_class": {cols("oid o, relname t, relnamespace o, reltype o, reloftype o, relowner o, relam o, relfilenode o, " +
		"reltablespace o, relpages i4, reltuples f, relallvisible i4, reltoastrelid o, relhasindex b, relisshared b, " +
		"relpersistence t, relkind t, relnatts i2, relchecks i2, relhasrules b, relhastriggers b, relhassubclass b, " +
		"relrowsecurity b, relforcerowsecurity b, relispopulated b, relreplident t, relispartition b, relrewrite o, " +
		"relfrozenxid t, relminmxid t, relacl t[], reloptions t[], relpartbound t"), func(e *catEnv) [][]any {
		var rows [][]any
		for _, t := range e.cat.tables {
			am := any(oidHeapAM)
			if relkind(t) == "v" {
				am = 0
			}
			hasIndex := e.cat.primaryKey(t) != nil
			rows = append(rows, []any{t.OID, t.Name, oidNspPublic, 0, 0, oidOwner, am, 0, 0, 0, -1.0, 0, 0, hasIndex, false,
				"p", relkind(t), len(t.Columns), 0, false, false, false, false, false, true, "d", false, 0, "0", "0", nil, nil, nil})
		}
		return append(rows, pkeyCatalogRows(e, "pg_catalog.pg_class")...)
	}},
	"pg_catalog.pg_attribute": {cols("attrelid o, attname t, atttypid o, attstattarget i4, attlen i2, attnum i2, attndims i4, " +
		"attcacheoff i4, atttypmod i4, attbyval b, attalign t, attstorage t, attcompression t, attnotnull b, atthasdef b, " +
		"atthasmissing b, attidentity t, attgenerated t, attisdropped b, attislocal b, attinhcount i4, attcollation o, " +
		"attacl t[], attoptions t[], attfdwoptions t[], attmissingval t"), func(e *catEnv) [][]any {
		var rows [][]any
		for _, t := range e.cat.tables {
			for _, c := range t.Columns {
				coll := 0
				if c.OID == oidText {
					coll = 100
				}
				l := typlen(c.OID)
				rows = append(rows, []any{t.OID, c.Name, c.OID, -1, l, c.Attr, 0, -1, -1, l > 0, "d", "p", "", false, false,
					false, "", "", false, true, 0, coll, nil, nil, nil, nil})
			}
		}
		return append(rows, pkeyCatalogRows(e, "pg_catalog.pg_attribute")...)
	}},
	"pg_catalog.pg_type": {cols("oid o, typname t, typnamespace o, typowner o, typlen i2, typbyval b, typtype t, typcategory t, " +
		"typispreferred b, typisdefined b, typdelim t, typrelid o, typsubscript t, typelem o, typarray o, typinput t, typoutput t, " +
		"typreceive t, typsend t, typmodin t, typmodout t, typanalyze t, typalign t, typstorage t, typnotnull b, typbasetype o, " +
		"typtypmod i4, typndims i4, typcollation o, typdefaultbin t, typdefault t, typacl t[]"), func(e *catEnv) [][]any {
		var rows [][]any
		for _, t := range pgTypes {
			coll := 0
			if t.oid == 25 || t.oid == 1043 || t.oid == 19 {
				coll = 100
			}
			rows = append(rows, []any{t.oid, t.name, oidNspCatalog, oidOwner, t.len, t.len > 0 && t.len <= 8, "b", t.category,
				false, true, ",", 0, "-", t.elem, t.array, t.name + "in", t.name + "out", t.name + "recv", t.name + "send", "-", "-", "-",
				"i", "p", false, 0, -1, 0, coll, nil, nil, nil})
		}
		for _, t := range e.cat.tables {
			rows = append(rows, []any{t.OID + 100000, t.Name, oidNspPublic, oidOwner, -1, false, "c", "C", false, true, ",",
				t.OID, "-", 0, 0, "record_in", "record_out", "record_recv", "record_send", "-", "-", "-", "d", "x", false, 0, -1, 0, 0, nil, nil, nil})
		}
		return rows
	}},
	"pg_catalog.pg_index": {cols("indexrelid o, indrelid o, indnatts i2, indnkeyatts i2, indisunique b, indnullsnotdistinct b, " +
		"indisprimary b, indisexclusion b, indimmediate b, indisclustered b, indisvalid b, indcheckxmin b, indisready b, " +
		"indislive b, indisreplident b, indkey i2[], indcollation o[], indclass o[], indoption i2[], indexprs t, indpred t"),
		pkeyRows("pg_catalog.pg_index")},
	"pg_catalog.pg_constraint": {cols("oid o, conname t, connamespace o, contype t, condeferrable b, condeferred b, convalidated b, " +
		"conrelid o, contypid o, conindid o, conparentid o, confrelid o, confupdtype t, confdeltype t, confmatchtype t, " +
		"conislocal b, coninhcount i4, connoinherit b, conkey i2[], confkey i2[], conpfeqop o[], conppeqop o[], conffeqop o[], " +
		"confdelsetcols i2[], conexclop o[], conbin t"), pkeyRows("pg_catalog.pg_constraint")},
	"pg_catalog.pg_description": {cols("objoid o, classoid o, objsubid i4, description t"), func(e *catEnv) [][]any {
		var rows [][]any
		for _, t := range e.cat.tables {
			for _, d := range descriptions(t) {
				rows = append(rows, []any{t.OID, oidPgClass, d.sub, d.text})
			}
		}
		return rows
	}},
	"pg_catalog.pg_database": {cols("oid o, datname t, datdba o, encoding i4, datlocprovider t, datistemplate b, datallowconn b, " +
		"datconnlimit i4, datfrozenxid t, datminmxid t, dattablespace o, datcollate t, datctype t, daticulocale t, " +
		"datcollversion t, datacl t[]"), func(e *catEnv) [][]any {
		return [][]any{{oidDatabase, e.database, oidOwner, 6, "c", false, true, -1, "0", "1", 1663, "C.UTF-8", "C.UTF-8", nil, nil, nil}}
	}},
	"pg_catalog.pg_roles": {cols("rolname t, rolsuper b, rolinherit b, rolcreaterole b, rolcreatedb b, rolcanlogin b, " +
		"rolreplication b, rolconnlimit i4, rolpassword t, rolvaliduntil ts, rolbypassrls b, rolconfig t[], oid o"), func(e *catEnv) [][]any {
		return [][]any{{e.user, false, true, false, false, true, false, -1, "********", nil, false, nil, oidOwner}}
	}},
	"pg_catalog.pg_user": {cols("usename t, usesysid o, usecreatedb b, usesuper b, userepl b, usebypassrls b, passwd t, " +
		"valuntil ts, useconfig t[]"), func(e *catEnv) [][]any {
		return [][]any{{e.user, oidOwner, false, false, false, false, "********", nil, nil}}
	}},
	"pg_catalog.pg_settings": {cols("name t, setting t, unit t, category t, short_desc t, extra_desc t, context t, vartype t, " +
		"source t, min_val t, max_val t, enumvals t[], boot_val t, reset_val t, sourcefile t, sourceline i4, pending_restart b"),
		func(e *catEnv) [][]any {
			var rows [][]any
			for _, s := range e.settings {
				rows = append(rows, []any{strings.ToLower(fmt.Sprint(s[0])), s[1], nil, "Cubit", s[2], nil, "user", "string",
					"default", nil, nil, nil, s[1], s[1], nil, nil, false})
			}
			return rows
		}},
	"pg_catalog.pg_am": {cols("oid o, amname t, amhandler t, amtype t"), func(e *catEnv) [][]any {
		return [][]any{{oidHeapAM, "heap", "heap_tableam_handler", "t"}, {403, "btree", "bthandler", "i"}}
	}},
	"pg_catalog.pg_enum":  {cols("oid o, enumtypid o, enumsortorder f, enumlabel t"), empty},
	"pg_catalog.pg_range": {cols("rngtypid o, rngsubtype o, rngmultitypid o, rngcollation o, rngsubopc o, rngcanonical t, rngsubdiff t"), empty},
	"pg_catalog.pg_views": {cols("schemaname t, viewname t, viewowner t, definition t"), func(e *catEnv) [][]any {
		var rows [][]any
		for _, t := range e.cat.tables {
			if relkind(t) == "v" {
				rows = append(rows, []any{"public", t.Name, e.user, nil})
			}
		}
		return rows
	}},
	"pg_catalog.pg_tables": {cols("schemaname t, tablename t, tableowner t, tablespace t, hasindexes b, hasrules b, hastriggers b, rowsecurity b"),
		func(e *catEnv) [][]any {
			var rows [][]any
			for _, t := range e.cat.tables {
				if relkind(t) == "r" {
					rows = append(rows, []any{"public", t.Name, e.user, nil, e.cat.primaryKey(t) != nil, false, false, false})
				}
			}
			return rows
		}},
	"pg_catalog.pg_matviews": {cols("schemaname t, matviewname t, matviewowner t, tablespace t, hasindexes b, ispopulated b, definition t"), empty},
	"pg_catalog.pg_stat_activity": {cols("datid o, datname t, pid i4, leader_pid i4, usesysid o, usename t, application_name t, " +
		"client_addr t, client_hostname t, client_port i4, backend_start ts, xact_start ts, query_start ts, state_change ts, " +
		"wait_event_type t, wait_event t, state t, backend_xid t, backend_xmin t, query_id i8, query t, backend_type t"),
		func(e *catEnv) [][]any {
			return [][]any{{oidDatabase, e.database, int(e.pid), nil, oidOwner, e.user, "", nil, nil, nil, nil, nil, nil, nil,
				nil, nil, "active", nil, nil, nil, "", "client backend"}}
		}},
	"pg_catalog.pg_proc": {cols("oid o, proname t, pronamespace o, proowner o, prolang o, procost f, prorows f, provariadic o, " +
		"prosupport t, prokind t, prosecdef b, proleakproof b, proisstrict b, proretset b, provolatile t, proparallel t, " +
		"pronargs i2, pronargdefaults i2, prorettype o, proargtypes o[], proallargtypes o[], proargmodes t[], proargnames t[], " +
		"proargdefaults t, protrftypes o[], prosrc t, probin t, prosqlbody t, proconfig t[], proacl t[]"), empty},
	"pg_catalog.pg_cursors": {cols("name t, statement t, is_holdable b, is_binary b, is_scrollable b, creation_time ts"),
		func(e *catEnv) [][]any { return e.cursors }},
	"pg_catalog.pg_inherits": {cols("inhrelid o, inhparent o, inhseqno i4, inhdetachpending b"), empty},
	"pg_catalog.pg_tablespace": {cols("oid o, spcname t, spcowner o, spcacl t[], spcoptions t[]"), func(e *catEnv) [][]any {
		return [][]any{{1663, "pg_default", oidOwner, nil, nil}, {1664, "pg_global", oidOwner, nil, nil}}
	}},
	"pg_catalog.pg_collation": {cols("oid o, collname t, collnamespace o, collowner o, collprovider t, collisdeterministic b, " +
		"collencoding i4, collcollate t, collctype t, colliculocale t, collversion t"), func(e *catEnv) [][]any {
		return [][]any{{100, "default", oidNspCatalog, oidOwner, "d", true, -1, nil, nil, nil, nil},
			{950, "C", oidNspCatalog, oidOwner, "c", true, -1, "C", "C", nil, nil},
			{951, "POSIX", oidNspCatalog, oidOwner, "c", true, -1, "POSIX", "POSIX", nil, nil}}
	}},
	"pg_catalog.pg_extension": {cols("oid o, extname t, extowner o, extnamespace o, extrelocatable b, extversion t, extconfig o[], extcondition t[]"),
		func(e *catEnv) [][]any {
			return [][]any{{13500, "plpgsql", oidOwner, oidNspCatalog, false, "1.0", nil, nil}}
		}},
	"pg_catalog.pg_attrdef":               {cols("oid o, adrelid o, adnum i2, adbin t"), empty},
	"pg_catalog.pg_policy":                {cols("oid o, polname t, polrelid o, polcmd t, polpermissive b, polroles o[], polqual t, polwithcheck t"), empty},
	"pg_catalog.pg_sequence":              {cols("seqrelid o, seqtypid o, seqstart i8, seqincrement i8, seqmax i8, seqmin i8, seqcache i8, seqcycle b"), empty},
	"pg_catalog.pg_statistic_ext":         {cols("oid o, stxrelid o, stxname t, stxnamespace o, stxowner o, stxstattarget i4, stxkeys i2[], stxkind t[], stxexprs t"), empty},
	"pg_catalog.pg_publication":           {cols("oid o, pubname t, pubowner o, puballtables b, pubinsert b, pubupdate b, pubdelete b, pubtruncate b, pubviaroot b"), empty},
	"pg_catalog.pg_publication_namespace": {cols("oid o, pnpubid o, pnnspid o"), empty},
	"pg_catalog.pg_publication_rel":       {cols("oid o, prpubid o, prrelid o, prqual t, prattrs i2[]"), empty},
	"pg_catalog.pg_trigger":               {cols("oid o, tgrelid o, tgparentid o, tgname t, tgfoid o, tgtype i2, tgenabled t, tgisinternal b, tgconstrrelid o, tgconstrindid o, tgconstraint o, tgdeferrable b, tginitdeferred b, tgnargs i2, tgattr i2[], tgargs t, tgqual t, tgoldtable t, tgnewtable t"), empty},
	"pg_catalog.pg_rewrite":               {cols("oid o, rulename t, ev_class o, ev_type t, ev_enabled t, is_instead b, ev_qual t, ev_action t"), empty},
	"pg_catalog.pg_foreign_table":         {cols("ftrelid o, ftserver o, ftoptions t[]"), empty},
	"pg_catalog.pg_partitioned_table":     {cols("partrelid o, partstrat t, partnatts i2, partdefid o, partattrs i2[], partclass o[], partcollation o[], partexprs t"), empty},
	"pg_catalog.pg_prepared_statements":   {cols("name t, statement t, prepare_time ts, parameter_types o[], from_sql b, generic_plans i8, custom_plans i8"), empty},
	"pg_catalog.pg_locks":                 {cols("locktype t, database o, relation o, pid i4, mode t, granted b"), empty},
	"information_schema.views": {cols("table_catalog t, table_schema t, table_name t, view_definition t, check_option t, " +
		"is_updatable t, is_insertable_into t, is_trigger_updatable t, is_trigger_deletable t, is_trigger_insertable_into t"),
		func(e *catEnv) [][]any {
			var rows [][]any
			for _, t := range e.cat.tables {
				if relkind(t) == "v" {
					rows = append(rows, []any{e.database, "public", t.Name, nil, "NONE", "NO", "NO", "NO", "NO", "NO"})
				}
			}
			return rows
		}},
	"information_schema.schemata": {cols("catalog_name t, schema_name t, schema_owner t, default_character_set_catalog t, " +
		"default_character_set_schema t, default_character_set_name t, sql_path t"), func(e *catEnv) [][]any {
		var rows [][]any
		for _, s := range []string{"information_schema", "pg_catalog", "public"} {
			rows = append(rows, []any{e.database, s, e.user, nil, nil, nil, nil})
		}
		return rows
	}},
	"information_schema.key_column_usage": {cols("constraint_catalog t, constraint_schema t, constraint_name t, table_catalog t, " +
		"table_schema t, table_name t, column_name t, ordinal_position i4, position_in_unique_constraint i4"),
		pkeyRows("information_schema.key_column_usage")},
	"information_schema.table_constraints": {cols("constraint_catalog t, constraint_schema t, constraint_name t, table_catalog t, " +
		"table_schema t, table_name t, constraint_type t, is_deferrable t, initially_deferred t, enforced t, nulls_distinct t"),
		pkeyRows("information_schema.table_constraints")},
	"information_schema.referential_constraints": {cols("constraint_catalog t, constraint_schema t, constraint_name t, " +
		"unique_constraint_catalog t, unique_constraint_schema t, unique_constraint_name t, match_option t, update_rule t, delete_rule t"), empty},
	"information_schema.constraint_column_usage": {cols("table_catalog t, table_schema t, table_name t, column_name t, " +
		"constraint_catalog t, constraint_schema t, constraint_name t"), pkeyRows("information_schema.constraint_column_usage")},
	"information_schema.routines": {cols("specific_catalog t, specific_schema t, specific_name t, routine_catalog t, routine_schema t, routine_name t, routine_type t, data_type t"), empty},
}

// catalogKey finds the emulated table a relation names: "schema.name", or "".
func catalogKey(schema, name string) string {
	schema, name = strings.ToLower(schema), strings.ToLower(name)
	if schema == "" && strings.HasPrefix(name, "pg_") {
		schema = "pg_catalog"
	}
	if schema == "information_schema" && (name == "tables" || name == "columns") {
		return name
	}
	key := schema + "." + name
	if catTables[key] != nil {
		return key
	}
	return ""
}

// catalogTableInput builds the input table of an emulated catalog table: its DDL and rows
// as SQL statements.
func catalogTableInput(e *catEnv, key, name string) loadedInput {
	ct := catTables[key]
	defs := make([]string, len(ct.cols))
	for i, c := range ct.cols {
		defs[i] = quoteDuck(c.name) + " " + c.typ
	}
	li := loadedInput{name: name}
	li.stmts = append(li.stmts, "CREATE OR REPLACE TEMP TABLE "+quoteDuck(name)+" ("+strings.Join(defs, ", ")+")")
	rows := ct.rows(e)
	if len(rows) > 0 {
		var b strings.Builder
		b.WriteString("INSERT INTO " + quoteDuck(name) + " VALUES ")
		for i, r := range rows {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for j, v := range r {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString(sqlLiteral(v, ct.cols[j].typ))
			}
			b.WriteString(")")
		}
		li.stmts = append(li.stmts, b.String())
	}
	return li
}

// sqlLiteral writes a value of a catalog row as a DuckDB literal of type typ.
func sqlLiteral(v any, typ string) string {
	switch x := v.(type) {
	case nil:
		return "NULL::" + typ
	case string:
		return quoteDuckString(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = quoteDuckString(s)
		}
		return "[" + strings.Join(parts, ", ") + "]::" + typ
	case []int:
		parts := make([]string, len(x))
		for i, n := range x {
			parts[i] = strconv.Itoa(n)
		}
		return "[" + strings.Join(parts, ", ") + "]::" + typ
	}
	return fmt.Sprint(v)
}

// catalogMacros are the PostgreSQL functions the catalog queries call, as DuckDB macros
// named __cubit_<name>; the rewrite renames the calls.
var catalogMacros = func() []string {
	var cases []string
	keys := make([]int, 0, len(formatTypes))
	for k := range formatTypes {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		cases = append(cases, fmt.Sprintf("WHEN %d THEN %s", k, quoteDuckString(formatTypes[k])))
	}
	typeName := "CASE CAST(t AS BIGINT) " + strings.Join(cases, " ") + " ELSE NULL END"
	return []string{
		"CREATE OR REPLACE MACRO __cubit_format_type(t, m) AS " + typeName,
		"CREATE OR REPLACE MACRO __cubit_regtype(t) AS " + typeName,
		"CREATE OR REPLACE MACRO __cubit_regnamespace(n) AS CASE CAST(n AS BIGINT) WHEN 11 THEN 'pg_catalog' WHEN 2200 THEN 'public' WHEN 13000 THEN 'information_schema' ELSE CAST(n AS VARCHAR) END",
		`CREATE OR REPLACE MACRO __cubit_quote_ident(s) AS CASE WHEN regexp_full_match(s, '[a-z_][a-z0-9_$]*') THEN s ELSE '"' || replace(s, '"', '""') || '"' END`,
		"CREATE OR REPLACE MACRO __cubit__pg_expandarray(a) AS unnest(list_transform(range(1, len(a) + 1), i -> {'x': a[i], 'n': i}))",
		"CREATE OR REPLACE MACRO __cubit_array_upper(a, d) AS CASE WHEN len(a) = 0 THEN NULL ELSE len(a) END",
		"CREATE OR REPLACE MACRO __cubit_array_lower(a, d) AS CASE WHEN len(a) = 0 THEN NULL ELSE 1 END",
		"CREATE OR REPLACE MACRO __cubit_array_length(a, d) AS CASE WHEN len(a) = 0 THEN NULL ELSE len(a) END",
		"CREATE OR REPLACE MACRO __cubit_array_to_string(a, d) AS array_to_string(a, d)",
	}
}()

// macroFuncs are the functions renamed to their __cubit_ macro.
var macroFuncs = map[string]bool{"format_type": true, "quote_ident": true, "_pg_expandarray": true,
	"information_schema._pg_expandarray": true, "array_upper": true, "array_lower": true, "array_length": true,
	"array_to_string": true}

// constFuncs are functions answered with a constant: true for visibility and privileges,
// NULL for the definitions of objects the catalog never has (defaults, sequences,
// functions). pg_get_indexdef and pg_get_constraintdef answer the primary keys'.
var constFuncs = map[string]func() *pg.Node{
	"pg_table_is_visible": trueConst, "pg_type_is_visible": trueConst, "pg_function_is_visible": trueConst,
	"has_table_privilege": trueConst, "has_schema_privilege": trueConst, "has_database_privilege": trueConst,
	"has_column_privilege": trueConst, "has_any_column_privilege": trueConst, "pg_has_role": trueConst,
	"pg_relation_is_publishable": falseConst,
	"pg_encoding_to_char":        func() *pg.Node { return stringConst("UTF8") },
	"pg_get_expr":                nullText,
	"pg_get_serial_sequence":     nullText, "pg_get_statisticsobjdef_columns": nullText,
	"pg_get_function_result": nullText, "pg_get_function_arguments": nullText,
	"pg_get_function_identity_arguments": nullText, "pg_get_viewdef": nullText, "pg_get_triggerdef": nullText,
	"pg_get_ruledef": nullText, "json_build_object": nullText, "pg_get_partkeydef": nullText,
	"pg_total_relation_size": func() *pg.Node { return pg.MakeAConstIntNode(0, -1) },
	"pg_relation_size":       func() *pg.Node { return pg.MakeAConstIntNode(0, -1) },
	"pg_is_in_recovery":      falseConst,
	"txid_current":           func() *pg.Node { return pg.MakeAConstIntNode(1, -1) },
}

func trueConst() *pg.Node  { return boolConst(true) }
func falseConst() *pg.Node { return boolConst(false) }

func boolConst(b bool) *pg.Node {
	return &pg.Node{Node: &pg.Node_AConst{AConst: &pg.A_Const{Val: &pg.A_Const_Boolval{Boolval: &pg.Boolean{Boolval: b}}, Location: -1}}}
}
func nullText() *pg.Node { return typeCast(nullConst(), "text") }

// catalogInput returns the input table of an emulated catalog table, adding it once.
func (p *postBuilder) catalogInput(key string) string {
	if p.catInputs == nil {
		p.catInputs = map[string]string{}
	}
	if name, ok := p.catInputs[key]; ok {
		return name
	}
	name := p.addInput(&input{Catalog: key})
	p.catInputs[key] = name
	return name
}

// snippet parses the expression of "SELECT <expr>", with $1, $2... replaced by args.
func snippet(expr string, args ...*pg.Node) *pg.Node {
	res, err := pg.Parse("SELECT " + expr)
	if err != nil {
		panic(err)
	}
	n := res.Stmts[0].Stmt.GetSelectStmt().TargetList[0].GetResTarget().Val
	visit(n, func(x *pg.Node) bool {
		if pr := x.GetParamRef(); pr != nil {
			x.Node = args[pr.Number-1].Node
			return false
		}
		return true
	})
	return n
}

// typeNameOf is the unqualified lower-case name of a cast's type, with pg_catalog dropped.
func typeNameOf(tn *pg.TypeName) string {
	names := strs(tn.Names)
	if len(names) == 0 {
		return ""
	}
	return strings.ToLower(names[len(names)-1])
}

// catalogExprs rewrites the PostgreSQL-only bits of the catalog queries for DuckDB: casts
// to reg* types and oid, pg_catalog-qualified types, functions and operators, regular
// expression operators, COLLATE, = ANY(array).
func (p *postBuilder) catalogExprs(root *pg.Node) error {
	var err error
	visit(root, func(x *pg.Node) bool {
		if err != nil {
			return false
		}
		switch v := x.Node.(type) {
		case *pg.Node_TypeCast:
			tc := v.TypeCast
			name := typeNameOf(tc.TypeName)
			switch name {
			case "regclass":
				if s, ok := p.constText(tc.Arg); ok && tc.Arg.GetParamRef() == nil {
					x.Node = pg.MakeAConstIntNode(int64(p.regclassOID(s)), -1).Node
					return false
				}
				p.catalogExprs(tc.Arg)
				t := p.catalogInput("pg_catalog.pg_class")
				x.Node = snippet("(SELECT relname FROM "+quoteDuck(t)+" WHERE CAST(oid AS text) = CAST($1 AS text))", tc.Arg).Node
				return false
			case "regtype":
				p.catalogExprs(tc.Arg)
				x.Node = funcCall("__cubit_regtype", tc.Arg).Node
				return false
			case "regnamespace":
				p.catalogExprs(tc.Arg)
				x.Node = funcCall("__cubit_regnamespace", tc.Arg).Node
				return false
			case "regproc", "regprocedure", "regoper", "regrole", "name", "int2vector", "oidvector", "pg_node_tree", "bpchar", "char":
				tc.TypeName = typeCast(nil, "text").GetTypeCast().TypeName
			case "oid", "regconfig":
				bounds := tc.TypeName.ArrayBounds
				tc.TypeName = typeCast(nil, "int8").GetTypeCast().TypeName
				tc.TypeName.ArrayBounds = bounds
			default:
				names := strs(tc.TypeName.Names)
				// pg_catalog.int4, .interval... are how the parser spells SQL's type keywords,
				// which deparse writes back as keywords; other qualified names are dropped.
				if len(names) == 2 && strings.EqualFold(names[0], "pg_catalog") && !sqlKeywordTypes[strings.ToLower(names[1])] {
					tc.TypeName.Names = tc.TypeName.Names[1:]
				}
			}
		case *pg.Node_CollateClause:
			x.Node = v.CollateClause.Arg.Node
			p.catalogExprs(x)
			return false
		case *pg.Node_AExpr:
			e := v.AExpr
			op := opName(e)
			if len(e.Name) == 2 {
				e.Name = e.Name[1:]
			}
			if e.Kind == pg.A_Expr_Kind_AEXPR_OP {
				var fn *pg.Node
				switch op {
				case "~", "!~":
					fn = funcCall("regexp_matches", e.Lexpr, e.Rexpr)
				case "~*", "!~*":
					fn = funcCall("regexp_matches", e.Lexpr, e.Rexpr, stringConst("i"))
				}
				if fn != nil {
					if strings.HasPrefix(op, "!") {
						fn = pg.MakeBoolExprNode(pg.BoolExprType_NOT_EXPR, []*pg.Node{fn}, -1)
					}
					x.Node = fn.Node
					p.catalogExprs(e.Lexpr)
					p.catalogExprs(e.Rexpr)
					return false
				}
			}
			if e.Kind == pg.A_Expr_Kind_AEXPR_OP_ANY && op == "=" && e.Rexpr.GetSubLink() == nil {
				p.catalogExprs(e.Lexpr)
				p.catalogExprs(e.Rexpr)
				x.Node = funcCall("list_contains", e.Rexpr, e.Lexpr).Node
				return false
			}
		case *pg.Node_FuncCall:
			fc := v.FuncCall
			name := strings.TrimPrefix(funcName(fc), "information_schema.")
			if f := constFuncs[name]; f != nil {
				x.Node = f().Node
				return false
			}
			switch name {
			case "pg_get_indexdef", "pg_get_constraintdef":
				for _, a := range fc.Args {
					p.catalogExprs(a)
				}
				if name == "pg_get_indexdef" {
					x.Node = p.indexDefExpr(fc.Args).Node
				} else {
					x.Node = p.constraintDefExpr(fc.Args).Node
				}
				return false
			case "pg_get_userbyid":
				x.Node = stringConst(p.env.user).Node
				return false
			case "current_schemas":
				if len(fc.Args) == 1 && fc.Args[0].GetAConst() != nil && fc.Args[0].GetAConst().GetBoolval() != nil && !fc.Args[0].GetAConst().GetBoolval().Boolval {
					x.Node = snippet("['public']").Node
				} else {
					x.Node = snippet("['pg_catalog', 'public']").Node
				}
				return false
			case "obj_description", "col_description", "shobj_description":
				if len(fc.Args) == 0 {
					break
				}
				t := p.catalogInput("pg_catalog.pg_description")
				obj := fc.Args[0]
				sub := pg.MakeAConstIntNode(0, -1)
				if name == "col_description" && len(fc.Args) > 1 {
					sub = fc.Args[1]
				}
				p.catalogExprs(obj)
				p.catalogExprs(sub)
				x.Node = snippet("(SELECT min(description) FROM "+quoteDuck(t)+" WHERE objoid = $1 AND objsubid = $2)", obj, sub).Node
				return false
			}
			if macroFuncs[name] {
				short := name[strings.LastIndex(name, ".")+1:]
				fc.Funcname = []*pg.Node{strNode("__cubit_" + short)}
				if short == "array_to_string" && len(fc.Args) > 2 {
					fc.Args = fc.Args[:2]
				}
			} else if names := strs(fc.Funcname); len(names) == 2 && strings.EqualFold(names[0], "pg_catalog") &&
				fc.Funcformat != pg.CoercionForm_COERCE_SQL_SYNTAX {
				fc.Funcname = fc.Funcname[1:]
			}
		case *pg.Node_RangeFunction:
			for _, f := range v.RangeFunction.Functions {
				if l := f.GetList(); l != nil && len(l.Items) > 0 {
					if fc := l.Items[0].GetFuncCall(); fc != nil {
						if names := strs(fc.Funcname); len(names) == 2 && strings.EqualFold(names[0], "pg_catalog") {
							fc.Funcname = fc.Funcname[1:]
						}
					}
				}
			}
		}
		return true
	})
	return err
}

// sqlKeywordTypes are the types the parser qualifies with pg_catalog for SQL's keywords.
var sqlKeywordTypes = map[string]bool{"interval": true, "int2": true, "int4": true, "int8": true, "float4": true,
	"float8": true, "numeric": true, "bool": true, "bpchar": true, "varchar": true, "timestamp": true,
	"timestamptz": true, "time": true, "timetz": true, "bit": true, "varbit": true}

// regclassOID is the OID of a relation named by a 'name'::regclass literal: a table of the
// catalog, or a catalog table of its own; 0 when unknown.
func (p *postBuilder) regclassOID(s string) int {
	name := strings.ToLower(strings.Trim(s, `"`))
	name = strings.TrimPrefix(name, "pg_catalog.")
	name = strings.TrimPrefix(name, "public.")
	switch name {
	case "pg_class":
		return oidPgClass
	case "pg_database":
		return oidPgDatabase
	case "pg_type":
		return 1247
	case "pg_proc":
		return 1255
	case "pg_namespace":
		return 2615
	case "pg_constraint":
		return 2606
	case "pg_attribute":
		return 1249
	}
	if t := p.env.cat.table(name); t != nil {
		return int(t.OID)
	}
	for _, k := range p.env.cat.primaryKeys() {
		if strings.EqualFold(k.name, name) {
			return k.index
		}
	}
	return 0
}
