package dialect

import "fmt"

// DuckDB is the embedded engine's dialect. It needs ICU for time zones, which the
// duckdb-go bindings build in.
type DuckDB struct{ ansi }

// Name implements Dialect.
func (DuckDB) Name() string { return "duckdb" }

// ToLocal implements Dialect: timezone() on a TIMESTAMPTZ yields the local wall clock.
func (DuckDB) ToLocal(expr, tz string) string {
	return fmt.Sprintf("timezone(CAST(%s AS VARCHAR), CAST(%s AS TIMESTAMPTZ))", tz, expr)
}

// EpochSeconds implements Dialect.
func (DuckDB) EpochSeconds(expr string) string {
	return fmt.Sprintf("epoch(CAST(%s AS TIMESTAMP))", expr)
}

// FromEpochSeconds implements Dialect. make_timestamp takes microseconds and yields a
// naive TIMESTAMP, which keeps the result in wall-clock time.
func (DuckDB) FromEpochSeconds(expr string) string {
	return fmt.Sprintf("make_timestamp(CAST((%s) * 1000000 AS BIGINT))", expr)
}

// AddMonths implements Dialect.
func (DuckDB) AddMonths(expr, months string) string {
	return fmt.Sprintf("(%s + to_months(CAST(%s AS INTEGER)))", expr, months)
}

// CountDistinctApprox implements Dialect with DuckDB's HyperLogLog.
func (DuckDB) CountDistinctApprox(expr string) string {
	return "approx_count_distinct(" + expr + ")"
}
