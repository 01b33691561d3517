// Package query owns Cube's JSON query: strict decoding (Decode, DecodeAny), normalisation
// (Normalize) and the resolution of relative and absolute date ranges in the query time
// zone. Binding member names to the model is Resolve's job, in resolve.go; this part of the
// package never looks at the model, so a query can be checked and echoed without one.
//
// It must not know about SQL, dialects, HTTP or the SQL API: the REST and SQL edges hand it
// bytes or a Query and get back *errs.Error values of kind errs.KindInvalid, worded as Cube
// words them where Cube has a message ("Operator required for filter: ...", "Can't parse
// date: '...'") and naming the JSON path of the problem where that helps.
//
// # Stages
//
// Decode checks shape: unknown or duplicate keys, JSON types, member-name syntax
// (cube.member; dimensions and order keys may add a granularity), strict non-negative
// integers for limit and offset, and the two filter shapes (a condition, or one and/or
// group). Normalize checks meaning and fills in defaults: time zone, the "selects
// something" rule, limits, date ranges, filter operators and values, compareDateRange, and
// Cube's default order.
//
// # Dates
//
// Every resolved date is a local wall clock in the query zone, "YYYY-MM-DDTHH:mm:ss.SSS",
// as Cube echoes it; ends are inclusive and end in .999 when they close a period. For SQL,
// Range.UTC and Instant convert bounds to instants, padding .999 to .999999. Relative
// expressions follow spec B.3 with one deliberate difference: Cube matches them with
// unanchored regular expressions, so "from 7 days ago to today" silently means "today";
// here a whole expression must match one form, and anything else is "Can't parse date".
// Timestamps with an offset are shifted to UTC and the offset dropped, as Cube's
// moment.utc does: send wall-clock times in the query zone without an offset.
//
// Date filter operators are resolved here, so later stages only compare: inDateRange,
// notInDateRange and onTheDate end up with [from, to]; beforeDate and afterOrOnDate with
// the start of the value; beforeOrOnDate and afterDate with its end (Tesseract's rule,
// spec B.2, also for bare dates: afterDate "2024-01-01" excludes all of Jan 1).
//
// # Ordering
//
// Normalized.Order holds the effective order. An id "cube.member" names a measure or a
// dimension of the query; "cube.td.gran" names a time dimension at that granularity; a bare
// "cube.td" that is not itself in dimensions names that time dimension at its first
// granularity in the query. Cube drops ids of members the query does not select.
//
// # Deliberate differences from Cube
//
// Duplicate JSON keys are rejected rather than last-one-wins. Number filter values keep
// their JSON text ("1.50", and every digit of a large integer) where Cube goes through a JS
// double. A limit above the maximum is a user error (Cube answers 500). "limit": 0 means
// the default limit. "renewQuery" is accepted and ignored. The normalised order form
// [{"id", "desc"}] is accepted in requests, so an echoed query can be sent back. Empty
// and/or groups are dropped. Time zone names are matched exactly, without Cube's
// case-insensitive canonicalisation.
package query
