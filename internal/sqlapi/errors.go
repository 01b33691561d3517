package sqlapi

import (
	"fmt"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/pgwire"
)

// The SQL API's own errors are *pgwire.Error values with PostgreSQL's SQLSTATE codes and,
// where PostgreSQL has one, its wording. Errors of the engine (unknown member, hidden
// member, limits, the data source) are returned as they are: pgwire classifies errs kinds.

func sqlErr(code, format string, args ...any) *pgwire.Error {
	return &pgwire.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// unsupported is SQLSTATE 0A000 for a construct the SQL API cannot run, with how to
// rewrite it.
func unsupported(what, rewrite string) *pgwire.Error {
	e := &pgwire.Error{Code: "0A000", Message: "unsupported: " + what}
	if rewrite != "" {
		e.Message += "; " + rewrite
	}
	return e
}

func undefinedTable(name string, candidates []string) *pgwire.Error {
	e := sqlErr("42P01", "relation %q does not exist", name)
	if s := errs.Nearest(name, candidates); s != "" {
		e.Hint = fmt.Sprintf("Perhaps you meant to reference the table %q.", s)
	}
	return e
}

func undefinedColumn(name string, candidates []string) *pgwire.Error {
	e := sqlErr("42703", "column %q does not exist", name)
	if s := errs.Nearest(name, candidates); s != "" {
		e.Hint = fmt.Sprintf("Perhaps you meant to reference the column %q.", s)
	}
	return e
}

// groupingError is SQLSTATE 42803, PostgreSQL's code for misuse of aggregates and GROUP BY.
func groupingError(format string, args ...any) *pgwire.Error {
	return sqlErr("42803", format, args...)
}

// needsPost is returned by the rewrite of a block that is valid but cannot be answered by
// one Cube query: the caller post-processes it instead.
type needsPost struct{ why string }

func (e *needsPost) Error() string { return "needs post-processing: " + e.why }
