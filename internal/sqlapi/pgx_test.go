package sqlapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cubit-dev/cubit/internal/pgwire"
)

// servePG serves the handler on a loopback port with pgwire and returns a connection
// string for pgx.
func servePG(t *testing.T, h *Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := pgwire.NewServer(pgwire.Options{Handler: h})
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return fmt.Sprintf("postgres://cube:secret@%s/anydb?sslmode=disable", ln.Addr())
}

// TestPGX runs the documentation's queries and a post-processed one through pgwire with
// pgx, in the simple and the extended protocol, text and binary, and checks the numbers
// against the raw tables.
func TestPGX(t *testing.T) {
	sh := openShop(t)
	h := NewHandler(Options{Engines: fixedEngine{sh.eng}, User: "cube", Password: "secret", SuperUser: "admin"})
	t.Cleanup(func() { h.Close() })
	url := servePG(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec,
		pgx.QueryExecModeCacheDescribe, pgx.QueryExecModeCacheStatement} {
		t.Run(mode.String(), func(t *testing.T) {
			cfg, err := pgx.ParseConfig(url)
			if err != nil {
				t.Fatal(err)
			}
			cfg.DefaultQueryExecMode = mode
			cfg.RuntimeParams["application_name"] = "sqlapi-test"
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(ctx)
			if got := conn.PgConn().ParameterStatus("application_name"); got != "sqlapi-test" {
				t.Errorf("application_name %q", got)
			}
			for _, d := range docsQueries {
				rows, err := conn.Query(ctx, d.sql)
				if err != nil {
					t.Fatal(err)
				}
				data, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
				if err != nil {
					t.Fatalf("%s: %v", d.name, err)
				}
				sameRows(t, d.name, textRows(data), rawRows(t, sh.db, d.check), true)
			}
			// Parameters, and a post-processed statement.
			rows, err := conn.Query(ctx, `SELECT upper(status) AS s, MEASURE(count) AS n FROM orders
				WHERE channel = $1 AND created_at >= $2 GROUP BY 1 ORDER BY n DESC`, "web", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			data, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
			if err != nil {
				t.Fatal(err)
			}
			sameRows(t, "post", textRows(data), rawRows(t, sh.db, `SELECT upper(status), count(*) AS n FROM orders
				WHERE channel = 'web' AND created_at >= '2024-01-01' GROUP BY 1 ORDER BY n DESC`), true)

			var tz string
			if err := conn.QueryRow(ctx, "SHOW timezone").Scan(&tz); err != nil || tz != "UTC" {
				t.Errorf("SHOW timezone: %q, %v", tz, err)
			}
			_, err = conn.Exec(ctx, "SELECT stauts FROM orders")
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != "42703" || pe.Hint == "" {
				t.Errorf("unknown column: %v", err)
			}
		})
	}

	// A wrong user fails like a wrong password.
	_, err := pgx.Connect(ctx, fmt.Sprintf("postgres://mallory:secret@%s/db?sslmode=disable", url[len("postgres://cube:secret@"):len(url)-len("/anydb?sslmode=disable")]))
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "28P01" {
		t.Errorf("unknown user: %v", err)
	}
}

// TestPGXDeallocate: DEALLOCATE drops the statement the extended protocol prepared under
// that name, and DEALLOCATE PREPARE ALL every one.
func TestPGXDeallocate(t *testing.T) {
	sh := openShop(t)
	h := NewHandler(Options{Engines: fixedEngine{sh.eng}, User: "cube", Password: "secret"})
	t.Cleanup(func() { h.Close() })
	url := servePG(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	pc := conn.PgConn()
	for _, name := range []string{"x", "Y"} {
		if _, err := pc.Prepare(ctx, name, "SELECT MEASURE(count) FROM orders", nil); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string) error { return pc.ExecPrepared(ctx, name, nil, nil, nil).Read().Err }
	if err := run("x"); err != nil {
		t.Fatal(err)
	}
	res, err := pc.Exec(ctx, "DEALLOCATE x").ReadAll()
	if err != nil || res[0].CommandTag.String() != "DEALLOCATE" {
		t.Fatalf("DEALLOCATE x: %v", err)
	}
	err = run("x")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "26000" || pe.Message != `prepared statement "x" does not exist` {
		t.Fatalf("after DEALLOCATE: %v", err)
	}
	if err := run("Y"); err != nil {
		t.Fatalf("Y after DEALLOCATE x: %v", err)
	}
	if _, err := pc.Exec(ctx, `DEALLOCATE PREPARE "Y"`).ReadAll(); err != nil {
		t.Fatal(err)
	}
	if err := run("Y"); !errors.As(err, &pe) || pe.Code != "26000" {
		t.Fatalf("Y after DEALLOCATE PREPARE \"Y\": %v", err)
	}
	if _, err := pc.Prepare(ctx, "x", "SELECT 1", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := pc.Exec(ctx, "DEALLOCATE PREPARE ALL").ReadAll(); err != nil {
		t.Fatal(err)
	}
	if err := run("x"); !errors.As(err, &pe) || pe.Code != "26000" {
		t.Fatalf("x after DEALLOCATE ALL: %v", err)
	}

	// As in PostgreSQL 15: DEALLOCATE ALL with nothing prepared is fine, a name that is
	// not prepared is 26000, in either protocol, and it fails the block it runs in.
	if _, err := pc.Exec(ctx, "DEALLOCATE ALL").ReadAll(); err != nil {
		t.Errorf("DEALLOCATE ALL with nothing prepared: %v", err)
	}
	if _, err := pc.Exec(ctx, "DEALLOCATE x").ReadAll(); !errors.As(err, &pe) || pe.Code != "26000" || pe.Message != `prepared statement "x" does not exist` {
		t.Errorf("DEALLOCATE x again: %v, want 26000", err)
	}
	if err := pc.ExecParams(ctx, "DEALLOCATE PREPARE nope", nil, nil, nil, nil).Read().Err; !errors.As(err, &pe) || pe.Code != "26000" || pe.Message != `prepared statement "nope" does not exist` {
		t.Errorf("extended DEALLOCATE PREPARE nope: %v, want 26000", err)
	}
	for _, send := range []func() error{
		func() error { return pc.Exec(ctx, "DEALLOCATE nope").Close() },
		func() error { return pc.ExecParams(ctx, "DEALLOCATE nope", nil, nil, nil, nil).Read().Err },
	} {
		if _, err := pc.Exec(ctx, "BEGIN").ReadAll(); err != nil {
			t.Fatal(err)
		}
		if err := send(); !errors.As(err, &pe) || pe.Code != "26000" {
			t.Errorf("DEALLOCATE nope in a block: %v, want 26000", err)
		}
		if st := pc.TxStatus(); st != 'E' {
			t.Errorf("status after DEALLOCATE nope in a block: %q, want 'E'", st)
		}
		if _, err := pc.Exec(ctx, "SELECT 1").ReadAll(); !errors.As(err, &pe) || pe.Code != "25P02" {
			t.Errorf("SELECT in the failed block: %v, want 25P02", err)
		}
		if _, err := pc.Exec(ctx, "ROLLBACK").ReadAll(); err != nil {
			t.Fatal(err)
		}
	}
	// pgx's statement cache prepares under its own names and drops them with DEALLOCATE ALL.
	var n int64
	if err := conn.QueryRow(ctx, "SELECT $1::int8", int64(5)).Scan(&n); err != nil || n != 5 {
		t.Fatalf("cached statement: %d %v", n, err)
	}
	if err := conn.DeallocateAll(ctx); err != nil {
		t.Fatalf("pgx DeallocateAll: %v", err)
	}
	if err := conn.QueryRow(ctx, "SELECT $1::int8", int64(6)).Scan(&n); err != nil || n != 6 {
		t.Fatalf("after DeallocateAll: %d %v", n, err)
	}
}
