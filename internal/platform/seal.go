package platform

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cubit-dev/cubit/internal/errs"
)

// KeyFile is the name of the generated key in the data directory.
const KeyFile = "secret.key"

// keySize is the length of an AES-256 key.
const keySize = 32

// LoadKey returns the key that seals the secrets the platform must show again (SQL
// passwords, REST tokens). In order of preference:
//
//   - keyB64, when not empty: the operator's key (CUBIT_SECRET_KEY), standard base64 of 32
//     bytes. Every node sharing one PostgreSQL store needs the same key, so several nodes
//     must be given it this way.
//   - dataDir/secret.key, made by an earlier start: the same base64 text.
//   - a new random key, written to dataDir/secret.key with mode 0600 (dataDir is created
//     0700 when missing).
//
// A key file that group or others may read is refused rather than used: the key opens
// every sealed secret in the store, and a silent warning would be missed. The fix is in the
// error message (chmod 600).
func LoadKey(dataDir, keyB64 string) ([]byte, error) {
	if keyB64 = strings.TrimSpace(keyB64); keyB64 != "" {
		key, err := decodeKey(keyB64)
		if err != nil {
			return nil, errs.Invalid("secret key: %v", err)
		}
		return key, nil
	}
	if dataDir == "" {
		return nil, errs.Invalid("secret key: no key given and no data directory to keep one in")
	}
	path := filepath.Join(dataDir, KeyFile)
	key, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	return writeKeyFile(dataDir, path)
}

func decodeKey(b64 string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New("not standard base64 (make one with: openssl rand -base64 32)")
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("%d bytes, want %d (make one with: openssl rand -base64 32)", len(key), keySize)
	}
	return key, nil
}

// readKeyFile reads a key file, refusing one that others may read. A missing file is
// fs.ErrNotExist, unwrapped, so that LoadKey can tell it from a broken one.
func readKeyFile(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fs.ErrNotExist
	}
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "secret key %s", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, errs.Invalid("secret key %s has permissions %04o: it opens every sealed secret, so only its owner may read it (chmod 600 %s)",
			path, perm, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "secret key %s", path)
	}
	key, err := decodeKey(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, errs.Invalid("secret key %s: %v", path, err)
	}
	return key, nil
}

// writeKeyFile makes a new key and publishes it with a hard link, which fails when the
// file exists: two processes starting on one data directory at once then agree on the key
// that won, and no reader ever sees a half-written file.
func writeKeyFile(dataDir, path string) ([]byte, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "secret key: creating the data directory")
	}
	key := make([]byte, keySize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (it crashes the program instead)

	// os.CreateTemp makes the file 0600, so the key is never readable by others.
	tmp, err := os.CreateTemp(dataDir, KeyFile+".*")
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "secret key: writing %s", path)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "secret key: writing %s", path)
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		return readKeyFile(path)
	} else if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "secret key: writing %s", path)
	}
	return key, nil
}

// sealVersion is the first byte of a sealed value, so that a later format (another
// algorithm, a key id for rotating keys) can be told from this one.
const sealVersion = 1

// Sealer encrypts the secrets the platform must show again (AES-256-GCM) before they reach
// the store. It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer with key, 32 bytes from LoadKey.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != keySize {
		return nil, errs.Invalid("secret key: %d bytes, want %d", len(key), keySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "secret key")
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, errs.Wrap(errs.KindInternal, err, "secret key")
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plain; label (e.g. `sql-password "shop" "main"`) is bound as additional
// data so a sealed value cannot be moved to another row or used for another purpose: it
// opens only with the same label. The result is a version byte, a random nonce and the
// ciphertext with its tag.
func (s *Sealer) Seal(plain []byte, label string) []byte {
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	out[0] = sealVersion
	// Random 96-bit nonces are safe for far more values than a platform seals under one key.
	_, _ = rand.Read(out[1:])
	return s.aead.Seal(out, out[1:], plain, []byte(label))
}

// Open decrypts what Seal made with the same key and label. A wrong key, a wrong label or a
// damaged value is errs.KindInternal: it means the operator's key changed or the store was
// tampered with, never a user mistake.
func (s *Sealer) Open(sealed []byte, label string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, &errs.Error{Kind: errs.KindInternal, Message: "cannot unseal " + label + ": not a sealed value"}
	}
	plain, err := s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], []byte(label))
	if err != nil {
		return nil, &errs.Error{Kind: errs.KindInternal,
			Message: "cannot unseal " + label + ": the secret key differs from the one that sealed it, or the value is damaged"}
	}
	return plain, nil
}
