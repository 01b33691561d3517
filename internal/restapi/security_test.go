package restapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/restapi"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

// TestSecurityContextFromClaims: the token's claims are the security context, so two
// tokens asking the same query get the rows of their own user (checked against hand-written
// SQL), and /v1/sql shows the claim's value as a parameter.
func TestSecurityContextFromClaims(t *testing.T) {
	t.Parallel()
	db, _ := demoShop(t)
	m, err := model.Load("testdata/security")
	if err != nil {
		t.Fatal(err)
	}
	a := startAPI(t, engine.New(m, dialect.DuckDB{}, db, engine.DefaultConfig()), restapi.Options{})
	count := func(sql string) string {
		t.Helper()
		rows, err := db.Query(context.Background(), sql, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, data, err := warehouse.Collect(rows)
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(data[0][0])
	}
	token := func(claims map[string]any) string {
		t.Helper()
		tok, err := a.auth.Mint(claims, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	const body = `{"query":{"measures":["my_orders.count"]}}`
	for _, c := range []struct {
		name   string
		claims map[string]any
		want   string
	}{
		{"user 7", map[string]any{"user_id": 7}, count("SELECT count(*) FROM orders WHERE user_id = 7")},
		{"user 8", map[string]any{"user_id": 8}, count("SELECT count(*) FROM orders WHERE user_id = 8")},
		{"users 7 and 8", map[string]any{"user_id": []any{7, 8}}, count("SELECT count(*) FROM orders WHERE user_id IN (7, 8)")},
		{"no user", map[string]any{"tenant": "test"}, count("SELECT count(*) FROM orders")},
	} {
		// Twice: the second answer may come from the result cache, which must keep the
		// contexts apart.
		for range 2 {
			r := a.do(t, http.MethodPost, "/v1/load", body, "Authorization", token(c.claims))
			if r.status != http.StatusOK {
				t.Fatalf("%s: status %d: %s", c.name, r.status, r.body)
			}
			data, _ := r.json(t)["data"].([]any)
			if len(data) != 1 {
				t.Fatalf("%s: data %s", c.name, r.body)
			}
			if got := data[0].(map[string]any)["my_orders.count"]; got != c.want {
				t.Errorf("%s: my_orders.count = %v, want %s", c.name, got, c.want)
			}
		}
	}

	r := a.do(t, http.MethodPost, "/v1/sql", body, "Authorization", token(map[string]any{"user_id": 7}))
	sql, _ := r.json(t)["sql"].(map[string]any)["sql"].([]any)
	if len(sql) != 2 || fmt.Sprint(sql[1]) != "[7 10000]" {
		t.Errorf("/v1/sql: %s", r.body)
	}

	r = a.do(t, http.MethodPost, "/v1/load", `{"query":{"measures":["strict_orders.count"]}}`, "Authorization", token(map[string]any{"tenant": "test"}))
	wantError(t, r, http.StatusForbidden, "", "Filter for user_id is required: the security context has no user_id")
}
