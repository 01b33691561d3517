package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// cmdPgx measures one SQL API query through pgx: sequentially over one connection, then with
// several connections at once for a while each. In no-cache mode the SQL holds $1, and every
// run binds a new negative number to it (WHERE id <> $1 keeps every row), so that each run
// misses Cubit's result cache and goes to DuckDB; in cached mode the SQL takes no parameter
// and, after the first run, every run is a cache hit.
func cmdPgx(args []string, w io.Writer) error {
	fs := newFlags("pgx")
	dsn := fs.String("dsn", "", "SQL API connection string")
	sql := fs.String("sql", "", "the query")
	exec := fs.String("exec", "extended", "pgx query mode: extended (cached statements, binary) or simple")
	n := fs.Int("n", 2000, "sequential runs measured (0: none)")
	conns := fs.String("conns", "1 8 64", "connection counts of the concurrent part (empty: none)")
	dur := fs.Duration("duration", 10*time.Second, "time per connection count")
	out := fs.String("out", "", "results file (JSON lines)")
	pidList := fs.String("pids", "", "process ids of the server under test")
	var rec Record
	fs.StringVar(&rec.Query, "label", "", "record query label")
	fs.StringVar(&rec.Mode, "mode", "cached", "cached or no-cache")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rec.Section, rec.Target = "sql", "cubit-sql-"+*exec
	pids, err := parsePids(*pidList)
	if err != nil {
		return err
	}
	cfg, err := pgx.ParseConfig(*dsn)
	if err != nil {
		return err
	}
	switch *exec {
	case "extended":
		cfg.DefaultQueryExecMode = pgx.QueryExecModeCacheStatement
	case "simple":
		cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	default:
		return fmt.Errorf("-exec %q: want extended or simple", *exec)
	}
	// Numbers start at a random point, so that a second run against the same server does not
	// meet the results its first run left in the cache.
	var k atomic.Int64
	k.Store(rand.Int64N(1 << 30))
	once := func(ctx context.Context, c *pgx.Conn) error {
		var qargs []any
		if rec.Mode == "no-cache" {
			qargs = []any{-k.Add(1)}
		}
		rows, err := c.Query(ctx, *sql, qargs...)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		return rows.Err()
	}
	ctx := context.Background()
	if *n > 0 {
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return err
		}
		for range 50 {
			if err := once(ctx, c); err != nil {
				return err
			}
		}
		lat := make([]time.Duration, *n)
		for i := range lat {
			start := time.Now()
			if err := once(ctx, c); err != nil {
				return err
			}
			lat[i] = time.Since(start)
		}
		c.Close(ctx)
		r := rec
		r.Kind, r.Conns, r.N = "seq", 1, *n
		r.P50, r.P99, r.Mean = stats(lat)
		r.RPS = 1000 / r.Mean
		if err := appendRecords(*out, w, r); err != nil {
			return err
		}
	}
	for _, f := range strings.Fields(*conns) {
		nc, err := strconv.Atoi(f)
		if err != nil {
			return fmt.Errorf("-conns: %w", err)
		}
		r, err := concurrent(ctx, cfg, nc, *dur, once, pids)
		if err != nil {
			return err
		}
		r.Section, r.Target, r.Mode, r.Query = rec.Section, rec.Target, rec.Mode, rec.Query
		if err := appendRecords(*out, w, r); err != nil {
			return err
		}
	}
	return nil
}

// concurrent runs once on nc connections for dur and returns the latencies and throughput.
func concurrent(ctx context.Context, cfg *pgx.ConnConfig, nc int, dur time.Duration, once func(context.Context, *pgx.Conn) error, pids []int) (Record, error) {
	cs := make([]*pgx.Conn, nc)
	for i := range cs {
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return Record{}, err
		}
		defer c.Close(ctx)
		if err := once(ctx, c); err != nil { // prepares the statement before the clock starts
			return Record{}, err
		}
		cs[i] = c
	}
	var (
		mu     sync.Mutex
		all    []time.Duration
		errors atomic.Int64
		wg     sync.WaitGroup
	)
	o := startOthers(pids)
	start := time.Now()
	deadline := start.Add(dur)
	for _, c := range cs {
		wg.Go(func() {
			var lat []time.Duration
			for time.Now().Before(deadline) {
				t := time.Now()
				if err := once(ctx, c); err != nil {
					errors.Add(1)
					continue
				}
				lat = append(lat, time.Since(t))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := Record{Kind: "pgx", Conns: nc, N: len(all), Errors: int(errors.Load()), Others: o.stop(nil)}
	if len(all) == 0 {
		return r, fmt.Errorf("%d connections: no query succeeded", nc)
	}
	r.P50, r.P99, r.Mean = stats(all)
	r.RPS = float64(len(all)) / elapsed.Seconds()
	return r, nil
}
