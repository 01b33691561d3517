// Package duckdb runs Cubit's SQL on DuckDB, the embedded analytical database that backs the
// demo and CUBEJS_DB_TYPE=duckdb: it opens a database file or an in-memory database with
// Cubit's fixed settings, normalises DuckDB's values to the warehouse value set, classifies
// DuckDB's errors, and bulk-loads tables (the demo shop) through DuckDB's appender.
//
// It is one of the few packages that link cgo; it must not be imported by the compiler core
// (model, query, plan, sqlgen, dialect), and it knows nothing of them.
package duckdb
