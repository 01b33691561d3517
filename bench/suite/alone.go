package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"time"

	"github.com/cubit-dev/cubit/internal/warehouse"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

// savedSQL is what `suite sql` writes: the SQL Cubit generates for a query, and its
// parameters.
type savedSQL struct {
	SQL  string `json:"sql"`
	Args []any  `json:"args"`
}

func readSaved(path string) (savedSQL, error) {
	var s savedSQL
	b, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", path, err)
	}
	// JSON has only floats; a whole number (a LIMIT) goes to DuckDB as an integer.
	for i, a := range s.Args {
		if f, ok := a.(float64); ok && f == math.Trunc(f) {
			s.Args[i] = int64(f)
		}
	}
	return s, nil
}

// openAlone opens the file the way cubit serve opens it (duckdb.Open: the same threads and
// memory limit), and returns a function that runs the saved SQL once and reads every row,
// as Cubit does, and the time it took.
func openAlone(path string, readOnly bool, s savedSQL) (func() (time.Duration, error), func() error, error) {
	db, err := duckdb.Open(path, duckdb.Options{ReadOnly: readOnly})
	if err != nil {
		return nil, nil, err
	}
	ctx := context.Background()
	return func() (time.Duration, error) {
		start := time.Now()
		rows, err := db.Query(ctx, s.SQL, s.Args)
		if err != nil {
			return 0, err
		}
		_, _, err = warehouse.Collect(rows)
		return time.Since(start), err
	}, db.Close, nil
}

// cmdAlone runs SQL saved by `suite sql` directly through duckdb-go, sequentially: the
// baseline "DuckDB alone" of the uncached rows, when no Cubit runs beside it.
func cmdAlone(args []string, w io.Writer) error {
	fs := newFlags("alone")
	path := fs.String("db", "", "DuckDB file")
	sqlFile := fs.String("sqlfile", "", "file written by suite sql")
	n := fs.Int("n", 200, "runs measured")
	warm := fs.Int("warmup", 10, "runs before measuring")
	out := fs.String("out", "", "results file (JSON lines)")
	readOnly := fs.Bool("read-only", true, "open the file read-only")
	var rec Record
	fs.StringVar(&rec.Section, "section", "rest", "record section")
	fs.StringVar(&rec.Query, "label", "", "record query label")
	fs.StringVar(&rec.Mode, "mode", "no-cache", "record mode")
	fs.Float64Var(&rec.Scale, "scale", 0, "record scale")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rec.Target, rec.Kind, rec.Conns = "duckdb-alone", "seq", 1
	s, err := readSaved(*sqlFile)
	if err != nil {
		return err
	}
	once, closeDB, err := openAlone(*path, *readOnly, s)
	if err != nil {
		return err
	}
	defer closeDB()
	for range *warm {
		if _, err := once(); err != nil {
			return err
		}
	}
	lat := make([]time.Duration, *n)
	for i := range lat {
		if lat[i], err = once(); err != nil {
			return err
		}
	}
	rec.N = *n
	rec.P50, rec.P99, rec.Mean = stats(lat)
	rec.RPS = 1000 / rec.Mean
	return appendRecords(*out, w, rec)
}

// cmdPair times an uncached /load and DuckDB alone running the SQL Cubit generates for it,
// taking turns, one request at a time: the machine is shared, and its speed drifts over
// seconds by more than the 10% the comparison is about, so the two must be measured over
// the same seconds. DuckDB alone reads its own copy of the server's file (DuckDB locks a
// file per process), read-only; only one of the two works at any moment.
func cmdPair(args []string, w io.Writer) error {
	t, fs := targetFlags("pair")
	path := fs.String("db", "", "DuckDB file for DuckDB alone: a copy of the server's")
	n := fs.Int("n", 200, "runs measured, each side")
	warm := fs.Int("warmup", 10, "runs before measuring, each side")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tmp, err := os.CreateTemp("", "suite-sql-*.json")
	if err != nil {
		return err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if err := cmdSQL([]string{"-url", t.base, "-token", t.token, "-query", t.query, "-save", tmp.Name()}, io.Discard); err != nil {
		return err
	}
	s, err := readSaved(tmp.Name())
	if err != nil {
		return err
	}
	alone, closeDB, err := openAlone(*path, true, s)
	if err != nil {
		return err
	}
	defer closeDB()
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	body := loadBody(t.query, "no-cache")
	cubit := func() (time.Duration, error) {
		start := time.Now()
		_, err := post(c, t, body)
		return time.Since(start), err
	}
	sides := []func() (time.Duration, error){cubit, alone}
	lat := [2][]time.Duration{make([]time.Duration, 0, *n), make([]time.Duration, 0, *n)}
	for i := range *warm + *n {
		for k := range 2 {
			j := (i + k) % 2 // who goes first alternates
			d, err := sides[j]()
			if err != nil {
				return err
			}
			if i >= *warm {
				lat[j] = append(lat[j], d)
			}
		}
	}
	var recs []Record
	for j, target := range []string{"cubit", "duckdb-alone"} {
		rec := t.rec
		rec.Target, rec.Mode, rec.Kind, rec.Conns, rec.N = target, "no-cache", "pair", 1, *n
		rec.P50, rec.P99, rec.Mean = stats(lat[j])
		rec.RPS = 1000 / rec.Mean
		recs = append(recs, rec)
	}
	return appendRecords(t.out, w, recs...)
}
