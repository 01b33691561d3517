// Command sqlrt measures the SQL API through pgx (bench/sql.sh runs it):
//
//	sqlrt load-pg -pg URL                 loads the demo shop (scale 1) into schema sqlbench of PostgreSQL
//	sqlrt rt -cubit URL -pg URL -n 2000   sequential round trips: Cubit vs PostgreSQL, p50/p99 and ratio
//	sqlrt mix -cubit URL -conns 64 -dur 30s   concurrent mixed queries: errors and throughput
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/warehouse/postgres"
)

const schema = "sqlbench"

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: sqlrt load-pg|rt|mix [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	cubitURL := fs.String("cubit", "", "Cubit SQL API connection string")
	pgURL := fs.String("pg", "postgres://ci:ci@127.0.0.1:55432/cidb?sslmode=disable", "PostgreSQL connection string")
	n := fs.Int("n", 2000, "sequential round trips per side (rt)")
	conns := fs.Int("conns", 64, "concurrent connections (mix)")
	dur := fs.Duration("dur", 30*time.Second, "duration (mix)")
	scale := fs.Float64("scale", 1, "demo scale (load-pg); cubit serve's demo is scale 1")
	_ = fs.Parse(os.Args[2:])
	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "load-pg":
		err = loadPG(ctx, *pgURL, *scale)
	case "rt":
		err = roundTrips(ctx, *cubitURL, *pgURL, *n)
	case "mix":
		err = mix(ctx, *cubitURL, *conns, *dur)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqlrt:", err)
		os.Exit(1)
	}
}

func withSearchPath(url string) string {
	sep := "?"
	if slices.Contains([]byte(url), '?') {
		sep = "&"
	}
	return url + sep + "search_path=" + schema
}

func loadPG(ctx context.Context, url string, scale float64) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "DROP SCHEMA IF EXISTS "+schema+" CASCADE; CREATE SCHEMA "+schema); err != nil {
		return err
	}
	conn.Close(ctx)
	db, err := postgres.Open(ctx, withSearchPath(url))
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	if err := postgres.LoadTables(ctx, db, demo.Shop(scale)); err != nil {
		return err
	}
	fmt.Printf("loaded the demo shop (scale %g) into schema %s in %v\n", scale, schema, time.Since(start).Round(time.Millisecond))
	return nil
}

// timeQuery runs sql n times sequentially (after 50 warm-up runs) and returns the sorted
// latencies and the rows of the last run.
// A sql with %d gets a different number each run, which defeats Cubit's result cache.
func timeQuery(ctx context.Context, conn *pgx.Conn, sql string, n int) ([]time.Duration, [][]any, error) {
	var last [][]any
	k := 0
	run := func() error {
		q := sql
		if strings.Contains(sql, "%d") {
			k++
			q = fmt.Sprintf(sql, -k)
		}
		rows, err := conn.Query(ctx, q)
		if err != nil {
			return err
		}
		last = last[:0]
		for rows.Next() {
			v, err := rows.Values()
			if err != nil {
				return err
			}
			last = append(last, v)
		}
		return rows.Err()
	}
	for range 50 {
		if err := run(); err != nil {
			return nil, nil, err
		}
	}
	lat := make([]time.Duration, n)
	for i := range n {
		t := time.Now()
		if err := run(); err != nil {
			return nil, nil, err
		}
		lat[i] = time.Since(t)
	}
	slices.Sort(lat)
	return lat, last, nil
}

func pct(lat []time.Duration, p float64) time.Duration { return lat[int(float64(len(lat)-1)*p)] }

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/1e6) }

func roundTrips(ctx context.Context, cubitURL, pgURL string, n int) error {
	type side struct{ name, url, sql string }
	cached := []side{
		{"cubit", cubitURL, "SELECT status, MEASURE(count) FROM orders GROUP BY 1"},
		{"postgres", withSearchPath(pgURL), "SELECT status, count(*) FROM orders GROUP BY 1"},
	}
	// The same question with a filter that keeps every row but changes each run (id <> -k):
	// every Cubit query misses its result cache and runs in DuckDB.
	uncached := []side{
		{"cubit-nocache", cubitURL, "SELECT status, MEASURE(count) FROM orders WHERE id <> %d GROUP BY 1"},
		{"postgres-nocache", withSearchPath(pgURL), "SELECT status, count(*) FROM orders WHERE id <> %d GROUP BY 1"},
	}
	p50 := map[string]time.Duration{}
	p99 := map[string]time.Duration{}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		for _, sides := range [][]side{cached, uncached} {
			for _, s := range sides {
				cfg, err := pgx.ParseConfig(s.url)
				if err != nil {
					return err
				}
				cfg.DefaultQueryExecMode = mode
				conn, err := pgx.ConnectConfig(ctx, cfg)
				if err != nil {
					return fmt.Errorf("%s: %w", s.name, err)
				}
				lat, rows, err := timeQuery(ctx, conn, s.sql, n)
				conn.Close(ctx)
				if err != nil {
					return fmt.Errorf("%s: %s: %w", s.name, s.sql, err)
				}
				key := s.name + " " + mode.String()
				p50[key], p99[key] = pct(lat, 0.5), pct(lat, 0.99)
				fmt.Printf("%-32s n=%d p50 %s p99 %s  rows %v\n", key, n, ms(p50[key]), ms(p99[key]), rows)
			}
			c, p := sides[0].name+" "+mode.String(), sides[1].name+" "+mode.String()
			fmt.Printf("ratio %s/%s (%s): p50 %.3f, p99 %.3f\n", sides[0].name, sides[1].name, mode, float64(p50[c])/float64(p50[p]), float64(p99[c])/float64(p99[p]))
		}
	}
	return nil
}

// The mix: grouped measures, the documentation queries, a parameter, post-processing
// (expressions over the result), an ungrouped page, and a session function.
var mixQueries = []struct {
	sql  string
	args []any
}{
	{"SELECT status, MEASURE(count) FROM orders GROUP BY 1", nil},
	{"SELECT orders.status, orders.total_revenue, orders.count FROM orders WHERE orders.created_at >= '2024-01-01' GROUP BY orders.status ORDER BY orders.total_revenue DESC", nil},
	{"SELECT orders.created_at, orders.total_revenue FROM orders WHERE orders.created_at >= '2024-01-01' AND orders.created_at < '2024-02-01' GROUP BY orders.created_at ORDER BY orders.created_at", nil},
	{"SELECT orders.count, orders.total_revenue FROM orders WHERE orders.status = $1", []any{"completed"}},
	{"SELECT DATE_TRUNC('month', created_at) AS m, channel, MEASURE(count) FROM orders WHERE created_at >= '2025-01-01' GROUP BY 1, 2 ORDER BY 1, 2", nil},
	{"SELECT status, CASE WHEN MEASURE(count) > 20000 THEN 'big' ELSE 'small' END AS size, MEASURE(total_revenue) / MEASURE(count) AS avg_amount FROM orders GROUP BY 1 ORDER BY 3 DESC", nil},
	{"SELECT orders.id, orders.amount FROM orders WHERE orders.status = 'returned' ORDER BY orders.id LIMIT 50", nil},
	{"SELECT version()", nil},
}

func mix(ctx context.Context, url string, conns int, dur time.Duration) error {
	var ok, failed atomic.Int64
	var firstErr atomic.Value
	perQuery := make([]atomic.Int64, len(mixQueries))
	ctx, cancel := context.WithTimeout(ctx, dur)
	defer cancel()
	var wg sync.WaitGroup
	connectErrs := make(chan error, conns)
	start := time.Now()
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg, err := pgx.ParseConfig(url)
			if err != nil {
				connectErrs <- err
				return
			}
			if c%2 == 0 { // half the connections in the simple protocol, half extended
				cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
			}
			conn, err := pgx.ConnectConfig(context.Background(), cfg)
			if err != nil {
				connectErrs <- err
				return
			}
			defer conn.Close(context.Background())
			for i := c; ctx.Err() == nil; i++ {
				q := mixQueries[i%len(mixQueries)]
				rows, err := conn.Query(ctx, q.sql, q.args...)
				if err == nil {
					for rows.Next() {
					}
					err = rows.Err()
				}
				if err != nil {
					if ctx.Err() != nil {
						return // the deadline cut this query short: not an error of the server
					}
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%s: %v", q.sql, err))
					continue
				}
				ok.Add(1)
				perQuery[i%len(mixQueries)].Add(1)
			}
		}()
	}
	wg.Wait()
	close(connectErrs)
	elapsed := time.Since(start)
	nConnErr := 0
	for err := range connectErrs {
		nConnErr++
		firstErr.CompareAndSwap(nil, "connect: "+err.Error())
	}
	fmt.Printf("%d connections, %v: %d queries ok, %d errors, %d connect errors, %.0f queries/s\n",
		conns, elapsed.Round(time.Millisecond), ok.Load(), failed.Load(), nConnErr, float64(ok.Load())/elapsed.Seconds())
	for i := range mixQueries {
		fmt.Printf("  %7d  %.70s\n", perQuery[i].Load(), mixQueries[i].sql)
	}
	if e := firstErr.Load(); e != nil {
		fmt.Printf("first error: %s\n", e)
		return fmt.Errorf("errors under load")
	}
	return nil
}
