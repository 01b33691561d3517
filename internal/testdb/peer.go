package testdb

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// EnvPeerCSV names the folder of the Cube peer's CSV files (gen-data.js output).
const EnvPeerCSV = "CUBIT_PEER_CSV_DIR"

// PeerModelDir is the Cube peer's model, relative to a package folder two levels below the
// repository (internal/<pkg>): the shared folder sits beside the checkout.
const PeerModelDir = "../../../shared/peer/model"

// peerColumns are the column types of the peer's tables, as colSpec in gen-data.js gives them.
var peerColumns = []struct{ table, columns string }{
	{"users", "{'id': 'INTEGER', 'name': 'VARCHAR', 'city': 'VARCHAR', 'created_at': 'TIMESTAMP'}"},
	{"products", "{'id': 'INTEGER', 'name': 'VARCHAR', 'category': 'VARCHAR'}"},
	{"orders", "{'id': 'INTEGER', 'user_id': 'INTEGER', 'status': 'VARCHAR', 'amount': 'DECIMAL(12,2)', 'created_at': 'TIMESTAMP'}"},
	{"line_items", "{'id': 'INTEGER', 'order_id': 'INTEGER', 'product_id': 'INTEGER', 'price': 'DECIMAL(10,2)', 'quantity': 'INTEGER'}"},
}

// PeerHow says how to get the peer's CSV files.
const PeerHow = "generate them with GEN_CSV_ONLY=1 node ../shared/peer/gen-data.js /tmp/cubepeer-csv " +
	"and export " + EnvPeerCSV + "=/tmp/cubepeer-csv (.ci/run does both)"

// PeerCSV returns the folder of the peer's CSV files. Without it the test is skipped, except
// in CI (CI=true), where it fails.
func PeerCSV(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(EnvPeerCSV)
	if dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(EnvPeerCSV + " is not set in CI; " + PeerHow)
		}
		t.Skip(EnvPeerCSV + " not set: this test needs the Cube peer's CSV files; " + PeerHow)
	}
	return dir
}

// PeerDuckDBStatements are the DuckDB statements that load the peer's CSV files from dir
// into tables of schema main, as the peer's model names them.
func PeerDuckDBStatements(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	for _, tc := range peerColumns {
		file := filepath.Join(dir, tc.table+".csv")
		if _, err := os.Stat(file); err != nil {
			t.Fatalf("peer data: %v; %s", err, PeerHow)
		}
		out = append(out, "CREATE TABLE main."+tc.table+" AS SELECT * FROM read_csv("+sqlString(file)+
			", header = true, nullstr = '', auto_detect = false, columns = "+tc.columns+")")
	}
	return out
}

// sqlString quotes a string literal. Only the test's own file paths go through it.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
