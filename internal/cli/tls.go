package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const (
	// selfSignedLifetime is how long a generated certificate is valid.
	selfSignedLifetime = 365 * 24 * time.Hour
	// selfSignedMinRemaining is how long a kept certificate must still be valid to be reused:
	// a server started today must not stop being trusted in the middle of the week.
	selfSignedMinRemaining = 7 * 24 * time.Hour
)

// selfSigned is the certificate --tls-self-signed serves, kept in the data directory.
type selfSigned struct {
	CertFile, KeyFile string
	// Fingerprint is the SHA-256 of the certificate's DER form, as colon-separated
	// upper-case hex (the form openssl x509 -fingerprint -sha256 prints), for pinning.
	Fingerprint string
	// Reused is true when the certificate of an earlier start was still good.
	Reused bool
}

// selfSignedHosts are the names the certificate covers: the loopback names, and the hosts of
// the listen addresses. An unspecified address such as 0.0.0.0 adds the machine's name, which
// is the host the platform's credentials give clients in that case.
func selfSignedHosts(listen ...string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	for _, addr := range listen {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			continue
		}
		if ip, err := netip.ParseAddr(host); host == "" || err == nil && ip.IsUnspecified() {
			name, err := os.Hostname()
			if err != nil || name == "" {
				continue
			}
			host = strings.ToLower(name)
		} else if err == nil {
			host = ip.Unmap().String()
		} else {
			host = strings.ToLower(host)
		}
		if !slices.Contains(hosts, host) {
			hosts = append(hosts, host)
		}
	}
	return hosts
}

// ensureSelfSigned returns the self-signed certificate for hosts in dir (tls/cert.pem and
// tls/key.pem). It reuses the files of an earlier start when they parse, belong together,
// cover exactly hosts and stay valid for selfSignedMinRemaining after now; otherwise it
// generates a new ECDSA P-256 key and certificate valid for a year and replaces them. now is
// a parameter so tests can age the certificate.
func ensureSelfSigned(dataDir string, hosts []string, now time.Time) (selfSigned, error) {
	dir := filepath.Join(dataDir, "tls")
	s := selfSigned{CertFile: filepath.Join(dir, "cert.pem"), KeyFile: filepath.Join(dir, "key.pem")}
	if cert, err := loadReusable(s.CertFile, s.KeyFile, hosts, now); err == nil {
		s.Fingerprint, s.Reused = fingerprint(cert.Raw), true
		return s, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return s, fmt.Errorf("creating %s for the self-signed certificate: %w", dir, err)
	}
	certPEM, keyPEM, der, err := generateSelfSigned(hosts, now)
	if err != nil {
		return s, err
	}
	// The key goes first: a start interrupted between the two writes leaves a pair that does
	// not match, which the next start regenerates rather than serves.
	if err := writeAtomic(s.KeyFile, keyPEM, 0o600); err != nil {
		return s, err
	}
	if err := writeAtomic(s.CertFile, certPEM, 0o644); err != nil {
		return s, err
	}
	s.Fingerprint = fingerprint(der)
	return s, nil
}

// loadReusable returns the certificate in certFile when ensureSelfSigned may serve it again.
func loadReusable(certFile, keyFile string, hosts []string, now time.Time) (*x509.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, err
	}
	if now.Before(cert.NotBefore) || cert.NotAfter.Sub(now) < selfSignedMinRemaining {
		return nil, fmt.Errorf("certificate valid from %s to %s", cert.NotBefore, cert.NotAfter)
	}
	var have []string
	have = append(have, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		have = append(have, ip.String())
	}
	want := slices.Clone(hosts)
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, slices.Compact(want)) {
		return nil, fmt.Errorf("certificate covers %v, want %v", have, want)
	}
	return cert, nil
}

// generateSelfSigned makes a key and a certificate for hosts signed by that key, as PEM.
func generateSelfSigned(hosts []string, now time.Time) (certPEM, keyPEM, der []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("generating the self-signed certificate's key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("generating the self-signed certificate's serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "Cubit self-signed", Organization: []string{"Cubit"}},
		// An hour back, so a client whose clock is a little behind still accepts it.
		NotBefore: now.Add(-time.Hour),
		NotAfter:  now.Add(selfSignedLifetime),
		// A leaf, not a CA: browsers refuse a CA certificate that serves a site, while Go,
		// OpenSSL (curl, psql) and pgx all trust a self-signed leaf given as the root.
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("creating the self-signed certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("encoding the self-signed certificate's key: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, der, nil
}

// writeAtomic replaces path with data through a temporary file in the same directory, so a
// crash leaves the old file or the new one, never half of one; perm is set before any byte
// of a key is written.
func writeAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// fingerprint is the SHA-256 of der as AB:CD:... .
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}
