package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// run runs the command line in process with an empty environment (the embedded demo).
func run(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return env[k] }
	code = Main(args, getenv, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCommands(t *testing.T) {
	cases := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stdout string // a part of the expected stdout
		stderr string // a part of the expected stderr
	}{
		{name: "version", args: []string{"version"}, stdout: "cubit "},
		{name: "no command", args: nil, code: exitUsage, stdout: "Usage: cubit"},
		{name: "unknown command", args: []string{"serv"}, code: exitUsage, stderr: `unknown command "serv"`},
		{name: "validate peer model", args: []string{"validate", "../../../shared/peer/model"}, stdout: "4 cubes, 0 views: OK"},
		{name: "validate missing folder", args: []string{"validate", "/no/such/model"}, code: exitError, stderr: "model folder /no/such/model"},
		{name: "validate broken model", args: []string{"validate", "../model/testdata/bad/cycle_measures"}, code: exitError, stderr: "model.yml:5: circular reference: orders.a -> orders.b -> orders.a"},
		{name: "query table", args: []string{"query", `{"measures": ["orders.count"]}`}, stdout: "100000"},
		{name: "query bad json", args: []string{"query", `{"measures": [}`}, code: exitError, stderr: "cubit: "},
		{name: "query unknown member", args: []string{"query", `{"measures": ["orders.cuont"]}`}, code: exitError, stderr: "did you mean orders.count?"},
		{name: "query bad format", args: []string{"query", "--format", "xml", `{"measures": ["orders.count"]}`}, code: exitUsage, stderr: "--format must be table or json"},
		{name: "query bad config", env: map[string]string{"CUBEJS_DB_TYPE": "mysql"}, args: []string{"query", `{"measures": ["orders.count"]}`}, code: exitError, stderr: `CUBEJS_DB_TYPE="mysql" is not supported`},
		{name: "sql postgres", args: []string{"sql", "--dialect", "postgres", `{"measures": ["orders.count"], "dimensions": ["users.city"]}`}, stdout: "-- join path: orders -> users (many_to_one)"},
		{name: "sql flags after the query", args: []string{"sql", `{"measures": ["orders.count"]}`, "--dialect", "duckdb"}, stdout: "-- dialect: duckdb"},
		{name: "sql bad dialect", args: []string{"sql", "--dialect", "oracle", `{"measures": ["orders.count"]}`}, code: exitUsage, stderr: "unknown dialect"},
		{name: "sql security context", args: []string{"sql", "--model", "../sqlgen/testdata/models/security", "--security-context", `{"user_id": 7}`, `{"measures": ["my_orders.count"]}`}, stdout: "-- $1 = 7"},
		{name: "query security context", args: []string{"query", "--model", "../sqlgen/testdata/models/security", "--security-context", `{"user_id": [7, 8]}`, `{"measures": ["my_orders.count"]}`}, stdout: "my_orders.count"},
		{name: "bad security context", args: []string{"sql", "--security-context", `[1]`, `{"measures": ["orders.count"]}`}, code: exitError, stderr: "--security-context must be a JSON object"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := run(t, c.env, c.args...)
			if code != c.code {
				t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, c.code, stdout, stderr)
			}
			if !strings.Contains(stdout, c.stdout) {
				t.Errorf("stdout %q does not contain %q", stdout, c.stdout)
			}
			if !strings.Contains(stderr, c.stderr) {
				t.Errorf("stderr %q does not contain %q", stderr, c.stderr)
			}
		})
	}
}

// TestQueryJSON checks that --format json prints the /load response body: the normalised
// query, the rows keyed by member, the annotation and the flags.
func TestQueryJSON(t *testing.T) {
	code, stdout, stderr := run(t, nil, "query", "--format", "json",
		`{"measures": ["orders.count"], "dimensions": ["orders.status"], "filters": [{"member": "orders.status", "operator": "equals", "values": ["completed"]}]}`)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var body struct {
		Query      map[string]any   `json:"query"`
		Data       []map[string]any `json:"data"`
		Annotation map[string]any   `json:"annotation"`
		Truncated  *bool            `json:"truncated"`
		Total      any              `json:"total"`
	}
	if err := json.Unmarshal([]byte(stdout), &body); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if len(body.Data) != 1 || body.Data[0]["orders.status"] != "completed" {
		t.Fatalf("data = %v, want one row for completed", body.Data)
	}
	if _, ok := body.Data[0]["orders.count"].(string); !ok {
		t.Errorf("orders.count = %#v, want a string as Cube returns numbers", body.Data[0]["orders.count"])
	}
	if body.Query["rowLimit"] != float64(10000) || body.Query["queryType"] != "regularQuery" {
		t.Errorf("query echo = %v", body.Query)
	}
	if body.Truncated == nil || *body.Truncated || body.Total != nil {
		t.Errorf("truncated = %v, total = %v; want false and null", body.Truncated, body.Total)
	}
	if body.Annotation["measures"] == nil {
		t.Errorf("annotation = %v", body.Annotation)
	}
}
