// Command exportmem prepares the table of bench/export-memory.sh: rows numbered 1..N with a
// bucket and a label, in PostgreSQL (a schema of its own) or in a DuckDB file, so that the
// script can export 10k, 1M and 10M of them through cubit serve and read the server's peak
// memory.
//
//	exportmem -pg postgres://… -rows 10000000
//	exportmem -duckdb /tmp/export.duckdb -rows 10000000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

// schema is the PostgreSQL schema the table goes in; the script's model reads it there.
const schema = "exportmem"

func main() {
	pgURL := flag.String("pg", "", "PostgreSQL URL: make exportmem.events there")
	duckPath := flag.String("duckdb", "", "DuckDB file: make events there")
	rows := flag.Int64("rows", 10_000_000, "rows")
	flag.Parse()
	start := time.Now()
	var err error
	switch {
	case *pgURL != "":
		err = preparePG(*pgURL, *rows)
	case *duckPath != "":
		err = prepareDuckDB(*duckPath, *rows)
	default:
		err = fmt.Errorf("give -pg or -duckdb")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "exportmem:", err)
		os.Exit(1)
	}
	fmt.Printf("prepared %d rows in %s\n", *rows, time.Since(start).Round(time.Millisecond))
}

// The same rows in both engines: id, id % 100, and the id as text.
func preparePG(url string, n int64) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, stmt := range []string{"DROP SCHEMA IF EXISTS " + schema + " CASCADE", "CREATE SCHEMA " + schema} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	_, err = conn.Exec(ctx, "CREATE TABLE "+schema+".events AS SELECT g AS id, g % 100 AS bucket, 'row ' || g AS label FROM generate_series(1::bigint, $1::bigint) g", n)
	if err != nil {
		return fmt.Errorf("creating %s.events: %w", schema, err)
	}
	return nil
}

func prepareDuckDB(path string, n int64) error {
	_ = os.Remove(path)
	db, err := duckdb.Open(path, duckdb.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.SQL().Exec("CREATE TABLE events AS SELECT g AS id, g % 100 AS bucket, 'row ' || g AS label FROM range(1, ? + 1) t(g)", n)
	return err
}
