package gitrepo_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cubit-dev/cubit/internal/platform/gitrepo"
)

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}

// TestWriteReplacesTheRef: a write moves the branch by renaming a complete ref file over the
// old one, never by rewriting it in place (a process killed half-way through an in-place
// rewrite leaves an empty ref, and the branch is gone), and leaves nothing under refs/.
func TestWriteReplacesTheRef(t *testing.T) {
	r := initRepo(t)
	ref := filepath.Join(r.Dir(), "refs", "heads", "main")
	before := inode(t, ref)
	commit, err := r.WriteFile("main", "model/cubes/a.yml", []byte("cubes: []\n"), alice, "a")
	if err != nil {
		t.Fatal(err)
	}
	if inode(t, ref) == before {
		t.Fatal("the ref file was rewritten in place, not replaced")
	}
	data, err := os.ReadFile(ref)
	if err != nil || string(data) != commit+"\n" {
		t.Fatalf("ref file holds %q (%v), want %s", data, err, commit)
	}
	if _, err := r.CreateBranch("team/dev", "main"); err != nil {
		t.Fatal(err)
	}
	var refs []string
	_ = filepath.WalkDir(filepath.Join(r.Dir(), "refs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			refs = append(refs, strings.TrimPrefix(p, r.Dir()+"/"))
		}
		return err
	})
	if strings.Join(refs, ",") != "refs/heads/main,refs/heads/team/dev" {
		t.Fatalf("files under refs/: %v", refs)
	}
	// A temporary ref file a crash left behind is not a branch.
	if err := os.WriteFile(filepath.Join(r.Dir(), ".cubit-ref-123"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := gitrepo.Open(r.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if bs, err := again.Branches(); err != nil || len(bs) != 2 {
		t.Fatalf("branches after a crash's leftover: %v %v", bs, err)
	}
}
