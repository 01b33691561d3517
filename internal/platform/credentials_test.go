package platform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/xdg-go/scram"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/pgwire"
	"github.com/cubit-dev/cubit/internal/platform"
	"github.com/cubit-dev/cubit/internal/store"
	"github.com/cubit-dev/cubit/internal/testdb"
)

// keeperFixture is a real store with projects shop (branches main and dev) and blog
// (main), each deployed, and Keepers over it sharing one key and one clock.
type keeperFixture struct {
	t     *testing.T
	dsn   string
	clock *tclock
	store *store.Store
	key   []byte
}

// eachStore runs fn against a SQLite store and, where CUBIT_TEST_PG_URL is set (required
// in CI), a PostgreSQL one, as the store's own tests do.
func eachStore(t *testing.T, fn func(t *testing.T, f *keeperFixture)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newKeeperFixture(t, filepath.Join(t.TempDir(), "cubit.db"))) })
	t.Run("postgres", func(t *testing.T) { fn(t, newKeeperFixture(t, testdb.FreshSchema(t, testdb.Postgres(t)))) })
}

func newKeeperFixture(t *testing.T, dsn string) *keeperFixture {
	t.Helper()
	f := &keeperFixture{t: t, dsn: dsn, clock: newClock(), key: bytes.Repeat([]byte{42}, 32)}
	f.store = f.open()
	if _, err := f.store.CreateEnvironment(t.Context(), store.Environment{Name: "warehouse", Type: store.EnvironmentDuckDB,
		Settings: json.RawMessage(`{}`)}, nil); err != nil {
		t.Fatal(err)
	}
	for _, d := range [][2]string{{"shop", "main"}, {"shop", "dev"}, {"blog", "main"}} {
		f.deploy(d[0], d[1])
	}
	return f
}

func (f *keeperFixture) open() *store.Store {
	f.t.Helper()
	s, err := store.Open(f.t.Context(), f.dsn, store.WithClock(f.clock.Now))
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { _ = s.Close() })
	return s
}

func (f *keeperFixture) deploy(project, branch string) {
	f.t.Helper()
	ctx := f.t.Context()
	if _, err := f.store.GetProject(ctx, project); errs.KindOf(err) == errs.KindNotFound {
		if _, err := f.store.CreateProject(ctx, store.Project{Name: project, Repository: store.Repository{Type: store.RepositoryManaged},
			Environment: "warehouse", Deployment: json.RawMessage(`{}`)}); err != nil {
			f.t.Fatal(err)
		}
	}
	if _, err := f.store.CreateDeployment(ctx, project, branch); err != nil {
		f.t.Fatal(err)
	}
}

// keeper returns a Keeper over st (the fixture's store when nil), as one node would have.
func (f *keeperFixture) keeper(st *store.Store, tls bool) *platform.Keeper {
	f.t.Helper()
	if st == nil {
		st = f.store
	}
	sealer, err := platform.NewSealer(f.key)
	if err != nil {
		f.t.Fatal(err)
	}
	return platform.NewKeeper(platform.KeeperOptions{Store: st, Sealer: sealer, Clock: f.clock.Now,
		Endpoints: platform.Endpoints{SQLHost: "127.0.0.1", SQLPort: 15432, SQLTLS: tls,
			BaseURL: func(project, branch string) string {
				return "http://127.0.0.1:4000/p/" + project + "/b/" + branch + "/cubejs-api/v1"
			}}})
}

func ensure(t *testing.T, k *platform.Keeper, project, branch string) platform.Credentials {
	t.Helper()
	if err := k.Ensure(t.Context(), project, branch); err != nil {
		t.Fatalf("Ensure %s/%s: %v", project, branch, err)
	}
	c, err := k.Show(t.Context(), project, branch)
	if err != nil {
		t.Fatalf("Show %s/%s: %v", project, branch, err)
	}
	return c
}

func TestEnsureIsIdempotentAndRaceSafe(t *testing.T) {
	eachStore(t, func(t *testing.T, f *keeperFixture) {
		// Two nodes: each its own Store and Keeper over the same database.
		nodes := []*platform.Keeper{f.keeper(nil, false), f.keeper(f.open(), false)}
		var wg sync.WaitGroup
		errc := make(chan error, 8)
		for i := range 8 {
			wg.Go(func() { errc <- nodes[i%2].Ensure(context.Background(), "shop", "main") })
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatalf("racing Ensure: %v", err)
			}
		}
		a, err := nodes[0].Show(t.Context(), "shop", "main")
		if err != nil {
			t.Fatal(err)
		}
		b, err := nodes[1].Show(t.Context(), "shop", "main")
		if err != nil {
			t.Fatal(err)
		}
		if a != b {
			t.Fatalf("the nodes show different credentials:\n%+v\n%+v", a, b)
		}
		// A later Ensure (a restart reaching RUNNING again) keeps them.
		if again := ensure(t, nodes[1], "shop", "main"); again != a {
			t.Fatalf("Ensure replaced existing credentials:\n%+v\n%+v", a, again)
		}

		// Before Ensure there is nothing to show; unknown deployments are not found.
		_, err = nodes[0].Show(t.Context(), "shop", "dev")
		mustKind(t, err, errs.KindNotFound, "no credentials yet")
		mustKind(t, nodes[0].Ensure(t.Context(), "shop", "nope"), errs.KindNotFound, "not found")
		mustKind(t, nodes[0].Ensure(t.Context(), "nope", "main"), errs.KindNotFound, "not found")
	})
}

func TestShowGivesWorkingConnectionDetails(t *testing.T) {
	f := newKeeperFixture(t, filepath.Join(t.TempDir(), "cubit.db"))
	c := ensure(t, f.keeper(nil, false), "shop", "main")
	if c.SQL.Username != "shop_main" || c.SQL.Database != "shop" || c.SQL.Host != "127.0.0.1" || c.SQL.Port != 15432 {
		t.Fatalf("SQL credentials %+v", c.SQL)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{32}$`).MatchString(c.SQL.Password) {
		t.Fatalf("password %q is not 24 random bytes in base64url", c.SQL.Password)
	}
	cfg, err := pgconn.ParseConfig(c.SQL.ConnectionString)
	if err != nil {
		t.Fatalf("pgconn cannot parse %q: %v", c.SQL.ConnectionString, err)
	}
	if cfg.User != c.SQL.Username || cfg.Password != c.SQL.Password || cfg.Database != c.SQL.Database ||
		cfg.Host != c.SQL.Host || int(cfg.Port) != c.SQL.Port || cfg.TLSConfig != nil {
		t.Fatalf("connection string %q parses to user=%q db=%q host=%q port=%d tls=%v", c.SQL.ConnectionString,
			cfg.User, cfg.Database, cfg.Host, cfg.Port, cfg.TLSConfig != nil)
	}
	if !strings.HasSuffix(c.SQL.ConnectionString, "?sslmode=disable") {
		t.Fatalf("without TLS the connection string must say sslmode=disable: %s", c.SQL.ConnectionString)
	}
	withTLS, err := f.keeper(nil, true).Show(t.Context(), "shop", "main")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(withTLS.SQL.ConnectionString, "?sslmode=require") {
		t.Fatalf("with TLS the connection string must say sslmode=require: %s", withTLS.SQL.ConnectionString)
	}
	// Endpoints bound late (a listener on port 0) apply to what is shown next.
	late := f.keeper(nil, false)
	late.SetEndpoints(platform.Endpoints{SQLHost: "db.example.com", SQLPort: 6543})
	if moved, err := late.Show(t.Context(), "shop", "main"); err != nil || moved.SQL.Host != "db.example.com" ||
		moved.SQL.Port != 6543 || !strings.Contains(moved.SQL.ConnectionString, "@db.example.com:6543/") || moved.REST.BaseURL != "" {
		t.Fatalf("after SetEndpoints: %+v, %v", moved, err)
	}

	if c.REST.BaseURL != "http://127.0.0.1:4000/p/shop/b/main/cubejs-api/v1" {
		t.Fatalf("base URL %q", c.REST.BaseURL)
	}
	if !regexp.MustCompile(`^cbt_[a-z2-7]{16}_[A-Za-z0-9_-]{43}$`).MatchString(c.REST.Token) {
		t.Fatalf("token %q is not cbt_<id>_<secret>", c.REST.Token)
	}
	if want := f.clock.Now().Add(platform.DefaultTokenLifetime); !c.REST.ExpiresAt.Equal(want) {
		t.Fatalf("token expires at %v, want %v (the default 30 days)", c.REST.ExpiresAt, want)
	}
	// The JSON field names are the API's.
	b, _ := json.Marshal(c)
	for _, field := range []string{`"sql":`, `"connection_string":`, `"rest":`, `"base_url":`, `"expires_at":`} {
		if !bytes.Contains(b, []byte(field)) {
			t.Errorf("credentials JSON lacks %s: %s", field, b)
		}
	}

	// What the store keeps is neither the password nor the token.
	stored, err := f.store.GetCredentials(t.Context(), "shop", "main")
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{c.SQL.Password, c.REST.Token} {
		for _, field := range [][]byte{stored.SQLPasswordSealed, stored.TokenSealed, stored.TokenHash, []byte(stored.SQLPasswordVerifier)} {
			if bytes.Contains(field, []byte(secret)) {
				t.Fatal("the store holds a secret in clear")
			}
		}
	}
	// Credentials survive a restart (a new Keeper over a new Store) unchanged.
	if again := ensure(t, f.keeper(f.open(), false), "shop", "main"); again != c {
		t.Fatalf("after a restart:\n%+v\nwant\n%+v", again, c)
	}
}

// scramLogin runs a whole SCRAM-SHA-256 conversation between a client with password and a
// server holding verifier, and reports whether both sides accept it.
func scramLogin(t *testing.T, verifier, password string) bool {
	t.Helper()
	stored, err := pgwire.ParseSCRAMVerifier(verifier)
	if err != nil {
		t.Fatalf("verifier %q: %v", verifier, err)
	}
	server, err := scram.SHA256.NewServer(func(string) (scram.StoredCredentials, error) { return stored, nil })
	if err != nil {
		t.Fatal(err)
	}
	client, err := scram.SHA256.NewClient("", password, "")
	if err != nil {
		t.Fatal(err)
	}
	cc, sc := client.NewConversation(), server.NewConversation()
	msg := ""
	for !cc.Done() {
		if msg, err = cc.Step(msg); err != nil {
			return false
		}
		if cc.Done() {
			break
		}
		if msg, err = sc.Step(msg); err != nil {
			return false
		}
	}
	return cc.Valid() && sc.Valid()
}

func TestVerifierAcceptsOnlyThePassword(t *testing.T) {
	f := newKeeperFixture(t, filepath.Join(t.TempDir(), "cubit.db"))
	k := f.keeper(nil, false)
	c := ensure(t, k, "shop", "main")
	project, branch, verifier, err := k.SQLLogin(t.Context(), c.SQL.Username, c.SQL.Database)
	if err != nil || project != "shop" || branch != "main" {
		t.Fatalf("SQLLogin: %s/%s %v", project, branch, err)
	}
	if !regexp.MustCompile(`^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$`).MatchString(verifier) {
		t.Fatalf("verifier %q is not PostgreSQL's text form with 4096 iterations and a 16-byte salt", verifier)
	}
	if !scramLogin(t, verifier, c.SQL.Password) {
		t.Fatal("the password does not pass a SCRAM exchange against its verifier")
	}
	if scramLogin(t, verifier, c.SQL.Password+"x") {
		t.Fatal("a wrong password passed")
	}
}

func TestRotate(t *testing.T) {
	eachStore(t, func(t *testing.T, f *keeperFixture) {
		k := f.keeper(nil, false)
		old := ensure(t, k, "shop", "main")
		_, _, oldVerifier, err := k.SQLLogin(t.Context(), old.SQL.Username, old.SQL.Database)
		if err != nil {
			t.Fatal(err)
		}

		_, err = k.Rotate(t.Context(), "shop", "main", false, false)
		mustKind(t, err, errs.KindInvalid, "rotate what")

		// The token alone: the password stays.
		f.clock.Advance(time.Hour)
		rest, err := k.Rotate(t.Context(), "shop", "main", false, true)
		if err != nil {
			t.Fatal(err)
		}
		if rest.REST.Token == old.REST.Token || rest.SQL != old.SQL {
			t.Fatalf("rotating the token: %+v", rest)
		}
		if want := f.clock.Now().Add(platform.DefaultTokenLifetime); !rest.REST.ExpiresAt.Equal(want) {
			t.Fatalf("new token expires %v, want %v", rest.REST.ExpiresAt, want)
		}
		_, _, err = k.CheckToken(t.Context(), old.REST.Token)
		mustKind(t, err, errs.KindUnauthenticated, "invalid token")
		if p, b, err := k.CheckToken(t.Context(), rest.REST.Token); err != nil || p != "shop" || b != "main" {
			t.Fatalf("new token: %s/%s %v", p, b, err)
		}

		// Both: new password and new token; the user and database stay.
		both, err := k.Rotate(t.Context(), "shop", "main", true, true)
		if err != nil {
			t.Fatal(err)
		}
		if both.SQL.Password == old.SQL.Password || both.REST.Token == rest.REST.Token ||
			both.SQL.Username != old.SQL.Username || both.SQL.Database != old.SQL.Database {
			t.Fatalf("rotating both: %+v", both)
		}
		_, _, verifier, err := k.SQLLogin(t.Context(), both.SQL.Username, both.SQL.Database)
		if err != nil {
			t.Fatal(err)
		}
		if verifier == oldVerifier || scramLogin(t, verifier, old.SQL.Password) || !scramLogin(t, verifier, both.SQL.Password) {
			t.Fatal("after rotation the old password still opens, or the new one does not")
		}
		if shown, err := k.Show(t.Context(), "shop", "main"); err != nil || shown != both {
			t.Fatalf("Show after Rotate: %+v %v, want %+v", shown, err, both)
		}
		_, err = k.Rotate(t.Context(), "shop", "dev", true, false)
		mustKind(t, err, errs.KindNotFound, "no credentials to rotate")
	})
}

func TestSecretsNeverCrossDeployments(t *testing.T) {
	f := newKeeperFixture(t, filepath.Join(t.TempDir(), "cubit.db"))
	k := f.keeper(nil, false)
	type dep struct{ project, branch string }
	deps := []dep{{"shop", "main"}, {"shop", "dev"}, {"blog", "main"}}
	creds := map[dep]platform.Credentials{}
	verifiers := map[dep]string{}
	for _, d := range deps {
		creds[d] = ensure(t, k, d.project, d.branch)
		p, b, v, err := k.SQLLogin(t.Context(), creds[d].SQL.Username, creds[d].SQL.Database)
		if err != nil || p != d.project || b != d.branch {
			t.Fatalf("SQL user of %v selects %s/%s (%v)", d, p, b, err)
		}
		verifiers[d] = v
		if p, b, err := k.CheckToken(t.Context(), creds[d].REST.Token); err != nil || p != d.project || b != d.branch {
			t.Fatalf("token of %v opens %s/%s (%v)", d, p, b, err)
		}
	}
	for _, a := range deps {
		for _, b := range deps {
			if a == b {
				continue
			}
			if creds[a].SQL.Username == creds[b].SQL.Username || creds[a].REST.Token == creds[b].REST.Token {
				t.Fatalf("%v and %v share a username or token", a, b)
			}
			if scramLogin(t, verifiers[b], creds[a].SQL.Password) {
				t.Fatalf("the password of %v opens %v", a, b)
			}
			// A's token id with B's secret: found by id, refused by hash.
			ta, tb := creds[a].REST.Token, creds[b].REST.Token
			mixed := ta[:len("cbt_")+16] + tb[len("cbt_")+16:]
			_, _, err := k.CheckToken(t.Context(), mixed)
			mustKind(t, err, errs.KindUnauthenticated, "invalid token")
		}
	}
	// The sealed secrets are bound to their row: B's sealed token copied onto A does not open.
	a, _ := f.store.GetCredentials(t.Context(), "shop", "main")
	b, _ := f.store.GetCredentials(t.Context(), "shop", "dev")
	if _, err := f.store.RotateRESTToken(t.Context(), "shop", "main", store.RESTToken{ID: "moved", Hash: a.TokenHash,
		Sealed: b.TokenSealed, ExpiresAt: a.TokenExpiresAt}); err != nil {
		t.Fatal(err)
	}
	_, err := k.Show(t.Context(), "shop", "main")
	mustKind(t, err, errs.KindInternal, "cannot unseal")
}

func TestCheckTokenErrors(t *testing.T) {
	f := newKeeperFixture(t, filepath.Join(t.TempDir(), "cubit.db"))
	k := f.keeper(nil, false)
	c := ensure(t, k, "shop", "main")

	for _, tok := range []string{"", "Bearer " + c.REST.Token, "cba_" + c.REST.Token[4:], c.REST.Token[:len(c.REST.Token)-1],
		c.REST.Token + "A", "cbt_ABCDEFGHIJKLMNOP_" + c.REST.Token[21:], "cbt_nounderscore"} {
		_, _, err := k.CheckToken(t.Context(), tok)
		mustKind(t, err, errs.KindUnauthenticated, "malformed token")
	}
	// Well formed but unknown.
	_, _, err := k.CheckToken(t.Context(), "cbt_aaaaaaaaaaaaaaaa_"+c.REST.Token[21:])
	mustKind(t, err, errs.KindUnauthenticated, "invalid token")

	// Expiry follows the Keeper's clock.
	f.clock.Advance(platform.DefaultTokenLifetime - time.Second)
	if _, _, err := k.CheckToken(t.Context(), c.REST.Token); err != nil {
		t.Fatalf("a second before expiry: %v", err)
	}
	f.clock.Advance(time.Second)
	_, _, err = k.CheckToken(t.Context(), c.REST.Token)
	mustKind(t, err, errs.KindUnauthenticated, "token expired at "+c.REST.ExpiresAt.Format(time.RFC3339))

	// A shorter lifetime applies to the next token.
	if _, err := k.SetSecurity(t.Context(), "shop", "main", platform.Security{TokenLifetime: "1h"}); err != nil {
		t.Fatal(err)
	}
	r, err := k.Rotate(t.Context(), "shop", "main", false, true)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.clock.Now().Add(time.Hour); !r.REST.ExpiresAt.Equal(want) {
		t.Fatalf("token expires %v, want %v", r.REST.ExpiresAt, want)
	}
}

func TestSQLLoginErrors(t *testing.T) {
	f := newKeeperFixture(t, filepath.Join(t.TempDir(), "cubit.db"))
	k := f.keeper(nil, false)
	c := ensure(t, k, "shop", "main")
	_, _, _, err := k.SQLLogin(t.Context(), "shop_mian", "shop")
	mustKind(t, err, errs.KindUnauthenticated, `password authentication failed for user "shop_mian"`)
	if strings.Contains(err.Error(), "shop_main") {
		t.Fatalf("a failed login suggests a user name: %v", err)
	}
	_, _, _, err = k.SQLLogin(t.Context(), c.SQL.Username, "blog")
	mustKind(t, err, errs.KindForbidden, `user "shop_main" cannot connect to database "blog"`)
}

func TestSQLUsernamesStayUnique(t *testing.T) {
	f := newKeeperFixture(t, filepath.Join(t.TempDir(), "cubit.db"))
	k := f.keeper(nil, false)
	// Both read "a_b_c" once sanitised.
	f.deploy("a-b", "c")
	f.deploy("A", "b/c")
	long := strings.Repeat("p", 50)
	f.deploy(long, strings.Repeat("feature/", 10))
	first := ensure(t, k, "a-b", "c")
	second := ensure(t, k, "A", "b/c")
	if first.SQL.Username != "a_b_c" || !regexp.MustCompile(`^a_b_c_[a-z2-7]{5}$`).MatchString(second.SQL.Username) {
		t.Fatalf("usernames %q and %q", first.SQL.Username, second.SQL.Username)
	}
	if first.SQL.Database != "a_b" || second.SQL.Database != "a" {
		t.Fatalf("databases %q and %q", first.SQL.Database, second.SQL.Database)
	}
	c := ensure(t, k, long, strings.Repeat("feature/", 10))
	if n := len(c.SQL.Username); n > 63 || !strings.HasPrefix(c.SQL.Username, long+"_feature_") {
		t.Fatalf("long username %q (%d bytes)", c.SQL.Username, n)
	}
	for _, cr := range []platform.Credentials{first, second, c} {
		if _, err := pgconn.ParseConfig(cr.SQL.ConnectionString); err != nil {
			t.Fatalf("%s: %v", cr.SQL.ConnectionString, err)
		}
	}
}

func TestKeeperSecurity(t *testing.T) {
	f := newKeeperFixture(t, filepath.Join(t.TempDir(), "cubit.db"))
	a, b := f.keeper(nil, false), f.keeper(f.open(), false) // two nodes

	sec, err := a.Security(t.Context(), "shop", "main")
	if err != nil || len(sec.IPAllowList) != 0 || !sec.RateLimit.Unlimited() || sec.Lifetime() != platform.DefaultTokenLifetime {
		t.Fatalf("default settings %+v, %v", sec, err)
	}
	_, err = a.Security(t.Context(), "nope", "main")
	mustKind(t, err, errs.KindNotFound, `project "nope" not found`)
	_, err = a.SetSecurity(t.Context(), "shop", "main", platform.Security{TokenLifetime: "soon"})
	mustKind(t, err, errs.KindInvalid, `token_lifetime "soon"`)

	// Settable before the branch is deployed.
	set, err := b.SetSecurity(t.Context(), "shop", "feature", platform.Security{IPAllowList: []string{"10.1.2.3/8", "127.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(set.IPAllowList, ",") != "10.0.0.0/8,127.0.0.1/32" {
		t.Fatalf("stored %v, want it normalised", set.IPAllowList)
	}
	if got, _ := a.Security(t.Context(), "shop", "feature"); strings.Join(got.IPAllowList, ",") != "10.0.0.0/8,127.0.0.1/32" {
		t.Fatalf("read %v", got.IPAllowList)
	}

	// Node b changes shop/main: b sees it at once, a within a second.
	if _, err := b.SetSecurity(t.Context(), "shop", "main", platform.Security{RateLimit: platform.RateLimit{RequestsPerSecond: 5, Burst: 10}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Security(t.Context(), "shop", "main"); got.RateLimit.Burst != 10 {
		t.Fatalf("the node that set it reads %+v", got)
	}
	if got, _ := a.Security(t.Context(), "shop", "main"); !got.RateLimit.Unlimited() {
		t.Fatalf("within the second the other node reads %+v, want its cached copy", got)
	}
	f.clock.Advance(time.Second)
	if got, _ := a.Security(t.Context(), "shop", "main"); got.RateLimit.Burst != 10 {
		t.Fatalf("a second later the other node reads %+v", got)
	}
}
