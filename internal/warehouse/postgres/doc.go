// Package postgres runs Cubit's SQL on PostgreSQL (CUBEJS_DB_TYPE=postgres) through a pgx
// connection pool: it builds the connection URL from Cube's CUBEJS_DB_* variables, pins
// every session to UTC, normalises PostgreSQL's values to the warehouse value set, classifies
// PostgreSQL's errors, and bulk-loads tables (the demo shop) with COPY.
//
// It knows nothing of the semantic model or SQL generation, and the compiler core must not
// import it. It is not Cubit's own PostgreSQL-protocol server (pgwire), which it never touches.
package postgres
