package platform_test

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/platform"
	"github.com/cubit-dev/cubit/internal/store"
)

func openStore(t *testing.T, dsn string, clk *tclock) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), dsn, store.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestAdminBootstrapGeneratesOnce(t *testing.T) {
	clk := newClock()
	dsn := filepath.Join(t.TempDir(), "cubit.db")
	a := platform.NewAdmins(openStore(t, dsn, clk), clk.Now)
	root, err := a.Bootstrap(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^cba_[a-z2-7]{16}_[A-Za-z0-9_-]{43}$`).MatchString(root) {
		t.Fatalf("root token %q", root)
	}
	if who, err := a.Check(t.Context(), root); err != nil || who != (platform.Admin{Name: "root", Role: platform.RoleOwner}) {
		t.Fatalf("root token checks as %+v, %v", who, err)
	}
	// A restart (or a second node) finds it and prints nothing.
	b := platform.NewAdmins(openStore(t, dsn, clk), clk.Now)
	if again, err := b.Bootstrap(t.Context(), ""); err != nil || again != "" {
		t.Fatalf("second bootstrap: %q, %v", again, err)
	}
	if _, err := b.Check(t.Context(), root); err != nil {
		t.Fatalf("the stored root token on another node: %v", err)
	}
	mustKind(t, a.Delete(t.Context(), "root"), errs.KindInvalid, "cannot be deleted")
	if _, err := a.Check(t.Context(), root); err != nil {
		t.Fatal("root was deleted")
	}

	// An operator token replaces the generated one, without being stored.
	env := "operator-chosen-admin-token"
	c := platform.NewAdmins(openStore(t, dsn, clk), clk.Now)
	if gen, err := c.Bootstrap(t.Context(), env); err != nil || gen != "" {
		t.Fatalf("bootstrap with an operator token: %q, %v", gen, err)
	}
	if who, err := c.Check(t.Context(), env); err != nil || who.Role != platform.RoleOwner || who.Name != "root" {
		t.Fatalf("operator token: %+v, %v", who, err)
	}
	_, err = c.Check(t.Context(), root)
	mustKind(t, err, errs.KindUnauthenticated, "invalid admin token")
	_, err = c.Check(t.Context(), env+"x")
	mustKind(t, err, errs.KindUnauthenticated, "malformed admin token")
	list, err := c.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range list {
		if info.Name != "root" {
			t.Fatalf("the operator token was stored: %+v", list)
		}
	}
	_, err = platform.NewAdmins(openStore(t, dsn, clk), clk.Now).Bootstrap(t.Context(), "short")
	mustKind(t, err, errs.KindInvalid, "at least 16 characters")
}

func TestAdminTokensAndRoles(t *testing.T) {
	clk := newClock()
	a := platform.NewAdmins(openStore(t, filepath.Join(t.TempDir(), "cubit.db"), clk), clk.Now)
	if _, err := a.Bootstrap(t.Context(), "operator-chosen-admin-token"); err != nil {
		t.Fatal(err)
	}
	ed, err := a.Create(t.Context(), "ci-bot.1", platform.RoleEditor)
	if err != nil {
		t.Fatal(err)
	}
	vw, err := a.Create(t.Context(), "Dash_board", platform.RoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	if who, err := a.Check(t.Context(), ed); err != nil || who != (platform.Admin{Name: "ci-bot.1", Role: platform.RoleEditor}) {
		t.Fatalf("editor: %+v, %v", who, err)
	}
	if who, err := a.Check(t.Context(), vw); err != nil || who != (platform.Admin{Name: "Dash_board", Role: platform.RoleViewer}) {
		t.Fatalf("viewer: %+v, %v", who, err)
	}

	_, err = a.Create(t.Context(), "ci-bot.1", platform.RoleViewer)
	mustKind(t, err, errs.KindConflict, `admin token "ci-bot.1" already exists`)
	_, err = a.Create(t.Context(), "root", platform.RoleOwner)
	mustKind(t, err, errs.KindInvalid, "reserved")
	for _, bad := range []string{"", "has space", "slash/", strings.Repeat("x", 51), "é"} {
		_, err = a.Create(t.Context(), bad, platform.RoleViewer)
		mustKind(t, err, errs.KindInvalid, "admin name")
	}
	_, err = a.Create(t.Context(), "x", platform.Role("admin"))
	mustKind(t, err, errs.KindInvalid, `unknown role "admin"`)

	list, err := a.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Name != "Dash_board" || list[0].Role != platform.RoleViewer ||
		list[1].Name != "ci-bot.1" || !list[1].CreatedAt.Equal(clk.Now()) {
		t.Fatalf("list %+v", list)
	}

	if err := a.Delete(t.Context(), "ci-bot.1"); err != nil {
		t.Fatal(err)
	}
	_, err = a.Check(t.Context(), ed)
	mustKind(t, err, errs.KindUnauthenticated, "invalid admin token")
	mustKind(t, a.Delete(t.Context(), "ci-bot.1"), errs.KindNotFound, "not found")
	// The viewer's secret with the deleted editor's id, and nonsense: refused.
	_, err = a.Check(t.Context(), vw[:21]+ed[21:])
	mustKind(t, err, errs.KindUnauthenticated, "invalid admin token")
	_, err = a.Check(t.Context(), "")
	mustKind(t, err, errs.KindUnauthenticated, "malformed admin token")
}

func TestRoleCan(t *testing.T) {
	all := []platform.Action{platform.ActionRead, platform.ActionWrite, platform.ActionSecrets, platform.ActionAdmin}
	want := map[platform.Role][]bool{
		platform.RoleOwner:  {true, true, true, true},
		platform.RoleEditor: {true, true, true, false},
		platform.RoleViewer: {true, false, false, false},
		"nobody":            {false, false, false, false},
	}
	for role, can := range want {
		if role.Valid() != (role != "nobody") {
			t.Errorf("%q.Valid() = %v", role, role.Valid())
		}
		for i, a := range all {
			if got := role.Can(a); got != can[i] {
				t.Errorf("%s.Can(%s) = %v, want %v", role, a, got, can[i])
			}
		}
		if role.Can("delete-everything") {
			t.Errorf("%s can an unknown action", role)
		}
	}
}
