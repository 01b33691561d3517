// Package pgwire is a PostgreSQL wire-protocol server: startup and SSL negotiation, TLS,
// authentication (SCRAM-SHA-256 with channel binding, md5, cleartext over TLS), the simple
// and extended query protocols with portals, cancel requests, parameter status, timeouts,
// and errors with SQLSTATE codes. It is built on github.com/jackc/pgx/v5/pgproto3 for the
// messages and pgtype for binary values.
//
// It knows messages, not SQL: what a statement means is asked of a Handler (package
// sqlapi), through the small interface of api.go. It must not import the engine, the
// model, a SQL parser or any driver, and it has no cgo dependency.
//
// # Layers
//
//   - server.go: Server, Options, listeners, the registry of connections by BackendKeyData
//     (for CancelRequest) and Close, which cancels running statements, tells idle clients
//     (FATAL 57P01) and waits for every connection goroutine.
//   - startup.go: the packets before authentication, read byte-exact so that nothing can
//     be slipped in before a TLS handshake: SSLRequest, GSSENCRequest (refused),
//     CancelRequest, the protocol version (3.0; a newer 3.x is negotiated down with
//     NegotiateProtocolVersion, as PostgreSQL does) and the startup parameters.
//   - auth.go: the password exchange. SCRAM credentials are derived from the Handler's
//     plaintext password per connection; an unknown user goes through the same exchange
//     and fails like a wrong password, so user names cannot be probed.
//   - conn.go: one goroutine per connection reading messages. After an error in the
//     extended protocol every message up to Sync is discarded; ReadyForQuery is sent only
//     for Sync and Query, preceded by ParameterStatus for each parameter the session
//     changed. Message order is PostgreSQL's (ParseComplete, BindComplete, ... are sent
//     as each message is handled, so they can never be reordered).
//   - query.go: Query, Parse, Bind, Describe, Execute (with row limits and
//     PortalSuspended), Close. Portals hold their Rows between Execute messages; they end
//     with the transaction, at Sync when the session's TxStatus is idle. A Query's end is
//     told to the session (EndQuery), which ends the implicit transaction block of a
//     multi-statement string. The prepared statements live here, so DEALLOCATE of a name
//     that is not prepared fails here (26000).
//   - encode.go, decode.go: result values to text (PostgreSQL's own output: ISO dates,
//     shortest floats, hex bytea, timestamptz in the session's TimeZone) or binary (by
//     pgtype.Map), and Bind parameters to Go values.
//   - errors.go: the SQL edge's error classifier: a *Error keeps its code; other errors
//     are mapped by errs.Kind; a statement canceled by pgwire reports why (57014).
//
// An error never closes the connection, except during startup and authentication, for a
// message that breaks the protocol's framing, and for a Handler's FATAL error.
package pgwire
