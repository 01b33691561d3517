package sqlapi

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/model"
)

// TestSecurityContextByLogin: a session's security context is {"user": <login>}, and the
// super user's WHERE __user = 'x' runs that query as {"user": "x"}, over pgx and against
// hand-written SQL. Another user may not switch.
func TestSecurityContextByLogin(t *testing.T) {
	sh := openShop(t)
	m, err := model.Load("testdata/security")
	if err != nil {
		t.Fatal(err)
	}
	cfg := engine.DefaultConfig()
	cfg.Now = func() time.Time { return testNow }
	eng := engine.New(m, dialect.DuckDB{}, sh.db, cfg)
	h := NewHandler(Options{Engines: fixedEngine{eng}, User: "cube", Password: "secret", SuperUser: "admin"})
	t.Cleanup(func() { h.Close() })
	url := servePG(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	connect := func(user string) *pgx.Conn {
		t.Helper()
		conn, err := pgx.Connect(ctx, strings.Replace(url, "postgres://cube:", "postgres://"+user+":", 1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		return conn
	}
	query := func(conn *pgx.Conn, sql string) [][]string {
		t.Helper()
		rows, err := conn.Query(ctx, sql)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		data, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return textRows(data)
	}
	cube, admin := connect("cube"), connect("admin")
	byStatus := func(userIDs string) [][]string {
		return rawRows(t, sh.db, "SELECT status, count(*) FROM orders WHERE user_id IN ("+userIDs+") GROUP BY 1")
	}
	// Post-processed (upper()) as well as a plain Cube query.
	const post = "SELECT upper(status), MEASURE(count) FROM my_orders %s GROUP BY 1"
	upper := func(userIDs string) [][]string {
		return rawRows(t, sh.db, "SELECT upper(status), count(*) FROM orders WHERE user_id IN ("+userIDs+") GROUP BY 1")
	}
	for _, c := range []struct {
		name string
		conn *pgx.Conn
		sql  string
		want [][]string
	}{
		{"login cube", cube, "SELECT status, MEASURE(count) FROM my_orders GROUP BY 1", byStatus("7")},
		{"login cube, __user itself", cube, "SELECT status, MEASURE(count) FROM my_orders WHERE __user = 'cube' GROUP BY 1", byStatus("7")},
		{"super user as u8", admin, "SELECT status, MEASURE(count) FROM my_orders WHERE __user = 'u8' GROUP BY 1", byStatus("8")},
		{"super user as u9, post-processed", admin, strings.Replace(post, "%s", "WHERE __user = 'u9'", 1), upper("9")},
		{"super user as cube", admin, "SELECT status, MEASURE(count) FROM my_orders WHERE __user = 'cube' GROUP BY 1", byStatus("7")},
		// The super user's own context has no orders: "admin" is nobody's login.
		{"super user", admin, "SELECT MEASURE(count) FROM my_orders", [][]string{{"0"}}},
	} {
		if len(c.want) == 0 {
			t.Fatalf("%s: the hand-written SQL found no rows; the case cannot tell contexts apart", c.name)
		}
		sameRows(t, c.name, query(c.conn, c.sql), c.want, false)
	}

	// EXPLAIN shows the switched user as a parameter.
	var plan []string
	for _, r := range query(admin, "EXPLAIN SELECT MEASURE(count) FROM my_orders WHERE __user = 'u8'") {
		plan = append(plan, r...)
	}
	if text := strings.Join(plan, "\n"); !strings.Contains(text, `login = $1`) || !strings.Contains(text, `Parameters: ["u8"`) {
		t.Errorf("EXPLAIN:\n%s", text)
	}

	_, err = cube.Exec(ctx, "SELECT MEASURE(count) FROM my_orders WHERE __user = 'u8'")
	var pe *pgconn.PgError
	const msg = "You cannot change security context via __user from cube to u8, because it's not allowed."
	if !errors.As(err, &pe) || pe.Code != "42501" || pe.Message != msg {
		t.Errorf("cube switching to u8: %v, want 42501 %s", err, msg)
	}
	_, err = cube.Exec(ctx, "SELECT MEASURE(count) FROM tenant_orders")
	const required = "Filter for channel is required: the security context has no tenant"
	if !errors.As(err, &pe) || pe.Code != "42501" || pe.Message != required {
		t.Errorf("requiredFilter without the key: %v, want 42501 %s", err, required)
	}
}
