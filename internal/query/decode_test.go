package query

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cubit-dev/cubit/internal/errs"
)

func str(s string) *string { return &s }

func intp(i int) *int { return &i }

// wantInvalid fails unless err is a user error whose text contains every fragment.
func wantInvalid(t *testing.T, err error, fragments ...string) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.KindInvalid {
		t.Fatalf("want a user error, got %T %v", err, err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not contain %q", err.Error(), f)
		}
	}
}

func TestDecodeFullQuery(t *testing.T) {
	in := `{
		"measures": ["orders.count", "orders.total_revenue"],
		"dimensions": ["orders.status", "orders.created_at.month"],
		"segments": ["orders.completed_only"],
		"timeDimensions": [{"dimension": "orders.created_at", "granularity": "day", "dateRange": ["2024-01-01", "2024-01-31"]},
		                   {"dimension": "orders.shipped_at", "granularity": null, "dateRange": "last 7 days"}],
		"filters": [{"member": "orders.status", "operator": "equals", "values": ["completed", 1.50, true, null]},
		            {"or": [{"dimension": "users.city", "operator": "set"}, {"and": []}]}],
		"order": {"orders.count": "desc", "orders.created_at.day": "asc"},
		"limit": 100, "offset": 1e1, "total": true, "timezone": "Asia/Kolkata", "ungrouped": false,
		"responseFormat": "compact", "joinHints": [["orders", "users"]], "cacheMode": "no-cache",
		"numbers": "typed", "renewQuery": true
	}`
	q, err := Decode([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := &Query{
		Measures:   []string{"orders.count", "orders.total_revenue"},
		Dimensions: []string{"orders.status", "orders.created_at.month"},
		Segments:   []string{"orders.completed_only"},
		TimeDimensions: []TimeDimension{
			{Dimension: "orders.created_at", Granularity: "day", DateRange: DateRange{Bounds: []string{"2024-01-01", "2024-01-31"}}},
			{Dimension: "orders.shipped_at", DateRange: DateRange{Relative: "last 7 days"}},
		},
		Filters: []Filter{
			{Member: "orders.status", Operator: OpEquals, Values: []*string{str("completed"), str("1.50"), str("true"), nil}},
			{Or: []Filter{{Member: "users.city", Operator: OpSet}, {And: []Filter{}}}},
		},
		Order:          Order{Set: true, Items: []OrderItem{{ID: "orders.count", Desc: true}, {ID: "orders.created_at.day"}}},
		Limit:          intp(100),
		Offset:         intp(10),
		Total:          true,
		Timezone:       "Asia/Kolkata",
		ResponseFormat: "compact",
		JoinHints:      [][]string{{"orders", "users"}},
		Cache:          "no-cache",
		Numbers:        "typed",
	}
	if !reflect.DeepEqual(q, want) {
		got, _ := json.Marshal(q)
		exp, _ := json.Marshal(want)
		t.Errorf("got  %s\nwant %s", got, exp)
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"malformed", `{"measures": [}`, []string{"Unable to decode query as JSON"}},
		{"empty input", ``, []string{"Unable to decode query as JSON"}},
		{"trailing data", `{} {}`, []string{"unexpected data after the query object"}},
		{"not an object", `["orders.count"]`, []string{"query must be an object, got an array"}},
		{"duplicate key", `{"measures": [], "measures": []}`, []string{`key "measures" appears twice`}},
		{"unknown top key", `{"measure": ["orders.count"]}`, []string{`Invalid query format: "measure" is not allowed in query`, "did you mean measures?"}},
		{"unknown td key", `{"timeDimensions": [{"dimension": "a.b", "granularty": "day"}]}`, []string{`"granularty" is not allowed in query.timeDimensions[0]`, "did you mean granularity?"}},
		{"unknown filter key", `{"filters": [{"member": "a.b", "operator": "set", "valus": []}]}`, []string{`"valus" is not allowed in query.filters[0]`}},
		{"unknown nested filter key", `{"filters": [{"and": [{"member": "a.b", "operator": "set", "x": 1}]}]}`, []string{`"x" is not allowed in query.filters[0].and[0]`}},
		{"unknown order object key", `{"order": [{"id": "a.b", "dir": "asc"}]}`, []string{`"dir" is not allowed in query.order[0]`}},
		{"masked members", `{"maskedMembers": []}`, []string{`"maskedMembers" is not allowed`}},
		{"subquery joins", `{"subqueryJoins": []}`, []string{`"subqueryJoins" is not allowed`, "SQL API"}},
		{"measures not array", `{"measures": "orders.count"}`, []string{"query.measures must be an array of strings, got \"orders.count\""}},
		{"measures null", `{"measures": null}`, []string{"query.measures must be an array of strings, got null"}},
		{"measure not string", `{"measures": [1]}`, []string{"query.measures[0] must be a string, got 1"}},
		{"measure one part", `{"measures": ["count"]}`, []string{`query.measures[0] must be a member name like "cube.member", got "count"`}},
		{"measure three parts", `{"measures": ["a.b.c"]}`, []string{`query.measures[0] must be a member name`}},
		{"measure bad char", `{"measures": ["a.b-c"]}`, []string{`query.measures[0]`}},
		{"measure empty part", `{"measures": ["a."]}`, []string{`query.measures[0]`}},
		{"dimension four parts", `{"dimensions": ["a.b.c.d"]}`, []string{`query.dimensions[0] must be a member name like "cube.dimension" or "cube.time_dimension.granularity"`}},
		{"segment three parts", `{"segments": ["a.b.c"]}`, []string{`query.segments[0]`}},
		{"td not array", `{"timeDimensions": {}}`, []string{"query.timeDimensions must be an array of objects, got an object"}},
		{"td no dimension", `{"timeDimensions": [{"granularity": "day"}]}`, []string{`query.timeDimensions[0] must have a "dimension"`}},
		{"td dimension three parts", `{"timeDimensions": [{"dimension": "a.b.day"}]}`, []string{"query.timeDimensions[0].dimension"}},
		{"td granularity number", `{"timeDimensions": [{"dimension": "a.b", "granularity": 1}]}`, []string{"query.timeDimensions[0].granularity must be a string or null, got 1"}},
		{"td granularity empty", `{"timeDimensions": [{"dimension": "a.b", "granularity": ""}]}`, []string{`must be a granularity name like "day"`}},
		{"td granularity too long", `{"timeDimensions": [{"dimension": "a.b", "granularity": "` + strings.Repeat("g", 129) + `"}]}`, []string{"granularity name"}},
		{"dateRange empty array", `{"timeDimensions": [{"dimension": "a.b", "dateRange": []}]}`, []string{"query.timeDimensions[0].dateRange must be a date range", "got 0 elements"}},
		{"dateRange three", `{"timeDimensions": [{"dimension": "a.b", "dateRange": ["2024-01-01", "2024-01-02", "2024-01-03"]}]}`, []string{"got 3 elements"}},
		{"dateRange number", `{"timeDimensions": [{"dimension": "a.b", "dateRange": 2024}]}`, []string{"query.timeDimensions[0].dateRange must be a date range"}},
		{"dateRange empty string", `{"timeDimensions": [{"dimension": "a.b", "dateRange": ""}]}`, []string{"got an empty string"}},
		{"dateRange item number", `{"timeDimensions": [{"dimension": "a.b", "dateRange": [2024]}]}`, []string{"query.timeDimensions[0].dateRange[0] must be a date string, got 2024"}},
		{"compareDateRange empty", `{"timeDimensions": [{"dimension": "a.b", "compareDateRange": []}]}`, []string{"must list at least one date range"}},
		{"compareDateRange null", `{"timeDimensions": [{"dimension": "a.b", "compareDateRange": null}]}`, []string{"compareDateRange must be an array of date ranges, got null"}},
		{"compareDateRange string", `{"timeDimensions": [{"dimension": "a.b", "compareDateRange": "last week"}]}`, []string{"compareDateRange must be an array of date ranges"}},
		{"compareDateRange with dateRange", `{"timeDimensions": [{"dimension": "a.b", "dateRange": "today", "compareDateRange": ["yesterday"]}]}`, []string{"query.timeDimensions[0] has both dateRange and compareDateRange"}},
		{"compareDateRange twice", `{"timeDimensions": [{"dimension": "a.b", "compareDateRange": ["today"]}, {"dimension": "a.c", "compareDateRange": ["today"]}]}`, []string{"compareDateRange can only exist for one timeDimension"}},
		{"compareDateRange bad item", `{"timeDimensions": [{"dimension": "a.b", "compareDateRange": [["2024-01-01"], 5]}]}`, []string{"compareDateRange[1] must be a date range"}},
		{"filters object", `{"filters": {"member": "a.b"}}`, []string{"query.filters must be an array of filters, got an object"}},
		{"filter string", `{"filters": ["a.b"]}`, []string{"query.filters[0] must be an object, got \"a.b\""}},
		{"filter no member", `{"filters": [{"operator": "set"}]}`, []string{`query.filters[0] must have a "member"`}},
		{"filter member and dimension", `{"filters": [{"member": "a.b", "dimension": "a.b", "operator": "set"}]}`, []string{`either "member" or "dimension", not both`}},
		{"filter and and or", `{"filters": [{"and": [], "or": []}]}`, []string{`either "and" or "or", not both`}},
		{"filter group with member", `{"filters": [{"and": [], "member": "a.b"}]}`, []string{"mixes a logical group with member/operator/values"}},
		{"filter group with operator", `{"filters": [{"or": [], "operator": "set"}]}`, []string{"mixes a logical group"}},
		{"filter operator number", `{"filters": [{"member": "a.b", "operator": 1}]}`, []string{"query.filters[0].operator must be a string, got 1"}},
		{"filter member bad", `{"filters": [{"member": "ab", "operator": "set"}]}`, []string{"query.filters[0].member must be a member name"}},
		{"filter values string", `{"filters": [{"member": "a.b", "operator": "equals", "values": "x"}]}`, []string{"query.filters[0].values must be an array, got \"x\""}},
		{"filter values null", `{"filters": [{"member": "a.b", "operator": "equals", "values": null}]}`, []string{"query.filters[0].values must be an array, got null"}},
		{"filter value object", `{"filters": [{"member": "a.b", "operator": "equals", "values": ["x", {}]}]}`, []string{"query.filters[0].values[1] must be a string, number, boolean or null, got an object"}},
		{"filter value array", `{"filters": [{"member": "a.b", "operator": "equals", "values": [["x"]]}]}`, []string{"values[0] must be a string, number, boolean or null, got an array"}},
		{"filter group not array", `{"filters": [{"and": {}}]}`, []string{"query.filters[0].and must be an array of filters"}},
		{"nested group item bad", `{"filters": [{"or": [{"and": [1]}]}]}`, []string{"query.filters[0].or[0].and[0] must be an object, got 1"}},
		{"too deep", `{"filters": [` + strings.Repeat(`{"and": [`, 40) + strings.Repeat(`]}`, 40) + `]}`, []string{"nests deeper than 64 levels"}},
		{"order string", `{"order": "orders.count"}`, []string{"query.order must be an object like"}},
		{"order null", `{"order": null}`, []string{"query.order must be an object like", "got null"}},
		{"order bad direction", `{"order": {"orders.count": "descending"}}`, []string{`query.order["orders.count"] must be "asc" or "desc", got "descending"`}},
		{"order direction bool", `{"order": {"orders.count": true}}`, []string{`must be "asc" or "desc", got true`}},
		{"order bad id", `{"order": {"count": "asc"}}`, []string{`"count" must be a member name like "cube.member" or "cube.time_dimension.granularity"`}},
		{"order pair too long", `{"order": [["orders.count", "asc", "x"]]}`, []string{`query.order[0] must be a pair like ["orders.count", "desc"], got an array`}},
		{"order pair too short", `{"order": [["orders.count"]]}`, []string{`query.order[0] must be a pair`}},
		{"order pair bad direction", `{"order": [["orders.count", "up"]]}`, []string{`query.order[0][1] must be "asc" or "desc"`}},
		{"order pair bad id", `{"order": [["a.b.c.d", "asc"]]}`, []string{`query.order[0][0]: "a.b.c.d" must be a member name`}},
		{"order item string", `{"order": ["orders.count"]}`, []string{`query.order[0] must be a pair`}},
		{"order object no id", `{"order": [{"desc": true}]}`, []string{`query.order[0] must have an "id"`}},
		{"order object desc string", `{"order": [{"id": "a.b", "desc": "yes"}]}`, []string{`query.order[0].desc must be true or false, got "yes"`}},
		{"limit string", `{"limit": "10"}`, []string{"query.limit must be an integer >= 0, got \"10\""}},
		{"limit negative", `{"limit": -1}`, []string{"query.limit must be an integer >= 0, got -1"}},
		{"limit fraction", `{"limit": 1.5}`, []string{"query.limit must be an integer >= 0, got 1.5"}},
		{"limit huge", `{"limit": 1e300}`, []string{"query.limit must be an integer >= 0, got 1e300"}},
		{"offset negative", `{"offset": -5}`, []string{"query.offset must be an integer >= 0, got -5"}},
		{"offset null", `{"offset": null}`, []string{"query.offset must be an integer >= 0, got null"}},
		{"total string", `{"total": "true"}`, []string{"query.total must be true or false, got \"true\""}},
		{"ungrouped number", `{"ungrouped": 1}`, []string{"query.ungrouped must be true or false, got 1"}},
		{"renewQuery string", `{"renewQuery": "yes"}`, []string{"query.renewQuery must be true or false"}},
		{"timezone number", `{"timezone": 5}`, []string{"query.timezone must be a string, got 5"}},
		{"responseFormat bad", `{"responseFormat": "compcat"}`, []string{`query.responseFormat must be one of ["default" "compact" "columnar"], got "compcat"`, "did you mean compact?"}},
		{"cache bad", `{"cache": "never"}`, []string{`query.cache must be one of`}},
		{"cacheMode bad", `{"cacheMode": 1}`, []string{`query.cacheMode must be a string`}},
		{"cache disagree", `{"cache": "no-cache", "cacheMode": "must-revalidate"}`, []string{`query.cache is "no-cache" but query.cacheMode is "must-revalidate"`}},
		{"numbers bad", `{"numbers": "float"}`, []string{`query.numbers must be one of ["typed"]`}},
		{"joinHints flat", `{"joinHints": ["orders", "users"]}`, []string{`query.joinHints[0] must be a non-empty array of cube names`}},
		{"joinHints empty hint", `{"joinHints": [[]]}`, []string{`query.joinHints[0] must be a non-empty array`}},
		{"joinHints bad cube", `{"joinHints": [["orders", "a.b"]]}`, []string{`query.joinHints[0][1] must be a cube name`}},
		{"joinHints object", `{"joinHints": {}}`, []string{`query.joinHints must be an array of cube paths`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Decode([]byte(tt.in))
			if err == nil {
				t.Fatalf("accepted: %+v", q)
			}
			wantInvalid(t, err, tt.want...)
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty object", `{}`},
		{"granularity null", `{"timeDimensions": [{"dimension": "a.b", "granularity": null}]}`},
		{"custom granularity", `{"timeDimensions": [{"dimension": "a.b", "granularity": "fiscal_year"}]}`},
		{"dimension alias key", `{"filters": [{"dimension": "a.b", "operator": "set"}]}`},
		{"filter without operator (Normalize reports it)", `{"filters": [{"member": "a.b"}]}`},
		{"filter without values", `{"filters": [{"member": "a.b", "operator": "equals"}]}`},
		{"empty group", `{"filters": [{"and": []}]}`},
		{"limit float integral", `{"limit": 10.0}`},
		{"limit zero", `{"limit": 0}`},
		{"cache and cacheMode agree", `{"cache": "no-cache", "cacheMode": "no-cache"}`},
		{"date range one element", `{"timeDimensions": [{"dimension": "a.b", "dateRange": ["2024-01-01"]}]}`},
		{"whitespace", " \n\t{ } \n"},
		{"digits and underscores", `{"measures": ["Cube_1.m_2"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode([]byte(tt.in)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDecodeOrderForms(t *testing.T) {
	tests := []struct {
		name, in string
		want     Order
	}{
		{"absent", `{}`, Order{}},
		{"object keeps key order", `{"order": {"z.last": "asc", "a.first": "desc", "m.mid.day": "asc"}}`,
			Order{Set: true, Items: []OrderItem{{ID: "z.last"}, {ID: "a.first", Desc: true}, {ID: "m.mid.day"}}}},
		{"pairs", `{"order": [["orders.count", "desc"], ["orders.status", "asc"]]}`,
			Order{Set: true, Items: []OrderItem{{ID: "orders.count", Desc: true}, {ID: "orders.status"}}}},
		{"normalised form", `{"order": [{"id": "orders.count", "desc": true}, {"id": "orders.status"}]}`,
			Order{Set: true, Items: []OrderItem{{ID: "orders.count", Desc: true}, {ID: "orders.status"}}}},
		{"empty array disables ordering", `{"order": []}`, Order{Set: true, Items: []OrderItem{}}},
		{"empty object disables ordering", `{"order": {}}`, Order{Set: true, Items: []OrderItem{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Decode([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(q.Order, tt.want) {
				t.Errorf("got %+v, want %+v", q.Order, tt.want)
			}
		})
	}
}

func TestDecodeValuesStringified(t *testing.T) {
	q, err := Decode([]byte(`{"filters": [{"member": "a.b", "operator": "equals",
		"values": ["", "x", 0, -2.50, 12345678901234567890, 1e3, false, null]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range q.Filters[0].Values {
		if v == nil {
			got = append(got, "<nil>")
			continue
		}
		got = append(got, *v)
	}
	want := []string{"", "x", "0", "-2.50", "12345678901234567890", "1e3", "false", "<nil>"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestDecodeAny(t *testing.T) {
	qs, multi, err := DecodeAny([]byte(`{"measures": ["a.b"]}`))
	if err != nil || multi || len(qs) != 1 || qs[0].Measures[0] != "a.b" {
		t.Fatalf("object: %v %v %v", qs, multi, err)
	}
	qs, multi, err = DecodeAny([]byte(`[{"measures": ["a.b"]}, {"measures": ["c.d"]}]`))
	if err != nil || !multi || len(qs) != 2 || qs[1].Measures[0] != "c.d" {
		t.Fatalf("array: %v %v %v", qs, multi, err)
	}
	_, _, err = DecodeAny([]byte(`[]`))
	wantInvalid(t, err, "the query array is empty")
	_, _, err = DecodeAny([]byte(`[{"measures": ["a.b"]}, {"measure": ["c.d"]}]`))
	wantInvalid(t, err, `"measure" is not allowed in query[1]`)
	_, _, err = DecodeAny([]byte(`[{}, 1]`))
	wantInvalid(t, err, "query[1] must be an object, got 1")
	_, _, err = DecodeAny([]byte(`"{}"`))
	wantInvalid(t, err, "query must be an object or an array of objects, got \"{}\"")
}

// TestUnmarshalJSONIsStrict checks that a Query embedded in a larger body keeps Decode's
// strictness.
func TestUnmarshalJSONIsStrict(t *testing.T) {
	var body struct {
		Query Query `json:"query"`
	}
	err := json.Unmarshal([]byte(`{"query": {"measures": ["a.b"], "limt": 5}}`), &body)
	wantInvalid(t, err, `"limt" is not allowed in query`)
	if err := json.Unmarshal([]byte(`{"query": {"measures": ["a.b"], "limit": 5}}`), &body); err != nil {
		t.Fatal(err)
	}
	if *body.Query.Limit != 5 {
		t.Errorf("limit = %d", *body.Query.Limit)
	}
	var f Filter
	wantInvalid(t, json.Unmarshal([]byte(`{"and": [], "or": []}`), &f), "not both")
	var o Order
	if err := json.Unmarshal([]byte(`{"b.b": "desc", "a.a": "asc"}`), &o); err != nil || o.Items[0].ID != "b.b" {
		t.Fatalf("order: %+v %v", o, err)
	}
	var r DateRange
	if err := json.Unmarshal([]byte(`"this month"`), &r); err != nil || r.Relative != "this month" {
		t.Fatalf("date range: %+v %v", r, err)
	}
	wantInvalid(t, json.Unmarshal([]byte(`[1, 2]`), &r), "dateRange[0] must be a date string")
}

func TestMarshalForms(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"condition", Filter{Member: "a.b", Operator: OpEquals, Values: []*string{str("x"), nil}},
			`{"member":"a.b","operator":"equals","values":["x",null]}`},
		{"condition without values", Filter{Member: "a.b", Operator: OpSet}, `{"member":"a.b","operator":"set"}`},
		{"and", Filter{And: []Filter{{Member: "a.b", Operator: OpSet}}}, `{"and":[{"member":"a.b","operator":"set"}]}`},
		{"empty or", Filter{Or: []Filter{}}, `{"or":[]}`},
		{"order", Order{Set: true, Items: []OrderItem{{ID: "a.b", Desc: true}, {ID: "c.d"}}}, `[{"id":"a.b","desc":true},{"id":"c.d","desc":false}]`},
		{"empty order", Order{Set: true}, `[]`},
		{"relative range", DateRange{Relative: "today"}, `"today"`},
		{"bounds", DateRange{Bounds: []string{"2024-01-01"}}, `["2024-01-01"]`},
		{"query omits absent order and ranges", Query{Measures: []string{"a.b"}, TimeDimensions: []TimeDimension{{Dimension: "a.t"}}},
			`{"measures":["a.b"],"timeDimensions":[{"dimension":"a.t"}]}`},
		{"query keeps empty order", Query{Order: Order{Set: true}}, `{"order":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("got  %s\nwant %s", b, tt.want)
			}
		})
	}
}

func TestMemberParts(t *testing.T) {
	tests := map[string]int{
		"a": 1, "a.b": 2, "a.b.c": 3, "A_1.b_2": 2, "": 0, ".": 0, "a.": 0, ".a": 0,
		"a..b": 0, "a.b ": 0, "a-b.c": 0, "é.b": 0,
	}
	for in, want := range tests {
		if got := memberParts(in); got != want {
			t.Errorf("memberParts(%q) = %d, want %d", in, got, want)
		}
	}
}
