package gitrepo_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/platform/gitrepo"
)

var alice = gitrepo.Signature{Name: "Alice", Email: "alice@example.com", When: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}

func starter() fstest.MapFS {
	return fstest.MapFS{
		"cubes/orders.yml": {Data: []byte("cubes:\n  - name: orders\n    sql_table: orders\n")},
		"views/sales.yml":  {Data: []byte("views:\n  - name: sales\n")},
	}
}

func initRepo(t *testing.T) *gitrepo.Repo {
	t.Helper()
	r, err := gitrepo.Init(filepath.Join(t.TempDir(), "repo"), starter(), alice)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func wantKind(t *testing.T, err error, kind errs.Kind, mention string) {
	t.Helper()
	if errs.KindOf(err) != kind {
		t.Fatalf("error %v: kind %q, want %q", err, errs.KindOf(err), kind)
	}
	if !strings.Contains(err.Error(), mention) {
		t.Fatalf("error %q does not name %q", err, mention)
	}
}

func TestInitPutsStarterUnderModel(t *testing.T) {
	r := initRepo(t)
	files, err := r.ListFiles("main", "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"model/cubes/orders.yml", "model/views/sales.yml"}
	if !slices.Equal(files, want) {
		t.Fatalf("files %v, want %v", files, want)
	}
	data, err := r.ReadFile("main", "model/cubes/orders.yml")
	if err != nil || string(data) != string(starter()["cubes/orders.yml"].Data) {
		t.Fatalf("ReadFile = %q, %v", data, err)
	}
	branches, err := r.Branches()
	if err != nil {
		t.Fatal(err)
	}
	if len(branches) != 1 || branches[0].Name != "main" || len(branches[0].Commit) != 40 || !branches[0].Time.Equal(alice.When) {
		t.Fatalf("branches %+v", branches)
	}
	// The first commit is a root commit by the given author, and the repository opens again.
	g, err := git.PlainOpen(r.Dir())
	if err != nil {
		t.Fatal(err)
	}
	c, err := g.CommitObject(plumbing.NewHash(branches[0].Commit))
	if err != nil {
		t.Fatal(err)
	}
	if c.NumParents() != 0 || c.Author.Name != "Alice" || c.Author.Email != alice.Email {
		t.Fatalf("first commit %v", c)
	}
	if _, err := gitrepo.Open(r.Dir()); err != nil {
		t.Fatal(err)
	}
	_, err = gitrepo.Init(r.Dir(), starter(), alice)
	wantKind(t, err, errs.KindConflict, "already exists")
}

func TestInitWithDemoModel(t *testing.T) {
	sub, err := fs.Sub(demo.Model, "model")
	if err != nil {
		t.Fatal(err)
	}
	r, err := gitrepo.Init(t.TempDir(), sub, alice)
	if err != nil {
		t.Fatal(err)
	}
	snap, _, err := r.Snapshot("main")
	if err != nil {
		t.Fatal(err)
	}
	model, err := fs.Sub(snap, gitrepo.StarterDir)
	if err != nil {
		t.Fatal(err)
	}
	// Every demo file is in the snapshot's model directory, byte for byte.
	n := 0
	err = fs.WalkDir(sub, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		want, _ := fs.ReadFile(sub, path)
		got, err := fs.ReadFile(model, path)
		if err != nil || string(got) != string(want) {
			t.Errorf("%s: got %d bytes, %v; want %d bytes", path, len(got), err, len(want))
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("walked %d demo files: %v", n, err)
	}
	cubes, err := fs.Glob(snap, "model/cubes/*.yml")
	if err != nil || len(cubes) == 0 {
		t.Fatalf("model/cubes/*.yml = %v, %v", cubes, err)
	}
}

func TestOpenMissing(t *testing.T) {
	_, err := gitrepo.Open(t.TempDir())
	wantKind(t, err, errs.KindNotFound, "no repository")
}

func TestCreateBranch(t *testing.T) {
	r := initRepo(t)
	b, err := r.CreateBranch("feature/x", "main")
	if err != nil {
		t.Fatal(err)
	}
	branches, _ := r.Branches()
	if len(branches) != 2 || branches[0].Name != "feature/x" || branches[1].Name != "main" || branches[0].Commit != branches[1].Commit || b != branches[0] {
		t.Fatalf("branches %+v, created %+v", branches, b)
	}
	_, err = r.CreateBranch("feature/x", "main")
	wantKind(t, err, errs.KindConflict, "feature/x already exists")
	_, err = r.CreateBranch("dev", "mainx")
	wantKind(t, err, errs.KindNotFound, "unknown branch mainx; did you mean main?")

	for _, bad := range []string{"", "a..b", "has space", "-lead", "trail/", "/lead", "a//b", "x.lock", "a/.hidden",
		"end.", "a~1", "a^", "a:b", "a?", "a*", "a[b", `a\b`, "a@{1}", "@", "HEAD", "tab\there"} {
		_, err := r.CreateBranch(bad, "main")
		wantKind(t, err, errs.KindInvalid, "invalid branch name")
	}
	for _, good := range []string{"dev", "release/2026.03", "user/alice/fix-1", "v1.2"} {
		if _, err := r.CreateBranch(good, "main"); err != nil {
			t.Errorf("CreateBranch(%q): %v", good, err)
		}
	}
}

// TestFilesOnOtherBranch writes, reads, lists and deletes on a branch that is not main,
// and checks that main does not move.
func TestFilesOnOtherBranch(t *testing.T) {
	r := initRepo(t)
	if _, err := r.CreateBranch("dev", "main"); err != nil {
		t.Fatal(err)
	}
	mainBefore, _ := r.Branches()

	c1, err := r.WriteFile("dev", "model/cubes/users.yml", []byte("cubes: []\n"), alice, "Add users")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.WriteFile("dev", "model/cubes/orders.yml", []byte("changed\n"), alice, "Change orders"); err != nil {
		t.Fatal(err)
	}
	got, err := r.ReadFile("dev", "model/cubes/users.yml")
	if err != nil || string(got) != "cubes: []\n" {
		t.Fatalf("ReadFile = %q, %v", got, err)
	}
	if got, _ := r.ReadFile("dev", "model/cubes/orders.yml"); string(got) != "changed\n" {
		t.Fatalf("orders on dev = %q", got)
	}
	if got, _ := r.ReadFile("main", "model/cubes/orders.yml"); string(got) == "changed\n" {
		t.Fatal("a write to dev changed main")
	}
	_, err = r.ReadFile("main", "model/cubes/users.yml")
	wantKind(t, err, errs.KindNotFound, "model/cubes/users.yml on branch main")

	files, err := r.ListFiles("dev", "model/cubes")
	if want := []string{"model/cubes/orders.yml", "model/cubes/users.yml"}; err != nil || !slices.Equal(files, want) {
		t.Fatalf("ListFiles = %v, %v; want %v", files, err, want)
	}

	if _, err := r.DeleteFile("dev", "model/views/sales.yml", alice, "Drop sales view"); err != nil {
		t.Fatal(err)
	}
	// Git keeps no empty directory, so model/views is gone with its last file.
	_, err = r.ListFiles("dev", "model/views")
	wantKind(t, err, errs.KindNotFound, "no directory model/views on branch dev")
	files, _ = r.ListFiles("dev", "")
	if want := []string{"model/cubes/orders.yml", "model/cubes/users.yml"}; !slices.Equal(files, want) {
		t.Fatalf("after delete: %v", files)
	}
	_, err = r.DeleteFile("dev", "model/views/sales.yml", alice, "again")
	wantKind(t, err, errs.KindNotFound, "model/views/sales.yml on branch dev")
	_, err = r.DeleteFile("dev", "model/cubes/nope.yml", alice, "again")
	wantKind(t, err, errs.KindNotFound, "model/cubes/nope.yml on branch dev")

	mainAfter, _ := r.Branches()
	if mainAfter[slices.IndexFunc(mainAfter, isMain)] != mainBefore[slices.IndexFunc(mainBefore, isMain)] {
		t.Fatal("main moved")
	}
	if len(c1) != 40 {
		t.Fatalf("commit hash %q", c1)
	}

	// Directories and files do not stand in for each other.
	_, err = r.ReadFile("dev", "model/cubes")
	wantKind(t, err, errs.KindInvalid, "is a directory")
	_, err = r.WriteFile("dev", "model/cubes", []byte("x"), alice, "x")
	wantKind(t, err, errs.KindInvalid, "model/cubes is a directory")
	_, err = r.WriteFile("dev", "model/cubes/users.yml/inner.yml", []byte("x"), alice, "x")
	wantKind(t, err, errs.KindInvalid, "model/cubes/users.yml is a file")
	_, err = r.ListFiles("dev", "model/cubes/users.yml")
	wantKind(t, err, errs.KindInvalid, "is a file")

	// Unknown branches.
	_, err = r.ReadFile("deb", "model/cubes/users.yml")
	wantKind(t, err, errs.KindNotFound, "unknown branch deb; did you mean dev?")
	_, err = r.WriteFile("nope", "a.yml", nil, alice, "x")
	wantKind(t, err, errs.KindNotFound, "unknown branch nope")
	_, _, err = r.Snapshot("nope")
	wantKind(t, err, errs.KindNotFound, "unknown branch nope")
}

func isMain(b gitrepo.Branch) bool { return b.Name == "main" }

// TestHistory checks, with go-git's own log, that each write is one commit on top of the
// last, with the author and message given.
func TestHistory(t *testing.T) {
	r := initRepo(t)
	bob := gitrepo.Signature{Name: "Bob", Email: "bob@example.com", When: alice.When.Add(time.Hour)}
	c1, err := r.WriteFile("main", "model/cubes/a.yml", []byte("a"), alice, "Add a")
	if err != nil {
		t.Fatal(err)
	}
	c2, err := r.WriteFile("main", "model/cubes/b.yml", []byte("b"), bob, "Add b\n\nWith a body.")
	if err != nil {
		t.Fatal(err)
	}
	c3, err := r.DeleteFile("main", "model/cubes/a.yml", bob, "Remove a")
	if err != nil {
		t.Fatal(err)
	}

	g, err := git.PlainOpen(r.Dir())
	if err != nil {
		t.Fatal(err)
	}
	ref, err := g.Reference(plumbing.NewBranchReferenceName("main"), true)
	if err != nil || ref.Hash().String() != c3 {
		t.Fatalf("main at %v (%v), want %s", ref, err, c3)
	}
	log, err := g.Log(&git.LogOptions{From: ref.Hash()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = log.ForEach(func(c *object.Commit) error {
		if c.NumParents() > 1 {
			t.Errorf("merge commit %s", c.Hash)
		}
		got = append(got, fmt.Sprintf("%s|%s <%s>|%s|%s", c.Hash, c.Author.Name, c.Author.Email, c.Author.When.UTC().Format(time.RFC3339), c.Message))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("log has %d commits, want 4:\n%s", len(got), strings.Join(got, "\n"))
	}
	want := []string{
		c3 + "|Bob <bob@example.com>|2026-03-01T13:00:00Z|Remove a",
		c2 + "|Bob <bob@example.com>|2026-03-01T13:00:00Z|Add b\n\nWith a body.",
		c1 + "|Alice <alice@example.com>|2026-03-01T12:00:00Z|Add a",
	}
	if !slices.Equal(got[:3], want) {
		t.Fatalf("log:\n%s\nwant:\n%s", strings.Join(got[:3], "\n"), strings.Join(want, "\n"))
	}
	// Each commit changes exactly the file it says it does.
	for hash, wantFile := range map[string]string{c1: "model/cubes/a.yml", c2: "model/cubes/b.yml", c3: "model/cubes/a.yml"} {
		c, _ := g.CommitObject(plumbing.NewHash(hash))
		stats, err := c.Stats()
		if err != nil || len(stats) != 1 || stats[0].Name != wantFile {
			t.Errorf("commit %s changes %v (%v), want only %s", hash, stats, err, wantFile)
		}
	}
}

func TestSnapshot(t *testing.T) {
	r := initRepo(t)
	snap1, v1, err := r.Snapshot("main")
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(snap1, "model/cubes/orders.yml", "model/views/sales.yml"); err != nil {
		t.Fatal(err)
	}
	_, again, _ := r.Snapshot("main")
	if again != v1 {
		t.Fatalf("two snapshots of one head: %s, %s", v1, again)
	}
	branches, _ := r.Branches()
	if v1 != branches[0].Commit {
		t.Fatalf("snapshot version %s, head %s", v1, branches[0].Commit)
	}

	c, err := r.WriteFile("main", "model/cubes/orders.yml", []byte("new\n"), alice, "Change orders")
	if err != nil {
		t.Fatal(err)
	}
	snap2, v2, _ := r.Snapshot("main")
	if v2 != c || v2 == v1 {
		t.Fatalf("version after write %s, commit %s, before %s", v2, c, v1)
	}
	// The first snapshot is the first commit's files, whatever was written since.
	old, _ := fs.ReadFile(snap1, "model/cubes/orders.yml")
	cur, _ := fs.ReadFile(snap2, "model/cubes/orders.yml")
	if string(old) != string(starter()["cubes/orders.yml"].Data) || string(cur) != "new\n" {
		t.Fatalf("old %q, new %q", old, cur)
	}
	if _, err := fs.ReadFile(snap1, "../etc/passwd"); !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("reading outside the snapshot: %v", err)
	}
	if _, err := snap1.Open("model/missing.yml"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// TestCloneLocal imports a repository made by hand with go-git, with two branches, from its
// local path.
func TestCloneLocal(t *testing.T) {
	srcDir := t.TempDir()
	src, err := git.PlainInitWithOptions(srcDir, &git.PlainInitOptions{
		InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("trunk")},
	})
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := src.Worktree()
	commitFile := func(name, content, msg string) plumbing.Hash {
		t.Helper()
		f, err := wt.Filesystem.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(content))
		f.Close()
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
		sig := object.Signature{Name: "Carol", Email: "carol@example.com", When: alice.When}
		h, err := wt.Commit(msg, &git.CommitOptions{Author: &sig})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	trunk := commitFile("orders.yml", "cubes: []\n", "First")
	if err := wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName("staging"), Create: true}); err != nil {
		t.Fatal(err)
	}
	staging := commitFile("users.yml", "cubes: []\n", "Second")

	r, err := gitrepo.Clone(context.Background(), filepath.Join(t.TempDir(), "clone"), srcDir)
	if err != nil {
		t.Fatal(err)
	}
	branches, err := r.Branches()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, b := range branches {
		got[b.Name] = b.Commit
	}
	if len(got) != 2 || got["trunk"] != trunk.String() || got["staging"] != staging.String() {
		t.Fatalf("cloned branches %v, want trunk=%s staging=%s", got, trunk, staging)
	}
	files, _ := r.ListFiles("staging", "")
	if !slices.Equal(files, []string{"orders.yml", "users.yml"}) {
		t.Fatalf("staging files %v", files)
	}
	// The clone is writable like a managed repository.
	if _, err := r.WriteFile("trunk", "views/v.yml", []byte("views: []\n"), alice, "Add view"); err != nil {
		t.Fatal(err)
	}

	_, err = gitrepo.Clone(context.Background(), filepath.Join(t.TempDir(), "bad"), filepath.Join(srcDir, "missing"))
	if errs.KindOf(err) != errs.KindUnavailable || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("clone of a missing path: %v", err)
	}
}

func TestBadPaths(t *testing.T) {
	r := initRepo(t)
	for _, p := range []string{"", "/etc/passwd", "../x.yml", "model/../../x.yml", "model/./x.yml", "model//x.yml",
		`model\x.yml`, ".git/config", "model/.GIT/x", "model/", "."} {
		_, err := r.WriteFile("main", p, []byte("x"), alice, "x")
		wantKind(t, err, errs.KindInvalid, "invalid file path")
		_, err = r.ReadFile("main", p)
		wantKind(t, err, errs.KindInvalid, "invalid file path")
		_, err = r.DeleteFile("main", p, alice, "x")
		wantKind(t, err, errs.KindInvalid, "invalid file path")
	}
	for _, p := range []string{"/model", "../", "a/../b"} {
		_, err := r.ListFiles("main", p)
		wantKind(t, err, errs.KindInvalid, "invalid file path")
	}
	for _, a := range []gitrepo.Signature{{}, {Name: "Eve\nparent 0000", Email: "e@x"}, {Name: "Eve", Email: "e>@x"}} {
		_, err := r.WriteFile("main", "ok.yml", []byte("x"), a, "x")
		wantKind(t, err, errs.KindInvalid, "invalid commit author")
	}
}

// TestConcurrentWrites has many goroutines write different files to one branch at once:
// every write must land as its own commit and none may be lost.
func TestConcurrentWrites(t *testing.T) {
	r := initRepo(t)
	const n = 16
	var wg sync.WaitGroup
	commits := make([]string, n)
	for i := range n {
		wg.Go(func() {
			c, err := r.WriteFile("main", fmt.Sprintf("model/cubes/c%02d.yml", i), []byte(fmt.Sprint(i)), alice, fmt.Sprint("write ", i))
			if err != nil {
				t.Error(err)
			}
			commits[i] = c
		})
	}
	// Readers run alongside the writers.
	for range 4 {
		wg.Go(func() {
			if _, _, err := r.Snapshot("main"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	files, _ := r.ListFiles("main", "model/cubes")
	if len(files) != n+1 {
		t.Fatalf("%d files after %d concurrent writes: %v", len(files), n, files)
	}
	for i := range n {
		got, err := r.ReadFile("main", fmt.Sprintf("model/cubes/c%02d.yml", i))
		if err != nil || string(got) != fmt.Sprint(i) {
			t.Errorf("file %d = %q, %v", i, got, err)
		}
	}
	g, _ := git.PlainOpen(r.Dir())
	head, _ := g.Reference(plumbing.NewBranchReferenceName("main"), true)
	log, _ := g.Log(&git.LogOptions{From: head.Hash()})
	seen := map[string]bool{}
	log.ForEach(func(c *object.Commit) error { seen[c.Hash.String()] = true; return nil })
	if len(seen) != n+1 {
		t.Fatalf("history has %d commits, want %d", len(seen), n+1)
	}
	for i, c := range commits {
		if !seen[c] {
			t.Errorf("commit of write %d (%s) is not in main's history", i, c)
		}
	}
}

// TestSameContentSameTree checks that the trees written here hash like Git's own: two
// branches that reach the same files by different routes have the same tree.
func TestSameContentSameTree(t *testing.T) {
	r := initRepo(t)
	if _, err := r.CreateBranch("b", "main"); err != nil {
		t.Fatal(err)
	}
	r.WriteFile("main", "z/a.yml", []byte("1"), alice, "x")
	r.WriteFile("main", "z.yml", []byte("2"), alice, "x")
	r.WriteFile("b", "z.yml", []byte("2"), alice, "x")
	r.WriteFile("b", "z/a.yml", []byte("1"), alice, "x")
	g, _ := git.PlainOpen(r.Dir())
	tree := func(branch string) plumbing.Hash {
		ref, _ := g.Reference(plumbing.NewBranchReferenceName(branch), true)
		c, _ := g.CommitObject(ref.Hash())
		return c.TreeHash
	}
	if tree("main") != tree("b") {
		t.Fatal("same files, different trees")
	}
	// z.yml sorts before the directory z (compared as "z/"), as Git orders them.
	c, _ := g.CommitObject(mustRef(t, g, "main"))
	root, _ := c.Tree()
	var names []string
	for _, e := range root.Entries {
		names = append(names, e.Name)
	}
	if !slices.Equal(names, []string{"model", "z.yml", "z"}) {
		t.Fatalf("root entries %v", names)
	}
}

func mustRef(t *testing.T, g *git.Repository, branch string) plumbing.Hash {
	t.Helper()
	ref, err := g.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		t.Fatal(err)
	}
	return ref.Hash()
}
