package store

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/testdb"
)

// eachBackend runs fn against a fresh SQLite file and a fresh PostgreSQL schema. fn gets
// the DSN so that it can open a second Store on the same data.
func eachBackend(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "data", "cubit.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, testdb.FreshSchema(t, testdb.Postgres(t))) })
}

func open(t *testing.T, dsn string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), dsn, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func wantKind(t *testing.T, err error, k errs.Kind, contains string) {
	t.Helper()
	if got := errs.KindOf(err); got != k {
		t.Fatalf("error %v: kind %q, want %q", err, got, k)
	}
	if !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %q does not say %q", err, contains)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

var ctx = context.Background()

func TestMigrationsIdempotent(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := open(t, dsn)
		ms, err := migrations(s.dialect.name())
		if err != nil {
			t.Fatal(err)
		}
		v1 := must[int](t)(s.SchemaVersion(ctx))
		if v1 != len(ms) {
			t.Fatalf("schema version %d, want %d", v1, len(ms))
		}
		must[Environment](t)(s.CreateEnvironment(ctx, Environment{Name: "dev", Type: EnvironmentDuckDB, Settings: json.RawMessage(`{}`)}, nil))
		_ = s.Close()
		// Reopening runs migrate again: nothing is re-applied, the data is intact.
		s2 := open(t, dsn)
		if err := s2.migrate(ctx); err != nil {
			t.Fatalf("migrating twice: %v", err)
		}
		var rows int
		if err := s2.q().row(ctx, "SELECT count(*) FROM schema_migrations").Scan(&rows); err != nil || rows != len(ms) {
			t.Fatalf("schema_migrations has %d rows (%v), want %d", rows, err, len(ms))
		}
		must[Environment](t)(s2.GetEnvironment(ctx, "dev"))
	})
}

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		var wg sync.WaitGroup
		errc := make(chan error, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := Open(ctx, dsn)
				if err == nil {
					err = s.Close()
				}
				errc <- err
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Errorf("concurrent Open: %v", err)
			}
		}
	})
}

func TestEnvironments(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := open(t, dsn)
		secret := []byte("sealed-secret-bytes")
		e := must[Environment](t)(s.CreateEnvironment(ctx, Environment{
			Name: "warehouse", Type: EnvironmentPostgres, Settings: json.RawMessage(`{"host":"db","port":5432}`),
		}, map[string][]byte{"password": secret}))
		if e.Name != "warehouse" || e.Type != EnvironmentPostgres || e.CreatedAt.IsZero() ||
			len(e.SecretNames) != 1 || e.SecretNames[0] != "password" {
			t.Fatalf("created %+v", e)
		}
		must[Environment](t)(s.CreateEnvironment(ctx, Environment{Name: "local", Type: EnvironmentDuckDB, Settings: json.RawMessage(`{}`)}, nil))

		_, err := s.CreateEnvironment(ctx, Environment{Name: "warehouse", Type: EnvironmentDuckDB, Settings: json.RawMessage(`{}`)}, nil)
		wantKind(t, err, errs.KindConflict, `environment "warehouse" already exists`)
		_, err = s.CreateEnvironment(ctx, Environment{Name: "x", Type: "mysql", Settings: json.RawMessage(`{}`)}, nil)
		wantKind(t, err, errs.KindInvalid, "unknown type")
		_, err = s.CreateEnvironment(ctx, Environment{Name: "x", Type: EnvironmentDuckDB, Settings: json.RawMessage(`[1]`)}, nil)
		wantKind(t, err, errs.KindInvalid, "JSON object")
		_, err = s.GetEnvironment(ctx, "warehose")
		wantKind(t, err, errs.KindNotFound, "did you mean warehouse?")

		list := must[[]Environment](t)(s.ListEnvironments(ctx))
		if len(list) != 2 || list[0].Name != "local" || list[1].Name != "warehouse" || len(list[0].SecretNames) != 0 {
			t.Fatalf("list %+v", list)
		}
		assertNoSecret(t, list, secret)
		assertNoSecret(t, must[Environment](t)(s.GetEnvironment(ctx, "warehouse")), secret)

		got := must[map[string][]byte](t)(s.EnvironmentSecrets(ctx, "warehouse"))
		if string(got["password"]) != string(secret) || len(got) != 1 {
			t.Fatalf("secrets %q", got)
		}
		if err := s.SetEnvironmentSecrets(ctx, "warehouse", map[string][]byte{"token": []byte("t2")}); err != nil {
			t.Fatal(err)
		}
		got = must[map[string][]byte](t)(s.EnvironmentSecrets(ctx, "warehouse"))
		if len(got) != 1 || string(got["token"]) != "t2" {
			t.Fatalf("secrets after replace %q", got)
		}

		u := must[Environment](t)(s.UpdateEnvironment(ctx, "warehouse", EnvironmentPostgres, json.RawMessage(`{"host":"db2"}`)))
		if string(u.Settings) != `{"host":"db2"}` || u.CreatedAt != e.CreatedAt {
			t.Fatalf("updated %+v", u)
		}
		_, err = s.UpdateEnvironment(ctx, "nope", EnvironmentDuckDB, json.RawMessage(`{}`))
		wantKind(t, err, errs.KindNotFound, `"nope" not found`)

		if err := s.DeleteEnvironment(ctx, "warehouse"); err != nil {
			t.Fatal(err)
		}
		_, err = s.EnvironmentSecrets(ctx, "warehouse")
		wantKind(t, err, errs.KindNotFound, "not found")
		var n int
		if err := s.q().row(ctx, "SELECT count(*) FROM environment_secrets").Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d secrets left after delete (%v)", n, err)
		}
		wantKind(t, s.DeleteEnvironment(ctx, "warehouse"), errs.KindNotFound, "not found")
	})
}

// assertNoSecret fails when the secret's bytes appear anywhere in v as JSON.
func assertNoSecret(t *testing.T, v any, secret []byte) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, form := range []string{string(secret), string(must[[]byte](t)(json.Marshal(secret)))} {
		if strings.Contains(string(b), strings.Trim(form, `"`)) {
			t.Fatalf("secret found in %s", b)
		}
	}
}

func seedProject(t *testing.T, s *Store, name string) Project {
	t.Helper()
	if _, err := s.GetEnvironment(ctx, "dev"); err != nil {
		must[Environment](t)(s.CreateEnvironment(ctx, Environment{Name: "dev", Type: EnvironmentDuckDB, Settings: json.RawMessage(`{}`)}, nil))
	}
	return must[Project](t)(s.CreateProject(ctx, Project{
		Name: name, Repository: Repository{Type: RepositoryManaged}, Environment: "dev",
		Deployment: json.RawMessage(`{"mode":"always_on"}`), ProtectedBranches: []string{"main"},
	}))
}

func TestProjects(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		now := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)
		s := open(t, dsn, WithClock(func() time.Time { return now }))
		p := seedProject(t, s, "shop")
		if p.Environment != "dev" || p.Repository.Type != RepositoryManaged || len(p.ProtectedBranches) != 1 ||
			!p.CreatedAt.Equal(now.Truncate(time.Microsecond)) {
			t.Fatalf("created %+v", p)
		}
		must[Environment](t)(s.CreateEnvironment(ctx, Environment{Name: "prod", Type: EnvironmentDuckDB, Settings: json.RawMessage(`{}`)}, nil))

		base := Project{Name: "shop", Repository: Repository{Type: RepositoryManaged}, Environment: "dev", Deployment: json.RawMessage(`{}`)}
		_, err := s.CreateProject(ctx, base)
		wantKind(t, err, errs.KindConflict, `project "shop" already exists`)
		for _, bad := range []struct {
			mut  func(*Project)
			says string
		}{
			{func(p *Project) { p.Name = "" }, "1 to 50"},
			{func(p *Project) { p.Name = strings.Repeat("é", 51) }, "1 to 50"},
			{func(p *Project) { p.Repository = Repository{Type: RepositoryImported} }, "needs a url"},
			{func(p *Project) { p.Repository = Repository{Type: "svn"} }, "unknown repository type"},
			{func(p *Project) { p.Environment = "deev" }, "did you mean dev?"},
			{func(p *Project) { p.Deployment = json.RawMessage(`"x"`) }, "JSON object"},
		} {
			p := base
			p.Name = "other"
			bad.mut(&p)
			_, err := s.CreateProject(ctx, p)
			wantKind(t, err, errs.KindInvalid, bad.says)
		}
		fifty := must[Project](t)(s.CreateProject(ctx, Project{Name: strings.Repeat("é", 50),
			Repository: Repository{Type: RepositoryImported, URL: "/tmp/repo"}, Environment: "prod", Deployment: json.RawMessage(`{}`)}))
		if fifty.ProtectedBranches == nil || len(fifty.ProtectedBranches) != 0 {
			t.Fatalf("protected branches %#v, want empty", fifty.ProtectedBranches)
		}

		list := must[[]Project](t)(s.ListProjects(ctx))
		if len(list) != 2 || list[0].Name != "shop" {
			t.Fatalf("list %+v", list)
		}
		now = now.Add(time.Hour)
		u := base
		u.Name, u.Environment, u.ProtectedBranches = "store", "prod", []string{"main", "release"}
		got := must[Project](t)(s.UpdateProject(ctx, "shop", u))
		if got.Name != "store" || got.Environment != "prod" || len(got.ProtectedBranches) != 2 ||
			!got.CreatedAt.Equal(p.CreatedAt) || !got.UpdatedAt.After(p.UpdatedAt) {
			t.Fatalf("updated %+v", got)
		}
		_, err = s.GetProject(ctx, "stor")
		wantKind(t, err, errs.KindNotFound, "did you mean store?")
		u.Name = fifty.Name
		_, err = s.UpdateProject(ctx, "store", u)
		wantKind(t, err, errs.KindConflict, "already exists")

		wantKind(t, s.DeleteEnvironment(ctx, "prod"), errs.KindConflict, "used by project")
		if err := s.DeleteProject(ctx, "store"); err != nil {
			t.Fatal(err)
		}
		wantKind(t, s.DeleteProject(ctx, "store"), errs.KindNotFound, "not found")
	})
}

func TestDeployments(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		s := open(t, dsn, WithClock(func() time.Time { return now }))
		seedProject(t, s, "shop")
		d := must[Deployment](t)(s.CreateDeployment(ctx, "shop", "main"))
		if d.State != StatePending || !d.Since.Equal(now) || !d.HeartbeatAt.IsZero() {
			t.Fatalf("created %+v", d)
		}
		_, err := s.CreateDeployment(ctx, "shop", "main")
		wantKind(t, err, errs.KindInvalid, "already deployed")
		_, err = s.CreateDeployment(ctx, "shoop", "main")
		wantKind(t, err, errs.KindNotFound, "did you mean shop?")
		must[Deployment](t)(s.CreateDeployment(ctx, "shop", "dev"))

		now = now.Add(time.Minute)
		d = must[Deployment](t)(s.SetDeploymentStatus(ctx, "shop", "main", Status{State: StateRunning, Version: "abc123"}))
		if d.State != StateRunning || d.Version != "abc123" || !d.Since.Equal(now) {
			t.Fatalf("running %+v", d)
		}
		since := d.Since
		now = now.Add(time.Minute)
		d = must[Deployment](t)(s.SetDeploymentStatus(ctx, "shop", "main", Status{State: StateRunning, Version: "def456"}))
		if !d.Since.Equal(since) || d.Version != "def456" {
			t.Fatalf("same state moved since: %+v", d)
		}
		d = must[Deployment](t)(s.SetDeploymentStatus(ctx, "shop", "main", Status{State: StateError, Error: "model/orders.yml:3: bad", Version: "def456"}))
		if d.State != StateError || d.Error != "model/orders.yml:3: bad" || !d.Since.Equal(now) {
			t.Fatalf("error %+v", d)
		}
		_, err = s.SetDeploymentStatus(ctx, "shop", "main", Status{State: "running"})
		wantKind(t, err, errs.KindInvalid, "unknown deployment state")

		now = now.Add(10 * time.Second)
		if err := s.Heartbeat(ctx, "shop", "main"); err != nil {
			t.Fatal(err)
		}
		d = must[Deployment](t)(s.GetDeployment(ctx, "shop", "main"))
		if !d.HeartbeatAt.Equal(now) {
			t.Fatalf("heartbeat %v, want %v", d.HeartbeatAt, now)
		}
		_, err = s.GetDeployment(ctx, "shop", "maim")
		wantKind(t, err, errs.KindNotFound, "did you mean main?")
		wantKind(t, s.Heartbeat(ctx, "shop", "nope"), errs.KindNotFound, "not found")

		all := must[[]Deployment](t)(s.ListDeployments(ctx, ""))
		if len(all) != 2 || all[0].Branch != "dev" || all[1].Branch != "main" {
			t.Fatalf("list %+v", all)
		}
		_, err = s.ListDeployments(ctx, "nope")
		wantKind(t, err, errs.KindNotFound, "not found")
		if err := s.DeleteDeployment(ctx, "shop", "dev"); err != nil {
			t.Fatal(err)
		}
		if got := must[[]Deployment](t)(s.ListDeployments(ctx, "shop")); len(got) != 1 {
			t.Fatalf("after delete %+v", got)
		}
		// Deleting the project takes its deployments with it.
		if err := s.DeleteProject(ctx, "shop"); err != nil {
			t.Fatal(err)
		}
		if got := must[[]Deployment](t)(s.ListDeployments(ctx, "")); len(got) != 0 {
			t.Fatalf("deployments outlive their project: %+v", got)
		}
	})
}

func newCreds(project, branch, user, tokenID string) Credentials {
	return Credentials{
		Project: project, Branch: branch, SQLUsername: user, SQLDatabase: project + "_" + branch,
		SQLPasswordVerifier: "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy", SQLPasswordSealed: []byte("sealed-pw-" + user),
		TokenID: tokenID, TokenHash: []byte("hash-" + tokenID), TokenSealed: []byte("sealed-tok-" + tokenID),
		TokenExpiresAt: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func TestCredentials(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		s := open(t, dsn)
		seedProject(t, s, "shop")
		must[Deployment](t)(s.CreateDeployment(ctx, "shop", "main"))
		must[Deployment](t)(s.CreateDeployment(ctx, "shop", "dev"))

		_, err := s.GetCredentials(ctx, "shop", "main")
		wantKind(t, err, errs.KindNotFound, "no credentials yet")
		c := must[Credentials](t)(s.CreateCredentials(ctx, newCreds("shop", "main", "shop_main", "tok1")))
		if c.SQLUsername != "shop_main" || string(c.SQLPasswordSealed) != "sealed-pw-shop_main" || !c.TokenExpiresAt.Equal(newCreds("", "", "", "").TokenExpiresAt) {
			t.Fatalf("created %+v", c)
		}
		_, err = s.CreateCredentials(ctx, newCreds("shop", "main", "x", "y"))
		wantKind(t, err, errs.KindInvalid, "rotate them instead")
		_, err = s.CreateCredentials(ctx, newCreds("shop", "dev", "shop_main", "tok2"))
		wantKind(t, err, errs.KindInvalid, "already in use")
		bad := newCreds("shop", "dev", "u", "t")
		bad.SQLPasswordVerifier = ""
		_, err = s.CreateCredentials(ctx, bad)
		wantKind(t, err, errs.KindInvalid, "verifier")
		must[Credentials](t)(s.CreateCredentials(ctx, newCreds("shop", "dev", "shop_dev", "tok2")))

		// A login finds its own deployment and no other.
		byUser := must[Credentials](t)(s.CredentialsBySQLUsername(ctx, "shop_dev"))
		byTok := must[Credentials](t)(s.CredentialsByTokenID(ctx, "tok1"))
		if byUser.Branch != "dev" || byTok.Branch != "main" {
			t.Fatalf("lookups: %s, %s", byUser.Branch, byTok.Branch)
		}
		_, err = s.CredentialsBySQLUsername(ctx, "shop_mian")
		wantKind(t, err, errs.KindNotFound, "no deployment")
		if strings.Contains(err.Error(), "shop_main") {
			t.Fatalf("a failed login is told a valid username: %v", err)
		}

		r := must[Credentials](t)(s.RotateSQLPassword(ctx, "shop", "main", SQLSecret{Verifier: "SCRAM-SHA-256$new", Sealed: []byte("pw2")}))
		if r.SQLPasswordVerifier != "SCRAM-SHA-256$new" || string(r.SQLPasswordSealed) != "pw2" || r.TokenID != "tok1" {
			t.Fatalf("rotated password %+v", r)
		}
		exp := time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
		r = must[Credentials](t)(s.RotateRESTToken(ctx, "shop", "main", RESTToken{ID: "tok3", Hash: []byte("h3"), Sealed: []byte("s3"), ExpiresAt: exp}))
		if r.TokenID != "tok3" || !r.TokenExpiresAt.Equal(exp) || r.SQLPasswordVerifier != "SCRAM-SHA-256$new" {
			t.Fatalf("rotated token %+v", r)
		}
		_, err = s.CredentialsByTokenID(ctx, "tok1")
		wantKind(t, err, errs.KindNotFound, "no deployment")
		_, err = s.RotateRESTToken(ctx, "shop", "main", RESTToken{ID: "tok2", Hash: []byte("h"), Sealed: []byte("s"), ExpiresAt: exp})
		wantKind(t, err, errs.KindInvalid, "already in use")
		_, err = s.RotateSQLPassword(ctx, "shop", "nope", SQLSecret{Verifier: "v", Sealed: []byte("s")})
		wantKind(t, err, errs.KindNotFound, "not found")

		if err := s.DeleteDeployment(ctx, "shop", "dev"); err != nil {
			t.Fatal(err)
		}
		_, err = s.CredentialsBySQLUsername(ctx, "shop_dev")
		wantKind(t, err, errs.KindNotFound, "no deployment")
	})
}

func TestAudit(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
		s := open(t, dsn)
		for i := range 25 {
			actor, action := "admin", "project.create"
			if i%5 == 0 {
				actor, action = "viewer", "credentials.view"
			}
			must[AuditEntry](t)(s.AppendAudit(ctx, AuditEntry{At: base.Add(time.Duration(i) * time.Minute), Actor: actor,
				Action: action, Target: "project/shop", Address: "127.0.0.1", Details: json.RawMessage(`{"i":` + string(rune('0'+i%10)) + `}`)}))
		}
		e := must[AuditEntry](t)(s.AppendAudit(ctx, AuditEntry{Action: "auth.failure"}))
		if e.At.IsZero() || string(e.Details) != "{}" {
			t.Fatalf("defaults %+v", e)
		}
		_, err := s.AppendAudit(ctx, AuditEntry{Action: "x", Details: json.RawMessage(`{`)})
		wantKind(t, err, errs.KindInvalid, "JSON")

		all := must[[]AuditEntry](t)(s.ListAudit(ctx, AuditFilter{}))
		if len(all) != 26 || all[0].Action != "auth.failure" || all[1].ID <= all[2].ID {
			t.Fatalf("list: %d entries, first %+v", len(all), all[0])
		}
		views := must[[]AuditEntry](t)(s.ListAudit(ctx, AuditFilter{Actor: "viewer", Action: "credentials.view"}))
		if len(views) != 5 {
			t.Fatalf("%d views, want 5", len(views))
		}
		window := must[[]AuditEntry](t)(s.ListAudit(ctx, AuditFilter{Since: base.Add(10 * time.Minute), Until: base.Add(20 * time.Minute)}))
		if len(window) != 10 || !window[0].At.Equal(base.Add(19*time.Minute)) {
			t.Fatalf("window: %d entries", len(window))
		}
		// Paging with Before visits every entry once.
		var seen []int64
		f := AuditFilter{Target: "project/shop", Limit: 7}
		for {
			page := must[[]AuditEntry](t)(s.ListAudit(ctx, f))
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				seen = append(seen, e.ID)
			}
			f.Before = page[len(page)-1].ID
		}
		if len(seen) != 25 {
			t.Fatalf("paging saw %d entries, want 25", len(seen))
		}
		_, err = s.ListAudit(ctx, AuditFilter{Limit: -1})
		wantKind(t, err, errs.KindInvalid, "negative")

		// Append-only in the database too, not only in the API.
		if _, err := s.q().exec(ctx, "UPDATE audit SET actor = 'someone else'"); err == nil {
			t.Fatal("UPDATE of the audit log succeeded")
		}
		if _, err := s.q().exec(ctx, "DELETE FROM audit"); err == nil {
			t.Fatal("DELETE from the audit log succeeded")
		}
	})
}

// TestTwoStoresShareState is two nodes on one store: each sees the other's writes at once.
func TestTwoStoresShareState(t *testing.T) {
	eachBackend(t, func(t *testing.T, dsn string) {
		a, b := open(t, dsn), open(t, dsn)
		seedProject(t, a, "shop")
		must[Deployment](t)(b.CreateDeployment(ctx, "shop", "main"))
		must[Deployment](t)(a.SetDeploymentStatus(ctx, "shop", "main", Status{State: StateRunning, Version: "v1"}))
		if d := must[Deployment](t)(b.GetDeployment(ctx, "shop", "main")); d.State != StateRunning {
			t.Fatalf("node b sees %s", d.State)
		}
		must[Credentials](t)(b.CreateCredentials(ctx, newCreds("shop", "main", "u1", "t1")))
		must[Credentials](t)(a.RotateRESTToken(ctx, "shop", "main", RESTToken{ID: "t2", Hash: []byte("h"), Sealed: []byte("s"), ExpiresAt: time.Now()}))
		if _, err := b.CredentialsByTokenID(ctx, "t1"); errs.KindOf(err) != errs.KindNotFound {
			t.Fatalf("node b still accepts the rotated token: %v", err)
		}
		must[Credentials](t)(b.CredentialsByTokenID(ctx, "t2"))
		_, err := b.CreateProject(ctx, Project{Name: "shop", Repository: Repository{Type: RepositoryManaged}, Environment: "dev", Deployment: json.RawMessage(`{}`)})
		wantKind(t, err, errs.KindConflict, "already exists")
	})
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(ctx, "postgres://u:secretpw@127.0.0.1:1/db?sslmode=disable&connect_timeout=2")
	if err == nil || errs.KindOf(err) != errs.KindUnavailable || strings.Contains(err.Error(), "secretpw") {
		t.Fatalf("unreachable PostgreSQL: %v", err)
	}
	_, err = Open(ctx, filepath.Join(t.TempDir(), "a?b.db"))
	if err == nil {
		t.Fatal("a path with ? opened")
	}
	var e *errs.Error
	_ = errors.As(err, &e)
}
