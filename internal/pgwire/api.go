package pgwire

import (
	"context"
)

// Handler is the product behind the protocol (package sqlapi implements it): it checks
// logins and opens sessions. pgwire never sees a model or a query plan.
type Handler interface {
	// Password returns the password user must present to connect to database, or an
	// error (reported as SQLSTATE 28000 or 28P01) when the user may not connect at all.
	Password(ctx context.Context, user, database string) (string, error)
	// NewSession opens a session for an authenticated user.
	NewSession(ctx context.Context, user, database string) (Session, error)
}

// Session is one client connection's state: its settings, its transaction status, its
// prepared statements' parsing. It is used by one goroutine at a time.
type Session interface {
	// Prepare parses one statement for the extended protocol. paramTypes are the types the
	// client declared (0 = unspecified, to be inferred).
	Prepare(ctx context.Context, sql string, paramTypes []uint32) (Statement, error)
	// PrepareAll parses a simple-query string, which may hold several statements (or none).
	PrepareAll(ctx context.Context, sql string) ([]Statement, error)
	// Parameters are the run-time parameters reported to the client with ParameterStatus
	// (server_version, client_encoding, DateStyle, TimeZone, integer_datetimes,
	// standard_conforming_strings, ...). pgwire sends them after login and again whenever a
	// statement changes one of them.
	Parameters() map[string]string
	// TxStatus is the transaction status of ReadyForQuery: 'I' idle, 'T' in a transaction,
	// 'E' in a failed transaction.
	TxStatus() byte
	// Close releases the session.
	Close()
}

// Statement is a parsed statement.
type Statement interface {
	// ParamTypes are the OIDs of the statement's parameters ($1...), inferred where the
	// client left them unspecified.
	ParamTypes() []uint32
	// Columns describe the rows the statement returns; nil for a statement without rows.
	Columns() []Column
	// Execute runs the statement with its parameters, decoded to Go values by their types
	// (nil for NULL; string, int64, float64, bool, time.Time, []byte). It returns the rows to
	// stream (nil for a statement without rows) and the command tag ("SELECT 3", "SET").
	// The tag may be computed after the rows are read: pgwire calls Tag then.
	Execute(ctx context.Context, params []any) (Rows, error)
}

// Rows streams a statement's result. pgwire may stop reading early (portal suspension,
// cancel) and resume with Next later in the same session.
type Rows interface {
	// Next returns the next row, or false at the end or on error.
	Next() ([]any, bool)
	// Err is the error that ended the rows, if any.
	Err() error
	// Tag is the command tag, valid after the rows ended ("SELECT 42").
	Tag() string
	// Close releases the rows; safe to call more than once.
	Close()
}

// Column describes one result column.
type Column struct {
	Name string
	// Type is the PostgreSQL type OID (pgtype.Int8OID, pgtype.TextOID, ...).
	Type uint32
	// TableOID and Attr identify the column's table and attribute number for clients that
	// ask (0 when none).
	TableOID uint32
	Attr     uint16
}

// Error is an error with a PostgreSQL SQLSTATE, message, detail and hint, sent to the
// client as an ErrorResponse.
type Error struct {
	Code     string // SQLSTATE, e.g. "42P01"
	Message  string
	Detail   string
	Hint     string
	Severity string // "ERROR" (default) or "FATAL"
}

func (e *Error) Error() string { return e.Message }
