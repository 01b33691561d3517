package pgwire

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/jackc/pgx/v5/pgproto3"
)

// protocolViolation is the FATAL error for a client that broke the protocol: the
// connection cannot go on.
func protocolViolation(msg string) *Error {
	return &Error{Severity: "FATAL", Code: "08P01", Message: msg}
}

// protocolError is a malformed but well-framed message: an ERROR, the connection goes on.
func protocolError(msg string) *Error {
	return &Error{Code: "08P01", Message: msg}
}

// fatal returns a copy of e with severity FATAL, for the errors of startup and login.
func fatal(e *Error) *Error {
	f := *e
	f.Severity = "FATAL"
	return &f
}

func errUserCancel() *Error {
	return &Error{Code: "57014", Message: "canceling statement due to user request"}
}

func errStatementTimeout() *Error {
	return &Error{Code: "57014", Message: "canceling statement due to statement timeout"}
}

// classify is the SQL edge's one error classifier: it turns any error into the SQLSTATE,
// message, detail and hint sent to the client. A *Error keeps its fields. When ctx was
// canceled by pgwire (CancelRequest, statement timeout) the cancel's cause is the answer,
// whatever error the statement returned for it. Other errors are classified by their
// errs.Kind.
func (c *conn) classify(err error, ctx context.Context) *Error {
	if ctx != nil && ctx.Err() != nil {
		var cause *Error
		if errors.As(context.Cause(ctx), &cause) {
			e := *cause
			return &e
		}
	}
	var pe *Error
	if errors.As(err, &pe) {
		e := *pe
		if e.Code == "" {
			e.Code = "XX000"
		}
		if e.Severity == "" {
			e.Severity = "ERROR"
		}
		return &e
	}

	// The message of a Cubit error is its own, without the suggestion, which becomes the
	// hint; an error that wraps one keeps its full text.
	msg, hint := err.Error(), ""
	var ce *errs.Error
	if errors.As(err, &ce) {
		if err == error(ce) {
			msg = ce.Message
			if ce.Err != nil && ce.Kind != errs.KindInvalid {
				msg += ": " + ce.Err.Error()
			}
		}
		if ce.Suggestion != "" {
			hint = fmt.Sprintf("Did you mean %q?", ce.Suggestion)
			if err != error(ce) {
				hint = ""
			}
		}
	}
	e := &Error{Severity: "ERROR", Message: msg, Hint: hint}
	switch kind := errs.KindOf(err); kind {
	case errs.KindInvalid:
		e.Code = "22023"
		if ce != nil && ce.Member != "" {
			e.Code = "42703" // undefined_column: an unknown member is an unknown column here
		}
	case errs.KindModel:
		e.Code = "F0000" // config_file_error: the data model does not compile
	case errs.KindUnavailable:
		e.Code = "57P03" // cannot_connect_now: the data source cannot be reached
	case errs.KindTimeout:
		e.Code, e.Message, e.Detail = "57014", "canceling statement due to statement timeout", msg
	case errs.KindCanceled:
		e.Code, e.Message, e.Detail = "57014", "canceling statement due to user request", msg
	case errs.KindSource:
		e.Code = "XX000"
	case errs.KindUnauthenticated:
		e.Code = "28000"
	case errs.KindForbidden:
		e.Code = "42501" // insufficient_privilege
	case errs.KindNotFound:
		e.Code = "42704" // undefined_object
	case errs.KindTooLarge:
		e.Code = "54000" // program_limit_exceeded
	case errs.KindConflict:
		e.Code = "42710" // duplicate_object
	case errs.KindInternal:
		// A bug: the details are for the log, not for the client.
		c.log.Error("pgwire: internal error", "err", err)
		e.Code, e.Message, e.Hint = "XX000", fmt.Sprintf("internal error (connection %d, see the server log)", c.pid), ""
	default:
		c.log.Error("pgwire: error of unknown kind", "kind", string(kind), "err", err)
		e.Code = "XX000"
	}
	return e
}

// errorResponse is e as the protocol's ErrorResponse.
func errorResponse(e *Error) *pgproto3.ErrorResponse {
	sev := e.Severity
	if sev != "FATAL" {
		sev = "ERROR" // an ErrorResponse is an error: notices and warnings are not sent this way
	}
	code := e.Code
	if code == "" {
		code = "XX000"
	}
	return &pgproto3.ErrorResponse{
		Severity:            sev,
		SeverityUnlocalized: sev,
		Code:                code,
		Message:             cstring(e.Message),
		Detail:              cstring(e.Detail),
		Hint:                cstring(e.Hint),
		Position:            int32(e.Position),
	}
}

// cstring makes s safe for a NUL-terminated field of a message: a NUL inside would end
// the field early and let the rest be read as other fields.
func cstring(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", `\0`)
}
