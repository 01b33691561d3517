package platform_test

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/platform"
)

func TestLoadKeyGeneratesOnceWith0600(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // missing: LoadKey creates it
	key, err := platform.LoadKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != 32 {
		t.Fatalf("key of %d bytes", len(key))
	}
	info, err := os.Stat(filepath.Join(dir, platform.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("key file mode %04o, want 0600", perm)
	}
	if dinfo, err := os.Stat(dir); err != nil || dinfo.Mode().Perm() != 0o700 {
		t.Fatalf("data directory: %v %v, want 0700", dinfo.Mode(), err)
	}
	again, err := platform.LoadKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(key, again) {
		t.Fatal("a second start made a new key instead of reading the file")
	}
	// No temporary file is left beside the key.
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("data directory holds %d files, want only %s", len(ents), platform.KeyFile)
	}
}

func TestLoadKeyRefusesAKeyOthersCanRead(t *testing.T) {
	dir := t.TempDir()
	if _, err := platform.LoadKey(dir, ""); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, platform.KeyFile)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := platform.LoadKey(dir, "")
	mustKind(t, err, errs.KindInvalid, "chmod 600")
}

func TestLoadKeyFromOperator(t *testing.T) {
	dir := t.TempDir()
	want := bytes.Repeat([]byte{7}, 32)
	key, err := platform.LoadKey(dir, base64.StdEncoding.EncodeToString(want)+"\n")
	if err != nil || !bytes.Equal(key, want) {
		t.Fatalf("operator key: %x, %v", key, err)
	}
	if _, err := os.Stat(filepath.Join(dir, platform.KeyFile)); !os.IsNotExist(err) {
		t.Fatalf("an operator key must not write a key file (stat: %v)", err)
	}
	_, err = platform.LoadKey(dir, base64.StdEncoding.EncodeToString(want[:16]))
	mustKind(t, err, errs.KindInvalid, "16 bytes, want 32")
	_, err = platform.LoadKey(dir, "not base64!")
	mustKind(t, err, errs.KindInvalid, "base64")
}

func TestSealRoundTrip(t *testing.T) {
	s := newSealer(t, 1)
	sealed := s.Seal([]byte("hunter2"), `sql-password "shop" "main"`)
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("the sealed value contains the plaintext")
	}
	plain, err := s.Open(sealed, `sql-password "shop" "main"`)
	if err != nil || string(plain) != "hunter2" {
		t.Fatalf("open: %q, %v", plain, err)
	}
	if bytes.Equal(sealed, s.Seal([]byte("hunter2"), `sql-password "shop" "main"`)) {
		t.Fatal("two seals of one value are equal: the nonce is not random")
	}

	// Another row's label, another key, a flipped bit or garbage: none opens.
	_, err = s.Open(sealed, `sql-password "shop" "dev"`)
	mustKind(t, err, errs.KindInternal, "cannot unseal")
	_, err = newSealer(t, 2).Open(sealed, `sql-password "shop" "main"`)
	mustKind(t, err, errs.KindInternal, "secret key differs")
	damaged := bytes.Clone(sealed)
	damaged[len(damaged)-1] ^= 1
	_, err = s.Open(damaged, `sql-password "shop" "main"`)
	mustKind(t, err, errs.KindInternal, "cannot unseal")
	_, err = s.Open([]byte("short"), `sql-password "shop" "main"`)
	mustKind(t, err, errs.KindInternal, "not a sealed value")

	if _, err := platform.NewSealer(make([]byte, 16)); errs.KindOf(err) != errs.KindInvalid {
		t.Fatalf("a 16-byte key: %v", err)
	}
}

func newSealer(t *testing.T, fill byte) *platform.Sealer {
	t.Helper()
	s, err := platform.NewSealer(bytes.Repeat([]byte{fill}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mustKind fails unless err has kind k and its message contains mention.
func mustKind(t *testing.T, err error, k errs.Kind, mention string) {
	t.Helper()
	if got := errs.KindOf(err); got != k {
		t.Fatalf("error %v: kind %q, want %q", err, got, k)
	}
	if !bytes.Contains([]byte(err.Error()), []byte(mention)) {
		t.Fatalf("error %q does not say %q", err, mention)
	}
}
