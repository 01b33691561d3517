// Command duckdbalone times DuckDB running, by itself, the SQL Cubit generates for one query:
// the baseline of bench/rest.sh. It compiles the query with Cubit's engine once, then runs
// the SQL and its arguments sequentially on the same database file and prints percentiles.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/query"
	"github.com/cubit-dev/cubit/internal/warehouse"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

func main() {
	dbPath := flag.String("db", "", "DuckDB database file")
	modelDir := flag.String("model", "", "model folder")
	q := flag.String("query", `{"measures":["orders.count","orders.total_amount"],"dimensions":["orders.status"]}`, "Cube query")
	n := flag.Int("n", 200, "runs")
	flag.Parse()
	if err := run(*dbPath, *modelDir, *q, *n); err != nil {
		fmt.Fprintln(os.Stderr, "duckdbalone:", err)
		os.Exit(1)
	}
}

func run(dbPath, modelDir, body string, n int) error {
	m, err := model.Load(modelDir)
	if err != nil {
		return err
	}
	db, err := duckdb.Open(dbPath, duckdb.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer db.Close()
	q, err := query.Decode([]byte(body))
	if err != nil {
		return err
	}
	c, err := engine.New(m, dialect.DuckDB{}, nil, engine.DefaultConfig()).Compile(q)
	if err != nil {
		return err
	}
	ctx := context.Background()
	once := func() (time.Duration, error) {
		start := time.Now()
		rows, err := db.Query(ctx, c.Statement.SQL, c.Statement.Args)
		if err != nil {
			return 0, err
		}
		_, _, err = warehouse.Collect(rows)
		return time.Since(start), err
	}
	for range 20 {
		if _, err := once(); err != nil {
			return err
		}
	}
	lat := make([]time.Duration, n)
	for i := range lat {
		if lat[i], err = once(); err != nil {
			return err
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(p float64) string {
		return fmt.Sprintf("%.2f", float64(lat[min(n-1, int(p*float64(n)))])/1e6)
	}
	out, _ := json.Marshal(map[string]any{"target": "duckdb-alone", "n": n, "ms": map[string]string{"p50": ms(0.5), "p90": ms(0.9), "p99": ms(0.99)}})
	fmt.Println(string(out))
	return nil
}
