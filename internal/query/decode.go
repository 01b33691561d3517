package query

import (
	"fmt"
	"math"
	"strconv"

	"github.com/cubit-dev/cubit/internal/errs"
)

// Decode decodes one Cube JSON query object strictly: unknown or duplicate keys, wrong JSON
// types, malformed member names and non-integer limits are rejected with the JSON path of the
// problem. It checks shape only; Normalize checks meaning.
func Decode(data []byte) (*Query, error) {
	n, err := parseTree(data)
	if err != nil {
		return nil, err
	}
	return decodeQuery(n, "query")
}

// DecodeAny decodes either one query object or an array of query objects (Cube's data
// blending). It reports whether the input was an array, so the caller can insist on
// queryType=multi as Cube does.
func DecodeAny(data []byte) ([]*Query, bool, error) {
	n, err := parseTree(data)
	if err != nil {
		return nil, false, err
	}
	switch n.kind {
	case kindObject:
		q, err := decodeQuery(n, "query")
		if err != nil {
			return nil, false, err
		}
		return []*Query{q}, false, nil
	case kindArray:
		if len(n.items) == 0 {
			return nil, true, errs.Invalid("Invalid query format: the query array is empty; send a query object or an array of query objects")
		}
		qs := make([]*Query, len(n.items))
		for i, item := range n.items {
			if qs[i], err = decodeQuery(item, fmt.Sprintf("query[%d]", i)); err != nil {
				return nil, true, err
			}
		}
		return qs, true, nil
	}
	return nil, false, typeError("query", "an object or an array of objects", n)
}

// decodeQuery decodes a query object found at path.
func decodeQuery(n *node, path string) (*Query, error) {
	if n.kind != kindObject {
		return nil, typeError(path, "an object", n)
	}
	q := &Query{}
	var cacheMode string
	for i, key := range n.keys {
		if err := q.decodeField(key, n.items[i], path, &cacheMode); err != nil {
			return nil, err
		}
	}
	if cacheMode != "" {
		if q.Cache != "" && q.Cache != cacheMode {
			return nil, errs.Invalid(`Invalid query format: %s.cache is %q but %s.cacheMode is %q; send only "cache"`, path, q.Cache, path, cacheMode)
		}
		q.Cache = cacheMode
	}
	return q, nil
}

// decodeField decodes the query property key into q.
func (q *Query) decodeField(key string, v *node, path string, cacheMode *string) error {
	p := path + "." + key
	var err error
	switch key {
	case "measures":
		q.Measures, err = decodeMembers(v, p, false)
	case "dimensions":
		q.Dimensions, err = decodeMembers(v, p, true)
	case "segments":
		q.Segments, err = decodeMembers(v, p, false)
	case "timeDimensions":
		q.TimeDimensions, err = decodeTimeDimensions(v, p)
	case "filters":
		q.Filters, err = decodeFilters(v, p)
	case "order":
		q.Order, err = decodeOrder(v, p)
	case "limit":
		q.Limit, err = decodeCount(v, p)
	case "offset":
		q.Offset, err = decodeCount(v, p)
	case "total":
		q.Total, err = decodeBool(v, p)
	case "ungrouped":
		q.Ungrouped, err = decodeBool(v, p)
	case "renewQuery":
		// Older Cube clients still send it; "cache" now decides freshness, so it is ignored.
		_, err = decodeBool(v, p)
	case "timezone":
		q.Timezone, err = decodeString(v, p)
	case "responseFormat":
		q.ResponseFormat, err = decodeEnum(v, p, "default", "compact", "columnar")
	case "cache":
		q.Cache, err = decodeEnum(v, p, cacheModes()...)
	case "cacheMode":
		*cacheMode, err = decodeEnum(v, p, cacheModes()...)
	case "numbers":
		q.Numbers, err = decodeEnum(v, p, "typed")
	case "joinHints":
		q.JoinHints, err = decodeJoinHints(v, p)
	case "maskedMembers":
		err = errs.Invalid(`Invalid query format: "maskedMembers" is not allowed in %s: members are masked by the server, from the security context`, path)
	case "subqueryJoins":
		err = errs.Invalid(`Invalid query format: "subqueryJoins" is not allowed in %s: only the SQL API uses it`, path)
	default:
		err = unknownKey(key, path, queryKeys())
	}
	return err
}

func queryKeys() []string {
	return []string{"measures", "dimensions", "segments", "timeDimensions", "filters", "order",
		"limit", "offset", "total", "timezone", "ungrouped", "responseFormat", "joinHints",
		"cache", "cacheMode", "numbers", "renewQuery"}
}

func cacheModes() []string {
	return []string{"stale-if-slow", "stale-while-revalidate", "must-revalidate", "no-cache"}
}

// decodeMembers decodes an array of member names; withGranularity also admits the
// three-part cube.time_dimension.granularity form that dimensions accept.
func decodeMembers(n *node, path string, withGranularity bool) ([]string, error) {
	if n.kind != kindArray {
		return nil, typeError(path, "an array of strings", n)
	}
	out := make([]string, len(n.items))
	for i, item := range n.items {
		if item.kind != kindString {
			return nil, typeError(indexPath(path, i), "a string", item)
		}
		parts := memberParts(item.text)
		if parts != 2 && !(withGranularity && parts == 3) {
			return nil, badMember(indexPath(path, i), item.text, withGranularity)
		}
		out[i] = item.text
	}
	return out, nil
}

// decodeTimeDimensions decodes the timeDimensions array.
func decodeTimeDimensions(n *node, path string) ([]TimeDimension, error) {
	if n.kind != kindArray {
		return nil, typeError(path, "an array of objects", n)
	}
	out := make([]TimeDimension, len(n.items))
	compared := false
	for i, item := range n.items {
		td, err := decodeTimeDimension(item, indexPath(path, i))
		if err != nil {
			return nil, err
		}
		// Checked here as well as in Normalize: a compareDateRange query is split into one
		// query per range before it is normalised, which would hide both mistakes.
		if td.CompareDateRange != nil {
			if compared {
				return nil, errs.Invalid("compareDateRange can only exist for one timeDimension")
			}
			compared = true
		}
		out[i] = td
	}
	return out, nil
}

func decodeTimeDimension(n *node, path string) (TimeDimension, error) {
	var td TimeDimension
	if n.kind != kindObject {
		return td, typeError(path, "an object", n)
	}
	hasDimension := false
	for i, key := range n.keys {
		v, p := n.items[i], path+"."+key
		var err error
		switch key {
		case "dimension":
			hasDimension = true
			td.Dimension, err = decodeMember(v, p)
		case "granularity":
			td.Granularity, err = decodeGranularity(v, p)
		case "dateRange":
			td.DateRange, err = decodeDateRange(v, p)
		case "compareDateRange":
			td.CompareDateRange, err = decodeCompareDateRange(v, p)
		default:
			err = unknownKey(key, path, []string{"dimension", "granularity", "dateRange", "compareDateRange"})
		}
		if err != nil {
			return td, err
		}
	}
	if !hasDimension {
		return td, errs.Invalid(`Invalid query format: %s must have a "dimension"`, path)
	}
	if !td.DateRange.IsZero() && td.CompareDateRange != nil {
		return td, errs.Invalid("Invalid query format: %s has both dateRange and compareDateRange; compareDateRange replaces dateRange, send one of them", path)
	}
	return td, nil
}

// decodeGranularity accepts a granularity name, or null for "filter only".
func decodeGranularity(n *node, path string) (string, error) {
	if n.kind == kindNull {
		return "", nil
	}
	if n.kind != kindString {
		return "", typeError(path, "a string or null", n)
	}
	// Custom granularities are named in the model, where names are identifiers.
	if !isIdent(n.text) || len(n.text) > 128 {
		return "", errs.Invalid(`Invalid query format: %s must be a granularity name like "day" or "fiscal_year", got %q`, path, n.text)
	}
	return n.text, nil
}

// decodeDateRange accepts one relative string or an array of one or two date strings.
func decodeDateRange(n *node, path string) (DateRange, error) {
	const want = `a date range: a string like "last 7 days" or an array of one or two dates like ["2024-01-01", "2024-01-31"]`
	switch n.kind {
	case kindString:
		if n.text == "" {
			return DateRange{}, errs.Invalid("Invalid query format: %s must be %s, got an empty string", path, want)
		}
		return DateRange{Relative: n.text}, nil
	case kindArray:
		if len(n.items) < 1 || len(n.items) > 2 {
			return DateRange{}, errs.Invalid("Invalid query format: %s must be %s, got %d elements", path, want, len(n.items))
		}
		bounds := make([]string, len(n.items))
		for i, item := range n.items {
			if item.kind != kindString || item.text == "" {
				return DateRange{}, typeError(fmt.Sprintf("%s[%d]", path, i), "a date string", item)
			}
			bounds[i] = item.text
		}
		return DateRange{Bounds: bounds}, nil
	}
	return DateRange{}, typeError(path, want, n)
}

func decodeCompareDateRange(n *node, path string) ([]DateRange, error) {
	if n.kind != kindArray {
		return nil, typeError(path, "an array of date ranges", n)
	}
	if len(n.items) == 0 {
		return nil, errs.Invalid("Invalid query format: %s must list at least one date range", path)
	}
	out := make([]DateRange, len(n.items))
	for i, item := range n.items {
		r, err := decodeDateRange(item, indexPath(path, i))
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// decodeFilters decodes an array of filters. Nesting needs no limit of its own: parseTree
// already bounds the depth of the whole document.
func decodeFilters(n *node, path string) ([]Filter, error) {
	if n.kind != kindArray {
		return nil, typeError(path, "an array of filters", n)
	}
	out := make([]Filter, len(n.items)) // never nil: an empty group is still a group
	for i, item := range n.items {
		f, err := decodeFilter(item, indexPath(path, i))
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

// filterKeys records which keys a filter object carried, to check its shape afterwards.
type filterKeys struct {
	member, dimension, operator, values, and, or bool
}

// decodeFilter decodes one filter: a condition on a member, or an and/or group.
func decodeFilter(n *node, path string) (Filter, error) {
	var f Filter
	if n.kind != kindObject {
		return f, typeError(path, "an object", n)
	}
	var has filterKeys
	for i, key := range n.keys {
		if err := f.decodeField(key, n.items[i], path, &has); err != nil {
			return f, err
		}
	}
	return f, has.check(path)
}

func (f *Filter) decodeField(key string, v *node, path string, has *filterKeys) error {
	p := path + "." + key
	var err error
	switch key {
	case "member":
		has.member = true
		f.Member, err = decodeMember(v, p)
	case "dimension":
		has.dimension = true
		f.Member, err = decodeMember(v, p)
	case "operator":
		has.operator = true
		var s string
		s, err = decodeString(v, p)
		f.Operator = Operator(s)
	case "values":
		has.values = true
		f.Values, err = decodeValues(v, p)
	case "and":
		has.and = true
		f.And, err = decodeFilters(v, p)
	case "or":
		has.or = true
		f.Or, err = decodeFilters(v, p)
	default:
		err = unknownKey(key, path, []string{"member", "dimension", "operator", "values", "and", "or"})
	}
	return err
}

// check enforces Cube's two filter shapes: {member|dimension, operator, values?} or exactly
// one of {and} / {or}. A missing operator is left to Normalize, which reports it in Cube's words.
func (h filterKeys) check(path string) error {
	group := h.and || h.or
	switch {
	case h.and && h.or:
		return errs.Invalid(`Invalid query format: %s must have either "and" or "or", not both; nest one group inside the other`, path)
	case group && (h.member || h.dimension || h.operator || h.values):
		return errs.Invalid(`Invalid query format: %s mixes a logical group with member/operator/values; move the condition inside the group`, path)
	case group:
		return nil
	case h.member && h.dimension:
		return errs.Invalid(`Invalid query format: %s must have either "member" or "dimension", not both`, path)
	case !h.member && !h.dimension:
		return errs.Invalid(`Invalid query format: %s must have a "member" (or "and"/"or" for a group)`, path)
	}
	return nil
}

// decodeValues stringifies filter values as Cube does, except that numbers keep their JSON
// text exactly (Cube goes through a JS double, losing digits of large integers).
func decodeValues(n *node, path string) ([]*string, error) {
	if n.kind != kindArray {
		return nil, typeError(path, "an array", n)
	}
	out := make([]*string, len(n.items))
	for i, item := range n.items {
		switch item.kind {
		case kindString, kindNumber:
			s := item.text
			out[i] = &s
		case kindBool:
			s := strconv.FormatBool(item.b)
			out[i] = &s
		case kindNull:
			out[i] = nil
		default:
			return nil, typeError(fmt.Sprintf("%s[%d]", path, i), "a string, number, boolean or null", item)
		}
	}
	return out, nil
}

// decodeOrder accepts {"member": "asc"} (key order is priority), [["member", "desc"], ...],
// or the normalised [{"id": "member", "desc": true}, ...] that Cubit echoes in responses.
func decodeOrder(n *node, path string) (Order, error) {
	o := Order{Set: true, Items: []OrderItem{}}
	switch n.kind {
	case kindObject:
		for i, key := range n.keys {
			if dir := n.items[i]; isOrderID(key) && dir.kind == kindString && (dir.text == "asc" || dir.text == "desc") {
				o.Items = append(o.Items, OrderItem{ID: key, Desc: dir.text == "desc"}) // as orderItem would
				continue
			}
			p := fmt.Sprintf("%s[%q]", path, key)
			item, err := orderItem(key, n.items[i], p, p)
			if err != nil {
				return Order{}, err
			}
			o.Items = append(o.Items, item)
		}
	case kindArray:
		for i, el := range n.items {
			item, err := decodeOrderElement(el, indexPath(path, i))
			if err != nil {
				return Order{}, err
			}
			o.Items = append(o.Items, item)
		}
	default:
		return Order{}, typeError(path, `an object like {"orders.count": "desc"} or an array like [["orders.count", "desc"]]`, n)
	}
	return o, nil
}

func decodeOrderElement(n *node, path string) (OrderItem, error) {
	switch n.kind {
	case kindArray:
		if len(n.items) != 2 || n.items[0].kind != kindString {
			return OrderItem{}, typeError(path, `a pair like ["orders.count", "desc"]`, n)
		}
		return orderItem(n.items[0].text, n.items[1], path+"[0]", path+"[1]")
	case kindObject:
		return decodeOrderObject(n, path)
	}
	return OrderItem{}, typeError(path, `a pair like ["orders.count", "desc"]`, n)
}

// decodeOrderObject decodes the normalised {"id", "desc"} form, so that a query echoed in a
// response can be sent back unchanged.
func decodeOrderObject(n *node, path string) (OrderItem, error) {
	var item OrderItem
	hasID := false
	for i, key := range n.keys {
		v, p := n.items[i], path+"."+key
		var err error
		switch key {
		case "id":
			hasID = true
			item.ID, err = decodeString(v, p)
			if err == nil && !isOrderID(item.ID) {
				err = badOrderID(p, item.ID)
			}
		case "desc":
			item.Desc, err = decodeBool(v, p)
		default:
			err = unknownKey(key, path, []string{"id", "desc"})
		}
		if err != nil {
			return item, err
		}
	}
	if !hasID {
		return item, errs.Invalid(`Invalid query format: %s must have an "id"`, path)
	}
	return item, nil
}

// orderItem builds one ordering key from a member id and a direction node.
func orderItem(id string, dir *node, idPath, dirPath string) (OrderItem, error) {
	if !isOrderID(id) {
		return OrderItem{}, badOrderID(idPath, id)
	}
	if dir.kind != kindString || (dir.text != "asc" && dir.text != "desc") {
		return OrderItem{}, typeError(dirPath, `"asc" or "desc"`, dir)
	}
	return OrderItem{ID: id, Desc: dir.text == "desc"}, nil
}

func isOrderID(id string) bool {
	parts := memberParts(id)
	return parts == 2 || parts == 3
}

func badOrderID(path, id string) error {
	return errs.Invalid(`Invalid query format: %s: %q must be a member name like "cube.member" or "cube.time_dimension.granularity"`, path, id)
}

func decodeJoinHints(n *node, path string) ([][]string, error) {
	if n.kind != kindArray {
		return nil, typeError(path, `an array of cube paths like [["orders", "users"]]`, n)
	}
	out := make([][]string, len(n.items))
	for i, hint := range n.items {
		p := fmt.Sprintf("%s[%d]", path, i)
		if hint.kind != kindArray || len(hint.items) == 0 {
			return nil, typeError(p, `a non-empty array of cube names like ["orders", "users"]`, hint)
		}
		out[i] = make([]string, len(hint.items))
		for j, c := range hint.items {
			if c.kind != kindString || !isIdent(c.text) {
				return nil, typeError(fmt.Sprintf("%s[%d]", p, j), "a cube name", c)
			}
			out[i][j] = c.text
		}
	}
	return out, nil
}

// decodeMember decodes one cube.member name.
func decodeMember(n *node, path string) (string, error) {
	if n.kind != kindString {
		return "", typeError(path, "a string", n)
	}
	if memberParts(n.text) != 2 {
		return "", badMember(path, n.text, false)
	}
	return n.text, nil
}

// decodeCount decodes limit and offset: Cube requires a strict integer >= 0 (no strings),
// though 10.0 or 1e3 are integers in JSON's number model and pass.
func decodeCount(n *node, path string) (*int, error) {
	if n.kind != kindNumber {
		return nil, typeError(path, "an integer >= 0", n)
	}
	// 2^53 is the largest integer a JavaScript client can send exactly.
	maxJSONInt := min(1<<53, float64(math.MaxInt))
	f, err := strconv.ParseFloat(n.text, 64)
	if err != nil || f != math.Trunc(f) || f < 0 || f > maxJSONInt {
		return nil, errs.Invalid("Invalid query format: %s must be an integer >= 0, got %s", path, n.text)
	}
	v := int(f)
	return &v, nil
}

func decodeBool(n *node, path string) (bool, error) {
	if n.kind != kindBool {
		return false, typeError(path, "true or false", n)
	}
	return n.b, nil
}

func decodeString(n *node, path string) (string, error) {
	if n.kind != kindString {
		return "", typeError(path, "a string", n)
	}
	return n.text, nil
}

func decodeEnum(n *node, path string, allowed ...string) (string, error) {
	s, err := decodeString(n, path)
	if err != nil {
		return "", err
	}
	for _, a := range allowed {
		if s == a {
			return s, nil
		}
	}
	return "", &errs.Error{
		Kind:       errs.KindInvalid,
		Message:    fmt.Sprintf("Invalid query format: %s must be one of %q, got %q", path, allowed, s),
		Suggestion: errs.Nearest(s, allowed),
	}
}

// memberParts returns how many dot-separated identifier parts id has, or 0 when id is not
// such a name at all (empty part, or a character outside [A-Za-z0-9_]).
func memberParts(id string) int {
	parts, start := 1, 0
	for i := 0; i < len(id); i++ {
		if id[i] != '.' {
			if !isIdentByte(id[i]) {
				return 0
			}
			continue
		}
		if i == start {
			return 0
		}
		parts, start = parts+1, i+1
	}
	if start == len(id) {
		return 0
	}
	return parts
}

func isIdent(s string) bool { return memberParts(s) == 1 }

func isIdentByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// indexPath is the path of element i of the array at path: fmt.Sprintf("%s[%d]", path, i),
// for less.
func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func badMember(path, got string, withGranularity bool) error {
	want := `"cube.member"`
	if withGranularity {
		want = `"cube.dimension" or "cube.time_dimension.granularity"`
	}
	return errs.Invalid("Invalid query format: %s must be a member name like %s, got %q", path, want, got)
}

func typeError(path, want string, got *node) error {
	return errs.Invalid("Invalid query format: %s must be %s, got %s", path, want, got.describe())
}

// unknownKey rejects a key that the object at path does not define, suggesting the nearest
// valid key because a typo ("measure", "timeDimension") is the usual cause.
func unknownKey(key, path string, known []string) error {
	return &errs.Error{
		Kind:       errs.KindInvalid,
		Message:    fmt.Sprintf("Invalid query format: %q is not allowed in %s", key, path),
		Suggestion: errs.Nearest(key, known),
	}
}
