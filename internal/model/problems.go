package model

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/cubit-dev/cubit/internal/errs"
)

// Problem is one thing wrong with a model, at the place it was found.
type Problem struct {
	Pos     Pos
	Message string
}

// String renders the problem as "file:line: message", the form editors and CI logs link.
func (p Problem) String() string { return p.Pos.String() + ": " + p.Message }

// Problems is every problem of a model, sorted by file and line. It is the error Load and
// LoadFS return when a model does not compile; get it back with errors.As.
type Problems []Problem

// Error renders one problem per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// As lets errors.As see Problems as an *errs.Error of kind model, so that each API edge
// classifies a broken model with its one function (errs.KindOf) like any other error.
func (ps Problems) As(target any) bool {
	e, ok := target.(**errs.Error)
	if ok {
		*e = &errs.Error{Kind: errs.KindModel, Message: ps.Error()}
	}
	return ok
}

// add records a problem at pos.
func (ps *Problems) add(pos Pos, format string, args ...any) {
	*ps = append(*ps, Problem{Pos: pos, Message: fmt.Sprintf(format, args...)})
}

// sort orders problems by file then line. The sort is stable so that problems found at the
// same line keep the order the rules found them in, which keeps output deterministic.
func (ps Problems) sort() {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Pos.File, b.Pos.File), cmp.Compare(a.Pos.Line, b.Pos.Line))
	})
}

// didYouMean returns "; did you mean X?" for the candidate nearest to name, or "".
func didYouMean(name string, candidates []string) string {
	if s := errs.Nearest(name, candidates); s != "" {
		return "; did you mean " + s + "?"
	}
	return ""
}
