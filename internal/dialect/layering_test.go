package dialect_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCompilerCoreImportsNoDriver keeps the layering of DESIGN.md: the compiler core
// (model, query, plan, sqlgen, dialect) builds without cgo and without any database driver,
// so its tests need no database and other engines can be added beside it.
func TestCompilerCoreImportsNoDriver(t *testing.T) {
	core := []string{"model", "query", "plan", "sqlgen", "dialect"}
	args := []string{"list", "-deps"}
	for _, p := range core {
		args = append(args, "github.com/cubit-dev/cubit/internal/"+p)
	}
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{"duckdb", "jackc/pgx", "/internal/warehouse", "/internal/engine", "database/sql"}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.Contains(dep, f) {
				t.Errorf("the compiler core depends on %s", dep)
			}
		}
	}
}
