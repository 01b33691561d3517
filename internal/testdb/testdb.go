package testdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL is the environment variable that names the test PostgreSQL server.
const EnvURL = "CUBIT_TEST_PG_URL"

// Postgres returns the URL of the test PostgreSQL server from CUBIT_TEST_PG_URL. When the
// variable is unset the test is skipped, except in CI (CI=true), where a missing database
// is a broken set-up and fails the test.
func Postgres(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u != "" {
		return u
	}
	const how = "; .ci/run --setup starts one on 127.0.0.1:55432 and prints the URL " +
		"(export CUBIT_TEST_PG_URL=postgres://ci:ci@127.0.0.1:55432/cidb?sslmode=disable)"
	if os.Getenv("CI") == "true" {
		t.Fatal(EnvURL + " is not set in CI: .ci/run must start PostgreSQL before the tests" + how)
	}
	t.Skip(EnvURL + " not set: this test needs PostgreSQL" + how)
	return ""
}

// FreshSchema creates a schema with a unique name in the database at url and returns a URL
// whose connections use it as their search_path (through the libpq `options` parameter, so
// pgx, psql and psycopg all honour it). Tables created without a schema name land in it.
// The schema and everything in it are dropped when the test ends.
func FreshSchema(t testing.TB, dbURL string) (schemaURL string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	schema := schemaName(t.Name())
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("testdb: connecting to %s: %v", redact(dbURL), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("testdb: creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Errorf("testdb: dropping schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("testdb: dropping schema %s: %v", schema, err)
		}
	})

	u, err := url.Parse(dbURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("testdb: %s must be a postgres:// URL", EnvURL)
	}
	q := u.Query()
	opt := "-csearch_path=" + schema
	if old := q.Get("options"); old != "" {
		opt = old + " " + opt
	}
	q.Set("options", opt)
	// libpq and pgx do not read '+' in a URL as a space; %20 works for both.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String()
}

// schemaName makes a valid, unique, lower-case identifier of at most 63 bytes from a test
// name, readable enough to tell which test left a schema behind after a crash.
func schemaName(testName string) string {
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(testName) {
		if b.Len() >= 40 {
			break
		}
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	return b.String() + "_" + hex.EncodeToString(suffix[:])
}

func redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "the test database"
	}
	return u.Redacted()
}
