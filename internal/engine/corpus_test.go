package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
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
	// JoinPath is the expected join tree of the (first) query, as cubit sql prints it:
	// "orders -> users (many_to_one), orders -> line_items (one_to_many)".
	JoinPath string `yaml:"join_path"`
	// Dataset names the model and data the case runs on: "demo" (the default), "traps" or
	// "peer" (see the datasets table).
	Dataset string `yaml:"dataset"`
	file    string
}

// A dataset is a model and the tables it reads, loaded once per engine for the cases that
// name it.
type dataset struct {
	// engines are the engines the dataset can be loaded on; nil means every engine.
	engines []string
	open    func(t *testing.T, engineName string) (corpusTarget, string)
}

// datasets are the corpus's models and data:
//   - demo: the demo shop (examples/demo) at corpusScale;
//   - traps: a tiny hand-made shop (testdata/traps) whose every row is known, built so that
//     fan-out, chasm and join-path mistakes change the numbers;
//   - peer: the Cube peer's model and data (../shared/peer), the same figures real Cube
//     returns. Its model reads schema main, which only DuckDB has.
var datasets = map[string]dataset{
	"demo":  {open: openDemo},
	"traps": {open: openTraps},
	"peer":  {engines: []string{"duckdb"}, open: openPeer},
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
			if c.Dataset == "" {
				c.Dataset = "demo"
			}
			ds, ok := datasets[c.Dataset]
			if !ok {
				t.Fatalf("%s: case %q: unknown dataset %q (known: demo, traps, peer)", f, c.Name, c.Dataset)
			}
			for _, e := range c.enginesOr([]string{"duckdb", "postgres"}) {
				if ds.engines != nil && !contains(ds.engines, e) {
					t.Fatalf("%s: case %q: dataset %s cannot run on %s; add engines: %v", f, c.Name, c.Dataset, e, ds.engines)
				}
			}
			cases = append(cases, c)
		}
	}
	return cases
}

// corpusTarget is one engine holding one dataset.
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

// openWarehouse opens an empty database of the named engine: DuckDB in memory, or a fresh
// PostgreSQL schema dropped when t ends.
func openWarehouse(t *testing.T, engineName string) (warehouse.Warehouse, dialect.Dialect) {
	t.Helper()
	if engineName == "duckdb" {
		db, err := duckdb.Open("", duckdb.Options{MemoryLimit: "1GB"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db, dialect.DuckDB{}
	}
	url := testdb.FreshSchema(t, testdb.Postgres(t))
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dialect.Postgres{}
}

func newTarget(engineName string, m *model.Model, wh warehouse.Warehouse, d dialect.Dialect) corpusTarget {
	return corpusTarget{engineName, engine.New(m, d, wh, engineConfig()), wh}
}

func openDemo(t *testing.T, engineName string) (corpusTarget, string) {
	t.Helper()
	m, err := demoModel()
	if err != nil {
		t.Fatalf("demo model: %v", err)
	}
	wh, d := openWarehouse(t, engineName)
	ctx := context.Background()
	switch db := wh.(type) {
	case *duckdb.DB:
		err = duckdb.LoadTables(ctx, db, demo.Shop(corpusScale))
	case *postgres.DB:
		err = postgres.LoadTables(ctx, db, demo.Shop(corpusScale))
	}
	if err != nil {
		t.Fatal(err)
	}
	return newTarget(engineName, m, wh, d), ""
}

// openTraps loads testdata/traps: its model, and data.sql, whose statements are portable
// SQL separated by semicolons at the end of a line.
func openTraps(t *testing.T, engineName string) (corpusTarget, string) {
	t.Helper()
	m, err := model.Load("testdata/traps/model")
	if err != nil {
		t.Fatalf("traps model: %v", err)
	}
	data, err := os.ReadFile("testdata/traps/data.sql")
	if err != nil {
		t.Fatal(err)
	}
	wh, d := openWarehouse(t, engineName)
	for _, stmt := range sqlStatements(string(data)) {
		if err := exec(wh, stmt); err != nil {
			t.Fatalf("traps data.sql: %v\n%s", err, stmt)
		}
	}
	return newTarget(engineName, m, wh, d), ""
}

// sqlStatements splits a script at semicolons that end a line, dropping -- comment lines.
func sqlStatements(script string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(script, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		cur.WriteString(line + "\n")
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			if stmt := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")); stmt != "" {
				out = append(out, stmt)
			}
			cur.Reset()
		}
	}
	if stmt := strings.TrimSpace(cur.String()); stmt != "" {
		out = append(out, stmt)
	}
	return out
}

// exec runs a statement that returns no rows.
func exec(wh warehouse.Warehouse, stmt string) error {
	rows, err := wh.Query(context.Background(), stmt, nil)
	if err != nil {
		return err
	}
	_, _, err = warehouse.Collect(rows)
	return err
}

// openPeer loads the Cube peer's CSV files into DuckDB tables in schema main, under the
// peer's model loaded unchanged. Without the CSV files it returns why the cases cannot run.
func openPeer(t *testing.T, engineName string) (corpusTarget, string) {
	t.Helper()
	dir := os.Getenv(testdb.EnvPeerCSV)
	if dir == "" {
		return corpusTarget{}, testdb.EnvPeerCSV + " not set: the peer cases need the Cube peer's CSV files; " + testdb.PeerHow
	}
	m, err := model.Load(testdb.PeerModelDir)
	if err != nil {
		t.Fatalf("peer model: %v", err)
	}
	wh, d := openWarehouse(t, engineName)
	for _, stmt := range testdb.PeerDuckDBStatements(t, dir) {
		if err := exec(wh, stmt); err != nil {
			t.Fatalf("peer data: %v", err)
		}
	}
	return newTarget(engineName, m, wh, d), ""
}

// TestCorpus runs every corpus case on DuckDB and on PostgreSQL, each on its dataset. A
// dataset is loaded on first use.
func TestCorpus(t *testing.T) {
	cases := loadCorpus(t)
	for _, engineName := range []string{"duckdb", "postgres"} {
		t.Run(engineName, func(t *testing.T) {
			type opened struct {
				target corpusTarget
				skip   string
			}
			targets := map[string]*opened{}
			for _, c := range cases {
				if !contains(c.enginesOr([]string{engineName}), engineName) {
					continue
				}
				// A dataset that cannot be loaded here says why; its cases skip, or fail in CI.
				o := targets[c.Dataset]
				if o == nil {
					target, skip := datasets[c.Dataset].open(t, engineName)
					o = &opened{target, skip}
					targets[c.Dataset] = o
				}
				t.Run(c.Name, func(t *testing.T) {
					switch {
					case o.skip != "" && os.Getenv("CI") == "true":
						t.Fatal("in CI every dataset must be there: " + o.skip)
					case o.skip != "":
						t.Skip(o.skip)
					}
					runCase(t, o.target, c)
				})
			}
		})
	}
}

// enginesOr returns the engines the case is limited to, or all when it names none.
func (c corpusCase) enginesOr(all []string) []string {
	if len(c.Engines) > 0 {
		return c.Engines
	}
	return all
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
			checkJoinPath(t, target, c, queries[0])
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

func checkJoinPath(t *testing.T, target corpusTarget, c corpusCase, q *query.Query) {
	if c.JoinPath == "" {
		return
	}
	compiled, err := target.engine.Compile(q)
	if err != nil {
		t.Fatalf("%s: compiling for the join path: %v", c.file, err)
	}
	if got := compiled.Plan.Tree.String(); got != c.JoinPath {
		t.Errorf("%s: join path %q, want %q", c.file, got, c.JoinPath)
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
		testdb.SortRows(got)
		testdb.SortRows(want)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d\n got: %v\nwant: %v", c.file, len(got), len(want), head(got), head(want))
	}
	for i := range got {
		if !testdb.RowsEqual(got[i], want[i]) {
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
		for i := range row.Keys {
			if isExtraKey(row.Keys, i) {
				continue
			}
			vals = append(vals, text(row.Values[i]))
		}
		out = append(out, vals)
	}
	return out
}

// isExtraKey tells the keys Cube adds beside the query's own columns: the compareDateRange
// label, and the bare key of a time dimension ("orders.created_at"), which directly follows
// its key with a granularity. A dimension of the same name is a column of its own: it comes
// before every time dimension.
func isExtraKey(keys []string, i int) bool {
	k := keys[i]
	if k == "compareDateRange" || strings.HasPrefix(k, "time.") {
		return true
	}
	return i > 0 && strings.HasPrefix(keys[i-1], k+".") && strings.Count(keys[i-1], ".") == 2
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

// TestTrapsModelWithoutPrimaryKey: a cube with a sum measure and a join but no primary key
// could have its rows multiplied with no key to aggregate them by, so the model is refused
// when it loads (Cube's compile error), before any query can go wrong.
func TestTrapsModelWithoutPrimaryKey(t *testing.T) {
	_, err := model.Load("testdata/traps/no_primary_key")
	const want = "visits.yml:7: primary key for 'visits' is required when join is defined in order to make aggregates work properly"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want one containing %q", err, want)
	}
}
