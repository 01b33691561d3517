package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeSelfSigned writes a self-signed certificate for 127.0.0.1 and its key as PEM files.
func writeSelfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "cubit test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestServeTLS: with a certificate, the REST API answers over HTTPS only.
func TestServeTLS(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.TLSCert, cfg.Server.TLSKey = writeSelfSigned(t)
	addrs := make(chan net.Addr, 1)
	s, _ := newServer(t, cfg, modelDir(t), demoDB(t), func(a net.Addr) { addrs <- a })
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx) }()
	defer func() { cancel(); <-served }()
	var addr net.Addr
	select {
	case addr = <-addrs:
	case err := <-served:
		t.Fatalf("Serve: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("Serve never became ready")
	}
	https := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // the test's own self-signed certificate
	}}
	r, err := https.Get("https://" + addr.String() + "/livez")
	if err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("GET https /livez: %v %v", r, err)
	}
	r.Body.Close()
	plain := &http.Client{Timeout: 30 * time.Second}
	if r, err := plain.Get("http://" + addr.String() + "/livez"); err == nil && r.StatusCode == http.StatusOK {
		r.Body.Close()
		t.Fatal("plain HTTP answered 200 on the TLS listener")
	}
}

// TestServeTLSBadCertificate: a missing certificate file stops Serve with a clear error.
func TestServeTLSBadCertificate(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.TLSCert, cfg.Server.TLSKey = "/no/such/cert.pem", "/no/such/key.pem"
	s, _ := newServer(t, cfg, modelDir(t), demoDB(t), nil)
	err := s.Serve(context.Background())
	if err == nil || !strings.Contains(err.Error(), "--tls-cert /no/such/cert.pem") {
		t.Fatalf("Serve = %v, want an error naming the certificate", err)
	}
}
