package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// Record is one measured figure. Latencies are in milliseconds; a record with NA set was not
// measured, and NA says why (the table prints it in place of the figures).
type Record struct {
	Section string  `json:"section"`         // rest, sql, scale, gen
	Target  string  `json:"target"`          // cubit, cube, duckdb-alone, cubit-sql
	Mode    string  `json:"mode,omitempty"`  // cached, no-cache, rollup
	Kind    string  `json:"kind"`            // seq, pair (seq taking turns with DuckDB alone), wrk, pgx, gen, load
	Query   string  `json:"query,omitempty"` // a short label of the query
	Scale   float64 `json:"scale,omitempty"` // demo.Shop scale (1 = 100,000 orders); 0 for the peer's data
	Conns   int     `json:"conns,omitempty"`
	N       int     `json:"n,omitempty"` // requests measured
	P50     float64 `json:"p50_ms,omitempty"`
	P99     float64 `json:"p99_ms,omitempty"`
	Mean    float64 `json:"mean_ms,omitempty"`
	RPS     float64 `json:"rps,omitempty"`
	Errors  int     `json:"errors,omitempty"`
	Seconds float64 `json:"seconds,omitempty"`    // gen: wall time
	Bytes   int64   `json:"bytes,omitempty"`      // gen: file size
	Rollup  string  `json:"rollup,omitempty"`     // the pre-aggregations the response says it used
	Busy    float64 `json:"busy_pct,omitempty"`   // load: share of all cores busy over 2 s, from /proc/stat
	Others  float64 `json:"others_pct,omitempty"` // wrk, pgx: share of all cores used by other work meanwhile
	NA      string  `json:"na,omitempty"`
}

// appendRecords appends recs to the JSON-lines file at path and echoes them on w.
func appendRecords(path string, w io.Writer, recs ...Record) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, r := range recs {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(f, "%s\n", b); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\n", b)
	}
	return f.Close()
}

func readRecords(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		recs = append(recs, r)
	}
	return recs, sc.Err()
}

// stats sorts lat and returns its p50, p99 and mean in milliseconds.
func stats(lat []time.Duration) (p50, p99, mean float64) {
	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	at := func(p float64) float64 { return ms(lat[int(p*float64(len(lat)-1))]) }
	return at(0.5), at(0.99), ms(sum / time.Duration(len(lat)))
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
