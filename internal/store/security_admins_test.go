package store

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
)

func TestSecuritySettings(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := open(t, dsn)
		seedProject(t, s, "shop")

		// Nothing stored yet, and the branch is not even deployed: an empty object.
		if got := string(must[json.RawMessage](t)(s.GetSecurity(ctx, "shop", "main"))); got != "{}" {
			t.Fatalf("unset settings %s, want {}", got)
		}
		_, err := s.GetSecurity(ctx, "shopp", "main")
		wantKind(t, err, errs.KindNotFound, `project "shopp" not found; did you mean shop?`)
		wantKind(t, s.PutSecurity(ctx, "nope", "main", json.RawMessage(`{}`)), errs.KindNotFound, "not found")
		wantKind(t, s.PutSecurity(ctx, "shop", "main", json.RawMessage(`[1]`)), errs.KindInvalid, "JSON object")
		wantKind(t, s.PutSecurity(ctx, "shop", "", json.RawMessage(`{}`)), errs.KindInvalid, "branch")

		first := `{"ip_allow_list":["10.0.0.0/8"]}`
		if err := s.PutSecurity(ctx, "shop", "main", json.RawMessage(first)); err != nil {
			t.Fatal(err)
		}
		second := `{"token_lifetime":"1h"}`
		if err := s.PutSecurity(ctx, "shop", "main", json.RawMessage(second)); err != nil {
			t.Fatalf("replacing settings: %v", err)
		}
		if got := string(must[json.RawMessage](t)(s.GetSecurity(ctx, "shop", "main"))); got != second {
			t.Fatalf("settings %s, want %s", got, second)
		}
		// Per branch: another branch of the project is untouched.
		if got := string(must[json.RawMessage](t)(s.GetSecurity(ctx, "shop", "dev"))); got != "{}" {
			t.Fatalf("dev settings %s, want {}", got)
		}

		// Settings follow a renamed project and go with a deleted one.
		p := must[Project](t)(s.GetProject(ctx, "shop"))
		p.Name = "store"
		must[Project](t)(s.UpdateProject(ctx, "shop", p))
		if got := string(must[json.RawMessage](t)(s.GetSecurity(ctx, "store", "main"))); got != second {
			t.Fatalf("after rename %s, want %s", got, second)
		}
		if err := s.DeleteProject(ctx, "store"); err != nil {
			t.Fatal(err)
		}
		seedProject(t, s, "store")
		if got := string(must[json.RawMessage](t)(s.GetSecurity(ctx, "store", "main"))); got != "{}" {
			t.Fatalf("settings outlive their project: %s", got)
		}
	})
}

func TestAdminTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
		s := open(t, dsn, WithClock(func() time.Time { return at }))

		root := must[AdminToken](t)(s.CreateAdminToken(ctx, AdminToken{ID: "id1", Name: "root", Role: "owner", Hash: []byte("h1")}))
		if root.Name != "root" || root.Role != "owner" || string(root.Hash) != "h1" || !root.CreatedAt.Equal(at) {
			t.Fatalf("created %+v", root)
		}
		_, err := s.CreateAdminToken(ctx, AdminToken{ID: "id2", Name: "root", Role: "viewer", Hash: []byte("h2")})
		wantKind(t, err, errs.KindConflict, `admin token "root" already exists`)
		_, err = s.CreateAdminToken(ctx, AdminToken{ID: "id3", Name: "bob", Hash: []byte("h3")})
		wantKind(t, err, errs.KindInvalid, "needs")
		// The schema refuses a role the platform does not know, even if a caller forgets.
		_, err = s.CreateAdminToken(ctx, AdminToken{ID: "id3", Name: "bob", Role: "god", Hash: []byte("h3")})
		if err == nil {
			t.Fatal("role god was stored")
		}
		later := at.Add(time.Hour)
		must[AdminToken](t)(s.CreateAdminToken(ctx, AdminToken{ID: "id4", Name: "ann", Role: "viewer", Hash: []byte("h4"), CreatedAt: later}))

		byID := must[AdminToken](t)(s.AdminTokenByID(ctx, "id4"))
		if byID.Name != "ann" || byID.Role != "viewer" || string(byID.Hash) != "h4" || !byID.CreatedAt.Equal(later) {
			t.Fatalf("by id %+v", byID)
		}
		_, err = s.AdminTokenByID(ctx, "id5")
		wantKind(t, err, errs.KindNotFound, "no admin token")
		must[AdminToken](t)(s.GetAdminToken(ctx, "root"))
		_, err = s.GetAdminToken(ctx, "rot")
		wantKind(t, err, errs.KindNotFound, "did you mean root?")

		list := must[[]AdminToken](t)(s.ListAdminTokens(ctx))
		if len(list) != 2 || list[0].Name != "ann" || list[1].Name != "root" || list[1].Role != "owner" {
			t.Fatalf("list %+v", list)
		}
		for _, a := range list {
			if a.ID != "" || a.Hash != nil {
				t.Fatalf("list shows an id or a hash: %+v", a)
			}
		}

		if err := s.DeleteAdminToken(ctx, "ann"); err != nil {
			t.Fatal(err)
		}
		_, err = s.AdminTokenByID(ctx, "id4")
		wantKind(t, err, errs.KindNotFound, "no admin token")
		wantKind(t, s.DeleteAdminToken(ctx, "ann"), errs.KindNotFound, `admin token "ann" not found`)
	})
}
