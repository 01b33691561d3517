package pgwire

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/testdb"
)

// psqlPath finds psql; a CI run without it fails, a local one skips.
func psqlPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("psql")
	testdb.Need(t, "psql (Debian postgresql-client)", err)
	return p
}

// runPsql runs psql against ts with the connection string conninfo and extra arguments;
// it returns stdout, stderr and the error.
func runPsql(t *testing.T, psql, conninfo, password string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, psql, append([]string{"-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", conninfo}, args...)...)
	cmd.Env = []string{"PGPASSWORD=" + password, "PGCONNECT_TIMEOUT=10", "PGPASSFILE=/dev/null",
		"PGSERVICEFILE=/dev/null", "HOME=" + t.TempDir(), "LANG=C.UTF-8", "PATH=" + os.Getenv("PATH")}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func TestPsql(t *testing.T) {
	psql := psqlPath(t)
	ts := startServer(t, Options{TLSConfig: selfSignedTLS(t)})
	conninfo := func(extra string) string {
		return "host=127.0.0.1 port=" + ts.port() + " user=u dbname=db " + extra
	}
	for _, mode := range []string{"sslmode=disable", "sslmode=require", "sslmode=require channel_binding=require"} {
		t.Run(mode, func(t *testing.T) {
			out, errOut, err := runPsql(t, psql, conninfo(mode), "pw", "-c", "SELECT 1")
			if err != nil || strings.TrimSpace(out) != "1" {
				t.Fatalf("psql: %v\nstdout: %s\nstderr: %s", err, out, errOut)
			}
		})
	}
	if !strings.Contains(ts.logs.String(), "method=SCRAM-SHA-256-PLUS") {
		t.Errorf("psql over TLS did not use channel binding")
	}

	t.Run("rows-and-settings", func(t *testing.T) {
		out, errOut, err := runPsql(t, psql, conninfo("sslmode=disable application_name=cubit-test"), "pw",
			"-c", "SELECT * FROM types", "-c", "SET TimeZone = 'Europe/Paris'", "-c", "SELECT * FROM types")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if err != nil || len(lines) < 4 {
			t.Fatalf("psql: %v\nstdout: %s\nstderr: %s", err, out, errOut)
		}
		want := `-32768|2147483647|9223372036854775807|1.5|3.141592653589793|12345678901234567890.123456789|t|héllo 'wörld' \ "q"|v|2024-02-29|2024-01-02 03:04:05.123456|2024-01-02 03:04:05.654321+00|\x000102ff5c|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11`
		if lines[0] != want {
			t.Errorf("row\n got %s\nwant %s", lines[0], want)
		}
		if lines[1] != strings.Repeat("|", 13) {
			t.Errorf("NULL row %q", lines[1])
		}
		if !strings.Contains(out, "2024-01-02 04:04:05.654321+01") {
			t.Errorf("timestamptz after SET TimeZone: %q", out)
		}
	})
	t.Run("error", func(t *testing.T) {
		_, errOut, err := runPsql(t, psql, conninfo("sslmode=disable"), "pw", "-c", "ERROR")
		if err == nil || !strings.Contains(errOut, `ERROR:  relation "nope" does not exist`) ||
			!strings.Contains(errOut, "HINT:  Look elsewhere.") || !strings.Contains(errOut, "DETAIL:  Some detail.") {
			t.Errorf("psql error: %v\n%s", err, errOut)
		}
	})
	t.Run("wrong-password", func(t *testing.T) {
		_, errOut, err := runPsql(t, psql, conninfo("sslmode=disable"), "nope", "-c", "SELECT 1")
		if err == nil || !strings.Contains(errOut, `password authentication failed for user "u"`) {
			t.Errorf("psql with a wrong password: %v\n%s", err, errOut)
		}
	})
	t.Run("command-line-flags", func(t *testing.T) {
		// The spelling: psql -h -p -U -d.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, psql, "-X", "-h", "127.0.0.1", "-p", ts.port(), "-U", "u", "-d", "db", "-c", "SELECT 1")
		cmd.Env = []string{"PGPASSWORD=pw", "PGPASSFILE=/dev/null", "HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "(1 row)") {
			t.Errorf("psql: %v\n%s", err, out)
		}
	})
}
