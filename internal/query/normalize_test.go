package query

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func testOptions(t *testing.T) Options {
	return Options{Now: mustTime(t, testNow)}
}

// normalizeJSON decodes and normalises one query.
func normalizeJSON(t *testing.T, in string, opt Options) (*Normalized, error) {
	t.Helper()
	q, err := Decode([]byte(in))
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return Normalize(q, opt)
}

// values renders filter values for comparison, with "<nil>" for null.
func values(vs []*string) []string {
	out := []string{}
	for _, v := range vs {
		if v == nil {
			out = append(out, "<nil>")
			continue
		}
		out = append(out, *v)
	}
	return out
}

func TestNormalizeFilterOperators(t *testing.T) {
	tests := []struct {
		name, filter string
		want         []string // normalised values when err is ""
		err          string
	}{
		{"equals", `{"member": "orders.status", "operator": "equals", "values": ["completed"]}`, []string{"completed"}, ""},
		{"equals with null", `{"member": "orders.status", "operator": "equals", "values": ["a", null]}`, []string{"a", "<nil>"}, ""},
		{"equals number and bool", `{"member": "orders.status", "operator": "equals", "values": [1, true]}`, []string{"1", "true"}, ""},
		{"equals no values", `{"member": "orders.status", "operator": "equals"}`, nil, `Values required for filter: {"member":"orders.status","operator":"equals"}`},
		{"equals empty values", `{"member": "orders.status", "operator": "equals", "values": []}`, nil, "Values required for filter"},
		{"notEquals", `{"member": "orders.status", "operator": "notEquals", "values": ["a", "b"]}`, []string{"a", "b"}, ""},
		{"notEquals no values", `{"member": "orders.status", "operator": "notEquals"}`, nil, "Values required for filter"},
		{"in", `{"member": "orders.status", "operator": "in", "values": ["a"]}`, []string{"a"}, ""},
		{"in no values", `{"member": "orders.status", "operator": "in", "values": []}`, nil, "Values required for filter"},
		{"notIn", `{"member": "orders.status", "operator": "notIn", "values": ["a"]}`, []string{"a"}, ""},
		{"notIn no values", `{"member": "orders.status", "operator": "notIn"}`, nil, "Values required for filter"},
		{"contains", `{"member": "orders.status", "operator": "contains", "values": ["pl"]}`, []string{"pl"}, ""},
		{"contains no values", `{"member": "orders.status", "operator": "contains"}`, nil, "Values required for filter"},
		{"notContains", `{"member": "orders.status", "operator": "notContains", "values": ["pl", null]}`, []string{"pl", "<nil>"}, ""},
		{"notContains no values", `{"member": "orders.status", "operator": "notContains"}`, nil, "Values required for filter"},
		{"startsWith", `{"member": "orders.status", "operator": "startsWith", "values": ["co"]}`, []string{"co"}, ""},
		{"startsWith no values", `{"member": "orders.status", "operator": "startsWith"}`, nil, "Values required for filter"},
		{"notStartsWith", `{"member": "orders.status", "operator": "notStartsWith", "values": ["co"]}`, []string{"co"}, ""},
		{"notStartsWith no values", `{"member": "orders.status", "operator": "notStartsWith"}`, nil, "Values required for filter"},
		{"endsWith", `{"member": "orders.status", "operator": "endsWith", "values": ["ed"]}`, []string{"ed"}, ""},
		{"endsWith no values", `{"member": "orders.status", "operator": "endsWith"}`, nil, "Values required for filter"},
		{"notEndsWith", `{"member": "orders.status", "operator": "notEndsWith", "values": ["ed"]}`, []string{"ed"}, ""},
		{"notEndsWith no values", `{"member": "orders.status", "operator": "notEndsWith"}`, nil, "Values required for filter"},
		{"gt", `{"member": "orders.amount", "operator": "gt", "values": [5]}`, []string{"5"}, ""},
		{"gt keeps extra values", `{"member": "orders.amount", "operator": "gt", "values": ["5", "6"]}`, []string{"5", "6"}, ""},
		{"gt null", `{"member": "orders.amount", "operator": "gt", "values": [null]}`, nil, "Operator gt compares with the first value, which must not be null"},
		{"gt no values", `{"member": "orders.amount", "operator": "gt"}`, nil, "Values required for filter"},
		{"gte", `{"member": "orders.amount", "operator": "gte", "values": [5.5]}`, []string{"5.5"}, ""},
		{"gte null", `{"member": "orders.amount", "operator": "gte", "values": [null, 1]}`, nil, "must not be null"},
		{"lt", `{"member": "orders.amount", "operator": "lt", "values": ["-1"]}`, []string{"-1"}, ""},
		{"lt no values", `{"member": "orders.amount", "operator": "lt", "values": []}`, nil, "Values required for filter"},
		{"lte", `{"member": "orders.amount", "operator": "lte", "values": [0]}`, []string{"0"}, ""},
		{"lte null", `{"member": "orders.amount", "operator": "lte", "values": [null]}`, nil, "must not be null"},
		{"set", `{"member": "orders.status", "operator": "set"}`, []string{}, ""},
		{"set with values", `{"member": "orders.status", "operator": "set", "values": ["ignored"]}`, []string{"ignored"}, ""},
		{"notSet", `{"member": "orders.status", "operator": "notSet"}`, []string{}, ""},
		{"measureFilter", `{"member": "orders.count", "operator": "measureFilter"}`, []string{}, ""},
		{"unknown operator", `{"member": "orders.status", "operator": "equal", "values": ["a"]}`, nil, `Operator equal not supported for filter: {"member":"orders.status","operator":"equal","values":["a"]}; did you mean equals?`},
		{"missing operator", `{"member": "orders.status", "values": ["a"]}`, nil, `Operator required for filter: {"member":"orders.status","values":["a"]}`},
		{"empty operator", `{"member": "orders.status", "operator": "", "values": ["a"]}`, nil, "Operator required for filter"},

		{"inDateRange dates", `{"member": "orders.created_at", "operator": "inDateRange", "values": ["2024-01-01", "2024-01-31"]}`,
			[]string{"2024-01-01T00:00:00.000", "2024-01-31T23:59:59.999"}, ""},
		{"inDateRange timestamps", `{"member": "orders.created_at", "operator": "inDateRange", "values": ["2024-01-01T08:00:00", "2024-01-01T18:30:00.250"]}`,
			[]string{"2024-01-01T08:00:00.000", "2024-01-01T18:30:00.250"}, ""},
		{"inDateRange relative", `{"member": "orders.created_at", "operator": "inDateRange", "values": ["last week"]}`,
			[]string{"2024-03-04T00:00:00.000", "2024-03-10T23:59:59.999"}, ""},
		{"inDateRange one date", `{"member": "orders.created_at", "operator": "inDateRange", "values": ["2024-01-05"]}`,
			[]string{"2024-01-05T00:00:00.000", "2024-01-05T23:59:59.999"}, ""},
		{"inDateRange relative among several", `{"member": "orders.created_at", "operator": "inDateRange", "values": ["2024-01-01", "last week"]}`,
			nil, "Relative-date strings are only supported when `values` has a single element for operator `inDateRange`"},
		{"inDateRange three values", `{"member": "orders.created_at", "operator": "inDateRange", "values": ["2024-01-01", "2024-01-02", "2024-01-03"]}`,
			nil, "Operator inDateRange takes one relative date range or two dates [from, to], got 3 values"},
		{"inDateRange null", `{"member": "orders.created_at", "operator": "inDateRange", "values": [null]}`, nil, "Operator inDateRange takes dates, not null"},
		{"inDateRange no values", `{"member": "orders.created_at", "operator": "inDateRange"}`, nil, "Values required for filter"},
		{"inDateRange inverted", `{"member": "orders.created_at", "operator": "inDateRange", "values": ["2024-02-01", "2024-01-01"]}`, nil, "starts at 2024-02-01T00:00:00.000, after it ends"},
		{"inDateRange garbage", `{"member": "orders.created_at", "operator": "inDateRange", "values": ["someday"]}`, nil, "Can't parse date: 'someday' at query.filters[0].values"},
		{"inDateRange number", `{"member": "orders.created_at", "operator": "inDateRange", "values": [2024]}`, nil, "Can't parse date: '2024'"},
		{"notInDateRange", `{"member": "orders.created_at", "operator": "notInDateRange", "values": ["this month"]}`,
			[]string{"2024-03-01T00:00:00.000", "2024-03-31T23:59:59.999"}, ""},
		{"notInDateRange relative among several", `{"member": "orders.created_at", "operator": "notInDateRange", "values": ["today", "2024-01-01"]}`,
			nil, "operator `notInDateRange`"},
		{"onTheDate", `{"member": "orders.created_at", "operator": "onTheDate", "values": ["2024-01-05"]}`,
			[]string{"2024-01-05T00:00:00.000", "2024-01-05T23:59:59.999"}, ""},
		{"onTheDate pair", `{"member": "orders.created_at", "operator": "onTheDate", "values": ["2024-01-05", "2024-01-06"]}`,
			[]string{"2024-01-05T00:00:00.000", "2024-01-06T23:59:59.999"}, ""},

		// Single-date operators: start for beforeDate/afterOrOnDate, end for the other two.
		{"beforeDate date", `{"member": "orders.created_at", "operator": "beforeDate", "values": ["2024-01-01"]}`, []string{"2024-01-01T00:00:00.000"}, ""},
		{"afterOrOnDate date", `{"member": "orders.created_at", "operator": "afterOrOnDate", "values": ["2024-01-01"]}`, []string{"2024-01-01T00:00:00.000"}, ""},
		{"beforeOrOnDate date", `{"member": "orders.created_at", "operator": "beforeOrOnDate", "values": ["2024-01-01"]}`, []string{"2024-01-01T23:59:59.999"}, ""},
		{"afterDate date", `{"member": "orders.created_at", "operator": "afterDate", "values": ["2024-01-01"]}`, []string{"2024-01-01T23:59:59.999"}, ""},
		{"beforeDate relative", `{"member": "orders.created_at", "operator": "beforeDate", "values": ["last week"]}`, []string{"2024-03-04T00:00:00.000"}, ""},
		{"afterOrOnDate relative", `{"member": "orders.created_at", "operator": "afterOrOnDate", "values": ["last week"]}`, []string{"2024-03-04T00:00:00.000"}, ""},
		{"beforeOrOnDate relative", `{"member": "orders.created_at", "operator": "beforeOrOnDate", "values": ["last week"]}`, []string{"2024-03-10T23:59:59.999"}, ""},
		{"afterDate relative", `{"member": "orders.created_at", "operator": "afterDate", "values": ["last week"]}`, []string{"2024-03-10T23:59:59.999"}, ""},
		{"afterDate timestamp", `{"member": "orders.created_at", "operator": "afterDate", "values": ["2024-01-01T10:00:00"]}`, []string{"2024-01-01T10:00:00.000"}, ""},
		{"beforeDate timestamp", `{"member": "orders.created_at", "operator": "beforeDate", "values": ["2024-01-01T10:00:00Z"]}`, []string{"2024-01-01T10:00:00.000"}, ""},
		{"beforeDate two values", `{"member": "orders.created_at", "operator": "beforeDate", "values": ["2024-01-01", "2024-02-01"]}`, nil, "Operator beforeDate takes exactly one date, got 2 values"},
		{"afterDate null", `{"member": "orders.created_at", "operator": "afterDate", "values": [null]}`, nil, "takes dates, not null"},
		{"afterDate no values", `{"member": "orders.created_at", "operator": "afterDate"}`, nil, "Values required for filter"},
		{"beforeOrOnDate garbage", `{"member": "orders.created_at", "operator": "beforeOrOnDate", "values": ["2024-02-30"]}`, nil, "Can't parse date: '2024-02-30'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := normalizeJSON(t, `{"measures": ["orders.count"], "filters": [`+tt.filter+`]}`, testOptions(t))
			if tt.err != "" {
				if err == nil {
					t.Fatalf("accepted: %s", n.Filters[0])
				}
				wantInvalid(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := values(n.Filters[0].Values); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("values = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNormalizeOperatorsAreAllCovered(t *testing.T) {
	for _, name := range operatorNames() {
		if !Operator(name).Valid() {
			t.Errorf("%s is listed but not Valid", name)
		}
	}
	if len(operatorNames()) != 24 {
		t.Errorf("%d operators, want Cube's 24", len(operatorNames()))
	}
	if Operator("equal").Valid() || Operator("").Valid() {
		t.Error("invalid operators reported valid")
	}
}

func TestNormalizeFilterGroups(t *testing.T) {
	n, err := normalizeJSON(t, `{"measures": ["orders.count"], "filters": [
		{"and": []},
		{"or": [{"and": []}, {"or": []}]},
		{"or": [{"member": "orders.status", "operator": "equals", "values": ["a"]},
		        {"and": [{"dimension": "orders.created_at", "operator": "afterDate", "values": ["yesterday"]}, {"and": []}]}]}
	]}`, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(n.Filters)
	want := `[{"or":[{"member":"orders.status","operator":"equals","values":["a"]},` +
		`{"and":[{"member":"orders.created_at","operator":"afterDate","values":["2024-03-12T23:59:59.999"]}]}]}]`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !reflect.DeepEqual(n.Filters, n.Query.Filters) {
		t.Error("Filters and Query.Filters differ")
	}

	_, err = normalizeJSON(t, `{"measures": ["orders.count"], "filters": [{"or": [{"member": "a.b", "operator": "equals"}, {"and": [
		{"member": "orders.created_at", "operator": "inDateRange", "values": ["bogus"]}]}]}]}`, testOptions(t))
	wantInvalid(t, err, "Values required for filter")
	_, err = normalizeJSON(t, `{"measures": ["orders.count"], "filters": [{"or": [{"member": "a.b", "operator": "set"}, {"and": [
		{"member": "orders.created_at", "operator": "inDateRange", "values": ["bogus"]}]}]}]}`, testOptions(t))
	wantInvalid(t, err, "Can't parse date: 'bogus' at query.filters[0].or[1].and[0].values")

	// Code-built filters get the same checks Decode gives JSON.
	bad := &Query{Measures: []string{"a.b"}, Filters: []Filter{{Member: "a.b", Operator: OpSet, And: []Filter{}}}}
	_, err = Normalize(bad, testOptions(t))
	wantInvalid(t, err, "query.filters[0] must be either a condition or one")
	_, err = Normalize(&Query{Measures: []string{"a.b"}, Filters: []Filter{{Operator: OpSet}}}, testOptions(t))
	wantInvalid(t, err, "Member required for filter")
}

func TestNormalizeSelectsSomething(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{`{}`, false},
		{`{"segments": ["orders.completed"]}`, false},
		{`{"timeDimensions": [{"dimension": "orders.created_at", "dateRange": "today"}]}`, false},
		{`{"filters": [{"member": "orders.status", "operator": "set"}]}`, false},
		{`{"measures": ["orders.count"]}`, true},
		{`{"dimensions": ["orders.status"]}`, true},
		{`{"dimensions": ["orders.created_at.month"]}`, true},
		{`{"timeDimensions": [{"dimension": "orders.created_at", "granularity": "day"}]}`, true},
	}
	for _, tt := range tests {
		_, err := normalizeJSON(t, tt.in, testOptions(t))
		if tt.ok && err != nil {
			t.Errorf("%s: %v", tt.in, err)
		}
		if !tt.ok {
			wantInvalid(t, err, "Query should contain either measures, dimensions or timeDimensions with granularities in order to be valid")
		}
	}
	_, err := Normalize(nil, testOptions(t))
	wantInvalid(t, err, "Query param is required")
}

func TestNormalizeLimits(t *testing.T) {
	tests := []struct {
		name, limit, offset string
		opt                 Options
		want, wantOffset    int
		err                 string
	}{
		{"default", "", "", Options{}, 10000, 0, ""},
		{"zero means default", "0", "", Options{}, 10000, 0, ""},
		{"explicit", "500", "20", Options{}, 500, 20, ""},
		{"at the cap", "50000", "", Options{}, 50000, 0, ""},
		{"above the cap", "50001", "", Options{}, 0, 0, "The query limit has been exceeded. The maximum is 50000 rows"},
		{"default above a lower cap", "", "", Options{DefaultLimit: 100, MaxLimit: 50}, 50, 0, ""},
		{"custom default", "", "", Options{DefaultLimit: 100}, 100, 0, ""},
		{"above a custom cap", "60", "", Options{MaxLimit: 50}, 0, 0, "The maximum is 50 rows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := `{"measures": ["orders.count"]`
			if tt.limit != "" {
				q += `, "limit": ` + tt.limit
			}
			if tt.offset != "" {
				q += `, "offset": ` + tt.offset
			}
			opt := tt.opt
			opt.Now = mustTime(t, testNow)
			n, err := normalizeJSON(t, q+"}", opt)
			if tt.err != "" {
				wantInvalid(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Limit != tt.want || *n.Query.Limit != tt.want || n.Offset != tt.wantOffset {
				t.Errorf("limit %d (echo %d), offset %d; want %d, %d", n.Limit, *n.Query.Limit, n.Offset, tt.want, tt.wantOffset)
			}
			if (tt.offset == "") != (n.Query.Offset == nil) {
				t.Errorf("offset echoed as %v", n.Query.Offset)
			}
		})
	}
	_, err := Normalize(&Query{Measures: []string{"a.b"}, Limit: intp(-1)}, testOptions(t))
	wantInvalid(t, err, "query.limit must be an integer >= 0, got -1")
	_, err = Normalize(&Query{Measures: []string{"a.b"}, Offset: intp(-1)}, testOptions(t))
	wantInvalid(t, err, "query.offset must be an integer >= 0, got -1")
}

func TestNormalizeTimezone(t *testing.T) {
	tests := []struct {
		name, tz, fallback, want, err string
	}{
		{"default UTC", "", "", "UTC", ""},
		{"deployment default", "", "Europe/Berlin", "Europe/Berlin", ""},
		{"query wins", "Asia/Kolkata", "Europe/Berlin", "Asia/Kolkata", ""},
		{"unknown", "Mars/Olympus", "", "", `Invalid query format: "timezone" must be a valid IANA time zone like "America/New_York", got "Mars/Olympus"`},
		{"Local refused", "Local", "", "", `"timezone" must be a valid IANA time zone, got "Local"`},
		{"path refused", "../etc/passwd", "", "", `got "../etc/passwd"`},
		{"bad deployment default", "", "Nowhere/City", "", `got "Nowhere/City"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := &Query{Measures: []string{"orders.count"}, Timezone: tt.tz}
			opt := testOptions(t)
			opt.DefaultTimezone = tt.fallback
			n, err := Normalize(q, opt)
			if tt.err != "" {
				wantInvalid(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n.Timezone != tt.want || n.Query.Timezone != tt.want || n.Location.String() != tt.want {
				t.Errorf("timezone %q / %q / %q, want %q", n.Timezone, n.Query.Timezone, n.Location, tt.want)
			}
		})
	}
}

func TestNormalizeTimeDimensions(t *testing.T) {
	opt := testOptions(t)
	opt.DefaultTimezone = "America/New_York"
	n, err := normalizeJSON(t, `{
		"measures": ["orders.count"],
		"dimensions": ["orders.status", "orders.created_at.month", "users.signed_up_at.fiscal_year"],
		"timeDimensions": [
			{"dimension": "orders.created_at", "granularity": "day", "dateRange": "this week"},
			{"dimension": "orders.shipped_at", "dateRange": ["2024-01-01", "2024-01-31"]},
			{"dimension": "orders.paid_at"}
		]}`, opt)
	if err != nil {
		t.Fatal(err)
	}
	want := []NormTimeDimension{
		{Dimension: "orders.created_at", Granularity: "day", DateRange: &Range{"2024-03-11T00:00:00.000", "2024-03-17T23:59:59.999"}},
		{Dimension: "orders.shipped_at", DateRange: &Range{"2024-01-01T00:00:00.000", "2024-01-31T23:59:59.999"}},
		{Dimension: "orders.paid_at"},
		{Dimension: "orders.created_at", Granularity: "month"},
		{Dimension: "users.signed_up_at", Granularity: "fiscal_year"},
	}
	if !reflect.DeepEqual(n.TimeDimensions, want) {
		t.Errorf("got  %+v\nwant %+v", n.TimeDimensions, want)
	}
	if !reflect.DeepEqual(n.Query.Dimensions, []string{"orders.status"}) {
		t.Errorf("dimensions = %q", n.Query.Dimensions)
	}
	echo, _ := json.Marshal(n.Query.TimeDimensions)
	wantEcho := `[{"dimension":"orders.created_at","granularity":"day","dateRange":["2024-03-11T00:00:00.000","2024-03-17T23:59:59.999"]},` +
		`{"dimension":"orders.shipped_at","dateRange":["2024-01-01T00:00:00.000","2024-01-31T23:59:59.999"]},` +
		`{"dimension":"orders.paid_at"},` +
		`{"dimension":"orders.created_at","granularity":"month"},` +
		`{"dimension":"users.signed_up_at","granularity":"fiscal_year"}]`
	if string(echo) != wantEcho {
		t.Errorf("echo\n got  %s\n want %s", echo, wantEcho)
	}

	_, err = normalizeJSON(t, `{"measures": ["a.b"], "timeDimensions": [{"dimension": "a.t", "dateRange": "sometime"}]}`, opt)
	wantInvalid(t, err, "Can't parse date: 'sometime' at query.timeDimensions[0].dateRange")
	_, err = Normalize(&Query{Measures: []string{"a.b"}, TimeDimensions: []TimeDimension{{Granularity: "day"}}}, opt)
	wantInvalid(t, err, `query.timeDimensions[0] must have a "dimension"`)
}

func TestNormalizeCompareDateRange(t *testing.T) {
	n, err := normalizeJSON(t, `{"measures": ["orders.count"], "timeDimensions": [
		{"dimension": "orders.created_at", "granularity": "day",
		 "compareDateRange": [["2024-01-01", "2024-01-31"], "last month", ["2024-03-05"]]}]}`, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []Range{
		{"2024-01-01T00:00:00.000", "2024-01-31T23:59:59.999"},
		{"2024-02-01T00:00:00.000", "2024-02-29T23:59:59.999"},
		{"2024-03-05T00:00:00.000", "2024-03-05T23:59:59.999"},
	}
	td := n.TimeDimensions[0]
	if td.DateRange != nil || !reflect.DeepEqual(td.Compare, want) {
		t.Errorf("got %+v, want compare %+v", td, want)
	}
	echo, _ := json.Marshal(n.Query.TimeDimensions[0].CompareDateRange)
	if want := `[["2024-01-01T00:00:00.000","2024-01-31T23:59:59.999"],["2024-02-01T00:00:00.000","2024-02-29T23:59:59.999"],["2024-03-05T00:00:00.000","2024-03-05T23:59:59.999"]]`; string(echo) != want {
		t.Errorf("echo %s", echo)
	}

	tests := []struct{ name, tds, err string }{
		{"two time dimensions compare", `[{"dimension": "a.t", "compareDateRange": ["today"]}, {"dimension": "a.u", "compareDateRange": ["today"]}]`,
			"compareDateRange can only exist for one timeDimension"},
		{"with dateRange", `[{"dimension": "a.t", "dateRange": "today", "compareDateRange": ["yesterday"]}]`,
			"query.timeDimensions[0] has both dateRange and compareDateRange"},
		{"bad range", `[{"dimension": "a.t", "compareDateRange": ["today", ["2024-01-01", "soon"]]}]`,
			"Can't parse date: 'soon' (a date range array takes absolute dates"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Built without Decode, which rejects the first two shapes itself (see
			// TestDecodeRejects): Normalize must still catch them in queries built by code.
			var tds []TimeDimension
			if err := json.Unmarshal([]byte(tt.tds), &tds); err != nil {
				t.Fatal(err)
			}
			_, err := Normalize(&Query{Measures: []string{"a.c"}, TimeDimensions: tds}, testOptions(t))
			wantInvalid(t, err, tt.err)
			if tt.name == "bad range" {
				wantInvalid(t, err, "at query.timeDimensions[0].compareDateRange[1]")
			}
		})
	}
}

func TestNormalizeDefaultOrder(t *testing.T) {
	tests := []struct {
		name, in string
		want     []OrderItem
		dflt     bool
	}{
		{"measures and dimensions: first measure descending",
			`{"measures": ["orders.count", "orders.total"], "dimensions": ["orders.status", "orders.city"]}`,
			[]OrderItem{{ID: "orders.count", Desc: true}}, true},
		{"time dimension with granularity first",
			`{"measures": ["orders.count"], "dimensions": ["orders.status"], "timeDimensions": [{"dimension": "orders.shipped_at"}, {"dimension": "orders.created_at", "granularity": "day"}]}`,
			[]OrderItem{{ID: "orders.created_at"}}, true},
		{"time dimension without granularity does not count",
			`{"measures": ["orders.count"], "dimensions": ["orders.status"], "timeDimensions": [{"dimension": "orders.created_at", "dateRange": "today"}]}`,
			[]OrderItem{{ID: "orders.count", Desc: true}}, true},
		{"three-part dimension is a time dimension",
			`{"measures": ["orders.count"], "dimensions": ["orders.status", "orders.created_at.week"]}`,
			[]OrderItem{{ID: "orders.created_at"}}, true},
		{"dimensions only: first dimension ascending",
			`{"dimensions": ["orders.status", "orders.city"]}`,
			[]OrderItem{{ID: "orders.status"}}, true},
		{"measures only: none",
			`{"measures": ["orders.count"]}`, nil, true},
		{"empty array: none",
			`{"measures": ["orders.count"], "dimensions": ["orders.status"], "order": []}`, []OrderItem{}, false},
		{"empty object: none",
			`{"measures": ["orders.count"], "dimensions": ["orders.status"], "order": {}}`, []OrderItem{}, false},
		{"explicit order kept",
			`{"measures": ["orders.count"], "dimensions": ["orders.status"], "order": {"orders.status": "asc", "orders.count": "desc"}}`,
			[]OrderItem{{ID: "orders.status"}, {ID: "orders.count", Desc: true}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := normalizeJSON(t, tt.in, testOptions(t))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(n.Order, tt.want) || n.DefaultOrder != tt.dflt {
				t.Errorf("order %+v (default %v), want %+v (default %v)", n.Order, n.DefaultOrder, tt.want, tt.dflt)
			}
		})
	}
	_, err := Normalize(&Query{Measures: []string{"a.b"}, Order: Order{Set: true, Items: []OrderItem{{ID: ""}}}}, testOptions(t))
	wantInvalid(t, err, "query.order[0]")
}

// TestNormalizeRoundTrip checks that the echoed query decodes again and normalises to itself,
// so a client may send back what it was shown.
func TestNormalizeRoundTrip(t *testing.T) {
	in := `{
		"measures": ["orders.count", "orders.total_revenue"],
		"dimensions": ["orders.status", "orders.created_at.month"],
		"segments": ["orders.completed"],
		"timeDimensions": [{"dimension": "orders.created_at", "granularity": "day", "dateRange": "last 7 days"},
		                   {"dimension": "orders.shipped_at", "compareDateRange": ["this month", ["2024-01-01", "2024-01-31"]]}],
		"filters": [{"dimension": "orders.status", "operator": "equals", "values": ["completed", 1, null]},
		            {"or": [{"member": "orders.created_at", "operator": "beforeDate", "values": ["yesterday"]},
		                    {"member": "orders.created_at", "operator": "inDateRange", "values": ["last quarter"]},
		                    {"and": []}]}],
		"order": [["orders.count", "desc"], ["orders.created_at.day", "asc"]],
		"limit": 0, "offset": 5, "total": true, "timezone": "Asia/Kolkata", "ungrouped": false,
		"responseFormat": "columnar", "joinHints": [["orders", "users"]], "cacheMode": "must-revalidate",
		"numbers": "typed", "renewQuery": false
	}`
	n1, err := normalizeJSON(t, in, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	b1, err := json.Marshal(n1.Query)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"measures":["orders.count","orders.total_revenue"],"dimensions":["orders.status"],"segments":["orders.completed"],` +
		`"timeDimensions":[{"dimension":"orders.created_at","granularity":"day","dateRange":["2024-03-06T00:00:00.000","2024-03-12T23:59:59.999"]},` +
		`{"dimension":"orders.shipped_at","compareDateRange":[["2024-03-01T00:00:00.000","2024-03-31T23:59:59.999"],["2024-01-01T00:00:00.000","2024-01-31T23:59:59.999"]]},` +
		`{"dimension":"orders.created_at","granularity":"month"}],` +
		`"filters":[{"member":"orders.status","operator":"equals","values":["completed","1",null]},` +
		`{"or":[{"member":"orders.created_at","operator":"beforeDate","values":["2024-03-12T00:00:00.000"]},` +
		`{"member":"orders.created_at","operator":"inDateRange","values":["2023-10-01T00:00:00.000","2023-12-31T23:59:59.999"]}]}],` +
		`"order":[{"id":"orders.count","desc":true},{"id":"orders.created_at.day","desc":false}],` +
		`"limit":10000,"offset":5,"total":true,"timezone":"Asia/Kolkata","responseFormat":"columnar","joinHints":[["orders","users"]],` +
		`"cache":"must-revalidate","numbers":"typed"}`
	if string(b1) != want {
		t.Errorf("echo\n got  %s\n want %s", b1, want)
	}
	n2, err := normalizeJSON(t, string(b1), Options{Now: mustTime(t, "2030-01-01T00:00:00Z")})
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(n2.Query)
	if string(b1) != string(b2) {
		t.Errorf("second normalisation differs\n first  %s\n second %s", b1, b2)
	}
	if !reflect.DeepEqual(n1.TimeDimensions[:2], n2.TimeDimensions[:2]) {
		t.Errorf("time dimensions differ: %+v vs %+v", n1.TimeDimensions, n2.TimeDimensions)
	}
}

func TestNormalizeLeavesInputAlone(t *testing.T) {
	q, err := Decode([]byte(`{"measures": ["a.m"], "dimensions": ["a.d", "a.t.day"], "limit": 3, "offset": 2,
		"timeDimensions": [{"dimension": "a.t", "dateRange": "today"}],
		"filters": [{"member": "a.t", "operator": "beforeDate", "values": ["today"]}, {"and": []}],
		"order": {"a.m": "desc"}}`))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(q)
	n, err := Normalize(q, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	*n.Query.Limit, *n.Query.Offset = 99, 99
	n.Query.Order.Items[0].Desc = false
	n.Query.Measures[0] = "x.y"
	after, _ := json.Marshal(q)
	if string(before) != string(after) {
		t.Errorf("input changed\n before %s\n after  %s", before, after)
	}
	if n.Limit != 3 || n.Offset != 2 {
		t.Errorf("limit %d offset %d changed with the echo", n.Limit, n.Offset)
	}
}

func TestNormalizeUsesNowInQueryZone(t *testing.T) {
	// 2024-03-13T19:00Z is already the 14th in Kolkata but still the 13th in New York.
	for tz, want := range map[string]string{"Asia/Kolkata": "2024-03-14", "America/New_York": "2024-03-13", "UTC": "2024-03-13"} {
		n, err := Normalize(&Query{Measures: []string{"a.b"}, Timezone: tz,
			TimeDimensions: []TimeDimension{{Dimension: "a.t", DateRange: DateRange{Relative: "today"}}}},
			Options{Now: mustTime(t, "2024-03-13T19:00:00Z")})
		if err != nil {
			t.Fatal(err)
		}
		if got := n.TimeDimensions[0].DateRange.From; !strings.HasPrefix(got, want) {
			t.Errorf("%s: today starts %s, want %s", tz, got, want)
		}
	}
}
