package sqlapi

import (
	"os"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzSQL feeds arbitrary text to the parser and the rewrite: neither may panic, whatever
// the statement, and a rewritten statement must deparse. It runs nothing.
func FuzzSQL(f *testing.F) {
	data, err := os.ReadFile("testdata/rewrite.yaml")
	if err != nil {
		f.Fatal(err)
	}
	var cases []rewriteCase
	if err := yaml.Unmarshal(data, &cases); err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		f.Add(c.SQL)
	}
	for _, s := range []string{"SET x = 1", "SHOW ALL", "BEGIN; COMMIT", "EXPLAIN SELECT 1", "SELECT $1", "",
		"SELECT * FROM (SELECT * FROM (SELECT * FROM orders) a) b", "WITH RECURSIVE t AS (SELECT 1) SELECT * FROM t",
		"SELECT (SELECT MEASURE(count) FROM orders) + 1", "SELECT status FROM orders GROUP BY CUBE (status)"} {
		f.Add(s)
	}
	cat := newCatalog(loadModel(f))
	f.Fuzz(func(t *testing.T, sql string) {
		stmts, err := parse(sql)
		if err != nil {
			return
		}
		for _, st := range stmts {
			node := st.node
			if ex := node.GetExplainStmt(); ex != nil {
				node = ex.Query
			}
			if node.GetSelectStmt() == nil {
				continue
			}
			n := maxParam(node)
			params := make([]any, n)
			for i := range params {
				params[i] = []any{"web", int64(3), 2.5, nil, "2024-01-01", "%x%"}[i%6]
			}
			for _, describe := range []bool{true, false} {
				e := &env{cat: cat, user: "cube", superUser: "admin", database: "db", timezone: "UTC",
					params: params, describe: describe, paramTypes: map[int32]uint32{},
					setting: func(string) (string, bool) { return "", false }}
				_, _ = planSelect(e, node)
			}
		}
	})
}
