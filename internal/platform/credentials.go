package platform

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xdg-go/scram"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/store"
)

// Credentials are what a deployment's users connect with. The caller shows them only
// while the deployment is RUNNING.
type Credentials struct {
	SQL  SQLCredentials  `json:"sql"`
	REST RESTCredentials `json:"rest"`
}

// SQLCredentials open the SQL API of one deployment.
type SQLCredentials struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Database string `json:"database"`
	Username string `json:"username"`
	Password string `json:"password"`
	// ConnectionString is a postgresql:// URL that psql, libpq and pgx accept as is.
	ConnectionString string `json:"connection_string"`
}

// RESTCredentials open the REST API of one deployment.
type RESTCredentials struct {
	BaseURL   string    `json:"base_url"`
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Endpoints say where this node's APIs are reachable, for the credentials shown.
type Endpoints struct {
	SQLHost string
	SQLPort int
	// SQLTLS says the SQL API offers TLS, so connection strings ask for it.
	SQLTLS bool
	// BaseURL returns the REST base URL of a deployment (ends in /v1).
	BaseURL func(project, branch string) string
}

// KeeperOptions are what a Keeper needs.
type KeeperOptions struct {
	Store     *store.Store
	Sealer    *Sealer
	Endpoints Endpoints
	// Clock is time.Now when nil; tests set it to expire tokens.
	Clock func() time.Time
}

// securityTTL is how long a Keeper trusts its cached security settings. Settings are read
// on every request, so they are cached; a change made through another node reaches this
// one within this time (a change made through this node applies at once).
const securityTTL = time.Second

// Keeper makes, shows, rotates and checks the credentials of deployments, and keeps their
// security settings. It is safe for concurrent use, and several Keepers (on several nodes)
// may share one store and one key.
type Keeper struct {
	st     *store.Store
	sealer *Sealer
	clock  func() time.Time

	mu       sync.Mutex
	ep       Endpoints // set late by SetEndpoints, so read under mu
	security map[deploymentKey]cachedSecurity
}

type deploymentKey struct{ project, branch string }

type cachedSecurity struct {
	sec Security
	at  time.Time
}

// NewKeeper returns a Keeper.
func NewKeeper(opt KeeperOptions) *Keeper {
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	return &Keeper{st: opt.Store, sealer: opt.Sealer, ep: opt.Endpoints, clock: opt.Clock,
		security: map[deploymentKey]cachedSecurity{}}
}

// SetEndpoints changes where the credentials shown say the APIs are. The server calls it
// once its listeners are bound, since a port chosen by the system (":0") is known only then;
// credentials shown afterwards use the new endpoints.
func (k *Keeper) SetEndpoints(ep Endpoints) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.ep = ep
}

func (k *Keeper) endpoints() Endpoints {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.ep
}

// Secret formats and sizes.
const (
	tokenPrefix      = "cbt_"
	adminTokenPrefix = "cba_"
	tokenIDBytes     = 10 // 16 characters of base32
	tokenSecretBytes = 32
	passwordBytes    = 24
	scramIterations  = 4096
	scramSaltBytes   = 16
	// maxIdentifier is PostgreSQL's NAMEDATALEN-1: clients and tools truncate user and
	// database names beyond it.
	maxIdentifier = 63
)

// tokenIDEncoding gives ids that read well and never contain the '_' that separates the
// parts of a token.
var tokenIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program instead)
	return b
}

// newToken makes a token "<prefix><id>_<secret>" and returns it with its id.
func newToken(prefix string) (token, id string) {
	id = tokenIDEncoding.EncodeToString(randomBytes(tokenIDBytes))
	return prefix + id + "_" + base64.RawURLEncoding.EncodeToString(randomBytes(tokenSecretBytes)), id
}

// splitToken returns the id of a token of the given prefix, or false when it is malformed.
func splitToken(prefix, token string) (id string, ok bool) {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok {
		return "", false
	}
	// The secret may contain '_' (base64url); the id never does.
	id, secret, ok := strings.Cut(rest, "_")
	if !ok || len(id) != tokenIDEncoding.EncodedLen(tokenIDBytes) ||
		len(secret) != base64.RawURLEncoding.EncodedLen(tokenSecretBytes) {
		return "", false
	}
	if _, err := tokenIDEncoding.DecodeString(id); err != nil {
		return "", false
	}
	if _, err := base64.RawURLEncoding.DecodeString(secret); err != nil {
		return "", false
	}
	return id, true
}

// tokenHash is what the store keeps of a token. The whole token is hashed, so the id in
// the row and the id in the token cannot disagree.
func tokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

func hashMatches(token string, want []byte) bool {
	return subtle.ConstantTimeCompare(tokenHash(token), want) == 1
}

// scramVerifier returns password's SCRAM-SHA-256 verifier in PostgreSQL's text form,
// "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>" (standard base64), with a
// new random salt. The username is not part of it: PostgreSQL ignores the name in SCRAM
// messages, and so must a server reading this.
func scramVerifier(password string) (string, error) {
	c, err := scram.SHA256.NewClient("", password, "")
	if err != nil {
		return "", errs.Wrap(errs.KindInternal, err, "making a SCRAM verifier")
	}
	salt := randomBytes(scramSaltBytes)
	sc, err := c.GetStoredCredentialsWithError(scram.KeyFactors{Salt: string(salt), Iters: scramIterations})
	if err != nil {
		return "", errs.Wrap(errs.KindInternal, err, "making a SCRAM verifier")
	}
	b64 := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", sc.Iters, b64(salt), b64(sc.StoredKey), b64(sc.ServerKey)), nil
}

// sqlName turns a project or branch name into the readable part of a SQL user or database
// name: lowercase, runs of anything but [a-z0-9] as one '_', no '_' at either end.
func sqlName(s string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
			continue
		}
		under = true
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

// sqlUsername is the SQL user name of a deployment: "<project>_<branch>" cut to 63 bytes
// with room for the suffix (e.g. "_k3x9") that makes it unique when the readable part is
// taken ("a-b"/"c" and "a"/"b-c" both read "a_b_c").
func sqlUsername(project, branch, suffix string) string {
	name := sqlName(project) + "_" + sqlName(branch)
	if len(name) > maxIdentifier-len(suffix) {
		name = strings.TrimRight(name[:maxIdentifier-len(suffix)], "_")
	}
	return name + suffix
}

// sqlDatabase is the database name a deployment's SQL users must connect to.
func sqlDatabase(project string) string {
	name := sqlName(project)
	if len(name) > maxIdentifier {
		name = strings.TrimRight(name[:maxIdentifier], "_")
	}
	return name
}

// Labels bind each sealed secret to its row and purpose. Names are quoted so that no two
// (project, branch) pairs give the same label.
func passwordLabel(project, branch string) string {
	return "sql-password " + strconv.Quote(project) + " " + strconv.Quote(branch)
}

func tokenLabel(project, branch string) string {
	return "rest-token " + strconv.Quote(project) + " " + strconv.Quote(branch)
}

func (k *Keeper) newPassword(project, branch string) (store.SQLSecret, error) {
	pw := base64.RawURLEncoding.EncodeToString(randomBytes(passwordBytes))
	v, err := scramVerifier(pw)
	if err != nil {
		return store.SQLSecret{}, err
	}
	return store.SQLSecret{Verifier: v, Sealed: k.sealer.Seal([]byte(pw), passwordLabel(project, branch))}, nil
}

func (k *Keeper) newRESTToken(ctx context.Context, project, branch string) (store.RESTToken, error) {
	sec, err := k.Security(ctx, project, branch)
	if err != nil {
		return store.RESTToken{}, err
	}
	tok, id := newToken(tokenPrefix)
	return store.RESTToken{ID: id, Hash: tokenHash(tok), Sealed: k.sealer.Seal([]byte(tok), tokenLabel(project, branch)),
		ExpiresAt: k.clock().Add(sec.Lifetime())}, nil
}

// usernameAttempts bounds the retries for a unique SQL username: the first attempt uses
// the readable name, later ones add a random suffix, so a second clash is all but
// impossible.
const usernameAttempts = 4

// Ensure generates the credentials of a deployment when it has none. It is Manager's
// OnRunning hook, so credentials exist from the first time a deployment reaches RUNNING and
// are kept across restarts. When two nodes race, the store keeps one set and the loser
// finds it.
func (k *Keeper) Ensure(ctx context.Context, project, branch string) error {
	if _, err := k.st.GetCredentials(ctx, project, branch); err == nil || errs.KindOf(err) != errs.KindNotFound {
		return err
	}
	pw, err := k.newPassword(project, branch)
	if err != nil {
		return err
	}
	tok, err := k.newRESTToken(ctx, project, branch)
	if err != nil {
		return err
	}
	for attempt := range usernameAttempts {
		suffix := ""
		if attempt > 0 {
			suffix = "_" + tokenIDEncoding.EncodeToString(randomBytes(3)) // 5 characters
		}
		_, err = k.st.CreateCredentials(ctx, store.Credentials{
			Project: project, Branch: branch,
			SQLUsername: sqlUsername(project, branch, suffix), SQLDatabase: sqlDatabase(project),
			SQLPasswordVerifier: pw.Verifier, SQLPasswordSealed: pw.Sealed,
			TokenID: tok.ID, TokenHash: tok.Hash, TokenSealed: tok.Sealed, TokenExpiresAt: tok.ExpiresAt,
		})
		if err == nil {
			return nil
		}
		// Another node (or goroutine) made them first: theirs stand.
		if _, gerr := k.st.GetCredentials(ctx, project, branch); gerr == nil {
			return nil
		}
		// The store says Invalid for a username (or token id) already in use.
		if errs.KindOf(err) != errs.KindInvalid {
			return err
		}
	}
	return err
}

// Show unseals the credentials of a deployment. Whether they may be shown (the deployment
// is RUNNING, the caller may see secrets) is the caller's decision.
func (k *Keeper) Show(ctx context.Context, project, branch string) (Credentials, error) {
	c, err := k.st.GetCredentials(ctx, project, branch)
	if err != nil {
		return Credentials{}, err
	}
	return k.show(c)
}

func (k *Keeper) show(c store.Credentials) (Credentials, error) {
	pw, err := k.sealer.Open(c.SQLPasswordSealed, passwordLabel(c.Project, c.Branch))
	if err != nil {
		return Credentials{}, err
	}
	tok, err := k.sealer.Open(c.TokenSealed, tokenLabel(c.Project, c.Branch))
	if err != nil {
		return Credentials{}, err
	}
	ep := k.endpoints()
	out := Credentials{
		SQL: SQLCredentials{Host: ep.SQLHost, Port: ep.SQLPort, Database: c.SQLDatabase,
			Username: c.SQLUsername, Password: string(pw)},
		REST: RESTCredentials{Token: string(tok), ExpiresAt: c.TokenExpiresAt},
	}
	out.SQL.ConnectionString = connectionString(out.SQL, ep.SQLTLS)
	if ep.BaseURL != nil {
		out.REST.BaseURL = ep.BaseURL(c.Project, c.Branch)
	}
	return out, nil
}

// connectionString builds a postgresql:// URL from c. Every byte of the user, password and
// database outside RFC 3986's unreserved set is percent-encoded: libpq splits the URL on
// ':', '@', '/' and '?' before decoding, so anything less strict breaks on some password.
func connectionString(c SQLCredentials, tls bool) string {
	mode := "disable"
	if tls {
		mode = "require"
	}
	return "postgresql://" + pctEncode(c.Username) + ":" + pctEncode(c.Password) + "@" +
		net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) + "/" + pctEncode(c.Database) + "?sslmode=" + mode
}

func pctEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// Rotate replaces the SQL password (sql) and/or the REST token (rest) of a deployment and
// returns the new credentials; the old secret stops working at once, on every node, since
// every check reads the store. At least one must be true. Rotating both is two store
// writes: should the second fail, the first stands and the error says which failed.
func (k *Keeper) Rotate(ctx context.Context, project, branch string, sql, rest bool) (Credentials, error) {
	if !sql && !rest {
		return Credentials{}, errs.Invalid("rotate what? choose the SQL password, the REST token or both")
	}
	var c store.Credentials
	if sql {
		pw, err := k.newPassword(project, branch)
		if err != nil {
			return Credentials{}, err
		}
		if c, err = k.st.RotateSQLPassword(ctx, project, branch, pw); err != nil {
			return Credentials{}, err
		}
	}
	if rest {
		tok, err := k.newRESTToken(ctx, project, branch)
		if err != nil {
			return Credentials{}, err
		}
		if c, err = k.st.RotateRESTToken(ctx, project, branch, tok); err != nil {
			if sql {
				return Credentials{}, errs.Wrap(errs.KindOf(err), err, "the SQL password was rotated, the REST token was not")
			}
			return Credentials{}, err
		}
	}
	return k.show(c)
}

// unauthenticated is the error of a failed login. Its message says why, but never which
// deployments exist.
func unauthenticated(format string, args ...any) error {
	return &errs.Error{Kind: errs.KindUnauthenticated, Message: fmt.Sprintf(format, args...)}
}

// CheckToken returns the deployment a REST token opens. Failures are
// errs.KindUnauthenticated, saying whether the token is malformed, unknown or revoked
// ("invalid token"), or expired. Whether the deployment is RUNNING, and whether the
// client's address is allowed, is for the caller to check next.
func (k *Keeper) CheckToken(ctx context.Context, token string) (project, branch string, err error) {
	id, ok := splitToken(tokenPrefix, token)
	if !ok {
		return "", "", unauthenticated("malformed token: want the %s… token shown with the deployment's credentials", tokenPrefix)
	}
	c, err := k.st.CredentialsByTokenID(ctx, id)
	if errs.KindOf(err) == errs.KindNotFound {
		return "", "", unauthenticated("invalid token")
	}
	if err != nil {
		return "", "", err
	}
	if !hashMatches(token, c.TokenHash) {
		return "", "", unauthenticated("invalid token")
	}
	if !k.clock().Before(c.TokenExpiresAt) {
		return "", "", unauthenticated("token expired at %s; rotate it for a new one", c.TokenExpiresAt.UTC().Format(time.RFC3339))
	}
	return c.Project, c.Branch, nil
}

// SQLLogin returns the deployment a SQL username selects and the SCRAM verifier (in
// PostgreSQL's text form, which pgwire.ParseSCRAMVerifier reads) its password must match. An unknown username is
// errs.KindUnauthenticated; the SQL edge should still run a SCRAM exchange that fails, as
// PostgreSQL does, so that a prober learns nothing before giving a password.
//
// A database other than the deployment's is errs.KindForbidden, said plainly: user names
// are derived from project and branch names, which are not secret, so a vaguer message
// would hide nothing and only confuse someone who typed the wrong database.
func (k *Keeper) SQLLogin(ctx context.Context, username, database string) (project, branch, verifier string, err error) {
	c, err := k.st.CredentialsBySQLUsername(ctx, username)
	if errs.KindOf(err) == errs.KindNotFound {
		return "", "", "", unauthenticated("password authentication failed for user %q", username)
	}
	if err != nil {
		return "", "", "", err
	}
	if database != c.SQLDatabase {
		return "", "", "", &errs.Error{Kind: errs.KindForbidden,
			Message: fmt.Sprintf("user %q cannot connect to database %q: use the database shown with its credentials", username, database)}
	}
	return c.Project, c.Branch, c.SQLPasswordVerifier, nil
}

// Security returns the security settings of a deployment (of a branch of an existing
// project, deployed or not). It is read on every request, so it is cached for up to a
// second: a change made on another node applies here within that second.
func (k *Keeper) Security(ctx context.Context, project, branch string) (Security, error) {
	key := deploymentKey{project, branch}
	now := k.clock()
	k.mu.Lock()
	c, ok := k.security[key]
	k.mu.Unlock()
	if ok && now.Sub(c.at) < securityTTL && !now.Before(c.at) {
		return c.sec, nil
	}
	raw, err := k.st.GetSecurity(ctx, project, branch)
	if err != nil {
		return Security{}, err
	}
	sec, err := ParseSecurity(raw)
	if err != nil {
		// Only SetSecurity writes them, normalised: a failure here is a damaged row.
		return Security{}, errs.Wrap(errs.KindInternal, err, "stored security settings of %s/%s", project, branch)
	}
	k.cache(key, sec, now)
	return sec, nil
}

func (k *Keeper) cache(key deploymentKey, sec Security, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	// Entries of deleted deployments would pile up; a full sweep when the map grows keeps
	// it to the deployments used in the last second.
	if len(k.security) >= 1024 {
		for k2, c := range k.security {
			if now.Sub(c.at) >= securityTTL {
				delete(k.security, k2)
			}
		}
	}
	k.security[key] = cachedSecurity{sec: sec, at: now}
}

// SetSecurity checks sec, stores it normalised and returns what was stored. It applies on
// this node at once and on others within a second. A new token lifetime applies to tokens
// made afterwards.
func (k *Keeper) SetSecurity(ctx context.Context, project, branch string, sec Security) (Security, error) {
	sec, err := sec.normalize()
	if err != nil {
		return Security{}, err
	}
	raw, err := json.Marshal(sec)
	if err != nil {
		return Security{}, errs.Wrap(errs.KindInternal, err, "encoding security settings")
	}
	if err := k.st.PutSecurity(ctx, project, branch, raw); err != nil {
		return Security{}, err
	}
	k.cache(deploymentKey{project, branch}, sec, k.clock())
	return sec, nil
}
