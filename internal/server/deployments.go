package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/pgwire"
	"github.com/cubit-dev/cubit/internal/platform"
	"github.com/cubit-dev/cubit/internal/restapi"
	"github.com/cubit-dev/cubit/internal/sqlapi"
)

// DeploymentPrefix is the path under which each platform deployment's REST API lives:
// {DeploymentPrefix}/{project}/{branch}/v1/load, ... (the branch percent-encoded when it
// holds a '/').
const DeploymentPrefix = "/d"

// BaseURL is the REST base URL of a deployment on a server reachable at origin
// ("http://127.0.0.1:4000"): it ends in /v1, so {base_url}/load is its load endpoint.
func BaseURL(origin, project, branch string) string {
	return origin + DeploymentPrefix + "/" + url.PathEscape(project) + "/" + url.PathEscape(branch) + "/v1"
}

// engineOf is what the runtime's instances give the request paths.
type engineOf interface{ Engine() *engine.Engine }

// deployments serves the platform's deployments on this node: it routes a REST request
// by its path and a SQL login by its username to the deployment, after checking the
// deployment's IP allow-list, its credentials and its rate limits.
type deployments struct {
	p       *platform.Platform
	limiter *platform.Limiter
	rest    http.Handler // the REST API under DeploymentPrefix/{project}/{branch}

	mu  sync.Mutex
	sql map[string]*sqlapi.Handler // by "project/branch"
}

func newDeployments(p *platform.Platform, limiter *platform.Limiter, api *restapi.API) *deployments {
	return &deployments{p: p, limiter: limiter, sql: map[string]*sqlapi.Handler{},
		rest: api.Handler(DeploymentPrefix + "/{project}/{branch}")}
}

// trusted is the REST API's Auth for deployments: the router has checked the token.
type trusted struct{}

func (trusted) Authenticate(*http.Request, string) (map[string]any, error) { return nil, nil }

// clientAddr is the address of the client of r.
func clientAddr(remote string) netip.Addr {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		a, _ := netip.ParseAddr(remote)
		return a.Unmap()
	}
	return ap.Addr().Unmap()
}

func writePlatformError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// restToken is the REST token of r: Cube's clients send it bare or as a bearer token in
// Authorization, or in x-cube-authorization.
func restToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if h == "" {
		h = r.Header.Get("x-cube-authorization")
	}
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		h = t
	}
	return strings.TrimSpace(h)
}

// tokenKey names a token in the rate limiter without keeping the token itself.
func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:8])
}

// retryAfter is a Retry-After value: whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(d.Seconds()))))
}

// ServeHTTP routes a REST request to its deployment.
func (d *deployments) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	project, branch := r.PathValue("project"), r.PathValue("branch")
	target := "deployment/" + project + "/" + branch
	if r.Method == http.MethodOptions {
		d.rest.ServeHTTP(w, r) // CORS preflight carries no token
		return
	}
	ctx := r.Context()
	addr := clientAddr(r.RemoteAddr)
	keeper := d.p.Keeper()
	sec, err := keeper.Security(ctx, project, branch)
	if err != nil {
		if errs.KindOf(err) == errs.KindNotFound {
			writePlatformError(w, http.StatusNotFound, err.Error())
			return
		}
		writePlatformError(w, http.StatusInternalServerError, "internal error; see the server log")
		return
	}
	refuse := func(status int, reason string) {
		d.p.Audit(ctx, platform.Actor{Name: "anonymous", Address: addr.String()}, "auth.failure", target,
			map[string]any{"api": "rest", "reason": reason})
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="cubit"`)
		}
		writePlatformError(w, status, reason)
	}
	if !sec.Allows(addr) {
		refuse(http.StatusForbidden, fmt.Sprintf("address %s is not in the IP allow-list of deployment %s/%s", addr, project, branch))
		return
	}
	// The address's bucket is taken before the token is checked, so that a client trying
	// tokens is held to the limit, and so are the audit entries its failures write.
	if !d.allow(w, target+" addr:"+addr.String(), project, branch, sec) {
		return
	}
	token := restToken(r)
	if token == "" {
		refuse(http.StatusUnauthorized, "missing token: send the deployment's token as 'Authorization: Bearer <token>'")
		return
	}
	p, b, err := keeper.CheckToken(ctx, token)
	if err != nil {
		refuse(http.StatusUnauthorized, err.Error())
		return
	}
	if p != project || b != branch {
		refuse(http.StatusUnauthorized, fmt.Sprintf("invalid token: it does not open deployment %s/%s", project, branch))
		return
	}
	if !d.allow(w, target+" token:"+tokenKey(token), project, branch, sec) {
		return
	}
	inst, release, err := d.p.Manager().Acquire(ctx, project, branch)
	if err != nil {
		status := http.StatusServiceUnavailable
		if errs.KindOf(err) == errs.KindNotFound {
			status = http.StatusNotFound
		}
		writePlatformError(w, status, err.Error())
		return
	}
	defer release()
	d.rest.ServeHTTP(w, r.WithContext(restapi.WithEngine(ctx, inst.(engineOf).Engine())))
}

// allow takes a request from the rate-limit bucket key, or answers 429 with Retry-After.
func (d *deployments) allow(w http.ResponseWriter, key, project, branch string, sec platform.Security) bool {
	ok, wait := d.limiter.Allow(key, sec.RateLimit)
	if !ok {
		w.Header().Set("Retry-After", retryAfter(wait))
		writePlatformError(w, http.StatusTooManyRequests,
			fmt.Sprintf("rate limit of deployment %s/%s exceeded (%g requests per second); retry after %s",
				project, branch, sec.RateLimit.RequestsPerSecond, wait.Round(time.Millisecond)))
	}
	return ok
}

// sqlRouter is the SQL API's pgwire.Handler when the platform runs: the username selects
// the deployment; the default deployment's user (CUBEJS_SQL_USER) keeps its handler.
type sqlRouter struct {
	d   *deployments
	def *sqlapi.Handler // nil without a default deployment
	// defUsers are the default deployment's user names.
	defUsers map[string]bool
}

func (s *sqlRouter) Password(ctx context.Context, user, database string) (string, error) {
	if s.def != nil && s.defUsers[user] {
		return s.def.Password(ctx, user, database)
	}
	project, branch, verifier, err := s.d.p.Keeper().SQLLogin(ctx, user, database)
	if err != nil {
		return "", err
	}
	info, _ := pgwire.ConnInfoFromContext(ctx)
	addr := netip.Addr{}
	if info.RemoteAddr != nil {
		addr = clientAddr(info.RemoteAddr.String())
	}
	sec, err := s.d.p.Keeper().Security(ctx, project, branch)
	if err != nil {
		return "", err
	}
	if !sec.Allows(addr) {
		return "", &pgwire.Error{Severity: "FATAL", Code: "28000",
			Message: fmt.Sprintf("address %s is not in the IP allow-list of deployment %s/%s", addr, project, branch)}
	}
	return verifier, nil
}

func (s *sqlRouter) NewSession(ctx context.Context, user, database string) (pgwire.Session, error) {
	if s.def != nil && s.defUsers[user] {
		return s.def.NewSession(ctx, user, database)
	}
	project, branch, _, err := s.d.p.Keeper().SQLLogin(ctx, user, database)
	if err != nil {
		return nil, err
	}
	// Wake an on-demand deployment now, so that the first statement does not wait.
	_, release, err := s.d.p.Manager().Acquire(ctx, project, branch)
	if err != nil {
		return nil, &pgwire.Error{Severity: "FATAL", Code: "57P03", Message: err.Error()}
	}
	release()
	sess, err := s.d.sqlHandler(project, branch).NewSession(ctx, user, database)
	if err != nil {
		return nil, err
	}
	info, _ := pgwire.ConnInfoFromContext(ctx)
	addr := ""
	if info.RemoteAddr != nil {
		addr = clientAddr(info.RemoteAddr.String()).String()
	}
	return &limitedSession{Session: sess, d: s.d, project: project, branch: branch, user: user, addr: addr}, nil
}

// sqlAuthFailed writes a refused SQL login to the audit log.
func (d *deployments) sqlAuthFailed(ctx context.Context, user, database string, err *pgwire.Error) {
	addr := ""
	if info, ok := pgwire.ConnInfoFromContext(ctx); ok && info.RemoteAddr != nil {
		addr = clientAddr(info.RemoteAddr.String()).String()
	}
	d.p.Audit(ctx, platform.Actor{Name: user, Address: addr}, "auth.failure", "sql-api",
		map[string]any{"api": "sql", "database": database, "code": err.Code, "reason": err.Message})
}

// sqlHandler returns the SQL API of a deployment, made on first use. Its statements run
// on the instance the deployment serves when they execute.
func (d *deployments) sqlHandler(project, branch string) *sqlapi.Handler {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := project + "/" + branch
	h := d.sql[k]
	if h == nil {
		h = sqlapi.NewHandler(sqlapi.Options{Engines: servingEngine{d.p.Manager(), project, branch}})
		d.sql[k] = h
	}
	return h
}

// close releases the SQL handlers' post-processing engines.
func (d *deployments) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for k, h := range d.sql {
		_ = h.Close()
		delete(d.sql, k)
	}
}

// servingEngine is the engine a deployment serves now (nil when it serves none: the SQL
// API then answers 57P03). An on-demand deployment is woken.
type servingEngine struct {
	m               *platform.Manager
	project, branch string
}

func (s servingEngine) Engine() *engine.Engine {
	inst, release, err := s.m.Acquire(context.Background(), s.project, s.branch)
	if err != nil {
		return nil
	}
	// The instance is released at once: its engine stays usable, and the warehouse it
	// shares with the next version stays open while any instance of the environment lives.
	release()
	return inst.(engineOf).Engine()
}

// limitedSession applies the deployment's rate limit to each statement (SQLSTATE 53400).
type limitedSession struct {
	pgwire.Session
	d                     *deployments
	project, branch, user string
	addr                  string
}

func (s *limitedSession) allow(ctx context.Context) error {
	sec, err := s.d.p.Keeper().Security(ctx, s.project, s.branch)
	if err != nil {
		return err
	}
	target := "deployment/" + s.project + "/" + s.branch
	for _, key := range []string{"user:" + s.user, "addr:" + s.addr} {
		if ok, wait := s.d.limiter.Allow(target+" "+key, sec.RateLimit); !ok {
			return &pgwire.Error{Code: "53400",
				Message: fmt.Sprintf("rate limit of deployment %s/%s exceeded (%g statements per second)", s.project, s.branch, sec.RateLimit.RequestsPerSecond),
				Hint:    "Retry after " + wait.Round(time.Millisecond).String() + "."}
		}
	}
	return nil
}

func (s *limitedSession) Prepare(ctx context.Context, sql string, paramTypes []uint32) (pgwire.Statement, error) {
	if err := s.allow(ctx); err != nil {
		return nil, err
	}
	return s.Session.Prepare(ctx, sql, paramTypes)
}

func (s *limitedSession) PrepareAll(ctx context.Context, sql string) ([]pgwire.Statement, error) {
	if err := s.allow(ctx); err != nil {
		return nil, err
	}
	return s.Session.PrepareAll(ctx, sql)
}
