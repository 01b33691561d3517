package query

import (
	"encoding/json"
	"strings"
)

// Query is Cube's JSON query as sent by a client, after strict decoding and before
// normalisation. Member names are only checked for shape here; whether they exist is decided
// against the model elsewhere.
type Query struct {
	Measures       []string        `json:"measures,omitempty"`
	Dimensions     []string        `json:"dimensions,omitempty"`
	Segments       []string        `json:"segments,omitempty"`
	TimeDimensions []TimeDimension `json:"timeDimensions,omitempty"`
	Filters        []Filter        `json:"filters,omitempty"`
	// Order is omitted from JSON only when the client did not send it: an empty order that was
	// sent means "no ordering at all" and must survive a round trip.
	Order          Order      `json:"order,omitzero"`
	Limit          *int       `json:"limit,omitempty"`
	Offset         *int       `json:"offset,omitempty"`
	Total          bool       `json:"total,omitempty"`
	Timezone       string     `json:"timezone,omitempty"`
	Ungrouped      bool       `json:"ungrouped,omitempty"`
	ResponseFormat string     `json:"responseFormat,omitempty"`
	JoinHints      [][]string `json:"joinHints,omitempty"`
	// Cache is the cache mode, sent as "cache" or as its older name "cacheMode".
	Cache string `json:"cache,omitempty"`
	// Numbers is a Cubit extension: "typed" asks for JSON numbers instead of Cube's strings.
	Numbers string `json:"numbers,omitempty"`
	// SecurityContext is who asks: the claims of the REST API's token, or {"user": name}
	// for the SQL API. The model's SECURITY_CONTEXT templates bind its values. It is set by
	// the API edge, never decoded from or echoed to the client (hence json:"-"), and nil
	// means an empty context.
	SecurityContext map[string]any `json:"-"`
}

// UnmarshalJSON decodes a query with the same strictness as Decode, so a Query embedded in a
// larger request body is checked as thoroughly as one decoded on its own.
func (q *Query) UnmarshalJSON(data []byte) error {
	d, err := Decode(data)
	if err != nil {
		return err
	}
	*q = *d
	return nil
}

// TimeDimension is one entry of a query's timeDimensions: a time member, optionally bucketed
// by a granularity and restricted to a date range (or compared across several ranges).
type TimeDimension struct {
	Dimension        string      `json:"dimension"`
	Granularity      string      `json:"granularity,omitempty"`
	DateRange        DateRange   `json:"dateRange,omitzero"`
	CompareDateRange []DateRange `json:"compareDateRange,omitempty"`
}

// DateRange is a date range as sent: either one relative expression ("last 7 days") or an
// array of one or two dates. The zero value means no range.
type DateRange struct {
	Relative string
	Bounds   []string
}

// IsZero reports whether no range was given; it lets `omitzero` drop an absent range.
func (r DateRange) IsZero() bool { return r.Relative == "" && len(r.Bounds) == 0 }

// MarshalJSON writes the range back in the shape it was sent in: a string or an array.
func (r DateRange) MarshalJSON() ([]byte, error) {
	switch {
	case r.Relative != "":
		return json.Marshal(r.Relative)
	case len(r.Bounds) > 0:
		return json.Marshal(r.Bounds)
	}
	return []byte("null"), nil
}

// UnmarshalJSON accepts a relative string or an array of one or two date strings.
func (r *DateRange) UnmarshalJSON(data []byte) error {
	n, err := parseTree(data)
	if err != nil {
		return err
	}
	v, err := decodeDateRange(n, "dateRange")
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Filter is one element of a query's filters: either a condition on a member (Member,
// Operator, Values) or a logical group (exactly one of And, Or).
type Filter struct {
	// Member is the filtered member, sent as "member" or as its older name "dimension".
	Member   string
	Operator Operator
	// Values holds the filter values as strings: numbers and booleans keep their JSON text,
	// and a JSON null stays nil because operators give null its own meaning (IS NULL).
	Values []*string
	And    []Filter
	Or     []Filter
}

// IsGroup reports whether f is a logical group rather than a condition on a member.
func (f Filter) IsGroup() bool { return f.And != nil || f.Or != nil }

// filterJSON is the normalised wire form of a Filter, as Cube echoes it in responses.
type filterJSON struct {
	Member   string    `json:"member,omitempty"`
	Operator Operator  `json:"operator,omitempty"`
	Values   []*string `json:"values,omitempty"`
	And      []Filter  `json:"and,omitempty"`
	Or       []Filter  `json:"or,omitempty"`
}

// MarshalJSON writes Cube's normalised form: {"member","operator","values"} for a condition
// and {"and":[...]} or {"or":[...]} for a group.
func (f Filter) MarshalJSON() ([]byte, error) {
	switch {
	case f.And != nil:
		return json.Marshal(struct {
			And []Filter `json:"and"`
		}{f.And})
	case f.Or != nil:
		return json.Marshal(struct {
			Or []Filter `json:"or"`
		}{f.Or})
	}
	return json.Marshal(filterJSON{Member: f.Member, Operator: f.Operator, Values: f.Values})
}

// UnmarshalJSON decodes one filter with the same strictness as Decode.
func (f *Filter) UnmarshalJSON(data []byte) error {
	n, err := parseTree(data)
	if err != nil {
		return err
	}
	v, err := decodeFilter(n, "filter")
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// String renders the filter as JSON for error messages, the way Cube quotes a filter.
func (f Filter) String() string {
	b, err := json.Marshal(f)
	if err != nil {
		return "<unprintable filter>"
	}
	return string(b)
}

// Operator is a filter operator. The set is Cube's: anything else is rejected by Normalize.
type Operator string

// The filter operators of Cube's query format.
const (
	OpEquals         Operator = "equals"
	OpNotEquals      Operator = "notEquals"
	OpIn             Operator = "in"
	OpNotIn          Operator = "notIn"
	OpContains       Operator = "contains"
	OpNotContains    Operator = "notContains"
	OpStartsWith     Operator = "startsWith"
	OpNotStartsWith  Operator = "notStartsWith"
	OpEndsWith       Operator = "endsWith"
	OpNotEndsWith    Operator = "notEndsWith"
	OpGt             Operator = "gt"
	OpGte            Operator = "gte"
	OpLt             Operator = "lt"
	OpLte            Operator = "lte"
	OpSet            Operator = "set"
	OpNotSet         Operator = "notSet"
	OpInDateRange    Operator = "inDateRange"
	OpNotInDateRange Operator = "notInDateRange"
	OpOnTheDate      Operator = "onTheDate"
	OpBeforeDate     Operator = "beforeDate"
	OpBeforeOrOnDate Operator = "beforeOrOnDate"
	OpAfterDate      Operator = "afterDate"
	OpAfterOrOnDate  Operator = "afterOrOnDate"
	OpMeasureFilter  Operator = "measureFilter"
)

// Valid reports whether o is one of Cube's filter operators.
func (o Operator) Valid() bool {
	switch o {
	case OpEquals, OpNotEquals, OpIn, OpNotIn,
		OpContains, OpNotContains, OpStartsWith, OpNotStartsWith, OpEndsWith, OpNotEndsWith,
		OpGt, OpGte, OpLt, OpLte, OpSet, OpNotSet,
		OpInDateRange, OpNotInDateRange, OpOnTheDate,
		OpBeforeDate, OpBeforeOrOnDate, OpAfterDate, OpAfterOrOnDate,
		OpMeasureFilter:
		return true
	}
	return false
}

// NeedsValues reports whether the operator requires at least one value; only set, notSet
// and measureFilter do without.
func (o Operator) NeedsValues() bool {
	return o != OpSet && o != OpNotSet && o != OpMeasureFilter
}

// IsDateRange reports whether the operator compares against a [from, to] range; after
// normalisation its Values are exactly two local wall-clock bounds.
func (o Operator) IsDateRange() bool {
	return o == OpInDateRange || o == OpNotInDateRange || o == OpOnTheDate
}

// IsSingleDate reports whether the operator compares against one date bound; after
// normalisation its Values hold exactly that one local wall-clock bound.
func (o Operator) IsSingleDate() bool {
	return o == OpBeforeDate || o == OpBeforeOrOnDate || o == OpAfterDate || o == OpAfterOrOnDate
}

// UsesEndBound reports whether a single-date operator compares against the end of the given
// date (beforeOrOnDate, afterDate) rather than its start (beforeDate, afterOrOnDate); the end
// is inclusive, so convert it with Instant(..., true).
func (o Operator) UsesEndBound() bool {
	return o == OpBeforeOrOnDate || o == OpAfterDate
}

// OrderItem is one ordering key in Cube's normalised form.
type OrderItem struct {
	ID   string `json:"id"`
	Desc bool   `json:"desc"`
}

// Order is the query's ordering. Set records whether the client sent "order" at all: an
// absent order gets Cube's default ordering, while an empty one ([] or {}) means none.
type Order struct {
	Items []OrderItem
	Set   bool
}

// IsZero reports whether the client sent no order; it lets `omitzero` drop an absent order.
func (o Order) IsZero() bool { return !o.Set }

// MarshalJSON writes Cube's normalised form, [{"id":"orders.count","desc":true}].
func (o Order) MarshalJSON() ([]byte, error) {
	if o.Items == nil {
		return []byte("[]"), nil
	}
	return json.Marshal(o.Items)
}

// UnmarshalJSON accepts an object {"member":"asc"} whose key order is the priority, an
// array of [member, direction] pairs, or the normalised [{"id","desc"}] form.
func (o *Order) UnmarshalJSON(data []byte) error {
	n, err := parseTree(data)
	if err != nil {
		return err
	}
	v, err := decodeOrder(n, "order")
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// splitMember splits a member id into its dot-separated parts.
func splitMember(id string) []string { return strings.Split(id, ".") }
