// Package pgwire is a PostgreSQL wire-protocol server: startup and SSL negotiation, TLS,
// authentication (SCRAM-SHA-256, md5, cleartext over TLS), the simple and extended query
// protocols with portals, cancel requests, parameter status, and errors with SQLSTATE
// codes. It is built on github.com/jackc/pgx/v5/pgproto3.
//
// It knows messages, not SQL: what a statement means is asked of a Handler (package
// sqlapi). It must not import the engine, the model or any driver.
package pgwire
