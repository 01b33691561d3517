package sqlapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/pgwire"
	"github.com/cubit-dev/cubit/internal/testdb"
	"github.com/cubit-dev/cubit/internal/warehouse"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

// testNow is "now" for relative dates, as in the engine's corpus.
var testNow = time.Date(2025, 6, 15, 10, 30, 0, 0, time.UTC)

var demoModel = sync.OnceValues(func() (*model.Model, error) {
	sub, err := fs.Sub(demo.Model, "model")
	if err != nil {
		return nil, err
	}
	return model.LoadFS(sub)
})

func loadModel(t testing.TB) *model.Model {
	t.Helper()
	m, err := demoModel()
	if err != nil {
		t.Fatalf("demo model: %v", err)
	}
	return m
}

// shop is the demo shop at scale 0.1 in DuckDB, loaded once for the package's tests.
type shop struct {
	db  *duckdb.DB
	eng *engine.Engine
}

var demoShop = sync.OnceValues(func() (*shop, error) {
	m, err := demoModel()
	if err != nil {
		return nil, err
	}
	db, err := duckdb.Open("", duckdb.Options{MemoryLimit: "1GB", Threads: 2})
	if err != nil {
		return nil, err
	}
	if err := duckdb.LoadTables(context.Background(), db, demo.Shop(0.1)); err != nil {
		return nil, err
	}
	cfg := engine.DefaultConfig()
	cfg.Now = func() time.Time { return testNow }
	return &shop{db: db, eng: engine.New(m, dialect.DuckDB{}, db, cfg)}, nil
})

func openShop(t testing.TB) *shop {
	t.Helper()
	s, err := demoShop()
	if err != nil {
		t.Fatalf("demo shop: %v", err)
	}
	return s
}

type fixedEngine struct{ e *engine.Engine }

func (f fixedEngine) Engine() *engine.Engine { return f.e }

// newTestSession opens a session as user "cube" on a handler whose super user is "admin".
func newTestSession(t testing.TB, eng *engine.Engine, user string) (*Handler, *session) {
	t.Helper()
	h := NewHandler(Options{Engines: fixedEngine{eng}, User: "cube", Password: "secret", SuperUser: "admin"})
	t.Cleanup(func() { h.Close() })
	s, err := h.NewSession(context.Background(), user, "db")
	if err != nil {
		t.Fatal(err)
	}
	return h, s.(*session)
}

// result is what a statement returned.
type result struct {
	cols []pgwire.Column
	rows [][]any
	tag  string
}

// run prepares sql with the extended protocol's Prepare and executes it with params.
func run(t testing.TB, s *session, sql string, params ...any) (*result, error) {
	t.Helper()
	ctx := context.Background()
	st, err := s.Prepare(ctx, sql, nil)
	if err != nil {
		return nil, err
	}
	rs, err := st.Execute(ctx, params)
	if err != nil {
		return nil, err
	}
	res := &result{cols: st.Columns()}
	for {
		r, ok := rs.Next()
		if !ok {
			break
		}
		res.rows = append(res.rows, append([]any(nil), r...))
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	res.tag = rs.Tag()
	rs.Close()
	return res, nil
}

func mustRun(t testing.TB, s *session, sql string, params ...any) *result {
	t.Helper()
	res, err := run(t, s, sql, params...)
	if err != nil {
		t.Fatalf("%s\n: %v", sql, err)
	}
	return res
}

// rawRows runs hand-written SQL on the raw tables.
func rawRows(t testing.TB, db *duckdb.DB, sql string) [][]string {
	t.Helper()
	rows, err := db.Query(context.Background(), sql, nil)
	if err != nil {
		t.Fatalf("check SQL failed: %v\n%s", err, sql)
	}
	_, data, err := warehouse.Collect(rows)
	if err != nil {
		t.Fatalf("check SQL failed: %v\n%s", err, sql)
	}
	return textRows(data)
}

func textRows(data [][]any) [][]string {
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
	case warehouse.Numeric:
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
		return string(x)
	}
	return fmt.Sprint(v)
}

// sameRows compares two results, in order or as sorted sets.
func sameRows(t testing.TB, what string, got, want [][]string, ordered bool) {
	t.Helper()
	if !ordered {
		testdb.SortRows(got)
		testdb.SortRows(want)
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d\n got: %v\nwant: %v", what, len(got), len(want), got[:min(len(got), 5)], want[:min(len(want), 5)])
	}
	for i := range got {
		if !testdb.RowsEqual(got[i], want[i]) {
			t.Fatalf("%s: row %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}
