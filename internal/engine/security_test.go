package engine_test

import (
	"context"
	"testing"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/query"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
	"github.com/cubit-dev/cubit/internal/warehouse/postgres"
)

// openSecurity loads testdata/security over the demo shop's tables.
func openSecurity(t *testing.T, engineName string) corpusTarget {
	t.Helper()
	m, err := model.Load("testdata/security")
	if err != nil {
		t.Fatalf("security model: %v", err)
	}
	wh, d := openWarehouse(t, engineName)
	ctx := context.Background()
	switch db := wh.(type) {
	case *duckdb.DB:
		err = duckdb.LoadTables(ctx, db, demo.Shop(corpusScale))
	case *postgres.DB:
		err = postgres.LoadTables(ctx, db, demo.Shop(corpusScale))
	}
	if err != nil {
		t.Fatal(err)
	}
	return newTarget(engineName, m, wh, d)
}

// asking decodes a query and gives it a security context, as the APIs do.
func asking(t *testing.T, body string, security map[string]any) *query.Query {
	t.Helper()
	q, err := query.Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	q.SecurityContext = security
	return q
}

// TestSecurityContext checks SECURITY_CONTEXT end to end against hand-written SQL: one
// value, an array, no key, a required key, and a result cache shared by two contexts.
func TestSecurityContext(t *testing.T) {
	for _, engineName := range []string{"duckdb", "postgres"} {
		t.Run(engineName, func(t *testing.T) {
			target := openSecurity(t, engineName)
			ctx := context.Background()
			count := func(body string, security map[string]any) string {
				t.Helper()
				res, err := target.engine.Query(ctx, asking(t, body, security))
				if err != nil {
					t.Fatal(err)
				}
				return resultRows(res)[0][0]
			}
			want := func(sql string) string {
				t.Helper()
				return checkRows(t, target.wh, sql)[0][0]
			}
			const q = `{"measures": ["my_orders.count"]}`
			// A token's claims decode numbers as float64.
			seven := map[string]any{"user_id": 7.0}
			eight := map[string]any{"user_id": 8.0}
			one, all := want("SELECT count(*) FROM orders WHERE user_id = 7"), want("SELECT count(*) FROM orders")
			if one == "0" || one == all {
				t.Fatalf("user 7 has %s of %s orders: the test data cannot tell the contexts apart", one, all)
			}
			cases := []struct {
				name     string
				security map[string]any
				want     string
			}{
				{"one value", seven, one},
				{"array", map[string]any{"user_id": []any{7.0, 8.0}}, want("SELECT count(*) FROM orders WHERE user_id IN (7, 8)")},
				{"empty array", map[string]any{"user_id": []any{}}, "0"},
				{"string value", map[string]any{"user_id": "7"}, one},
				{"no key", map[string]any{"tenant": "x"}, all},
				{"no context", nil, all},
			}
			for _, c := range cases {
				if got := count(q, c.security); got != c.want {
					t.Errorf("%s: count = %s, want %s", c.name, got, c.want)
				}
			}

			// The cache must not serve one context's answer to another: the same query, asked
			// again, under each context in turn.
			other := want("SELECT count(*) FROM orders WHERE user_id = 8")
			if other == one {
				t.Fatalf("users 7 and 8 have the same number of orders (%s)", one)
			}
			for range 2 {
				if got := count(q, seven); got != one {
					t.Errorf("cached, user 7: count = %s, want %s", got, one)
				}
				if got := count(q, eight); got != other {
					t.Errorf("cached, user 8: count = %s, want %s", got, other)
				}
			}

			// Compile (dry-run, /sql) shows the context's parameter.
			c, err := target.engine.Compile(asking(t, q, seven))
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Statement.Args) == 0 || c.Statement.Args[0] != int64(7) {
				t.Errorf("compiled args = %#v, want 7 first", c.Statement.Args)
			}

			// Stream (export) reads under the context too.
			rows := 0
			err = target.engine.Stream(ctx, asking(t, `{"dimensions": ["my_orders.id"], "ungrouped": true}`, seven),
				func([]string) error { return nil }, func([]any) error { rows++; return nil })
			if err != nil {
				t.Fatal(err)
			}
			if got := text(int64(rows)); got != one {
				t.Errorf("streamed %s rows, want %s", got, one)
			}

			// Load reads under the context of its queries.
			res, err := target.engine.Load(ctx, engine.Request{Queries: []*query.Query{asking(t, `{"measures": ["strict_orders.count"]}`, seven)}})
			if err != nil {
				t.Fatal(err)
			}
			if got := resultRows(res.(*engine.Result))[0][0]; got != one {
				t.Errorf("strict_orders.count = %s, want %s", got, one)
			}

			_, err = target.engine.Query(ctx, asking(t, `{"measures": ["strict_orders.count"]}`, map[string]any{"tenant": "x"}))
			const msg = "Filter for user_id is required: the security context has no user_id"
			if errs.KindOf(err) != errs.KindForbidden || err.Error() != msg {
				t.Errorf("requiredFilter without the key: %v (%s), want forbidden %q", err, errs.KindOf(err), msg)
			}
		})
	}
}
