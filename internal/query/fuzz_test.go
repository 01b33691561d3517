package query

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
)

// seedQueries are realistic queries of the shapes Cube clients send.
var seedQueries = []string{
	`{"measures": ["orders.count"]}`,
	`{"measures": ["orders.total_revenue"], "dimensions": ["orders.status"], "filters": [{"member": "orders.status", "operator": "equals", "values": ["completed"]}]}`,
	`{"measures": ["orders.total_revenue"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": "day", "dateRange": ["2024-01-01", "2024-01-31"]}]}`,
	`{"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": "week", "dateRange": "last 12 weeks"}], "timezone": "America/New_York"}`,
	`{"dimensions": ["users.city", "users.created_at.month"], "order": {"users.city": "asc"}, "limit": 50, "offset": 100}`,
	`{"measures": ["orders.count"], "dimensions": ["orders.status"], "order": [["orders.count", "desc"], ["orders.status", "asc"]], "total": true}`,
	`{"measures": ["orders.count"], "filters": [{"or": [{"member": "orders.status", "operator": "equals", "values": ["a"]}, {"and": [{"member": "orders.amount", "operator": "gt", "values": [100]}, {"member": "orders.amount", "operator": "lte", "values": ["1000.50"]}]}]}]}`,
	`{"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": "month", "compareDateRange": ["this year", "last year"]}]}`,
	`{"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "compareDateRange": [["2023-01-01", "2023-12-31"], ["2024-01-01", "2024-12-31"]], "granularity": "quarter"}]}`,
	`{"measures": ["orders.count"], "filters": [{"member": "orders.created_at", "operator": "inDateRange", "values": ["from 7 days ago to now"]}]}`,
	`{"measures": ["orders.count"], "filters": [{"member": "orders.created_at", "operator": "beforeDate", "values": ["2024-01-01"]}, {"member": "orders.created_at", "operator": "afterDate", "values": ["last month"]}]}`,
	`{"measures": ["orders.count"], "filters": [{"dimension": "orders.status", "operator": "notEquals", "values": [null]}, {"member": "orders.status", "operator": "set"}]}`,
	`{"measures": ["orders.count"], "filters": [{"member": "orders.status", "operator": "contains", "values": ["pl", "co"]}, {"member": "users.name", "operator": "startsWith", "values": ["A"]}]}`,
	`{"measures": ["orders.count"], "dimensions": ["orders.id"], "ungrouped": true, "limit": 10, "responseFormat": "compact"}`,
	`{"measures": ["orders.count"], "segments": ["orders.completed"], "joinHints": [["orders", "users"]], "cache": "no-cache"}`,
	`{"measures": ["orders.count"], "timezone": "Asia/Kolkata", "timeDimensions": [{"dimension": "orders.created_at", "granularity": "hour", "dateRange": "today"}], "numbers": "typed"}`,
	`{"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": null, "dateRange": ["2024-03-10T01:00:00", "2024-03-10T04:00:00.000"]}], "timezone": "America/New_York"}`,
	`{"measures": ["orders.count"], "filters": [{"member": "orders.created_at", "operator": "onTheDate", "values": ["2024-02-29"]}], "renewQuery": true}`,
	`{"measures": ["orders.count"], "filters": [{"member": "orders.count", "operator": "measureFilter"}], "cacheMode": "stale-while-revalidate"}`,
	`{"measures": ["orders.count"], "dimensions": ["orders.status"], "order": [], "limit": 0}`,
	`{"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": "day", "dateRange": "from 2 hours ago to 30 minutes from now"}]}`,
	`{"measures": ["orders.count"], "filters": [{"member": "orders.created_at", "operator": "notInDateRange", "values": ["2024-01-01T00:00:00Z", "2024-01-01T12:00:00+05:30"]}]}`,
	`[{"measures": ["orders.count"], "timeDimensions": [{"dimension": "orders.created_at", "granularity": "day"}]}, {"measures": ["users.count"], "timeDimensions": [{"dimension": "users.created_at", "granularity": "day"}]}]`,
	`{"measures": ["orders.count"], "order": [{"id": "orders.count", "desc": true}]}`,
	`{"measure": ["orders.count"]}`,
	`{"measures": ["orders.count"], "limit": 1e9}`,
}

func fuzzOptions() Options {
	return Options{Now: time.Date(2024, 3, 13, 15, 4, 5, 0, time.UTC), DefaultTimezone: "UTC"}
}

// FuzzDecode checks that no input makes Decode or Normalize panic or fail with anything but a
// user error, and that a normalised query echoes, decodes and normalises back to itself.
func FuzzDecode(f *testing.F) {
	for _, s := range seedQueries {
		f.Add([]byte(s))
	}
	opt := fuzzOptions()
	f.Fuzz(func(t *testing.T, data []byte) {
		qs, _, err := DecodeAny(data)
		if err != nil {
			requireUserError(t, err)
			return
		}
		for _, q := range qs {
			n, err := Normalize(q, opt)
			if err != nil {
				requireUserError(t, err)
				continue
			}
			checkEcho(t, n, opt)
			checkInstants(t, n)
		}
	})
}

func requireUserError(t *testing.T, err error) {
	t.Helper()
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.KindInvalid || e.Message == "" {
		t.Fatalf("not a user error: %T %v", err, err)
	}
}

// checkEcho requires the echoed query to decode and normalise to the same echo.
func checkEcho(t *testing.T, n *Normalized, opt Options) {
	t.Helper()
	b1, err := json.Marshal(n.Query)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	q2, err := Decode(b1)
	if err != nil {
		t.Fatalf("echo %s does not decode: %v", b1, err)
	}
	n2, err := Normalize(q2, opt)
	if err != nil {
		t.Fatalf("echo %s does not normalise: %v", b1, err)
	}
	b2, err := json.Marshal(n2.Query)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	if string(b1) != string(b2) {
		t.Fatalf("normalisation is not stable\n first  %s\n second %s", b1, b2)
	}
}

// checkInstants requires every resolved range to convert to instants for SQL.
func checkInstants(t *testing.T, n *Normalized) {
	t.Helper()
	for _, td := range n.TimeDimensions {
		ranges := td.Compare
		if td.DateRange != nil {
			ranges = append(ranges, *td.DateRange)
		}
		for _, r := range ranges {
			if _, _, err := r.UTC(n.Location); err != nil {
				t.Fatalf("range %v: %v", r, err)
			}
		}
	}
}

func TestSeedQueries(t *testing.T) {
	opt := fuzzOptions()
	for _, s := range seedQueries {
		qs, _, err := DecodeAny([]byte(s))
		if err != nil {
			requireUserError(t, err)
			continue
		}
		for _, q := range qs {
			n, err := Normalize(q, opt)
			if err != nil {
				requireUserError(t, err)
				continue
			}
			checkEcho(t, n, opt)
			checkInstants(t, n)
		}
	}
}

const benchQuery = `{
	"measures": ["orders.count", "orders.total_revenue", "orders.average_value"],
	"dimensions": ["orders.status", "users.city"],
	"timeDimensions": [{"dimension": "orders.created_at", "granularity": "day", "dateRange": ["2024-01-01", "2024-01-31"]}],
	"filters": [
		{"member": "orders.status", "operator": "equals", "values": ["completed", "shipped"]},
		{"member": "users.city", "operator": "contains", "values": ["new"]}
	],
	"order": {"orders.count": "desc"},
	"limit": 1000,
	"timezone": "America/New_York"
}`

// BenchmarkDecodeNormalize measures a typical query: three measures, two dimensions, one
// time dimension with a date range, two filters.
func BenchmarkDecodeNormalize(b *testing.B) {
	data := []byte(benchQuery)
	opt := fuzzOptions()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		q, err := Decode(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Normalize(q, opt); err != nil {
			b.Fatal(err)
		}
	}
}
