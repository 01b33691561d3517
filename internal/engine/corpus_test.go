package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/query"
	"github.com/cubit-dev/cubit/internal/testdb"
	"github.com/cubit-dev/cubit/internal/warehouse"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
	"github.com/cubit-dev/cubit/internal/warehouse/postgres"
)

// A corpus case is a query and an independent way to get its answer: hand-written SQL over
// the raw tables, never Cubit's own output. A case that expects an error names a part of
// the message instead.
type corpusCase struct {
	Name  string `yaml:"name"`
	Query string `yaml:"query"`
	// Check is the hand-written SQL whose rows must equal Cubit's, column for column in the
	// order Cubit returns them: dimensions, time dimensions, measures.
	Check string `yaml:"check"`
	// CheckPostgres replaces Check on PostgreSQL where the two engines' SQL differs.
	CheckPostgres string `yaml:"check_postgres"`
	// Error is a part of the expected error message.
	Error string `yaml:"error"`
	// Ordered compares rows in order; otherwise both sides are compared as sorted sets.
	Ordered bool `yaml:"ordered"`
	// Multi sends the query as queryType=multi and checks the rows of every result.
	Multi bool `yaml:"multi"`
	// Truncated is the expected truncated flag.
	Truncated bool `yaml:"truncated"`
	// Total is the expected total when the query asks for one.
	Total *int64 `yaml:"total"`
	// Engines limits the case to some engines ("duckdb", "postgres").
	Engines []string `yaml:"engines"`
	file    string
}

// corpusNow is "now" for relative date ranges in the corpus.
var corpusNow = time.Date(2025, 6, 15, 10, 30, 0, 0, time.UTC)

// corpusScale keeps the shop small enough for fast tests (10,000 orders) and big enough
// for every trap to appear.
const corpusScale = 0.1

func loadCorpus(t *testing.T) []corpusCase {
	t.Helper()
	files, err := filepath.Glob("testdata/corpus/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	sort.Strings(files)
	var cases []corpusCase
	seen := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cs []corpusCase
		dec := yaml.NewDecoder(strings.NewReader(string(data)))
		dec.KnownFields(true)
		if err := dec.Decode(&cs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, c := range cs {
			c.file = filepath.Base(f)
			if prev, dup := seen[c.Name]; dup {
				t.Fatalf("%s: case %q already defined in %s", f, c.Name, prev)
			}
			seen[c.Name] = c.file
			if (c.Check == "") == (c.Error == "") {
				t.Fatalf("%s: case %q needs exactly one of check and error", f, c.Name)
			}
			cases = append(cases, c)
		}
	}
	return cases
}

// corpusTarget is one engine holding the demo shop.
type corpusTarget struct {
	name   string
	engine *engine.Engine
	wh     warehouse.Warehouse
}

var demoModel = sync.OnceValues(func() (*model.Model, error) {
	sub, err := fs.Sub(demo.Model, "model")
	if err != nil {
		return nil, err
	}
	return model.LoadFS(sub)
})

func engineConfig() engine.Config {
	cfg := engine.DefaultConfig()
	cfg.Now = func() time.Time { return corpusNow }
	return cfg
}

func duckTarget(t *testing.T) corpusTarget {
	t.Helper()
	m, err := demoModel()
	if err != nil {
		t.Fatalf("demo model: %v", err)
	}
	db, err := duckdb.Open("", duckdb.Options{MemoryLimit: "1GB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := duckdb.LoadTables(context.Background(), db, demo.Shop(corpusScale)); err != nil {
		t.Fatal(err)
	}
	return corpusTarget{"duckdb", engine.New(m, dialect.DuckDB{}, db, engineConfig()), db}
}

func postgresTarget(t *testing.T) corpusTarget {
	t.Helper()
	m, err := demoModel()
	if err != nil {
		t.Fatalf("demo model: %v", err)
	}
	url := testdb.FreshSchema(t, testdb.Postgres(t))
	ctx := context.Background()
	db, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := postgres.LoadTables(ctx, db, demo.Shop(corpusScale)); err != nil {
		t.Fatal(err)
	}
	return corpusTarget{"postgres", engine.New(m, dialect.Postgres{}, db, engineConfig()), db}
}

// TestCorpus runs every corpus case on DuckDB and on PostgreSQL.
func TestCorpus(t *testing.T) {
	cases := loadCorpus(t)
	for _, mk := range []func(*testing.T) corpusTarget{duckTarget, postgresTarget} {
		target := mk(t)
		t.Run(target.name, func(t *testing.T) {
			for _, c := range cases {
				if len(c.Engines) > 0 && !contains(c.Engines, target.name) {
					continue
				}
				t.Run(c.Name, func(t *testing.T) { runCase(t, target, c) })
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func runCase(t *testing.T, target corpusTarget, c corpusCase) {
	ctx := context.Background()
	queries, array, err := query.DecodeAny([]byte(c.Query))
	if err == nil {
		var res any
		res, err = target.engine.Load(ctx, engine.Request{Queries: queries, Array: array, Multi: c.Multi})
		if err == nil {
			if c.Error != "" {
				t.Fatalf("%s: want error containing %q, got a result", c.file, c.Error)
			}
			checkResult(t, target, c, res)
			return
		}
	}
	if c.Error == "" {
		t.Fatalf("%s: %v", c.file, err)
	}
	if !strings.Contains(err.Error(), c.Error) {
		t.Fatalf("%s: error %q does not contain %q", c.file, err, c.Error)
	}
}

func checkResult(t *testing.T, target corpusTarget, c corpusCase, res any) {
	var got [][]string
	switch r := res.(type) {
	case *engine.Result:
		got = resultRows(r)
		if r.Truncated != c.Truncated {
			t.Errorf("%s: truncated = %v, want %v", c.file, r.Truncated, c.Truncated)
		}
		if c.Total != nil && (r.Total == nil || *r.Total != *c.Total) {
			t.Errorf("%s: total = %v, want %d", c.file, r.Total, *c.Total)
		}
	case *engine.MultiResult:
		for _, one := range r.Results {
			got = append(got, resultRows(one)...)
		}
	}
	check := c.Check
	if target.name == "postgres" && c.CheckPostgres != "" {
		check = c.CheckPostgres
	}
	want := checkRows(t, target.wh, check)
	if !c.Ordered {
		sortRows(got)
		sortRows(want)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d\n got: %v\nwant: %v", c.file, len(got), len(want), head(got), head(want))
	}
	for i := range got {
		if !rowsEqual(got[i], want[i]) {
			t.Fatalf("%s: row %d = %v, want %v", c.file, i, got[i], want[i])
		}
	}
}

func head(rows [][]string) [][]string { return rows[:min(len(rows), 5)] }

// resultRows are Cubit's rows as text, without the duplicate bare time-dimension keys and
// the compareDateRange label, so they line up with the check SQL's columns.
func resultRows(r *engine.Result) [][]string {
	var out [][]string
	for _, row := range r.Rows() {
		var vals []string
		for i, k := range row.Keys {
			if isExtraKey(k, row.Keys) {
				continue
			}
			vals = append(vals, text(row.Values[i]))
		}
		out = append(out, vals)
	}
	return out
}

// isExtraKey tells the keys Cube adds beside the query's own columns.
func isExtraKey(k string, keys []string) bool {
	if k == "compareDateRange" || strings.HasPrefix(k, "time.") {
		return true
	}
	for _, other := range keys {
		if strings.HasPrefix(other, k+".") && strings.Count(other, ".") == 2 {
			return true
		}
	}
	return false
}

func checkRows(t *testing.T, wh warehouse.Warehouse, sql string) [][]string {
	t.Helper()
	rows, err := wh.Query(context.Background(), sql, nil)
	if err != nil {
		t.Fatalf("check SQL failed: %v\n%s", err, sql)
	}
	_, data, err := warehouse.Collect(rows)
	if err != nil {
		t.Fatalf("check SQL failed: %v\n%s", err, sql)
	}
	out := make([][]string, len(data))
	for i, row := range data {
		out[i] = make([]string, len(row))
		for j, v := range row {
			out[i][j] = text(v)
		}
	}
	return out
}

// text is the comparable form of a value from either side.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return x.Format(engine.TimeLayout)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case json.Number:
		return string(x)
	}
	return fmt.Sprint(v)
}

func sortRows(rows [][]string) {
	sort.Slice(rows, func(i, j int) bool { return strings.Join(rows[i], "\x00") < strings.Join(rows[j], "\x00") })
}

func rowsEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !numbersClose(a[i], b[i]) {
			return false
		}
	}
	return true
}

// numbersClose compares numbers with a relative tolerance: averages and ratios differ in
// their last digits between engines and between exact and floating-point arithmetic.
func numbersClose(a, b string) bool {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	return math.Abs(x-y) <= 1e-9*math.Max(1, math.Max(math.Abs(x), math.Abs(y)))
}
