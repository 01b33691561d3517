package sqlapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/cubit-dev/cubit/internal/pgwire"
)

var update = flag.Bool("update", false, "rewrite testdata/rewrite.golden")

type rewriteCase struct {
	Name     string `yaml:"name"`
	SQL      string `yaml:"sql"`
	Params   []any  `yaml:"params"`
	User     string `yaml:"user"`
	Timezone string `yaml:"timezone"`
}

func loadRewriteCases(t *testing.T) []rewriteCase {
	t.Helper()
	data, err := os.ReadFile("testdata/rewrite.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []rewriteCase
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cases); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.Name] {
			t.Fatalf("case %s defined twice", c.Name)
		}
		seen[c.Name] = true
	}
	return cases
}

// rewrite plans one case's SQL the way a session executing it does, without running it.
func rewrite(t *testing.T, c rewriteCase) string {
	cat := newCatalog(loadModel(t))
	user := c.User
	if user == "" {
		user = "cube"
	}
	tz := c.Timezone
	if tz == "" {
		tz = "UTC"
	}
	params := make([]any, len(c.Params))
	for i, p := range c.Params {
		if n, ok := p.(int); ok {
			params[i] = int64(n)
		} else {
			params[i] = p
		}
	}
	s := settings{"timezone": {"TimeZone", tz}}
	e := &env{cat: cat, user: user, superUser: "admin", database: "db", timezone: tz, params: params,
		paramTypes: map[int32]uint32{},
		setting: func(name string) (string, bool) {
			v, ok := s.get(name)
			return v.value, ok
		}}
	stmts, err := parse(c.SQL)
	if err == nil && len(stmts) != 1 {
		err = fmt.Errorf("want one statement, got %d", len(stmts))
	}
	var plan any
	if err == nil {
		plan, err = planSelect(e, stmts[0].node)
	}
	if err != nil {
		return "error: " + errorText(err)
	}
	var kind string
	switch plan.(type) {
	case *cubePlan:
		kind = "cube query"
	case *postPlan:
		kind = "post-processing"
	}
	b, _ := json.MarshalIndent(plan, "", "  ")
	return kind + ":\n" + string(b)
}

// errorText is an error as the golden file shows it: SQLSTATE, message, detail and hint.
func errorText(err error) string {
	var pe *pgwire.Error
	if !errors.As(err, &pe) {
		return "(engine) " + err.Error()
	}
	s := pe.Code + " " + pe.Message
	if pe.Position != 0 {
		s += fmt.Sprintf("\n  position: %d", pe.Position)
	}
	if pe.Detail != "" {
		s += "\n  detail: " + pe.Detail
	}
	if pe.Hint != "" {
		s += "\n  hint: " + pe.Hint
	}
	return s
}

// TestRewrite checks the rewrite of every case of testdata/rewrite.yaml against
// testdata/rewrite.golden.
func TestRewrite(t *testing.T) {
	cases := loadRewriteCases(t)
	if len(cases) < 60 {
		t.Fatalf("only %d rewrite cases", len(cases))
	}
	var out strings.Builder
	for _, c := range cases {
		fmt.Fprintf(&out, "=== %s\n%s\n--- %s\n\n", c.Name, strings.TrimSpace(c.SQL), rewrite(t, c))
	}
	got := out.String()
	if *update {
		if err := os.WriteFile("testdata/rewrite.golden", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile("testdata/rewrite.golden")
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got == string(want) {
		return
	}
	gotCases, wantCases := splitGolden(got), splitGolden(string(want))
	for name, g := range gotCases {
		if w, ok := wantCases[name]; !ok {
			t.Errorf("case %s is not in the golden file (run with -update)", name)
		} else if g != w {
			t.Errorf("case %s:\n got: %s\nwant: %s", name, g, w)
		}
	}
	for name := range wantCases {
		if _, ok := gotCases[name]; !ok {
			t.Errorf("golden case %s is no longer in rewrite.yaml (run with -update)", name)
		}
	}
}

func splitGolden(s string) map[string]string {
	out := map[string]string{}
	for _, part := range strings.Split(s, "=== ")[1:] {
		name, body, _ := strings.Cut(part, "\n")
		out[name] = body
	}
	return out
}
