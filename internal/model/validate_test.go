package model

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cubit-dev/cubit/internal/errs"
)

var update = flag.Bool("update", false, "rewrite testdata/bad/*/want.txt from the current output")

// TestBadModels loads every folder of testdata/bad and compares the problems with the
// folder's want.txt. A new case is a new folder; run with -update to write its want.txt,
// then read the diff.
func TestBadModels(t *testing.T) {
	dirs, err := filepath.Glob("testdata/bad/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 25 {
		t.Fatalf("only %d bad cases", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			m, err := Load(dir)
			if err == nil {
				t.Fatalf("loaded %d cubes, want problems", len(m.Cubes))
			}
			var probs Problems
			if !errors.As(err, &probs) {
				t.Fatalf("error is %T, want Problems: %v", err, err)
			}
			got := err.Error() + "\n"
			wantFile := filepath.Join(dir, "want.txt")
			if *update {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("problems differ\n--- got\n%s--- want\n%s", got, want)
			}
		})
	}
}

// TestAllProblemsReported checks that independent problems in several files are all
// reported, sorted by file and line.
func TestAllProblemsReported(t *testing.T) {
	fsys := fstest.MapFS{
		"b.yml": {Data: []byte(`cubes:
  - name: users
    sql_table: users
    measures:
      - name: count
        type: count
        drill_members: [nme]
    dimensions:
      - name: name
        sql: name
        type: strin
`)},
		"a.yml": {Data: []byte(`cubes:
  - name: orders
    sqltable: orders
    joins:
      - name: user
        relationship: belongs_to
        sql: "{CUBE}.user_id = {users.id}"
    measures:
      - name: total
        sql: "{amout}"
        type: sum
views:
  - name: v
    cubes:
      - join_path: orders.users
        includes: [count]
`)},
	}
	_, err := LoadFS(fsys)
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("got %v, want Problems", err)
	}
	want := []string{
		"a.yml:2: cube orders: sql or sql_table is required",
		"a.yml:3: unknown key sqltable in cube orders; did you mean sql_table?",
		"a.yml:5: join orders -> user: Cube user doesn't exist; did you mean users?",
		"a.yml:5: primary key for 'orders' is required when join is defined in order to make aggregates work properly",
		"a.yml:7: join orders -> user: unknown member users.id in {users.id}",
		"a.yml:10: measure orders.total: unknown member or cube amout in {amout}",
		"a.yml:15: view v: join_path orders.users: orders and users are not joined",
		"b.yml:5: measure users.count: unknown member users.nme in drill_members; did you mean users.name?",
		"b.yml:9: dimension users.name: invalid type strin (valid: string, number, time, boolean, geo, switch); did you mean string?",
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
	if k := errs.KindOf(err); k != errs.KindModel {
		t.Errorf("errs.KindOf = %s, want model", k)
	}
	if len(probs) != len(want) {
		t.Fatalf("got %d problems, want %d", len(probs), len(want))
	}
	if p := probs[1]; p.Pos != (Pos{File: "a.yml", Line: 3}) || !strings.HasPrefix(p.Message, "unknown key") {
		t.Errorf("problem 1 is %+v", p)
	}
}

func TestValidInterval(t *testing.T) {
	for s, want := range map[string]bool{
		"1 year": true, "2 weeks": true, "3 months 15 days": true, "1 Quarter": true,
		"10 seconds": true, "1 minute 30 seconds": true, "": false, "year": false, "1 yr": false,
		"0 days": false, "-1 day": false, "1.5 days": false, "2 weeks 1": false,
	} {
		if got := validInterval(s, false); got != want {
			t.Errorf("validInterval(%q) = %v", s, got)
		}
	}
	if !validInterval("-1 month 2 days", true) || validInterval("--1 month", true) {
		t.Error("signed offsets")
	}
	for s, want := range map[string]bool{"1 hour": true, "0 * * * *": true,
		"0 0 * * MON-FRI": true, "*/5 * * * * *": true, "hourly": false, "* * *": false} {
		if got := validEvery(s); got != want {
			t.Errorf("validEvery(%q) = %v", s, got)
		}
	}
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{"sqlTable": "sql_table", "sql_table": "sql_table",
		"useOriginalSqlPreAggregations": "use_original_sql_pre_aggregations",
		"propagateFiltersToSubQuery":    "propagate_filters_to_sub_query", "countDistinct": "count_distinct"} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}
