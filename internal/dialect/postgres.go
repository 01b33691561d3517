package dialect

import "fmt"

// Postgres is the PostgreSQL dialect.
type Postgres struct{ ansi }

// Name implements Dialect.
func (Postgres) Name() string { return "postgres" }

// ToLocal implements Dialect. The session time zone is UTC, so a naive timestamp column
// read as timestamptz is taken as UTC.
func (Postgres) ToLocal(expr, tz string) string {
	return fmt.Sprintf("(CAST(%s AS TIMESTAMPTZ) AT TIME ZONE CAST(%s AS TEXT))", expr, tz)
}

// EpochSeconds implements Dialect.
func (Postgres) EpochSeconds(expr string) string {
	return fmt.Sprintf("EXTRACT(EPOCH FROM CAST(%s AS TIMESTAMP))", expr)
}

// FromEpochSeconds implements Dialect; AT TIME ZONE 'UTC' drops the zone again.
func (Postgres) FromEpochSeconds(expr string) string {
	return fmt.Sprintf("(to_timestamp(%s) AT TIME ZONE 'UTC')", expr)
}

// AddMonths implements Dialect.
func (Postgres) AddMonths(expr, months string) string {
	return fmt.Sprintf("(%s + make_interval(months => CAST(%s AS INTEGER)))", expr, months)
}

// CountDistinctApprox implements Dialect. PostgreSQL has no built-in HyperLogLog; an exact
// distinct count is a correct answer to an approximate question, so Cubit uses it rather
// than failing as Cube does without the hll extension.
func (Postgres) CountDistinctApprox(expr string) string {
	return "count(DISTINCT " + expr + ")"
}
