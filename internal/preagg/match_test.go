package preagg

import (
	"strings"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/query"
)

func testModel(t *testing.T) *model.Model {
	t.Helper()
	m, err := model.Load("testdata/model")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func resolve(t *testing.T, m *model.Model, js string) *query.Resolved {
	t.Helper()
	q, err := query.Decode([]byte(js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	n, err := query.Normalize(q, query.Options{Now: time.Date(2025, 6, 15, 10, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	r, err := query.Resolve(n, m)
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return r
}

func TestRollsUp(t *testing.T) {
	for _, c := range []struct {
		fine, coarse string
		want         bool
	}{
		{"day", "day", true}, {"day", "week", true}, {"day", "month", true}, {"day", "year", true},
		{"hour", "day", true}, {"hour", "week", true}, {"second", "year", true},
		{"week", "week", true}, {"week", "month", false}, {"week", "year", false}, {"week", "day", false},
		{"month", "quarter", true}, {"quarter", "year", true}, {"month", "week", false},
		{"month", "day", false}, {"year", "month", false}, {"day", "fiscal_year", false},
	} {
		if got := RollsUp(c.fine, c.coarse); got != c.want {
			t.Errorf("RollsUp(%s, %s) = %v, want %v", c.fine, c.coarse, got, c.want)
		}
	}
}

func TestRollupsUnusable(t *testing.T) {
	want := map[string]string{
		"orders.daily": "", "orders.weekly": "", "orders.web_daily": "",
		"orders.by_city":    "", // its dimension reads users, joined many_to_one
		"orders.rolling":    "rolling window",
		"orders.sources":    "", // built as a copy of the cube's table, never matched (TestOriginalSQL)
		"orders.by_place":   "",
		"orders.by_region":  "ambiguous join path",
		"users.by_item_sku": "users -> line_items is one_to_many",
	}
	for _, r := range Rollups(testModel(t)) {
		w, ok := want[r.ID()]
		if !ok {
			t.Errorf("unexpected rollup %s", r.ID())
			continue
		}
		if (w == "") != (r.Unusable == "") || !strings.Contains(r.Unusable, w) {
			t.Errorf("%s: unusable %q, want %q", r.ID(), r.Unusable, w)
		}
	}
}

// TestMatch lists queries and the rollup that answers them first in model order ("" for
// none), with, for the others, a part of why the first candidate (daily) refuses.
func TestMatch(t *testing.T) {
	m := testModel(t)
	rollups := Rollups(m)
	utc := Coverage{Timezone: "UTC"}
	for _, c := range []struct {
		name, query string
		want        string // the first matching rollup
		why         string // when want is not daily: a part of daily's refusal
	}{
		{"additive subset of dimensions", `{"measures":["orders.count","orders.revenue"],"dimensions":["orders.status"]}`, "orders.daily", ""},
		{"no dimensions", `{"measures":["orders.count"]}`, "orders.daily", ""},
		{"measure filters keep a measure additive", `{"measures":["orders.completed_revenue"],"dimensions":["orders.channel"]}`, "orders.daily", ""},
		{"min re-aggregates", `{"measures":["orders.smallest"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"month"}]}`, "orders.daily", ""},
		{"day rollup answers week", `{"measures":["orders.count"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"week"}]}`, "orders.daily", ""},
		{"day rollup answers year", `{"measures":["orders.count"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"year"}]}`, "orders.daily", ""},
		{"day rollup does not answer hour", `{"measures":["orders.count"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"hour"}]}`, "", "granularity hour"},
		{"custom granularity", `{"measures":["orders.count"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"fiscal_year"}]}`, "", "custom granularity"},
		{"aligned date range", `{"measures":["orders.count"],"timeDimensions":[{"dimension":"orders.created_at","dateRange":["2024-01-01","2024-03-31"]}]}`, "orders.daily", ""},
		{"unaligned date range", `{"measures":["orders.count"],"timeDimensions":[{"dimension":"orders.created_at","dateRange":["2024-01-01T12:00:00","2024-03-31"]}]}`, "", "not aligned"},
		{"week rollup needs week-aligned ranges", `{"measures":["orders.count"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"week","dateRange":["2024-01-03","2024-01-09"]}]}`, "orders.daily", ""},
		{"filter on a rollup dimension", `{"measures":["orders.count"],"filters":[{"member":"orders.status","operator":"equals","values":["completed"]}]}`, "orders.daily", ""},
		{"or filter on rollup dimensions", `{"measures":["orders.count"],"filters":[{"or":[{"member":"orders.status","operator":"equals","values":["a"]},{"member":"orders.channel","operator":"set"}]}]}`, "orders.daily", ""},
		{"filter on a dimension not in the rollup", `{"measures":["orders.count"],"filters":[{"member":"orders.id","operator":"equals","values":["1"]}]}`, "", "orders.id is not in the rollup"},
		{"filter on the rollup's time dimension as a member", `{"measures":["orders.count"],"filters":[{"member":"orders.created_at","operator":"beforeDate","values":["2024-01-01"]}]}`, "", "orders.created_at is not in the rollup"},
		{"having on an additive measure", `{"measures":["orders.count"],"dimensions":["orders.status"],"filters":[{"member":"orders.revenue","operator":"gt","values":["10"]}]}`, "orders.daily", ""},
		{"dimension not in the rollup", `{"measures":["orders.count"],"dimensions":["orders.id"]}`, "", "orders.id is not in the rollup"},
		{"measure not in any rollup", `{"measures":["users.count"]}`, "", "users.count is not in the rollup"},
		{"non-additive on exact match", `{"measures":["orders.aov","orders.customers"],"dimensions":["orders.status","orders.channel","orders.completed_at"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"day"}]}`, "orders.daily", ""},
		{"non-additive with fewer dimensions", `{"measures":["orders.aov"],"dimensions":["orders.status"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"day"}]}`, "", "exact dimensions"},
		{"non-additive at a coarser granularity", `{"measures":["orders.customers"],"dimensions":["orders.status","orders.channel","orders.completed_at"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"month"}]}`, "", "time dimension at day"},
		{"non-additive without the time dimension", `{"measures":["orders.ratio"],"dimensions":["orders.status","orders.channel","orders.completed_at"]}`, "", "time dimension at day"},
		{"approximate distinct is not additive", `{"measures":["orders.customers_approx"]}`, "", "exact dimensions"},
		{"raw time dimension at any granularity", `{"measures":["orders.count"],"timeDimensions":[{"dimension":"orders.completed_at","granularity":"hour","dateRange":["2024-01-01T10:30:00","2024-01-01T11:00:00"]}]}`, "orders.daily", ""},
		{"segment only on the segment's rollup", `{"measures":["orders.count"],"segments":["orders.web"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"month"}]}`, "orders.web_daily", "segments are not the rollup's"},
		{"week rollup answers week only", `{"measures":["orders.count"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"week"}]}`, "orders.daily", ""},
		{"view member without a join", `{"measures":["orders_view.count"],"dimensions":["orders_view.status"]}`, "orders.daily", ""},
		{"view member through a join", `{"measures":["orders_view.count"],"dimensions":["orders_view.users_city"]}`, "orders.by_place", "users_city is not in the rollup"},
		{"joined dimension", `{"measures":["orders.count","orders.revenue"],"dimensions":["users.city"]}`, "orders.by_place", "users.city is not in the rollup"},
		{"dimension joined through a chain", `{"measures":["orders.count"],"dimensions":["tiers.name","orders.status"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"month"}]}`, "orders.by_place", "tiers.name is not in the rollup"},
		{"filter on a joined dimension", `{"measures":["orders.count"],"filters":[{"member":"users.city","operator":"equals","values":["Paris"]}]}`, "orders.by_place", "users.city is not in the rollup"},
		{"non-additive with the joined rollup's exact members", `{"measures":["orders.aov"],"dimensions":["orders.status","users.city","tiers.name"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"day"}]}`, "orders.by_place", "users.city is not in the rollup"},
		{"non-additive missing a joined dimension", `{"measures":["orders.aov"],"dimensions":["orders.status","users.city"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"day"}]}`, "", "users.city is not in the rollup"},
		{"joined dimension without a measure joins from users", `{"dimensions":["users.city"]}`, "", "users.city is not in the rollup"},
		{"joined cube's measure", `{"measures":["users.count"],"dimensions":["users.city"]}`, "", "users.count is not in the rollup"},
		{"joined dimension not in the rollup", `{"measures":["orders.count"],"dimensions":["regions.name"]}`, "", "regions.name is not in the rollup"},
		{"view reaching orders from users", `{"measures":["users_view.orders_count"],"dimensions":["users_view.city"]}`, "", "orders_count is not in the rollup"},
		{"ungrouped", `{"dimensions":["orders.id","orders.status"],"ungrouped":true}`, "", "ungrouped"},
		{"other time zone", `{"measures":["orders.count"],"timezone":"Europe/Paris"}`, "", "time zone Europe/Paris"},
		{"join hints", `{"measures":["orders.count"],"joinHints":[["orders","users"]]}`, "", "join hints"},
		{"rolling window", `{"measures":["orders.revenue_7d"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"day"}]}`, "", "revenue_7d is not in the rollup"},
	} {
		t.Run(c.name, func(t *testing.T) {
			q := resolve(t, m, c.query)
			got := ""
			for _, r := range rollups {
				if Match(q, r, utc) == "" {
					got = r.ID()
					break
				}
			}
			if got != c.want {
				t.Errorf("matched %q, want %q (daily: %s)", got, c.want, Match(q, rollups[0], utc))
			}
			if c.want != "orders.daily" {
				if why := Match(q, rollups[0], utc); !strings.Contains(why, c.why) || why == "" {
					t.Errorf("daily refuses with %q, want it to contain %q", why, c.why)
				}
			}
		})
	}
}

// TestMatchJoinedRollup checks by_place's refusals for queries that name only its members
// but join otherwise.
func TestMatchJoinedRollup(t *testing.T) {
	m := testModel(t)
	var byPlace *Rollup
	for _, r := range Rollups(m) {
		if r.ID() == "orders.by_place" {
			byPlace = r
		}
	}
	if got := byPlace.Tree.String(); got != "orders -> users (many_to_one), users -> tiers (many_to_one)" {
		t.Fatalf("by_place joins %s", got)
	}
	utc := Coverage{Timezone: "UTC"}
	for js, want := range map[string]string{
		`{"measures":["orders.count"],"dimensions":["users.city","tiers.name"]}`:                                                                           "",
		`{"measures":["orders.aov"],"dimensions":["orders.status","users.city"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"day"}]}`: "exact dimensions",
		`{"dimensions":["orders.status","users.city"]}`:                                                                                                    "",
		`{"dimensions":["users.city"]}`:                                                                                       "joins from cube users",
		`{"dimensions":["users.city","tiers.name"]}`:                                                                          "joins from cube users",
		`{"measures":["users_view.orders_count"],"dimensions":["users_view.city"]}`:                                           "orders_count is not in the rollup",
		`{"measures":["orders.count"],"dimensions":["users.city"],"joinHints":[["orders","users"]]}`:                          "join hints",
		`{"measures":["orders.count"],"dimensions":["users.city"],"filters":[{"member":"tiers.name","operator":"set"}]}`:      "",
		`{"measures":["orders.count"],"dimensions":["users.city"],"filters":[{"member":"regions.name","operator":"notSet"}]}`: "regions.name is not in the rollup",
	} {
		got := Match(resolve(t, m, js), byPlace, utc)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", js, got, want)
		}
	}
}

func TestMatchWeekRollup(t *testing.T) {
	m := testModel(t)
	weekly := Rollups(m)[1]
	utc := Coverage{Timezone: "UTC"}
	for js, want := range map[string]string{
		`{"measures":["orders.count"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"week"}]}`:                                         "",
		`{"measures":["orders.count"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"month"}]}`:                                        "granularity month",
		`{"measures":["orders.count"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"day"}]}`:                                          "granularity day",
		`{"measures":["orders.count"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"week","dateRange":["2024-01-01","2024-01-14"]}]}`: "",
		`{"measures":["orders.count"],"timeDimensions":[{"dimension":"orders.created_at","granularity":"week","dateRange":["2024-01-02","2024-01-14"]}]}`: "not aligned",
	} {
		got := Match(resolve(t, m, js), weekly, utc)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", js, got, want)
		}
	}
}

func TestMatchCoverage(t *testing.T) {
	m := testModel(t)
	daily := Rollups(m)[0]
	cov := Coverage{Timezone: "UTC", From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	for js, want := range map[string]string{
		`{"measures":["orders.count"]}`: "reads all time",
		`{"measures":["orders.count"],"timeDimensions":[{"dimension":"orders.created_at","dateRange":["2024-02-01","2024-12-31"]}]}`: "",
		`{"measures":["orders.count"],"timeDimensions":[{"dimension":"orders.created_at","dateRange":["2023-12-01","2024-12-31"]}]}`: "outside",
		`{"measures":["orders.count"],"timeDimensions":[{"dimension":"orders.created_at","dateRange":["2024-02-01","2025-01-01"]}]}`: "outside",
		// New York's 2024 starts five hours after UTC's: still inside.
		`{"measures":["orders.count"],"timezone":"America/New_York","timeDimensions":[{"dimension":"orders.created_at","dateRange":["2024-01-01","2024-06-30"]}]}`: "time zone",
	} {
		got := Match(resolve(t, m, js), daily, cov)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", js, got, want)
		}
	}
}

func TestTrunc(t *testing.T) {
	at := time.Date(2024, 8, 14, 13, 45, 12, 0, time.UTC) // a Wednesday
	for g, want := range map[string]string{
		"second": "2024-08-14T13:45:12", "minute": "2024-08-14T13:45:00", "hour": "2024-08-14T13:00:00",
		"day": "2024-08-14T00:00:00", "week": "2024-08-12T00:00:00", "month": "2024-08-01T00:00:00",
		"quarter": "2024-07-01T00:00:00", "year": "2024-01-01T00:00:00",
	} {
		if got := Trunc(at, g).Format("2006-01-02T15:04:05"); got != want {
			t.Errorf("Trunc(%s) = %s, want %s", g, got, want)
		}
		if !Next(Trunc(at, g), g).After(at) {
			t.Errorf("Next(%s) is not after the time", g)
		}
	}
}
