package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/platform"
	"github.com/cubit-dev/cubit/internal/query"
	"github.com/cubit-dev/cubit/internal/restapi"
	"github.com/cubit-dev/cubit/internal/store"
	"github.com/cubit-dev/cubit/internal/testdb"
	"github.com/cubit-dev/cubit/internal/warehouse"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
	"github.com/cubit-dev/cubit/internal/warehouse/postgres"
)

// An instance is what the REST API serves; the check lives in the test so that deploy
// itself never imports an API.
var _ restapi.Engines = (*Instance)(nil)

func demoModel(t testing.TB) fs.FS {
	t.Helper()
	sub, err := fs.Sub(demo.Model, "model")
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func env(typ store.EnvironmentType, settings string) store.Environment {
	return store.Environment{Name: "test", Type: typ, Settings: json.RawMessage(settings)}
}

var demoEnv = env(store.EnvironmentDuckDB, `{"demo": true}`)

// newRuntime returns a Runtime without a result cache, so that every query reads the
// source, and closes it when the test ends.
func newRuntime(t testing.TB) *Runtime {
	t.Helper()
	r := NewRuntime(Options{Engine: engine.Config{CacheTTL: -1}, Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("closing the runtime: %v", err)
		}
	})
	return r
}

func build(t testing.TB, r *Runtime, fsys fs.FS, version string, e store.Environment, secrets map[string][]byte) *Instance {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inst, err := r.Build(ctx, fsys, version, e, secrets)
	if err != nil {
		t.Fatalf("Build(%s): %v", version, err)
	}
	return inst.(*Instance)
}

// countByStatus asks the instance's engine for orders.count by orders.status.
func countByStatus(t *testing.T, inst *Instance) map[string]string {
	t.Helper()
	q, err := query.Decode([]byte(`{"measures": ["orders.count"], "dimensions": ["orders.status"]}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := inst.Engine().Query(context.Background(), q)
	if err != nil {
		t.Fatalf("query through the engine: %v", err)
	}
	got := map[string]string{}
	for _, row := range res.Rows() {
		status, _ := row.Get("orders.status")
		count, _ := row.Get("orders.count")
		got[fmt.Sprint(status)] = fmt.Sprint(count)
	}
	return got
}

// sqlCountByStatus is the independent answer: hand-written SQL over the raw orders table.
func sqlCountByStatus(t *testing.T, w warehouse.Warehouse) map[string]string {
	t.Helper()
	rows, err := w.Query(context.Background(), "SELECT status, count(*) FROM orders GROUP BY status", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, data, err := warehouse.Collect(rows)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, r := range data {
		want[fmt.Sprint(r[0])] = fmt.Sprint(r[1])
	}
	return want
}

func total(counts map[string]string) int {
	n := 0
	for _, c := range counts {
		v, _ := strconv.Atoi(c)
		n += v
	}
	return n
}

func checkCounts(t *testing.T, inst *Instance, w warehouse.Warehouse, wantTotal int) {
	t.Helper()
	got, want := countByStatus(t, inst), sqlCountByStatus(t, w)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("orders.count by status = %v, hand-written SQL gives %v", got, want)
	}
	if n := total(want); n != wantTotal {
		t.Errorf("the orders table holds %d orders, want %d", n, wantTotal)
	}
}

func TestBuildDemo(t *testing.T) {
	r := newRuntime(t)
	inst := build(t, r, demoModel(t), "v1", demoEnv, nil)
	defer inst.Close()
	if err := inst.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if inst.Version() != "v1" {
		t.Errorf("Version = %q, want v1", inst.Version())
	}
	checkCounts(t, inst, inst.warehouse(), 100000)
}

// TestBuildSharesWarehouse checks that instances of one environment share one warehouse,
// whatever the spelling of its settings, and that the last close closes it.
func TestBuildSharesWarehouse(t *testing.T) {
	r := newRuntime(t)
	a := build(t, r, demoModel(t), "v1", demoEnv, nil)
	b := build(t, r, demoModel(t), "v2", env(store.EnvironmentDuckDB, `{ "demo" : true }`), map[string][]byte{"unused": []byte("x")})
	if n := r.poolSize(); n != 1 {
		t.Fatalf("two builds on one environment hold %d warehouses, want 1", n)
	}
	if a.warehouse() != b.warehouse() {
		t.Fatal("two builds on one environment got different warehouses")
	}
	w := a.warehouse()

	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if n := r.poolSize(); n != 1 {
		t.Fatalf("after the first close the pool holds %d warehouses, want 1", n)
	}
	checkCounts(t, b, w, 100000) // the other instance still serves
	if err := a.Ping(context.Background()); errs.KindOf(err) != errs.KindUnavailable {
		t.Errorf("Ping of a closed instance = %v, want unavailable", err)
	}

	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
	if n := r.poolSize(); n != 0 {
		t.Fatalf("after the last close the pool holds %d warehouses, want 0", n)
	}
	if err := w.Ping(context.Background()); err == nil {
		t.Fatal("the warehouse still answers after its last instance closed")
	}
}

func TestBuildBrokenModel(t *testing.T) {
	broken := fstest.MapFS{
		"cubes/orders.yml": {Data: []byte("cubes:\n  - name: orders\n    sql_table: orders\n    measures:\n      - name: count\n        type: cuont\n")},
		"cubes/bad.yml":    {Data: []byte("cubes:\n  - name: [unclosed\n")},
	}
	_, want := model.LoadFS(broken)
	if want == nil {
		t.Fatal("the broken model loads")
	}

	r := newRuntime(t)
	inst, err := r.Build(context.Background(), broken, "v1", demoEnv, nil)
	if inst != nil {
		t.Fatal("Build returned an instance for a broken model")
	}
	if errs.KindOf(err) != errs.KindModel {
		t.Fatalf("Build = %v (kind %s), want a model error", err, errs.KindOf(err))
	}
	if err.Error() != want.Error() {
		t.Errorf("Build's error text\n%s\nis not the model's\n%s", err, want)
	}
	for _, pos := range []string{"cubes/bad.yml:1: YAML syntax error", "cubes/orders.yml:5: measure orders.count: invalid type cuont"} {
		if !strings.Contains(err.Error(), pos) {
			t.Errorf("the error does not name %s:\n%s", pos, err)
		}
	}
	if n := r.poolSize(); n != 0 {
		t.Fatalf("a broken model left %d pooled warehouses", n)
	}
}

func TestBuildInvalidSettings(t *testing.T) {
	r := newRuntime(t)
	_, err := r.Build(context.Background(), demoModel(t), "v1", env(store.EnvironmentDuckDB, `{"demo": true, "path": "/x.duckdb"}`), nil)
	if errs.KindOf(err) != errs.KindInvalid || !strings.Contains(err.Error(), `environment "test"`) || !strings.Contains(err.Error(), "exactly one of") {
		t.Fatalf("Build = %v (kind %s), want an invalid error naming the environment and the problem", err, errs.KindOf(err))
	}
	if n := r.poolSize(); n != 0 {
		t.Fatalf("invalid settings left %d pooled warehouses", n)
	}
}

// TestBuildDuckDBFile checks a DuckDB file environment: opened read-only once for every
// spelling of its path, and a missing file fails Build without being remembered.
func TestBuildDuckDBFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "shop.duckdb")
	db, err := duckdb.Open(path, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := duckdb.LoadTables(context.Background(), db, demo.Shop(0.01)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	r := newRuntime(t)
	a := build(t, r, demoModel(t), "v1", env(store.EnvironmentDuckDB, fmt.Sprintf(`{"path": %q}`, path)), nil)
	defer a.Close()
	other := filepath.Join(dir, "sub", "..", "shop.duckdb")
	b := build(t, r, demoModel(t), "v2", env(store.EnvironmentDuckDB, fmt.Sprintf(`{"path": %q}`, other)), nil)
	defer b.Close()
	if n := r.poolSize(); n != 1 {
		t.Fatalf("two spellings of one file hold %d warehouses, want 1", n)
	}
	checkCounts(t, b, b.warehouse(), 1000)
	if _, err := a.warehouse().Query(context.Background(), "CREATE TABLE t (x INT)", nil); err == nil {
		t.Error("the DuckDB file is writable; it must be opened read-only")
	}

	missing := env(store.EnvironmentDuckDB, fmt.Sprintf(`{"path": %q}`, filepath.Join(dir, "missing.duckdb")))
	_, err = r.Build(context.Background(), demoModel(t), "v1", missing, nil)
	if errs.KindOf(err) != errs.KindUnavailable || !strings.Contains(err.Error(), "missing.duckdb") {
		t.Fatalf("Build on a missing file = %v (kind %s), want unavailable naming the file", err, errs.KindOf(err))
	}
	if _, statErr := os.Stat(filepath.Join(dir, "missing.duckdb")); statErr == nil {
		t.Error("Build created the missing DuckDB file")
	}
	if n := r.poolSize(); n != 1 {
		t.Fatalf("a failed open is pooled: %d warehouses, want 1", n)
	}
}

// pgEnv loads a demo shop into a fresh PostgreSQL schema and returns an environment for it,
// with the password moved to the secrets as the platform stores it.
func pgEnv(t *testing.T, scale float64) (store.Environment, map[string][]byte, *postgres.DB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	schemaURL := testdb.FreshSchema(t, testdb.Postgres(t))
	db, err := postgres.Open(ctx, schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := postgres.LoadTables(ctx, db, demo.Shop(scale)); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(schemaURL)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string][]byte{}
	if pw, ok := u.User.Password(); ok {
		secrets[platform.SecretPassword] = []byte(pw)
		u.User = url.User(u.User.Username())
	}
	settings, err := json.Marshal(map[string]string{"url": u.String()})
	if err != nil {
		t.Fatal(err)
	}
	return env(store.EnvironmentPostgres, string(settings)), secrets, db
}

func TestBuildPostgres(t *testing.T) {
	e, secrets, loader := pgEnv(t, 0.1)
	r := newRuntime(t)
	a := build(t, r, demoModel(t), "v1", e, secrets)
	defer a.Close()
	if err := a.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	checkCounts(t, a, loader, 10000)

	b := build(t, r, demoModel(t), "v2", e, secrets)
	defer b.Close()
	if n := r.poolSize(); n != 1 {
		t.Fatalf("two builds on one environment hold %d pools, want 1", n)
	}

	// A changed password is a new warehouse; the instance built before keeps its own.
	wrong := map[string][]byte{platform.SecretPassword: []byte("not-the-password")}
	c := build(t, r, demoModel(t), "v3", e, wrong)
	defer c.Close()
	if n := r.poolSize(); n != 2 {
		t.Fatalf("a changed password shares a pool: %d pools, want 2", n)
	}
	if err := c.Ping(context.Background()); errs.KindOf(err) != errs.KindUnavailable {
		t.Errorf("Ping with a wrong password = %v, want unavailable", err)
	}
	checkCounts(t, a, loader, 10000)
}

// TestBuildPostgresDown checks the choice for a source that does not answer: Build
// succeeds, since the pool connects lazily, and Ping and queries report it unavailable,
// so that a heartbeat sees the source come back without a rebuild.
func TestBuildPostgresDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	r := newRuntime(t)
	e := env(store.EnvironmentPostgres, fmt.Sprintf(`{"host": "127.0.0.1", "port": %d, "database": "shop", "user": "cubit", "sslmode": "disable"}`, port))
	inst := build(t, r, demoModel(t), "v1", e, map[string][]byte{platform.SecretPassword: []byte("secret")})
	defer inst.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = inst.Ping(ctx)
	if errs.KindOf(err) != errs.KindUnavailable {
		t.Fatalf("Ping = %v (kind %s), want unavailable", err, errs.KindOf(err))
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error shows the password: %v", err)
	}
	q, _ := query.Decode([]byte(`{"measures": ["orders.count"]}`))
	if _, err := inst.Engine().Query(ctx, q); errs.KindOf(err) != errs.KindUnavailable {
		t.Errorf("query = %v, want unavailable", err)
	}
}

func TestBuildAfterClose(t *testing.T) {
	r := NewRuntime(Options{})
	inst := build(t, r, demoModel(t), "v1", demoEnv, nil)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := inst.warehouse().Ping(context.Background()); err == nil {
		t.Error("Runtime.Close left a warehouse open")
	}
	if err := inst.Close(); err != nil {
		t.Errorf("closing an instance after the runtime: %v", err)
	}
	_, err := r.Build(context.Background(), demoModel(t), "v2", demoEnv, nil)
	if !errors.Is(err, errClosed) {
		t.Fatalf("Build after Close = %v, want errClosed", err)
	}
}

// BenchmarkBuildDemo measures a restart on a warm pool: compile the demo model, bind it
// to the shared demo warehouse, close it.
func BenchmarkBuildDemo(b *testing.B) {
	r := newRuntime(b)
	keep := build(b, r, demoModel(b), "warm", demoEnv, nil)
	defer keep.Close()
	fsys := demoModel(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		inst, err := r.Build(ctx, fsys, "v", demoEnv, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := inst.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCheckModel(t *testing.T) {
	r := newRuntime(t)
	if err := r.CheckModel(demoModel(t)); err != nil {
		t.Fatalf("the demo model: %v", err)
	}
	broken := fstest.MapFS{"cubes/orders.yml": {Data: []byte("cubes:\n  - name: orders\n    sql_table: orders\n    measures:\n      - name: count\n        type: cuont\n")}}
	if err := r.CheckModel(broken); errs.KindOf(err) != errs.KindModel || !strings.Contains(err.Error(), "cubes/orders.yml:5") {
		t.Fatalf("a broken model: %v (kind %s)", err, errs.KindOf(err))
	}
	if n := r.poolSize(); n != 0 {
		t.Fatalf("checking models opened %d warehouses", n)
	}
}

func TestCheckEnvironment(t *testing.T) {
	r := newRuntime(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.CheckEnvironment(ctx, demoEnv, nil); err != nil {
		t.Fatalf("the demo: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	down := env(store.EnvironmentPostgres, fmt.Sprintf(`{"host": "127.0.0.1", "port": %d, "database": "shop", "user": "cubit", "sslmode": "disable"}`, port))
	if err := r.CheckEnvironment(ctx, down, nil); errs.KindOf(err) != errs.KindUnavailable {
		t.Fatalf("a closed port: %v (kind %s), want unavailable", err, errs.KindOf(err))
	}
	// A DuckDB file that an instance holds open is checked through the pool, not opened twice.
	path := filepath.Join(t.TempDir(), "shop.duckdb")
	db, err := duckdb.Open(path, duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := duckdb.LoadTables(ctx, db, demo.Shop(0.01)); err != nil {
		t.Fatal(err)
	}
	db.Close()
	file := env(store.EnvironmentDuckDB, fmt.Sprintf(`{"path": %q}`, path))
	inst := build(t, r, demoModel(t), "v1", file, nil)
	defer inst.Close()
	if err := r.CheckEnvironment(ctx, file, nil); err != nil {
		t.Fatalf("a DuckDB file in use: %v", err)
	}
	if n := r.poolSize(); n != 1 {
		t.Fatalf("after the checks the pool holds %d warehouses, want 1 (the instance's)", n)
	}
}

// TestRestartKeepsCache checks that a new version of a deployment, built on the warehouse
// the old one holds, answers from the results the old one cached.
func TestRestartKeepsCache(t *testing.T) {
	r := NewRuntime(Options{})
	t.Cleanup(func() { r.Close() })
	q, err := query.Decode([]byte(`{"measures": ["orders.count"], "dimensions": ["orders.status"]}`))
	if err != nil {
		t.Fatal(err)
	}
	old := build(t, r, demoModel(t), "v1", demoEnv, nil)
	first, err := old.Engine().Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	next := build(t, r, demoModel(t), "v2", demoEnv, nil)
	old.Close()
	second, err := next.Engine().Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	if first.LastRefreshTime != second.LastRefreshTime || next.entry.cache.Len() != 1 {
		t.Fatalf("the new version recomputed the result: lastRefreshTime %s then %s, %d cached", first.LastRefreshTime, second.LastRefreshTime, next.entry.cache.Len())
	}
}

// TestRollupsOnDeployment checks that an instance builds its model's rollups in the data
// source's rollup store in the background and answers a query they match from them, with
// the numbers hand-written SQL gives.
func TestRollupsOnDeployment(t *testing.T) {
	r := newRuntime(t)
	inst := build(t, r, demoModel(t), "v1", demoEnv, nil)
	defer inst.Close()
	set := inst.Engine().PreAggregations()
	if set == nil {
		t.Fatal("the demo model's rollups are not set up")
	}
	deadline := time.Now().Add(time.Minute)
	for built := false; !built; {
		for _, j := range set.Jobs() {
			built = built || j.Status == "built"
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rollup built within a minute: %+v", set.Jobs())
		}
		time.Sleep(20 * time.Millisecond)
	}
	q, err := query.Decode([]byte(`{"measures": ["orders.count"], "dimensions": ["orders.status"]}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := inst.Engine().Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.UsedPreAggregations) != 1 {
		t.Fatalf("the query was not answered from the rollup: %+v", res.UsedPreAggregations)
	}
	got := map[string]string{}
	for _, row := range res.Rows() {
		status, _ := row.Get("orders.status")
		count, _ := row.Get("orders.count")
		got[fmt.Sprint(status)] = fmt.Sprint(count)
	}
	if want := sqlCountByStatus(t, inst.warehouse()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("from the rollup %v, hand-written SQL %v", got, want)
	}
}
