package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/cubit-dev/cubit/internal/config"
	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/query"
)

// commonFlags are the flags of the commands that take a query.
type commonFlags struct {
	model string
	// security is the --security-context JSON object: the claims a REST token would carry.
	security string
}

// securityFlag registers --security-context.
func (c *commonFlags) securityFlag(fs *flag.FlagSet) {
	fs.StringVar(&c.security, "security-context", "", `JSON object the query runs with, as a token's claims would give it (for {SECURITY_CONTEXT.x.filter('col')})`)
}

// securityContext decodes --security-context (nil when not given).
func (c *commonFlags) securityContext() (map[string]any, error) {
	if c.security == "" {
		return nil, nil
	}
	var sc map[string]any
	dec := json.NewDecoder(strings.NewReader(c.security))
	dec.UseNumber()
	if err := dec.Decode(&sc); err != nil || sc == nil {
		return nil, errs.Invalid("--security-context must be a JSON object, such as '{\"user_id\": 7}'")
	}
	return sc, nil
}

func (c *commonFlags) config(e *env) (config.Config, error) {
	cfg, err := config.FromEnv(e.getenv)
	if err != nil {
		return cfg, errs.Invalid("configuration: %v", err)
	}
	if c.model != "" {
		cfg.ModelDir = c.model
	}
	return cfg, nil
}

// readQuery takes the query from the argument, or from stdin when it is "-" or absent.
func readQuery(e *env, positional []string) ([]byte, error) {
	switch {
	case len(positional) > 1:
		return nil, fmt.Errorf("expected one JSON query argument, got %d (quote the JSON in single quotes)", len(positional))
	case len(positional) == 0 || positional[0] == "-":
		return io.ReadAll(e.stdin)
	}
	return []byte(positional[0]), nil
}

func runQuery(e *env, args []string) int {
	fs := newFlags(e, "query", "query [--model DIR] [--format table|json] [--multi] 'JSON'")
	var cf commonFlags
	fs.StringVar(&cf.model, "model", "", "model folder holding cubes/ and views/ (default $CUBEJS_SCHEMA_PATH, else the embedded demo)")
	format := fs.String("format", "table", "output: table, or json for the body /load returns")
	multi := fs.Bool("multi", false, "answer as queryType=multi (needed for compareDateRange and arrays)")
	cf.securityFlag(fs)
	positional, err := parse(fs, args)
	if err != nil {
		return exitUsage
	}
	if *format != "table" && *format != "json" {
		fmt.Fprintf(e.stderr, "cubit query: --format must be table or json, got %q\n", *format)
		return exitUsage
	}
	body, err := readQuery(e, positional)
	if err != nil {
		fmt.Fprintln(e.stderr, "cubit query:", err)
		return exitUsage
	}
	queries, array, err := query.DecodeAny(body)
	if err != nil {
		return fail(e, err)
	}
	sc, err := cf.securityContext()
	if err != nil {
		return fail(e, err)
	}
	for i := range queries {
		queries[i].SecurityContext = sc
	}
	cfg, err := cf.config(e)
	if err != nil {
		return fail(e, err)
	}
	ctx := context.Background()
	eng, closeFn, err := newEngine(ctx, cfg, true)
	if err != nil {
		return fail(e, err)
	}
	defer closeFn()
	res, err := eng.Load(ctx, engine.Request{Queries: queries, Array: array, Multi: *multi})
	if err != nil {
		return fail(e, err)
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(res); err != nil {
			return fail(e, err)
		}
		return exitOK
	}
	switch r := res.(type) {
	case *engine.Result:
		printTable(e.stdout, r)
	case *engine.MultiResult:
		for i, one := range r.Results {
			if i > 0 {
				fmt.Fprintln(e.stdout)
			}
			printTable(e.stdout, one)
		}
	}
	return exitOK
}

// printTable prints a result as an aligned text table, numbers right-aligned.
func printTable(w io.Writer, r *engine.Result) {
	cols := r.Columns()
	cells := make([][]string, len(r.Rows()))
	width := make([]int, len(cols))
	for i, c := range cols {
		width[i] = len(c)
	}
	for i, row := range r.Rows() {
		cells[i] = make([]string, len(cols))
		for j, v := range row.Values {
			s := "∅"
			if v != nil {
				s = fmt.Sprint(v)
			}
			cells[i][j] = s
			width[j] = max(width[j], len([]rune(s)))
		}
	}
	numeric := make([]bool, len(cols))
	for j := range cols {
		numeric[j] = len(cells) > 0
		for i := range cells {
			if !isNumber(cells[i][j]) {
				numeric[j] = false
			}
		}
	}
	line := func(vals []string) {
		parts := make([]string, len(vals))
		for j, v := range vals {
			pad := strings.Repeat(" ", width[j]-len([]rune(v)))
			if numeric[j] {
				parts[j] = pad + v
			} else {
				parts[j] = v + pad
			}
		}
		fmt.Fprintln(w, strings.TrimRight(strings.Join(parts, "  "), " "))
	}
	line(cols)
	rule := make([]string, len(cols))
	for j := range cols {
		rule[j] = strings.Repeat("-", width[j])
	}
	line(rule)
	for _, row := range cells {
		line(row)
	}
	note := fmt.Sprintf("(%d rows", len(cells))
	if r.Truncated {
		note += "; the row limit cut the result: raise \"limit\" (up to the maximum) or narrow the query"
	}
	fmt.Fprintln(w, note+")")
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c >= '0' && c <= '9' || c == '.' || (c == '-' && i == 0)) {
			return false
		}
	}
	return true
}

func runSQL(e *env, args []string) int {
	fs := newFlags(e, "sql", "sql [--model DIR] [--dialect duckdb|postgres] 'JSON'")
	var cf commonFlags
	fs.StringVar(&cf.model, "model", "", "model folder holding cubes/ and views/ (default $CUBEJS_SCHEMA_PATH, else the embedded demo)")
	dialectName := fs.String("dialect", "", "SQL dialect: duckdb or postgres (default: the configured data source's)")
	cf.securityFlag(fs)
	positional, err := parse(fs, args)
	if err != nil {
		return exitUsage
	}
	body, err := readQuery(e, positional)
	if err != nil {
		fmt.Fprintln(e.stderr, "cubit sql:", err)
		return exitUsage
	}
	q, err := query.Decode(body)
	if err != nil {
		return fail(e, err)
	}
	if q.SecurityContext, err = cf.securityContext(); err != nil {
		return fail(e, err)
	}
	cfg, err := cf.config(e)
	if err != nil {
		return fail(e, err)
	}
	if *dialectName != "" {
		if _, err := dialect.ForName(*dialectName); err != nil {
			fmt.Fprintln(e.stderr, "cubit sql:", err)
			return exitUsage
		}
		cfg.DBType = config.DBType(*dialectName)
		if cfg.DBType == "postgresql" {
			cfg.DBType = config.DBPostgres
		}
	}
	eng, _, err := newEngine(context.Background(), cfg, false)
	if err != nil {
		return fail(e, err)
	}
	c, err := eng.Compile(q)
	if err != nil {
		return fail(e, err)
	}
	fmt.Fprintf(e.stdout, "-- dialect: %s\n-- join path: %s\n", eng.Dialect().Name(), c.Plan.Tree)
	if len(c.Plan.Multiplied) > 0 && !c.Plan.Single() {
		fmt.Fprintf(e.stdout, "-- fan-out: measures of multiplied cubes are aggregated by primary key first\n")
	}
	fmt.Fprintln(e.stdout, c.Statement.SQL+";")
	for i, a := range c.Statement.Args {
		fmt.Fprintf(e.stdout, "-- $%d = %s\n", i+1, formatArg(a))
	}
	return exitOK
}

func formatArg(a any) string {
	if s, ok := a.(string); ok {
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return fmt.Sprint(a)
}

func runValidate(e *env, args []string) int {
	fs := newFlags(e, "validate", "validate [DIR]")
	positional, err := parse(fs, args)
	if err != nil {
		return exitUsage
	}
	dir := e.getenv("CUBEJS_SCHEMA_PATH")
	if len(positional) > 0 {
		dir = positional[0]
	}
	if dir == "" {
		dir = "model"
	}
	m, err := loadModel(dir)
	if err != nil {
		return fail(e, err)
	}
	views := 0
	for _, c := range m.Cubes {
		if c.Kind == "view" {
			views++
		}
	}
	fmt.Fprintf(e.stdout, "%s: %d cubes, %d views: OK\n", dir, len(m.Cubes)-views, views)
	return exitOK
}
