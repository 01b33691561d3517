package cli

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("%s holds no PEM certificate", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cert
}

func TestSelfSignedHosts(t *testing.T) {
	// Every interface: the machine's name, which the platform's credentials give clients.
	everywhere := []string{"localhost", "127.0.0.1", "::1"}
	if name, err := os.Hostname(); err == nil && name != "" && !slices.Contains(everywhere, strings.ToLower(name)) {
		everywhere = append(everywhere, strings.ToLower(name))
	}
	cases := []struct {
		listen []string
		want   []string
	}{
		{[]string{"127.0.0.1:4000"}, []string{"localhost", "127.0.0.1", "::1"}},
		{[]string{"0.0.0.0:4000", "[::]:15432", ":4000"}, everywhere},
		{[]string{"Metrics.Example.com:443"}, []string{"localhost", "127.0.0.1", "::1", "metrics.example.com"}},
		{[]string{"10.1.2.3:4000", "10.1.2.3:15432", "[fd00::1]:15432"}, []string{"localhost", "127.0.0.1", "::1", "10.1.2.3", "fd00::1"}},
	}
	for _, c := range cases {
		if got := selfSignedHosts(c.listen...); !slices.Equal(got, c.want) {
			t.Errorf("selfSignedHosts(%v) = %v, want %v", c.listen, got, c.want)
		}
	}
}

func TestSelfSignedTLSCertificate(t *testing.T) {
	dataDir := t.TempDir()
	hosts := selfSignedHosts("metrics.example.com:4000")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, err := ensureSelfSigned(dataDir, hosts, now)
	if err != nil {
		t.Fatal(err)
	}
	if s.Reused {
		t.Fatal("the first call reports a reused certificate")
	}
	cert := readCert(t, s.CertFile)
	if !slices.Equal(cert.DNSNames, []string{"localhost", "metrics.example.com"}) {
		t.Errorf("DNS names %v", cert.DNSNames)
	}
	var ips []string
	for _, ip := range cert.IPAddresses {
		ips = append(ips, ip.String())
	}
	if !slices.Equal(ips, []string{"127.0.0.1", "::1"}) {
		t.Errorf("IP addresses %v", ips)
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
		t.Errorf("public key %T, want ECDSA P-256", cert.PublicKey)
	}
	if !cert.NotBefore.Before(now) || !cert.NotAfter.Equal(now.Add(365*24*time.Hour)) {
		t.Errorf("valid %s to %s, want a year from %s", cert.NotBefore, cert.NotAfter, now)
	}
	// The certificate is its own root: it verifies for each of its names.
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	for _, h := range hosts {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: h, CurrentTime: now}); err != nil {
			t.Errorf("verify for %s: %v", h, err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: "other.example.com", CurrentTime: now}); err == nil {
		t.Error("the certificate verifies for a name it does not cover")
	}
	sum := sha256.Sum256(cert.Raw)
	if want := strings.ToUpper(hex.EncodeToString(sum[:])); strings.ReplaceAll(s.Fingerprint, ":", "") != want {
		t.Errorf("fingerprint %s, want %s", s.Fingerprint, want)
	}
	for path, mode := range map[string]os.FileMode{s.KeyFile: 0o600, filepath.Dir(s.KeyFile): 0o700} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", path, fi.Mode().Perm(), mode)
		}
	}
	if s.CertFile != filepath.Join(dataDir, "tls", "cert.pem") || s.KeyFile != filepath.Join(dataDir, "tls", "key.pem") {
		t.Errorf("files %s and %s, want tls/cert.pem and tls/key.pem in the data directory", s.CertFile, s.KeyFile)
	}
	first, _ := os.ReadFile(s.CertFile)

	cases := []struct {
		name   string
		hosts  []string
		now    time.Time
		reused bool
	}{
		{"a month later", hosts, now.Add(30 * 24 * time.Hour), true},
		{"the SANs in another order", reversed(hosts), now.Add(24 * time.Hour), true},
		{"eight days before it expires", hosts, now.Add(357 * 24 * time.Hour), true},
		{"six days before it expires", hosts, now.Add(359 * 24 * time.Hour), false},
		{"expired", hosts, now.Add(400 * 24 * time.Hour), false},
		{"another listen host", selfSignedHosts("10.0.0.7:4000"), now.Add(24 * time.Hour), false},
		{"a clock before its start", hosts, now.Add(-2 * time.Hour), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Each case starts from the first certificate.
			dir := t.TempDir()
			copyTLS(t, filepath.Dir(s.CertFile), filepath.Join(dir, "tls"))
			got, err := ensureSelfSigned(dir, c.hosts, c.now)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(got.CertFile)
			if got.Reused != c.reused || bytes.Equal(data, first) != c.reused {
				t.Fatalf("reused = %v (same file: %v), want %v", got.Reused, bytes.Equal(data, first), c.reused)
			}
			if got.Reused && got.Fingerprint != s.Fingerprint {
				t.Fatalf("reused certificate's fingerprint %s, want %s", got.Fingerprint, s.Fingerprint)
			}
			if !c.reused {
				renewed := readCert(t, got.CertFile)
				if renewed.NotAfter.Sub(c.now) != 365*24*time.Hour {
					t.Fatalf("renewed certificate valid until %s", renewed.NotAfter)
				}
			}
		})
	}
}

// TestSelfSignedTLSBrokenFiles: a key that does not match the certificate, or a truncated
// file (a crash while writing), is replaced, not served.
func TestSelfSignedTLSBrokenFiles(t *testing.T) {
	now := time.Now()
	hosts := selfSignedHosts()
	for name, breakIt := range map[string]func(s selfSigned) error{
		"truncated key": func(s selfSigned) error {
			return os.WriteFile(s.KeyFile, []byte("-----BEGIN PRIVATE KEY-----\n"), 0o600)
		},
		"other key": func(s selfSigned) error {
			other, err := ensureSelfSigned(t.TempDir(), hosts, now)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(other.KeyFile)
			if err != nil {
				return err
			}
			return os.WriteFile(s.KeyFile, data, 0o600)
		},
		"no certificate": func(s selfSigned) error { return os.Remove(s.CertFile) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := ensureSelfSigned(dir, hosts, now)
			if err != nil {
				t.Fatal(err)
			}
			if err := breakIt(s); err != nil {
				t.Fatal(err)
			}
			again, err := ensureSelfSigned(dir, hosts, now)
			if err != nil {
				t.Fatal(err)
			}
			if again.Reused || again.Fingerprint == s.Fingerprint {
				t.Fatalf("a broken pair was reused: %+v", again)
			}
			if _, err := loadReusable(again.CertFile, again.KeyFile, hosts, now); err != nil {
				t.Fatalf("the regenerated pair: %v", err)
			}
		})
	}
}

func reversed(s []string) []string {
	r := slices.Clone(s)
	slices.Reverse(r)
	return r
}

func copyTLS(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cert.pem", "key.pem"} {
		data, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestServeTLSSelfSignedWithCert: the generated certificate and a given one cannot both be
// served.
func TestServeTLSSelfSignedWithCert(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
	}{
		{nil, []string{"serve", "--tls-self-signed", "--tls-cert", "cert.pem", "--tls-key", "key.pem"}},
		{nil, []string{"serve", "--tls-key", "key.pem", "--tls-self-signed"}},
		{map[string]string{"CUBIT_TLS_CERT": "cert.pem", "CUBIT_TLS_KEY": "key.pem"}, []string{"serve", "--tls-self-signed"}},
	} {
		code, _, stderr := run(t, c.env, c.args...)
		if code != exitUsage || !strings.Contains(stderr, "--tls-self-signed makes its own certificate") {
			t.Errorf("%v %v: exit %d, stderr %q; want exit %d naming the conflict", c.env, c.args, code, stderr, exitUsage)
		}
	}
}

// TestServeTLSSelfSigned runs cubit serve --tls-self-signed and reaches it the way the
// banner says: HTTPS with the generated certificate as the only root, and pgx with
// sslmode=verify-full on the same certificate. A second start serves the same certificate.
func TestServeTLSSelfSigned(t *testing.T) {
	bin := cubitBinary(t)
	dataDir := t.TempDir()
	certFile := filepath.Join(dataDir, "tls", "cert.pem")
	env := cleanEnv("CUBIT_ADMIN_TOKEN=" + killAdminToken)
	args := []string{"serve", "--tls-self-signed", "--listen", "127.0.0.1:0", "--sql-listen", "127.0.0.1:0", "--data-dir", dataDir}

	// Until the certificate exists nothing can trust it: the first readiness checks skip
	// verification, and the checks below verify.
	insecure := httpClient(&tls.Config{InsecureSkipVerify: true})
	p := startCubit(t, bin, env, insecure, args...)
	cert := readCert(t, certFile)
	sum := sha256.Sum256(cert.Raw)
	fp := strings.ToUpper(hex.EncodeToString(sum[:]))
	banner := p.stdout.String()
	for _, want := range []string{"https://127.0.0.1:", "--cacert '" + certFile + "'", "self-signed certificate " + certFile} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	if !strings.Contains(strings.ReplaceAll(banner, ":", ""), "SHA-256 "+fp) {
		t.Errorf("banner lacks the fingerprint %s:\n%s", fp, banner)
	}

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	pinned := httpClient(&tls.Config{RootCAs: roots})
	res, err := pinned.Get(p.origin + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz trusting only %s: %v", certFile, err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /readyz: %s", res.Status)
	}
	req, _ := http.NewRequest("GET", p.origin+"/api/v1/whoami", nil)
	req.Header.Set("Authorization", "Bearer "+killAdminToken)
	if res, err := pinned.Do(req); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("admin API over HTTPS: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	if res, err := httpClient(nil).Get(p.origin + "/readyz"); err == nil {
		res.Body.Close()
		t.Fatal("a client with the system's roots trusted the self-signed certificate")
	}

	// The printed connection string asks for TLS; verify-full on the certificate checks it.
	u, err := url.Parse(p.sqlURL)
	if err != nil || u.Query().Get("sslmode") != "require" {
		t.Fatalf("SQL connection string %q: want sslmode=require (%v)", p.sqlURL, err)
	}
	u.RawQuery = url.Values{"sslmode": {"verify-full"}, "sslrootcert": {certFile}}.Encode()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatalf("pgx with sslmode=verify-full: %v", err)
	}
	defer conn.Close(context.Background())
	if _, ok := conn.PgConn().Conn().(*tls.Conn); !ok {
		t.Fatalf("the SQL connection is %T, not TLS", conn.PgConn().Conn())
	}
	var n int64
	if err := conn.QueryRow(ctx, "SELECT MEASURE(count) FROM orders").Scan(&n); err != nil || n <= 0 {
		t.Fatalf("a query over TLS: %d, %v", n, err)
	}
	conn.Close(ctx)
	p.stop(t)

	// The next start keeps the certificate a client already trusts.
	p = startCubit(t, bin, env, pinned, args...)
	if again := readCert(t, certFile); !bytes.Equal(again.Raw, cert.Raw) {
		t.Fatal("the second start made a new certificate")
	}
	p.stop(t)
}
