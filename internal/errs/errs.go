// Package errs holds the typed errors that every stage of Cubit returns, so that each API
// edge (CLI, REST, SQL) can classify a failure with one function instead of parsing messages.
//
// It imports nothing from Cubit and must stay that way: every package may depend on it.
package errs

import (
	"context"
	"errors"
	"fmt"
)

// Kind classifies an error for the edges: a user error is the caller's to fix, the others
// are the server's or the data source's.
type Kind string

const (
	// KindInvalid is a malformed or meaningless request: bad JSON, unknown member, bad operator.
	KindInvalid Kind = "invalid"
	// KindModel is a data model that does not compile.
	KindModel Kind = "model"
	// KindUnavailable is a data source that cannot be reached.
	KindUnavailable Kind = "unavailable"
	// KindTimeout is a query that ran past its deadline.
	KindTimeout Kind = "timeout"
	// KindCanceled is a query canceled by its caller.
	KindCanceled Kind = "canceled"
	// KindSource is an error the data source returned while running a query.
	KindSource Kind = "source"
	// KindInternal is a bug in Cubit.
	KindInternal Kind = "internal"
	// KindUnauthenticated is a request without a valid credential.
	KindUnauthenticated Kind = "unauthenticated"
	// KindForbidden is a valid credential without the right to do what was asked.
	KindForbidden Kind = "forbidden"
	// KindNotFound is a request for something that does not exist (a running query id).
	KindNotFound Kind = "not_found"
	// KindTooLarge is a request body over the configured cap.
	KindTooLarge Kind = "too_large"
	// KindConflict is a request that clashes with what exists: a duplicate name, a
	// resource in the wrong state for the action.
	KindConflict Kind = "conflict"
)

// Valid reports whether k is one of the declared kinds.
func (k Kind) Valid() bool {
	switch k {
	case KindInvalid, KindModel, KindUnavailable, KindTimeout, KindCanceled, KindSource, KindInternal,
		KindUnauthenticated, KindForbidden, KindNotFound, KindTooLarge, KindConflict:
		return true
	}
	return false
}

// Error is Cubit's error type. Message is written for the person who sent the request;
// Member and Suggestion are set when the error is about one member of the model.
type Error struct {
	Kind       Kind
	Message    string
	Member     string
	Suggestion string
	Err        error
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Suggestion != "" {
		msg += fmt.Sprintf("; did you mean %s?", e.Suggestion)
	}
	if e.Err != nil && e.Kind != KindInvalid {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Invalid returns a user error with a formatted message.
func Invalid(format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Message: fmt.Sprintf(format, args...)}
}

// Conflict returns the error for a request that clashes with what exists.
func Conflict(format string, args ...any) *Error {
	return &Error{Kind: KindConflict, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of kind k that carries err as its cause.
func Wrap(k Kind, err error, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...), Err: err}
}

// UnknownMember returns the user error for a member name that does not exist, with the
// nearest valid name as a suggestion when one is close enough.
func UnknownMember(what, name string, candidates []string) *Error {
	return &Error{
		Kind:       KindInvalid,
		Message:    fmt.Sprintf("unknown %s %s", what, name),
		Member:     name,
		Suggestion: Nearest(name, candidates),
	}
}

// KindOf classifies any error: Cubit errors by their kind, context errors as timeout or
// cancel, everything else as internal.
func KindOf(err error) Kind {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Kind
	case errors.Is(err, context.DeadlineExceeded):
		return KindTimeout
	case errors.Is(err, context.Canceled):
		return KindCanceled
	}
	return KindInternal
}
