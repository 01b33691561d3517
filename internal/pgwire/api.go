package pgwire

import (
	"context"
	"net"
	"time"
)

// Handler is the product behind the protocol (package sqlapi implements it): it checks
// logins and opens sessions. pgwire never sees a model or a query plan.
//
// Every context pgwire passes to a Handler, Session or Statement method carries the
// connection's ConnInfo (see ConnInfoFromContext).
type Handler interface {
	// Password returns the password user must present to connect to database, or an
	// error when the user may not connect at all.
	//
	// The password is either the plaintext password or, so that the Handler need not keep
	// one, a SCRAM-SHA-256 verifier in PostgreSQL's pg_authid form,
	// "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>" (see IsSCRAMVerifier
	// and ParseSCRAMVerifier; a string with that prefix is always taken as a verifier).
	// With a verifier, SCRAM authentication checks the client's proof against the stored
	// keys and cleartext authentication derives the keys from the password given; md5
	// authentication is refused (FATAL 28000), as it needs the plaintext. A malformed
	// verifier is logged and the login fails like a wrong password.
	//
	// A *Error is sent as it is (as FATAL); an error of kind errs.KindUnauthenticated (no
	// such user) fails like a wrong password, after the client has sent one, so that user
	// names cannot be probed (28P01); other errors are classified like statement errors
	// (errs.KindForbidden: 28000).
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
	// standard_conforming_strings, ...). pgwire sends them after login and again, before
	// each ReadyForQuery, for every one a statement changed. StartupParameters builds the
	// usual set. pgwire also reads TimeZone from it to write timestamptz values as text.
	Parameters() map[string]string
	// TxStatus is the transaction status of ReadyForQuery: 'I' idle, 'T' in a transaction,
	// 'E' in a failed transaction. As in PostgreSQL, portals live until the end of the
	// transaction: pgwire closes them at Sync (and after a simple query) when TxStatus is 'I'.
	TxStatus() byte
	// EndQuery is called when a simple query ends: after every statement PrepareAll
	// returned has run, or after the first one failed, and before ReadyForQuery. failed
	// reports such a failure, which may be one pgwire found itself (a row it could not
	// encode, a cancel while rows streamed, DEALLOCATE of a name that is not prepared).
	// PostgreSQL runs a string of several statements as one implicit transaction block
	// that ends here, committed when all of them ran and rolled back otherwise; a failure
	// inside a transaction block fails that block. It is not called when PrepareAll fails.
	EndQuery(failed bool)
	// Close releases the session.
	Close()
}

// Statement is a parsed statement.
type Statement interface {
	// ParamTypes are the OIDs of the statement's parameters ($1...), inferred where the
	// client left them unspecified. A 0 left here is described to the client as text.
	ParamTypes() []uint32
	// Columns describe the rows the statement returns; nil for a statement without rows
	// (an empty non-nil slice is a result with zero columns, as for "SELECT;").
	Columns() []Column
	// Execute runs the statement with its parameters, decoded to Go values by their types:
	// nil for NULL; int64 (int2, int4, int8, oid); float64 (float4, float8); bool; string
	// (text, varchar, numeric as its decimal text, uuid in canonical form, and any type
	// pgwire does not decode); time.Time (date and timestamp as the wall clock in UTC,
	// timestamptz as an instant in UTC); []byte (bytea).
	//
	// It returns the rows to stream, which carry the command tag ("SELECT 3"; Rows.Tag is
	// read after the last row). A statement without rows returns Done(tag), e.g.
	// Done("SET"); a nil Rows is taken as Done(""). ctx stays valid until the rows are
	// closed: pgwire cancels it on a CancelRequest, a statement timeout, or Server.Close.
	Execute(ctx context.Context, params []any) (Rows, error)
}

// Rows streams a statement's result. pgwire may stop reading early (portal suspension,
// cancel) and resume with Next later in the same session.
//
// The values of a row are written by their column's type and the format the client asked
// for. Accepted Go values: nil (NULL), bool, any integer type, float32/float64, string
// (and string kinds, e.g. a decimal type: written as it is in text format and parsed by
// the column's type for binary), time.Time, []byte, a driver.Valuer, and any value
// pgx's pgtype.Map can encode for the column's type (slices for arrays, ...).
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

// Deallocation is implemented by the Rows of a statement that drops prepared statements of
// the protocol (DEALLOCATE [PREPARE] name | ALL): when such rows end without error, pgwire
// drops the statement of that name, or every prepared statement when all is true, before
// it sends the command tag. Portals already bound to a dropped statement keep working
// until they are closed, as in PostgreSQL.
//
// pgwire holds every prepared statement, so it is pgwire that answers a name that is not
// prepared, as PostgreSQL does: the statement fails with 26000 (prepared statement "name"
// does not exist) instead of its command tag. A Statement should check the name with
// StatementPrepared in Execute and return that error itself, so that the failure is
// its own (a transaction block it runs in fails with it); pgwire's check is the rule
// for any that does not.
type Deallocation interface {
	Deallocate() (name string, all bool)
}

type preparedKey struct{}

// StatementPrepared reports whether the connection of ctx, a context pgwire passed to a
// Statement's Execute, holds a prepared statement named name (the unnamed one is "").
// ok is false when ctx is not such a context, and nothing is known. It must be called on
// the connection's goroutine, as Execute is.
func StatementPrepared(ctx context.Context, name string) (prepared, ok bool) {
	has, ok := ctx.Value(preparedKey{}).(func(string) bool)
	if !ok {
		return false, false
	}
	return has(name), true
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
	Severity string // "ERROR" (default) or "FATAL"; FATAL closes the connection
	// Position is the 1-based character position in the query text the error is about
	// (0: none); psql marks it under the query.
	Position int
}

func (e *Error) Error() string { return e.Message }

// Done returns the Rows of a statement without rows: no rows, and tag as its command tag.
func Done(tag string) Rows { return &doneRows{tag: tag} }

type doneRows struct{ tag string }

func (*doneRows) Next() ([]any, bool) { return nil, false }
func (*doneRows) Err() error          { return nil }
func (d *doneRows) Tag() string       { return d.tag }
func (*doneRows) Close()              {}

// ConnInfo describes the client connection a Handler call is made for.
type ConnInfo struct {
	// RemoteAddr is the client's address.
	RemoteAddr net.Addr
	// TLS reports whether the connection is encrypted.
	TLS bool
	// ProcessID is the connection's BackendKeyData process id (0 before authentication),
	// the number clients show as the backend pid.
	ProcessID uint32
	// Startup holds the startup packet's parameters as the client sent them (user,
	// database, application_name, client_encoding, DateStyle, TimeZone, options, ...).
	Startup map[string]string
	// Options are the settings given with -c name=value (or --name=value) in the startup
	// "options" parameter, as in PGOPTIONS.
	Options map[string]string
	// ConnectedAt is when the connection was accepted.
	ConnectedAt time.Time
}

type connInfoKey struct{}

// ConnInfoFromContext returns the ConnInfo of the connection a Handler, Session or
// Statement call is made for.
func ConnInfoFromContext(ctx context.Context) (ConnInfo, bool) {
	ci, ok := ctx.Value(connInfoKey{}).(*ConnInfo)
	if !ok {
		return ConnInfo{}, false
	}
	return *ci, true
}

// DefaultParameters returns the run-time parameters a PostgreSQL 15 server reports at
// login, with Cubit's fixed choices: UTF8 encodings, ISO dates, integer datetimes,
// standard-conforming strings, UTC. Clients parse these (pgx refuses a server without
// standard_conforming_strings=on; pgjdbc wants DateStyle ISO and client_encoding UTF8), so
// a Session should start from them. session_authorization and application_name are empty
// here: StartupParameters fills them in for a connection.
func DefaultParameters() map[string]string {
	return map[string]string{
		"server_version":                "15.0",
		"server_encoding":               "UTF8",
		"client_encoding":               "UTF8",
		"DateStyle":                     "ISO, MDY",
		"IntervalStyle":                 "postgres",
		"TimeZone":                      "UTC",
		"integer_datetimes":             "on",
		"standard_conforming_strings":   "on",
		"is_superuser":                  "off",
		"session_authorization":         "",
		"application_name":              "",
		"default_transaction_read_only": "off",
		"in_hot_standby":                "off",
	}
}

// StartupParameters returns DefaultParameters for the connection info describes:
// session_authorization is its user, and the reported settings the client may choose at
// startup (application_name, TimeZone when it is a known zone, from the startup packet or
// its -c options) are taken from it. Settings pgwire cannot honour (another
// client_encoding or DateStyle) keep their defaults: pgwire always writes UTF-8 and ISO
// dates, and clients read the reported values to learn that.
func StartupParameters(info ConnInfo) map[string]string {
	p := DefaultParameters()
	p["session_authorization"] = info.Startup["user"]
	for _, src := range []map[string]string{info.Startup, info.Options} {
		if v, ok := src["application_name"]; ok {
			p["application_name"] = v
		}
		for _, k := range []string{"TimeZone", "timezone"} {
			if v, ok := src[k]; ok {
				if _, err := loadLocation(v); err == nil {
					p["TimeZone"] = v
				}
			}
		}
	}
	return p
}
