package query

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
)

// Options are the deployment settings that normalisation depends on.
type Options struct {
	// Now is the instant relative dates are computed at; the zero value means time.Now().
	// Tests inject it.
	Now time.Time
	// DefaultTimezone applies when the query names none (CUBEJS_DEFAULT_TIMEZONE); "" is UTC.
	DefaultTimezone string
	// DefaultLimit is the row limit of a query without one (CUBEJS_DB_QUERY_DEFAULT_LIMIT);
	// 0 means 10000.
	DefaultLimit int
	// MaxLimit is the largest limit a query may ask for (CUBEJS_DB_QUERY_LIMIT); 0 means 50000.
	MaxLimit int
	// Locations loads time zones; nil means time.LoadLocation. The engine passes a
	// LocationCache, because loading a zone costs more than compiling a query.
	Locations func(name string) (*time.Location, error)
}

func (o Options) withDefaults() Options {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.DefaultLimit <= 0 {
		o.DefaultLimit = 10000
	}
	if o.MaxLimit <= 0 {
		o.MaxLimit = 50000
	}
	return o
}

// Normalized is a query checked for meaning and put in Cube's normal form, still without
// the model: member names are as sent.
type Normalized struct {
	// Query is the normalised query as echoed in a response's "query" field: three-part
	// dimensions moved to TimeDimensions, date ranges and date filter values resolved to
	// local bounds, filter values stringified, limit and timezone filled in. Its Order is
	// what the client sent (see Order below for the effective one).
	Query *Query
	// Location is the query time zone; Timezone is its IANA name.
	Location *time.Location
	Timezone string
	// Limit and Offset are the effective row limit and offset.
	Limit  int
	Offset int
	// TimeDimensions are the query's time dimensions with their ranges resolved.
	TimeDimensions []NormTimeDimension
	// Filters are the normalised top-level filters, ANDed; they are Query.Filters.
	Filters []Filter
	// Order is the effective ordering: the client's, or Cube's default when it sent none.
	// An id is a member name ("orders.count"), a time dimension with granularity
	// ("orders.created_at.day"), or a bare time dimension ("orders.created_at"), which means
	// that dimension at its first granularity in the query if it has one.
	Order []OrderItem
	// DefaultOrder reports that Order was derived by Cube's default rule.
	DefaultOrder bool
	// SecurityContext is the query's security context (Query.SecurityContext), which
	// SECURITY_CONTEXT templates read when the SQL is rendered.
	SecurityContext map[string]any
}

// NormTimeDimension is a time dimension with its date ranges resolved in the query zone.
type NormTimeDimension struct {
	// Dimension is the member name, cube.member.
	Dimension string
	// Granularity is "" when the time dimension only filters.
	Granularity string
	// DateRange is nil when the time dimension has no range.
	DateRange *Range
	// Compare holds the compareDateRange ranges, in order; the query runs once per range.
	Compare []Range
}

// Normalize checks q for meaning and puts it in normal form (see Normalized): the time zone
// must exist, the query must select something, the limit must fit MaxLimit, date ranges and
// date filter values must parse, filter operators must exist and have the values they need.
// q is not modified. Normalize assumes q passed Decode's shape checks (or was built by code).
func Normalize(q *Query, opt Options) (*Normalized, error) {
	if q == nil {
		return nil, errs.Invalid("Query param is required")
	}
	opt = opt.withDefaults()
	loc, tz, err := location(q.Timezone, opt.DefaultTimezone, opt.Locations)
	if err != nil {
		return nil, err
	}
	if err := checkSelects(q); err != nil {
		return nil, err
	}
	n := &Normalized{Location: loc, Timezone: tz, SecurityContext: q.SecurityContext}
	if n.Limit, err = effectiveLimit(q.Limit, opt); err != nil {
		return nil, err
	}
	if n.Offset, err = effectiveOffset(q.Offset); err != nil {
		return nil, err
	}
	nq := copyQuery(q)
	limit, offset := n.Limit, n.Offset
	nq.Timezone, nq.Limit = tz, &limit
	if q.Offset != nil {
		nq.Offset = &offset
	}
	now := opt.Now.In(loc)
	if nq.Filters, err = normFilters(nq.Filters, now, "query.filters"); err != nil {
		return nil, err
	}
	if n.TimeDimensions, err = normTimeDimensions(nq.TimeDimensions, now); err != nil {
		return nil, err
	}
	n.Query, n.Filters = nq, nq.Filters
	return n, n.setOrder()
}

// location loads the query time zone, falling back to the deployment default and then UTC.
func location(name, fallback string, load func(string) (*time.Location, error)) (*time.Location, string, error) {
	if name == "" {
		name = fallback
	}
	if name == "" {
		name = "UTC"
	}
	// "Local" is the server's zone, not an IANA name; a query must not depend on the host.
	if name == "Local" {
		return nil, "", errs.Invalid(`Invalid query format: "timezone" must be a valid IANA time zone, got %q`, name)
	}
	if load == nil {
		load = time.LoadLocation
	}
	loc, err := load(name)
	if err != nil {
		return nil, "", errs.Invalid(`Invalid query format: "timezone" must be a valid IANA time zone like "America/New_York", got %q`, name)
	}
	return loc, name, nil
}

// checkSelects applies Cube's validity rule: a query must select at least one measure,
// dimension, or time dimension with a granularity.
func checkSelects(q *Query) error {
	if len(q.Measures) > 0 || len(q.Dimensions) > 0 {
		return nil
	}
	for _, td := range q.TimeDimensions {
		if td.Granularity != "" {
			return nil
		}
	}
	return errs.Invalid("Query should contain either measures, dimensions or timeDimensions with granularities in order to be valid")
}

// effectiveLimit applies the default and the cap. "limit": 0 means the default, as in Cube's
// SQL generation. Above the cap Cube throws a 500; here it is the client's error.
func effectiveLimit(limit *int, opt Options) (int, error) {
	def := min(opt.DefaultLimit, opt.MaxLimit)
	switch {
	case limit == nil || *limit == 0:
		return def, nil
	case *limit < 0:
		return 0, errs.Invalid("Invalid query format: query.limit must be an integer >= 0, got %d", *limit)
	case *limit > opt.MaxLimit:
		return 0, errs.Invalid(`The query limit has been exceeded. The maximum is %d rows: lower "limit", or read further rows with "offset".`, opt.MaxLimit)
	}
	return *limit, nil
}

func effectiveOffset(offset *int) (int, error) {
	switch {
	case offset == nil:
		return 0, nil
	case *offset < 0:
		return 0, errs.Invalid("Invalid query format: query.offset must be an integer >= 0, got %d", *offset)
	}
	return *offset, nil
}

// copyQuery copies q so that normalisation never writes through to the caller's slices, and
// moves three-part dimensions ("orders.created_at.month") to time dimensions without a range,
// after the explicit ones, as Cube does.
func copyQuery(q *Query) *Query {
	nq := *q
	nq.Measures = slices.Clone(q.Measures)
	nq.Segments = slices.Clone(q.Segments)
	nq.Order.Items = slices.Clone(q.Order.Items)
	nq.JoinHints = slices.Clone(q.JoinHints)
	nq.TimeDimensions = slices.Clone(q.TimeDimensions)
	nq.Dimensions = nil
	for _, d := range q.Dimensions {
		parts := splitMember(d)
		if len(parts) != 3 {
			nq.Dimensions = append(nq.Dimensions, d)
			continue
		}
		nq.TimeDimensions = append(nq.TimeDimensions, TimeDimension{
			Dimension:   parts[0] + "." + parts[1],
			Granularity: parts[2],
		})
	}
	return &nq
}

// normTimeDimensions resolves the date ranges of tds in place (the echoed query shows the
// resolved bounds) and returns them in normalised form.
func normTimeDimensions(tds []TimeDimension, now time.Time) ([]NormTimeDimension, error) {
	out := make([]NormTimeDimension, len(tds))
	compared := false
	for i := range tds {
		path := fmt.Sprintf("query.timeDimensions[%d]", i)
		td := &tds[i]
		if td.Dimension == "" {
			return nil, errs.Invalid(`Invalid query format: %s must have a "dimension"`, path)
		}
		if !td.DateRange.IsZero() && len(td.CompareDateRange) > 0 {
			return nil, errs.Invalid("Invalid query format: %s has both dateRange and compareDateRange; compareDateRange replaces dateRange, send one of them", path)
		}
		if len(td.CompareDateRange) > 0 {
			if compared {
				return nil, errs.Invalid("compareDateRange can only exist for one timeDimension")
			}
			compared = true
		}
		nt, err := normTimeDimension(td, now, path)
		if err != nil {
			return nil, err
		}
		out[i] = nt
	}
	return out, nil
}

func normTimeDimension(td *TimeDimension, now time.Time, path string) (NormTimeDimension, error) {
	nt := NormTimeDimension{Dimension: td.Dimension, Granularity: td.Granularity}
	if !td.DateRange.IsZero() {
		r, err := resolveDateRange(td.DateRange, now)
		if err != nil {
			return nt, at(err, path+".dateRange")
		}
		nt.DateRange = &r
		td.DateRange = DateRange{Bounds: []string{r.From, r.To}}
	}
	if len(td.CompareDateRange) == 0 {
		return nt, nil
	}
	echo := make([]DateRange, len(td.CompareDateRange))
	for j, c := range td.CompareDateRange {
		r, err := resolveDateRange(c, now)
		if err != nil {
			return nt, at(err, fmt.Sprintf("%s.compareDateRange[%d]", path, j))
		}
		nt.Compare = append(nt.Compare, r)
		echo[j] = DateRange{Bounds: []string{r.From, r.To}}
	}
	td.CompareDateRange = echo
	return nt, nil
}

// at adds the JSON path of the offending value to an error message.
func at(err error, path string) error {
	if e, ok := err.(*errs.Error); ok {
		c := *e
		c.Message += " at " + path
		return &c
	}
	return err
}

// setOrder fills in the effective order: the client's if it sent one (even empty), else
// Cube's default (BaseQuery.defaultOrder): the first time dimension with a granularity
// ascending; else, when there are measures and dimensions, the first measure descending;
// else the first dimension ascending; a measures-only query is not ordered.
func (n *Normalized) setOrder() error {
	q := n.Query
	if q.Order.Set {
		for i, it := range q.Order.Items {
			if !isOrderID(it.ID) {
				return badOrderID(fmt.Sprintf("query.order[%d]", i), it.ID)
			}
		}
		n.Order = slices.Clone(q.Order.Items)
		return nil
	}
	n.DefaultOrder = true
	for _, td := range q.TimeDimensions {
		if td.Granularity != "" {
			n.Order = []OrderItem{{ID: td.Dimension}}
			return nil
		}
	}
	switch {
	case len(q.Measures) > 0 && len(q.Dimensions) > 0:
		n.Order = []OrderItem{{ID: q.Measures[0], Desc: true}}
	case len(q.Dimensions) > 0:
		n.Order = []OrderItem{{ID: q.Dimensions[0]}}
	}
	return nil
}

// LocationCache loads each time zone once. It is safe for concurrent use.
type LocationCache struct {
	zones sync.Map // name → *time.Location
}

// Load returns the zone called name, loading it on first use. Failures are not cached, so
// a typo costs a lookup each time but never poisons the cache.
func (c *LocationCache) Load(name string) (*time.Location, error) {
	if loc, ok := c.zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	c.zones.Store(name, loc)
	return loc, nil
}
