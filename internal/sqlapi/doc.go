// Package sqlapi is the SQL API's product: it answers PostgreSQL statements over the cubes
// and views of a model, for package pgwire, which owns the protocol. It implements
// pgwire.Handler (logins, sessions) and pgwire.Session (settings, transactions, statements).
//
// It owns the SQL grammar (github.com/pganalyze/pg_query_go, PostgreSQL's own parser; no
// other package imports it), the rewrite of SQL into Cube queries, and the embedded DuckDB
// that post-processes what a Cube query cannot compute. It must not know about messages,
// sockets or authentication methods (pgwire's), nor generate warehouse SQL itself: every
// number comes from the engine (engine.Engine.Query), so the SQL API and the REST API
// answer a question alike and share the result cache.
//
// # Stages
//
// parse (parse.go) → plan (rewrite.go, where.go, post.go) → run (exec.go, duck.go). A
// SELECT plans to a *cubePlan, one Cube query whose rows are projected on the select list,
// or to a *postPlan: Cube queries (and the information_schema tables) loaded as temporary
// tables of DuckDB, and the statement rewritten to read them. Planning is pure: the golden
// tests in testdata/rewrite.* show every plan.
//
// # Tables
//
// Each public cube and view is a table of schema public (also reachable unqualified), with
// its public measures, dimensions and segments as columns, then __user and
// __cubeJoinField. Names match case-insensitively, qualified or not. Types follow Cube
// (spec F): count, count_distinct and count_distinct_approx measures are int8; sum, avg,
// min, max, number and running_total measures float8, sent as float64 (exact decimals lose
// digits beyond float64's 15–17); time dimensions are timestamp; number dimensions float8;
// boolean bool; everything else text; segments bool. Deliberate difference: a time measure
// is a timestamp where Cube says text.
//
// # Rules of the rewrite
//
//   - A query with GROUP BY, HAVING or an aggregate is grouped: the GROUP BY dimensions
//     (names, ordinals, output names, DATE_TRUNC('<granularity>', time) → a time dimension
//     with that granularity) are the Cube query's. A measure named without an aggregate in
//     a grouped query is MEASURE(x) — our documentation relies on it, where Cube refuses it.
//     MEASURE(x) works for any measure; SUM/COUNT/COUNT(DISTINCT)/AVG/MIN/MAX/STRING_AGG
//     must match the measure's type (spec F's table), else 42803 "Measure aggregation type
//     doesn't match". COUNT(*) is the cube's count measure.
//   - Without GROUP BY: a select list of measures only is one row of totals; otherwise the
//     query is ungrouped, one row per row of the cube, measures as their row values
//     (count, sum, avg, min, max; others have none: an error, NULL in SELECT *). The
//     primary keys Cube requires of an ungrouped query are added to it, hidden, where the
//     table shows them. SELECT DISTINCT over dimensions is grouped by them.
//   - DATE(time), CAST(time AS date) and time::date are the time dimension by day, as a
//     date (exact, like DATE_TRUNC). EXTRACT(field FROM time) and date_part('field', time)
//     post-process the bucket that gives the same field (year, decade, century, millennium
//     → year; quarter; month; week, isoyear → week; day, dow, isodow, doy → day; hour;
//     minute; second), which the Cube query groups into far fewer rows than the raw
//     times; other fields (epoch, ...) read the raw time.
//   - A time dimension grouped without DATE_TRUNC is its raw value, one group per distinct
//     timestamp, as in Cube. Every time comes in the session's TimeZone (SET TIME ZONE),
//     which is the Cube query's time zone: filters, buckets and values alike.
//   - WHERE translates to filters with SQL's semantics, not Cube's: negative comparisons
//     (<>, NOT IN, NOT LIKE) add "is set", since SQL never keeps NULL there; NOT is pushed
//     down to the comparisons; LIKE patterns 'x', 'x%', '%x', '%x%' map to equals,
//     startsWith, endsWith, contains — which are case-insensitive in Cube, so a LIKE with
//     letters keeps them as a pre-filter and applies the LIKE again after; date literals
//     compared with time dimensions become date operators with their exact timestamps
//     ('2024-01-01' is midnight, as in PostgreSQL). Segments are boolean columns usable as
//     top-level conditions. A session's security context is {"user": <login>}; WHERE
//     __user = 'name' runs that query as {"user": "name"}, for the super user only (the
//     context travels in query.Query.SecurityContext of the plan's Cube query). HAVING
//     becomes measure filters.
//   - Whatever a Cube query cannot compute (expressions, CASE, other functions, window
//     functions, DISTINCT ON, grouping sets, sub-queries, CTEs, UNION, the wrappers BI tools
//     add) is post-processed: each SELECT over cube tables becomes the widest Cube query it
//     needs (every dimension it reads becomes a grouping column, every measure a measure,
//     the exact conditions filters), loaded into DuckDB, and the statement runs there.
//     Additive measures (count, sum, min, max) are re-aggregated; any other measure is
//     taken as it is, with a check that fails the statement if a group would combine
//     several of its values, so that no wrong number is ever returned. MIN, MAX and
//     DISTINCT aggregates may read dimensions; other aggregates of dimensions are refused.
//   - Statements without cube tables (SELECT 1, version(), current_setting(...)) run in
//     DuckDB with the session functions answered here. The catalog is emulated
//     (pgcatalog.go): pg_catalog's and information_schema's tables that clients introspect
//     are built from the model and loaded as inputs, and the PostgreSQL-only bits of
//     their queries (reg* casts, OPERATOR(pg_catalog.~), COLLATE, pg_get_*, format_type,
//     privileges, descriptions) rewritten on the parse tree; testdata/captures holds what
//     psql, SQLAlchemy, psycopg2 and pgjdbc send. A cube whose primary-key dimensions are
//     all columns of its table has a primary key: index and constraint <cube>_pkey
//     (pgkeys.go). Other catalog tables answer 0A000.
//
// # Prepared statements
//
// pgwire owns the prepared statements of the extended protocol; DEALLOCATE [PREPARE]
// name | ALL returns a pgwire.Deallocation, and pgwire drops them. A name that is not
// prepared is 26000, as in PostgreSQL: the statement asks pgwire (StatementPrepared) and
// fails itself, so that the transaction block fails with it. SQL-level PREPARE and
// EXECUTE are not supported (0A000), so the protocol's statements are the only ones.
//
// # Transactions
//
// BEGIN, COMMIT, ROLLBACK and savepoints group statements and scope SET (the API is
// read-only). As in PostgreSQL, the statements of a multi-statement simple query run in an
// implicit transaction block: DECLARE works there without BEGIN, a failure rolls back the
// whole string (its SET and cursors), and the block ends with the string (EndQuery), so a
// cursor without WITH HOLD does not outlive it. BEGIN inside the string makes the block
// explicit; COMMIT or ROLLBACK ends it, and the next statement opens a new one.
//
// # Cursors
//
// DECLARE ... CURSOR, FETCH, MOVE and CLOSE work as in PostgreSQL (cursor.go), for
// psycopg2's named cursors and the BI tools that page through results: the SELECT runs at
// DECLARE and its rows stay in the session until CLOSE or the end of the transaction (WITH
// HOLD: past COMMIT); pg_cursors lists them. Backward moves need SCROLL; BINARY is refused.
//
// DuckDB runs with external access off, one connection per statement, its inputs in
// temporary tables dropped when the statement ends.
package sqlapi
