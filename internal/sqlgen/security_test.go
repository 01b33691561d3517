package sqlgen_test

import (
	"strings"
	"testing"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
)

// TestSecurityContextErrors checks the queries a security context cannot answer: a
// requiredFilter without its key is forbidden, and a value that cannot be bound is refused.
func TestSecurityContextErrors(t *testing.T) {
	m, err := model.Load("testdata/models/security")
	if err != nil {
		t.Fatal(err)
	}
	strict := `{"measures": ["strict_orders.count"], "segments": ["strict_orders.tenant"]}`
	mine := `{"measures": ["my_orders.count"]}`
	for _, c := range []struct {
		name     string
		query    string
		security map[string]any
		kind     errs.Kind
		message  string
	}{
		{"required missing", strict, nil, errs.KindForbidden,
			"Filter for strict_orders.user_id is required: the security context has no user_id"},
		{"required null", strict, map[string]any{"user_id": nil}, errs.KindForbidden,
			"Filter for strict_orders.user_id is required: the security context has no user_id"},
		{"object value", mine, map[string]any{"user_id": map[string]any{"a": 1.0}}, errs.KindInvalid,
			"security context value user_id is an object: SECURITY_CONTEXT takes a string, a number, a boolean or an array of them"},
		{"nested array", mine, map[string]any{"user_id": []any{1.0, []any{2.0}}}, errs.KindInvalid,
			"security context value user_id[1] is an array: SECURITY_CONTEXT takes a string, a number, a boolean or an array of them"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := compileAs(m, dialect.Postgres{}, c.query, c.security)
			if err == nil {
				t.Fatal("compiled, want an error")
			}
			if errs.KindOf(err) != c.kind || err.Error() != c.message {
				t.Errorf("error = %s %q, want %s %q", errs.KindOf(err), err, c.kind, c.message)
			}
		})
	}
	// A whole JSON number (float64 once decoded) binds as an integer, a fraction as is.
	_, stmt, err := compileAs(m, dialect.DuckDB{}, mine, map[string]any{"user_id": []any{7.0, 7.5}})
	if err != nil {
		t.Fatal(err)
	}
	if got := stmt.Args[:2]; got[0] != int64(7) || got[1] != 7.5 || !strings.Contains(stmt.SQL, "user_id IN ($1, $2)") {
		t.Errorf("args %#v, SQL %s", stmt.Args, stmt.SQL)
	}
}
