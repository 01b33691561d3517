package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Results is the file `report` writes and bench/charts reads.
type Results struct {
	Date    string   `json:"date"`
	Command string   `json:"command"`
	Machine Machine  `json:"machine"`
	Records []Record `json:"records"`
}

// The suite's queries, by label (bench/suite.sh passes them as -label).
var queryText = map[string]string{
	"by-status":         "`orders.count`, `orders.total_amount` by `orders.status`",
	"by-status-filter":  "the same with `WHERE id <> $1` (SQL API) / `orders.id notEquals` (DuckDB alone)",
	"revenue-by-status": "`orders.total_revenue`, `orders.total_discount` by `orders.status`",
	"revenue-by-month":  "`orders.total_revenue`, `orders.total_discount` by `orders.created_at` month",
	"rollup-by-status":  "`orders.count` by `orders.status`, `created_at` in 2024-01-01..2024-12-31 (day-aligned; the `revenue_by_status_daily` rollup)",
}

func cmdReport(args []string, w io.Writer) error {
	fs := newFlags("report")
	in := fs.String("in", "", "results file (JSON lines)")
	machine := fs.String("machine", "", "machine description (suite machine)")
	command := fs.String("command", "bench/suite.sh", "the command of the run")
	jsonOut := fs.String("json", "", "results.json to write")
	mdOut := fs.String("md", "", "Markdown tables to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	recs, err := readRecords(*in)
	if err != nil {
		return err
	}
	// The run's time is that of its last record, so that a report made again later says when
	// the figures were taken.
	st, err := os.Stat(*in)
	if err != nil {
		return err
	}
	res := Results{Date: st.ModTime().UTC().Format("2006-01-02 15:04 UTC"), Command: *command, Records: recs}
	if b, err := os.ReadFile(*machine); err == nil {
		if err := json.Unmarshal(b, &res.Machine); err != nil {
			return fmt.Errorf("%s: %w", *machine, err)
		}
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
		return err
	}
	md := markdown(res)
	fmt.Fprint(w, md)
	return os.WriteFile(*mdOut, []byte(md), 0o644)
}

// table finds records by their fields.
type table []Record

func (t table) find(match func(Record) bool) *Record {
	for i := range t {
		if match(t[i]) {
			return &t[i]
		}
	}
	return nil
}

func (t table) get(section, target, mode, kind string, conns int, scale float64, query string) *Record {
	return t.find(func(r Record) bool {
		return r.Section == section && r.Target == target && r.Mode == mode && r.Kind == kind &&
			r.Conns == conns && r.Scale == scale && (query == "" || r.Query == query)
	})
}

func f2(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v >= 1:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// seqCell is "p50 / p99 ms" of a sequential record.
func seqCell(r *Record) string {
	switch {
	case r == nil:
		return "–"
	case r.NA != "":
		return r.NA
	}
	return f2(r.P50) + " / " + f2(r.P99) + " ms"
}

// loadCell is "req/s, p99" of a wrk or concurrent pgx record.
func loadCell(r *Record) string {
	switch {
	case r == nil:
		return "–"
	case r.NA != "":
		return r.NA
	}
	s := thousands(r.RPS) + " req/s, p99 " + f2(r.P99) + " ms"
	if r.Errors > 0 {
		s += fmt.Sprintf(", **%d errors**", r.Errors)
	}
	if r.Others >= 5 {
		s += fmt.Sprintf(" (other work: %.0f%% of the cores)", r.Others)
	}
	return s
}

func ratio(a, b *Record, f func(*Record) float64) string {
	if a == nil || b == nil || a.NA != "" || b.NA != "" || f(b) == 0 {
		return "–"
	}
	return f2(f(a)/f(b)) + "×"
}

var conns = []int{1, 8, 64}

func markdown(res Results) string {
	t := table(res.Records)
	var b strings.Builder
	m := res.Machine
	fmt.Fprintf(&b, "Run of %s: `%s`.\n\n", res.Date, res.Command)
	fmt.Fprintf(&b, "Machine: %d CPUs (%s), %s GB RAM, %s (Linux %s), %s, DuckDB %s, Cube %s on Node %s, %s. Client and servers share the machine.\n\n",
		m.CPUs, m.CPUModel, m.RAMGB, m.OS, m.Kernel, m.Go, m.DuckDB, m.Cube, m.Node, m.Wrk)
	var loads []string
	for _, r := range t {
		if r.Section == "load" {
			loads = append(loads, fmt.Sprintf("%s %.0f%%", r.Query, r.Busy))
		}
	}
	if len(loads) > 0 {
		fmt.Fprintf(&b, "CPU busy over 2 s before each part, with the suite's servers stopped (above 0: other work shared the machine): %s.\n\n", strings.Join(loads, ", "))
	}

	// REST.
	b.WriteString("### REST `/load`\n\n")
	b.WriteString("Query: " + queryText["by-status"] + " on the Cube peer's data (10,000 orders); rollup rows: " +
		queryText["rollup-by-status"] + " on the demo shop at scale 1 (100,000 orders). Sequential: one keep-alive connection; p50 / p99. wrk: `-d` " +
		"per cell, one thread for 1 connection and two above. Cubit and DuckDB alone \"taking turns\": one uncached request, then one run of the same SQL " +
		"directly in DuckDB (its own copy of the file), alternately, so that both are measured over the same seconds. " +
		"\"Other work\": the share of the machine's cores that processes other than the server under test, wrk and the suite used during that cell (other sessions share this machine), shown from 5%.\n\n")
	b.WriteString("| target | mode | sequential p50 / p99 | wrk 1 connection | wrk 8 connections | wrk 64 connections |\n|---|---|---|---|---|---|\n")
	type row struct {
		target, mode, label string
		scale               float64
	}
	rows := []row{
		{"cubit", "cached", "Cubit", 0}, {"cube", "cached", "Cube", 0},
		{"cubit", "no-cache", "Cubit", 0}, {"cube", "no-cache", "Cube", 0},
		{"cubit", "rollup", "Cubit (demo, scale 1)", 1},
	}
	for _, r := range rows {
		section, q := "rest", "by-status"
		if r.mode == "rollup" {
			section, q = "scale", "rollup-by-status"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |", r.label, r.mode, seqCell(t.get(section, r.target, r.mode, "seq", 1, r.scale, q)))
		for _, c := range conns {
			fmt.Fprintf(&b, " %s |", loadCell(t.get(section, r.target, r.mode, "wrk", c, r.scale, q)))
		}
		b.WriteString("\n")
	}
	for _, mode := range []string{"cached", "no-cache"} {
		fmt.Fprintf(&b, "| Cubit / Cube | %s | %s (p50) |", mode, ratio(
			t.get("rest", "cube", mode, "seq", 1, 0, ""), t.get("rest", "cubit", mode, "seq", 1, 0, ""),
			func(r *Record) float64 { return r.P50 })+" faster")
		for _, c := range conns {
			fmt.Fprintf(&b, " %s req/s |", ratio(t.get("rest", "cubit", mode, "wrk", c, 0, ""), t.get("rest", "cube", mode, "wrk", c, 0, ""),
				func(r *Record) float64 { return r.RPS }))
		}
		b.WriteString("\n")
	}
	pc, pa := t.get("rest", "cubit", "no-cache", "pair", 1, 0, ""), t.get("rest", "duckdb-alone", "no-cache", "pair", 1, 0, "")
	fmt.Fprintf(&b, "| Cubit, taking turns with DuckDB alone | no-cache | %s | | | |\n", seqCell(pc))
	fmt.Fprintf(&b, "| DuckDB alone, same SQL, taking turns with Cubit | no-cache | %s | | | |\n", seqCell(pa))
	fmt.Fprintf(&b, "| Cubit / DuckDB alone | no-cache | %s (p50) | | | |\n\n", ratio(pc, pa, func(r *Record) float64 { return r.P50 }))

	// SQL API.
	b.WriteString("### SQL API through pgx\n\n")
	b.WriteString("Same server and data as the REST rows. Cached: `SELECT status, MEASURE(count), MEASURE(total_amount) FROM orders GROUP BY 1`; " +
		"no-cache: the same with `WHERE id <> $1` and a new negative `$1` every run (every row still counts), so every run misses the result cache. " +
		"extended: pgx's default (statements prepared once and cached, binary results); simple: the simple query protocol. Concurrent: that many " +
		"pgx connections in a loop for the `-d` time, p99 over every query.\n\n")
	b.WriteString("| pgx mode | mode | sequential p50 / p99 | 1 connection | 8 connections | 64 connections |\n|---|---|---|---|---|---|\n")
	for _, exec := range []string{"extended", "simple"} {
		for _, mode := range []string{"cached", "no-cache"} {
			target := "cubit-sql-" + exec
			if t.find(func(r Record) bool { return r.Target == target && r.Mode == mode }) == nil {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %s |", exec, mode, seqCell(t.get("sql", target, mode, "seq", 1, 0, "")))
			for _, c := range conns {
				fmt.Fprintf(&b, " %s |", loadCell(t.get("sql", target, mode, "pgx", c, 0, "")))
			}
			b.WriteString("\n")
		}
	}
	if r := t.get("sql", "duckdb-alone", "no-cache", "seq", 1, 0, ""); r != nil {
		fmt.Fprintf(&b, "| DuckDB alone, the REST query's SQL with `orders.id notEquals -1` | no-cache | %s | | | |\n", seqCell(r))
	}
	b.WriteString("\n")

	// Scale.
	b.WriteString("### Scale curve\n\n")
	b.WriteString("The demo shop (`demo.Shop(scale)`, 100,000 orders and about 3 line items each per unit of scale) generated into a DuckDB file " +
		"(kept under /tmp between runs) and served by `cubit serve --no-platform` on a copy with the embedded demo model. Uncached: `\"cache\": \"no-cache\"`, " +
		"sequential p50 / p99 over one connection, taking turns request by request with DuckDB alone, which runs the SQL Cubit generates (`/cubejs-api/v1/sql`) on its own copy of the file. " +
		"Rollup: " + queryText["rollup-by-status"] + ", no-cache, measured first, once the server (which builds rollups in the background from its start) answers it from the rollup.\n\n")
	b.WriteString("| orders | file, generated in | query | Cubit uncached | DuckDB alone | Cubit / DuckDB (p50) | rollup-served |\n|---|---|---|---|---|---|---|\n")
	var scales []float64
	for _, r := range res.Records {
		if r.Section == "scale" && !slices.Contains(scales, r.Scale) {
			scales = append(scales, r.Scale)
		}
	}
	slices.Sort(scales)
	for _, s := range scales {
		gen := "–"
		if g := t.find(func(r Record) bool { return r.Section == "gen" && r.Scale == s }); g != nil {
			gen = fmt.Sprintf("%.0f MB", float64(g.Bytes)/1e6)
			if g.NA == "" {
				gen += fmt.Sprintf(", %.1f s", g.Seconds)
			}
		}
		rr := t.get("scale", "cubit", "rollup", "seq", 1, s, "rollup-by-status")
		rollup := seqCell(rr)
		if rr != nil && rr.NA == "" {
			rollup += fmt.Sprintf(" (answered from the rollup %.1f s after the server was ready)", rr.Seconds)
		}
		for i, q := range []string{"revenue-by-status", "revenue-by-month"} {
			c := t.get("scale", "cubit", "no-cache", "pair", 1, s, q)
			a := t.get("scale", "duckdb-alone", "no-cache", "pair", 1, s, q)
			first, last := thousands(s*100000), gen
			if i > 0 {
				first, last, rollup = "", "", ""
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", first, last, q, seqCell(c), seqCell(a),
				ratio(c, a, func(r *Record) float64 { return r.P50 }), rollup)
		}
	}
	b.WriteString("\n")
	b.WriteString(targets(t))
	return b.String()
}

// targets compares the run with issue 7's targets.
func targets(t table) string {
	var b strings.Builder
	b.WriteString("### Against the targets\n\n| target | reached | met |\n|---|---|---|\n")
	met := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "**no**"
	}
	// verdict is "yes", "**no**", or which cases meet the target and which do not.
	verdict := func(yes, no []string) string {
		switch {
		case len(no) == 0:
			return "yes"
		case len(yes) == 0:
			return "**no**"
		}
		return "yes: " + strings.Join(yes, ", ") + "; **no**: " + strings.Join(no, ", ")
	}
	var parts, yes, no []string
	for _, c := range conns {
		a, k := t.get("rest", "cubit", "cached", "wrk", c, 0, ""), t.get("rest", "cube", "cached", "wrk", c, 0, "")
		if a == nil || k == nil || k.RPS == 0 {
			continue
		}
		x := a.RPS / k.RPS
		parts = append(parts, fmt.Sprintf("%s× at %d", f2(x), c))
		if x >= 20 {
			yes = append(yes, strconv.Itoa(c))
		} else {
			no = append(no, strconv.Itoa(c))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(&b, "| cached `/load` ≥ 20× the Cube peer's throughput (wrk) | %s connections | %s |\n", strings.Join(parts, ", "), verdict(yes, no))
	}
	if r := t.get("rest", "cubit", "cached", "wrk", 8, 0, ""); r != nil {
		fmt.Fprintf(&b, "| p99 under 2 ms at 8 connections (cached) | %s ms | %s |\n", f2(r.P99), met(r.P99 < 2))
	}
	parts, yes, no = nil, nil, nil
	add := func(label string, c, a *Record) {
		if c == nil || a == nil || c.NA != "" || a.NA != "" {
			return
		}
		x := c.P50 / a.P50
		parts = append(parts, fmt.Sprintf("%s %s", label, f2(x)))
		if x <= 1.1 {
			yes = append(yes, label)
		} else {
			no = append(no, label)
		}
	}
	add("10,000 orders (peer data)", t.get("rest", "cubit", "no-cache", "pair", 1, 0, ""), t.get("rest", "duckdb-alone", "no-cache", "pair", 1, 0, ""))
	for _, r := range t {
		if r.Section == "scale" && r.Target == "cubit" && r.Mode == "no-cache" && r.Kind == "pair" {
			add(fmt.Sprintf("%s orders %s", thousands(r.Scale*100000), r.Query), &r,
				t.get("scale", "duckdb-alone", "no-cache", "pair", 1, r.Scale, r.Query))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(&b, "| uncached within 10%% of DuckDB running the same SQL (p50 ratio ≤ 1.10) | %s | %s |\n", strings.Join(parts, "; "), verdict(yes, no))
	}
	b.WriteString("\n")
	return b.String()
}
