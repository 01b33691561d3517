// Package dialect holds what differs between SQL engines: quoting, placeholders, time
// truncation and time-zone conversion, LIKE escaping, approximate distinct counts and series.
// One file per engine; each overrides only what differs from the ANSI base.
//
// It renders SQL text only. It must not import a driver, and the planner must not branch on
// the engine: every engine difference goes through this interface.
package dialect

import (
	"fmt"
	"strings"
)

// Unit is a calendar unit of time truncation and intervals.
type Unit string

const (
	Second  Unit = "second"
	Minute  Unit = "minute"
	Hour    Unit = "hour"
	Day     Unit = "day"
	Week    Unit = "week"
	Month   Unit = "month"
	Quarter Unit = "quarter"
	Year    Unit = "year"
)

// Valid reports whether u is a declared unit.
func (u Unit) Valid() bool {
	switch u {
	case Second, Minute, Hour, Day, Week, Month, Quarter, Year:
		return true
	}
	return false
}

// Dialect renders the engine-specific pieces of SQL. Arguments named expr are SQL
// expressions; arguments named param are placeholders already allocated by the caller.
type Dialect interface {
	// Name is the engine name as Cube's CUBEJS_DB_TYPE spells it.
	Name() string
	// Quote quotes an identifier.
	Quote(ident string) string
	// Placeholder is the n-th (1-based) bound parameter.
	Placeholder(n int) string
	// Timestamp casts a text parameter holding a UTC wall-clock time to a timestamp.
	Timestamp(param string) string
	// ToLocal converts a UTC timestamp expression to wall-clock time in the zone named by
	// the text parameter tz.
	ToLocal(expr, tz string) string
	// Trunc truncates a timestamp to the start of its unit (weeks start on Monday).
	Trunc(unit Unit, expr string) string
	// Interval is a literal interval of n units.
	Interval(n int, unit Unit) string
	// EpochSeconds is the number of seconds since 1970-01-01 of a timestamp expression.
	EpochSeconds(expr string) string
	// FromEpochSeconds turns seconds since 1970-01-01 back into a timestamp.
	FromEpochSeconds(expr string) string
	// AddMonths adds an integer expression of months to a timestamp.
	AddMonths(expr, months string) string
	// ILike matches expr case-insensitively against a pattern parameter whose wildcards
	// are % and _ and whose escape character is a backslash.
	ILike(expr, pattern string, negate bool) string
	// CountDistinctApprox is an approximate distinct count of expr.
	CountDistinctApprox(expr string) string
	// NullSafeEqual is true when a and b are equal or both NULL.
	NullSafeEqual(a, b string) string
	// CastText casts expr to text (composite primary keys).
	CastText(expr string) string
	// Series is a FROM item with one timestamp column named by col: every step from the
	// timestamp expressions from to to, inclusive.
	Series(from, to, step, col string) string
}

// ansi is the shared base of the engines: standard SQL where both engines agree.
type ansi struct{}

func (ansi) Quote(ident string) string {
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}

func (ansi) Placeholder(n int) string { return fmt.Sprintf("$%d", n) }

func (ansi) Timestamp(param string) string { return "CAST(" + param + " AS TIMESTAMP)" }

func (ansi) Trunc(unit Unit, expr string) string {
	return fmt.Sprintf("date_trunc('%s', %s)", unit, expr)
}

func (ansi) Interval(n int, unit Unit) string {
	return fmt.Sprintf("INTERVAL '%d %s'", n, unit)
}

func (ansi) ILike(expr, pattern string, negate bool) string {
	op := "ILIKE"
	if negate {
		op = "NOT ILIKE"
	}
	return fmt.Sprintf(`%s %s %s ESCAPE '\'`, expr, op, pattern)
}

func (ansi) NullSafeEqual(a, b string) string {
	return fmt.Sprintf("%s IS NOT DISTINCT FROM %s", a, b)
}

// monthNumber counts calendar months since year 0, so the difference of two is the number
// of month boundaries between them.
func monthNumber(expr string) string {
	return fmt.Sprintf("(EXTRACT(YEAR FROM %s) * 12 + EXTRACT(MONTH FROM %s))", expr, expr)
}

// MonthsBetween is the number of whole calendar months from a to b (negative when b is
// before a): month boundaries crossed, less one when b's day and time come before a's.
func MonthsBetween(d Dialect, a, b string) string {
	diff := "(" + monthNumber(b) + " - " + monthNumber(a) + ")"
	return fmt.Sprintf("(%s - CASE WHEN %s < %s THEN 1 ELSE 0 END)", diff, b, d.AddMonths(a, diff))
}

func (ansi) CastText(expr string) string { return "CAST(" + expr + " AS TEXT)" }

func (ansi) Series(from, to, step, col string) string {
	return fmt.Sprintf("generate_series(%s, %s, %s) AS series_table(%s)", from, to, step, col)
}

// ForName returns the dialect of an engine name, or an error listing the known ones.
func ForName(name string) (Dialect, error) {
	switch name {
	case "duckdb":
		return DuckDB{}, nil
	case "postgres", "postgresql":
		return Postgres{}, nil
	}
	return nil, fmt.Errorf("unknown dialect %q (known: duckdb, postgres)", name)
}
