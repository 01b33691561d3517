package engine_test

import (
	"context"
	"io/fs"
	"os"
	"path"
	"testing"
	"testing/fstest"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/preagg"
	"github.com/cubit-dev/cubit/internal/query"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

// rollupZones are the zones the test builds rollups in: UTC and those the corpus asks for.
var rollupZones = []string{"UTC", "America/New_York", "Asia/Kolkata", "Australia/Sydney"}

// rollupModel is the demo model with the rollups of testdata/preagg appended to its cubes.
func rollupModel(t testing.TB) *model.Model {
	t.Helper()
	files := fstest.MapFS{}
	err := fs.WalkDir(demo.Model, "model", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(demo.Model, p)
		if err != nil {
			return err
		}
		extra, err := os.ReadFile(path.Join("testdata/preagg", path.Base(p)))
		if err == nil && path.Dir(p) == "model/cubes" {
			data = append(append(data, '\n'), extra...)
		}
		files[p[len("model/"):]] = &fstest.MapFile{Data: data}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.LoadFS(files)
	if err != nil {
		t.Fatalf("demo model with rollups: %v", err)
	}
	return m
}

// openRollups returns an engine over the demo data of target whose model has the test
// rollups, all built into a fresh in-memory store.
func openRollups(t *testing.T, target corpusTarget) *engine.Engine {
	t.Helper()
	db, err := duckdb.Open("", duckdb.Options{MemoryLimit: "1GB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := engineConfig()
	cfg.PreAggregations = preagg.NewStore(db, "")
	cfg.PreAggregationTimezones = rollupZones
	eng := engine.New(rollupModel(t), target.engine.Dialect(), target.wh, cfg)
	if err := eng.PreAggregations().BuildAll(context.Background()); err != nil {
		t.Fatalf("building the rollups: %v", err)
	}
	for _, j := range eng.PreAggregations().Jobs() {
		if j.Status != preagg.JobBuilt {
			t.Fatalf("%s in %s: %s %s", j.PreAggregation, j.Timezone, j.Status, j.Error)
		}
	}
	return eng
}

// TestPreAggregationCorpus answers every corpus query on the demo data that a test rollup
// matches from that rollup, and checks the rows against the case's hand-written SQL over
// the source tables, like TestCorpus does for the source. On PostgreSQL the rollups are
// built from PostgreSQL and served by DuckDB.
func TestPreAggregationCorpus(t *testing.T) {
	var cases []corpusCase
	for _, c := range loadCorpus(t) {
		if c.Dataset == "demo" && c.Error == "" {
			cases = append(cases, c)
		}
	}
	for _, engineName := range []string{"duckdb", "postgres"} {
		t.Run(engineName, func(t *testing.T) {
			source, _ := openDemo(t, engineName)
			eng := openRollups(t, source)
			target := corpusTarget{engineName, eng, source.wh}
			matched, queries := 0, 0
			for _, c := range cases {
				if !contains(c.enginesOr([]string{engineName}), engineName) {
					continue
				}
				qs, array, err := query.DecodeAny([]byte(c.Query))
				if err != nil {
					t.Fatalf("%s: %v", c.Name, err)
				}
				used := false
				for _, q := range engine.Expand(engine.Request{Queries: qs, Array: array}) {
					queries++
					if compiled, err := eng.Compile(q); err == nil && compiled.Rollup != nil {
						matched++
						used = true
					}
				}
				if !used {
					continue
				}
				t.Run(c.Name, func(t *testing.T) { runCase(t, target, c) })
			}
			t.Logf("%s: %d of %d demo corpus queries answered by a rollup", engineName, matched, queries)
			if matched < 50 {
				t.Errorf("only %d corpus queries matched a rollup; the test rollups should cover at least 50", matched)
			}
		})
	}
}
