package sqlgen_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/plan"
	"github.com/cubit-dev/cubit/internal/query"
	"github.com/cubit-dev/cubit/internal/sqlgen"
)

var update = flag.Bool("update", false, "rewrite the golden SQL files")

var goldenNow = time.Date(2025, 6, 15, 10, 30, 0, 0, time.UTC)

// zones caches time zones as the engine does.
var zones query.LocationCache

func demoModel(t testing.TB) *model.Model {
	t.Helper()
	sub, err := fs.Sub(demo.Model, "model")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.LoadFS(sub)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// compile takes a JSON query through every compiler stage.
func compile(m *model.Model, d dialect.Dialect, body string) (*plan.Plan, *sqlgen.Statement, error) {
	return compileAs(m, d, body, nil)
}

// compileAs is compile for a query asked under a security context.
func compileAs(m *model.Model, d dialect.Dialect, body string, security map[string]any) (*plan.Plan, *sqlgen.Statement, error) {
	q, err := query.Decode([]byte(body))
	if err != nil {
		return nil, nil, err
	}
	q.SecurityContext = security
	n, err := query.Normalize(q, query.Options{Now: goldenNow, DefaultTimezone: "UTC", DefaultLimit: 10000, MaxLimit: 50000, Locations: zones.Load})
	if err != nil {
		return nil, nil, err
	}
	r, err := query.Resolve(n, m)
	if err != nil {
		return nil, nil, err
	}
	p, err := plan.Build(r, plan.Options{})
	if err != nil {
		return nil, nil, err
	}
	stmt, err := sqlgen.Render(p, d)
	return p, stmt, err
}

// TestGolden compiles the queries of testdata/queries.yaml for each dialect and compares the
// SQL and arguments with testdata/golden/<dialect>/<name>.sql. Run with -update to rewrite
// them, then read the diff.
func TestGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/queries.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name  string `yaml:"name"`
		Query string `yaml:"query"`
		// Model is a model folder under testdata/models; the demo model by default.
		Model string `yaml:"model"`
		// SecurityContext is the query's security context, as JSON (a token's claims).
		SecurityContext string `yaml:"security_context"`
	}
	if err := yaml.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	models := map[string]*model.Model{"": demoModel(t)}
	for _, d := range []dialect.Dialect{dialect.DuckDB{}, dialect.Postgres{}} {
		for _, c := range cases {
			t.Run(d.Name()+"/"+c.Name, func(t *testing.T) {
				m := models[c.Model]
				if m == nil {
					var err error
					if m, err = model.Load(filepath.Join("testdata", "models", c.Model)); err != nil {
						t.Fatal(err)
					}
					models[c.Model] = m
				}
				var security map[string]any
				if c.SecurityContext != "" {
					if err := json.Unmarshal([]byte(c.SecurityContext), &security); err != nil {
						t.Fatalf("security_context: %v", err)
					}
				}
				p, stmt, err := compileAs(m, d, c.Query, security)
				if err != nil {
					t.Fatalf("compile: %v", err)
				}
				got := render(c.Query, p, stmt)
				if c.SecurityContext != "" {
					got = "-- security context: " + c.SecurityContext + "\n" + got
				}
				path := filepath.Join("testdata", "golden", d.Name(), c.Name+".sql")
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./internal/sqlgen -run TestGolden -update)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs from the golden file; rerun with -update and read the diff.\n--- got\n%s", path, got)
				}
			})
		}
	}
}

func render(q string, p *plan.Plan, stmt *sqlgen.Statement) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "-- query: %s\n-- join path: %s\n%s;\n", q, p.Tree, stmt.SQL)
	for i, a := range stmt.Args {
		fmt.Fprintf(&sb, "-- $%d = %#v\n", i+1, a)
	}
	return sb.String()
}

// BenchmarkCompileTypical compiles a typical dashboard query: 3 measures, 2 dimensions, 1
// time dimension with a date range, 2 filters, one join.
func BenchmarkCompileTypical(b *testing.B) {
	m := demoModel(b)
	const body = `{"measures": ["orders.count", "orders.total_revenue", "orders.average_order_value"],
		"dimensions": ["orders.status", "users.city"],
		"timeDimensions": [{"dimension": "orders.created_at", "granularity": "month", "dateRange": ["2024-01-01", "2024-12-31"]}],
		"filters": [{"member": "orders.channel", "operator": "equals", "values": ["web", "mobile"]},
		            {"member": "users.country", "operator": "notEquals", "values": ["Atlantis"]}]}`
	if _, _, err := compile(m, dialect.DuckDB{}, body); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := compile(m, dialect.DuckDB{}, body); err != nil {
			b.Fatal(err)
		}
	}
}
