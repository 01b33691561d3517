package adminapi

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the admin API a thin layer over the platform: it never reaches the
// compiler, the engine or the query APIs.
func TestImports(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list dependencies: %v", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"engine", "model", "query", "plan", "sqlgen", "restapi", "sqlapi", "server", "deploy", "warehouse"} {
			if dep == "github.com/cubit-dev/cubit/internal/"+banned {
				t.Errorf("adminapi depends on %s", dep)
			}
		}
	}
}
