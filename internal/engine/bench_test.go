package engine_test

import (
	"context"
	"sync"
	"testing"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/query"
	"github.com/cubit-dev/cubit/internal/warehouse"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

// fullDemo is the demo shop at scale 1 (100,000 orders), shared by the benchmarks.
var fullDemo = sync.OnceValues(func() (*duckdb.DB, error) {
	db, err := duckdb.Open("", duckdb.Options{})
	if err != nil {
		return nil, err
	}
	return db, duckdb.LoadTables(context.Background(), db, demo.Shop(1))
})

var benchQueries = map[string]string{
	"doc_example": `{"measures": ["orders.total_revenue"], "dimensions": ["orders.status"],
		"timeDimensions": [{"dimension": "orders.created_at", "granularity": "day", "dateRange": ["2024-01-01", "2024-01-31"]}]}`,
	"by_city_month": `{"measures": ["orders.count", "orders.total_revenue", "orders.average_order_value"], "dimensions": ["users.city"],
		"timeDimensions": [{"dimension": "orders.created_at", "granularity": "month", "dateRange": ["2024-01-01", "2024-12-31"]}],
		"filters": [{"member": "orders.channel", "operator": "equals", "values": ["web", "mobile"]}]}`,
	"fanout": `{"measures": ["orders.total_revenue", "line_items.count"], "dimensions": ["products.category"]}`,
}

// BenchmarkDemoQuery compares a query answered by Cubit (compile, execute, shape the
// response) with DuckDB running the SQL Cubit generates, on the full demo. The ratio of
// the two is Cubit's overhead. Cubit's runs ask for "cache": "no-cache", so that they
// reach DuckDB every time.
func BenchmarkDemoQuery(b *testing.B) {
	db, err := fullDemo()
	if err != nil {
		b.Fatal(err)
	}
	m, err := demoModel()
	if err != nil {
		b.Fatal(err)
	}
	eng := engine.New(m, dialect.DuckDB{}, db, engine.DefaultConfig())
	ctx := context.Background()
	for _, name := range []string{"doc_example", "by_city_month", "fanout"} {
		q, err := query.Decode([]byte(benchQueries[name]))
		if err != nil {
			b.Fatal(err)
		}
		c, err := eng.Compile(q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name+"/cubit", func(b *testing.B) {
			for b.Loop() {
				q, err := query.Decode([]byte(benchQueries[name]))
				if err != nil {
					b.Fatal(err)
				}
				q.Cache = string(engine.NoCache)
				if _, err := eng.Query(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(name+"/duckdb", func(b *testing.B) {
			for b.Loop() {
				rows, err := db.Query(ctx, c.Statement.SQL, c.Statement.Args)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := warehouse.Collect(rows); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCacheHit is a query answered from the result cache (decode, compile, refresh
// keys, lookup, shape) against the same query with cache: no-cache, on the full demo.
func BenchmarkCacheHit(b *testing.B) {
	db, err := fullDemo()
	if err != nil {
		b.Fatal(err)
	}
	m, err := demoModel()
	if err != nil {
		b.Fatal(err)
	}
	eng := engine.New(m, dialect.DuckDB{}, db, engine.DefaultConfig())
	ctx := context.Background()
	for _, mode := range []string{"stale-if-slow", "no-cache"} {
		body := `{"measures": ["orders.count", "orders.total_revenue"], "dimensions": ["users.city"], "cache": "` + mode + `"}`
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				q, err := query.Decode([]byte(body))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := eng.Query(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
