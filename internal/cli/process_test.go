package cli

// The tests that need a real process (kill -9, SIGTERM, a clean environment) build cubit once
// per test binary run and start it as a child. Serve catches SIGTERM for the whole process,
// so it cannot be stopped in-process without stopping every other server a parallel test runs.

import (
	"bytes"
	"context"
	"crypto/tls"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/testdb"
)

// binDir holds the cubit binary the tests build; TestMain removes it.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var built struct {
	once sync.Once
	path string
	err  error
	out  []byte
}

// cubitBinary builds cmd/cubit once and returns its path. Without a go command it skips, or
// fails under CI=true, where the toolchain is always there.
func cubitBinary(t *testing.T) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
		if _, serr := os.Stat(goCmd); serr != nil {
			testdb.Need(t, "the go command (to build cubit)", err)
		}
	}
	built.once.Do(func() {
		if binDir, built.err = os.MkdirTemp("", "cubit-bin-"); built.err != nil {
			return
		}
		built.path = filepath.Join(binDir, "cubit")
		cmd := exec.Command(goCmd, "build", "-o", built.path, "github.com/cubit-dev/cubit/cmd/cubit")
		built.out, built.err = cmd.CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build cmd/cubit: %v\n%s", built.err, built.out)
	}
	return built.path
}

// syncBuffer is a bytes.Buffer the child's output goroutine writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a running cubit serve.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	exited         chan struct{}
	// origin is the REST and admin API's scheme://host:port, sqlURL the SQL API's connection
	// string, both from the banner.
	origin, sqlURL string
}

var (
	bannerREST = regexp.MustCompile(`REST API   (https?://[^/\s]+)/cubejs-api/v1`)
	bannerSQL  = regexp.MustCompile(`SQL API    psql "([^"]+)"`)
)

// cleanEnv is the test process's environment without anything that configures cubit, plus
// extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "CUBEJS_") || strings.HasPrefix(k, "CUBIT_") || k == "PORT" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// startCubit runs bin with args and env, and waits until its banner is out and /readyz
// answers 200 (client must trust the server's certificate when it serves TLS).
func startCubit(t *testing.T, bin string, env []string, client *http.Client, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...), stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.kill() })
	// A generous bound: it only stops a test whose server never comes up.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		out := p.stdout.String()
		if m := bannerREST.FindStringSubmatch(out); m != nil && strings.Contains(out, "Try it:") {
			p.origin = m[1]
			if m := bannerSQL.FindStringSubmatch(out); m != nil {
				p.sqlURL = m[1]
			}
			if res, err := client.Get(p.origin + "/readyz"); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					return p
				}
			}
		}
		select {
		case <-p.exited:
			t.Fatalf("cubit %s exited (%v) before it was ready\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), p.cmd.ProcessState, p.stdout, p.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("cubit %s not ready after 2 minutes\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), p.stdout, p.stderr)
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop sends SIGTERM and waits for a graceful exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	select {
	case <-p.exited:
	case <-ctx.Done():
		p.kill()
		t.Fatalf("cubit did not stop on SIGTERM\nstderr:\n%s", p.stderr)
	}
	if !p.cmd.ProcessState.Success() {
		t.Fatalf("cubit exited with %v after SIGTERM\nstderr:\n%s", p.cmd.ProcessState, p.stderr)
	}
}

// httpClient is a client that trusts roots only (nil: the system's), for the tests' servers.
func httpClient(roots *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = roots
	return &http.Client{Timeout: 30 * time.Second, Transport: tr}
}
