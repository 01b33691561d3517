package store

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// envDurabilityChild makes the test binary the writer of TestSQLiteKill9LosesNothingAcknowledged.
const envDurabilityChild = "CUBIT_STORE_DURABILITY_CHILD"

// TestSQLiteKill9LosesNothingAcknowledged re-runs this test binary as a writer that
// appends audit entries and prints "ack N" after each append returns; the parent kills it
// with SIGKILL mid-stream, reopens the file and finds every acknowledged entry.
func TestSQLiteKill9LosesNothingAcknowledged(t *testing.T) {
	if path := os.Getenv(envDurabilityChild); path != "" {
		durabilityChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "cubit.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestSQLiteKill9LosesNothingAcknowledged$", "-test.count=1")
	cmd.Env = append(os.Environ(), envDurabilityChild+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := -1
	sc := bufio.NewScanner(out)
	deadline := time.Now().Add(60 * time.Second)
	for sc.Scan() {
		n, ok := strings.CutPrefix(sc.Text(), "ack ")
		if !ok {
			continue
		}
		acked, _ = strconv.Atoi(n)
		if acked >= 200 || time.Now().After(deadline) {
			break
		}
	}
	// Killed while it is still writing: the next append is in flight.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if acked < 1 {
		t.Fatalf("the writer acknowledged nothing")
	}

	s := open(t, path)
	entries, err := s.ListAudit(ctx, AuditFilter{Action: "durability", Limit: MaxAuditLimit})
	if err != nil {
		t.Fatal(err)
	}
	have := map[int]bool{}
	for _, e := range entries {
		var d struct{ Seq int }
		if err := json.Unmarshal(e.Details, &d); err != nil {
			t.Fatal(err)
		}
		have[d.Seq] = true
	}
	for i := 0; i <= acked; i++ {
		if !have[i] {
			t.Fatalf("entry %d was acknowledged but is gone after kill -9 (%d acknowledged, %d found)", i, acked+1, len(have))
		}
	}
	t.Logf("%d acknowledged, %d found after kill -9", acked+1, len(have))
}

// durabilityChild writes until it is killed.
func durabilityChild(path string) {
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		if _, err := s.AppendAudit(ctx, AuditEntry{Actor: "child", Action: "durability",
			Details: json.RawMessage(fmt.Sprintf(`{"seq":%d}`, i))}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Printf("ack %d\n", i)
	}
}
