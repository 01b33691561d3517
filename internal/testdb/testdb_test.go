package testdb

import (
	"context"
	"regexp"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestSchemaName(t *testing.T) {
	valid := regexp.MustCompile(`^t_[a-z0-9_]+_[0-9a-f]{12}$`)
	a := schemaName("TestLoad/Sub-Test with Spaces and a very long name that goes on and on")
	b := schemaName("TestLoad/Sub-Test with Spaces and a very long name that goes on and on")
	if !valid.MatchString(a) || len(a) > 63 || a == b {
		t.Errorf("schema names %q, %q: want valid, at most 63 bytes, unique", a, b)
	}
}

func TestFreshSchema(t *testing.T) {
	base := Postgres(t)
	ctx := context.Background()
	var schema string
	t.Run("inner", func(t *testing.T) {
		u := FreshSchema(t, base)
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "CREATE TABLE probe (x int)"); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, "SELECT table_schema FROM information_schema.tables WHERE table_name = 'probe' AND table_schema = current_schema()").Scan(&schema); err != nil {
			t.Fatal(err)
		}
		if schema == "public" {
			t.Errorf("table created in public, not in the fresh schema")
		}
	})
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1", schema).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if schema == "" || n != 0 {
		t.Errorf("schema %q still exists after the test", schema)
	}
}
