package restapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/errs"
)

// Engines gives the engine that serves a request: the current model version. A reload
// swaps it; requests already running keep the engine they started with.
type Engines interface {
	Engine() *engine.Engine
}

// Auth checks a request's credential for an endpoint's scope and returns its security
// context (the token's claims). *Authenticator is Cube's JWT check.
type Auth interface {
	Authenticate(r *http.Request, scope string) (map[string]any, error)
}

// WithEngine returns a context that makes the API serve a request on eng instead of the
// engine of Options.Engines. The platform's router uses it: it acquires the deployment's
// instance for the length of the request and hands its engine down this way.
func WithEngine(ctx context.Context, eng *engine.Engine) context.Context {
	return context.WithValue(ctx, keyEngine, eng)
}

// engine is the engine that serves r.
func (a *API) engine(r *http.Request) *engine.Engine {
	if eng, ok := r.Context().Value(keyEngine).(*engine.Engine); ok {
		return eng
	}
	return a.opt.Engines.Engine()
}

// Options configure the API.
type Options struct {
	// Engines serves the requests that do not carry an engine (see WithEngine).
	Engines Engines
	Auth    Auth
	Logger  *slog.Logger
	Metrics *Metrics
	// MaxBodyBytes caps request bodies (413 beyond it).
	MaxBodyBytes int64
	// ContinueWait is how long /load waits for a query before answering Continue wait.
	ContinueWait time.Duration
	// QueryTimeout cancels a database query that runs longer.
	QueryTimeout time.Duration
	// OrphanTimeout is how long the result of a query whose client was told to continue
	// waiting is kept for it to ask again.
	OrphanTimeout time.Duration
}

// API is Cube's REST API over an engine.
type API struct {
	opt     Options
	flights *flights
}

// New returns the API; Handler serves it under a base path such as /cubejs-api.
func New(opt Options) *API {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.MaxBodyBytes == 0 {
		opt.MaxBodyBytes = 1 << 20
	}
	if opt.ContinueWait == 0 {
		opt.ContinueWait = 5 * time.Second
	}
	if opt.QueryTimeout == 0 {
		opt.QueryTimeout = 10 * time.Minute
	}
	if opt.OrphanTimeout == 0 {
		opt.OrphanTimeout = 2 * time.Minute
	}
	if opt.Metrics == nil {
		opt.Metrics = NewMetrics(nil)
	}
	return &API{opt: opt, flights: newFlights(opt.OrphanTimeout)}
}

// Handler serves the API's endpoints under base (for example "/cubejs-api"), so that
// base+"/v1/load" is the load endpoint.
func (a *API) Handler(base string) http.Handler {
	mux := http.NewServeMux()
	route := func(pattern, name, scope string, h func(http.ResponseWriter, *http.Request, map[string]any)) {
		mux.Handle(pattern, a.wrap(name, scope, h))
	}
	v1 := base + "/v1"
	route("GET "+v1+"/load", "load", ScopeData, a.load)
	route("POST "+v1+"/load", "load", ScopeData, a.load)
	route("GET "+v1+"/subscribe", "load", ScopeData, a.load)
	route("POST "+v1+"/subscribe", "load", ScopeData, a.load)
	route("GET "+v1+"/meta", "meta", ScopeMeta, a.meta)
	route("GET "+v1+"/sql", "sql", ScopeSQL, a.sql)
	route("POST "+v1+"/sql", "sql", ScopeSQL, a.sql)
	route("GET "+v1+"/dry-run", "dry-run", ScopeData, a.dryRun)
	route("POST "+v1+"/dry-run", "dry-run", ScopeData, a.dryRun)
	route("POST "+v1+"/export", "export", ScopeData, a.export)
	route("POST "+v1+"/pre-aggregations/jobs", "jobs", ScopeJobs, a.jobs)
	route("DELETE "+v1+"/running-query/{id}", "running-query", ScopeData, a.cancelQuery)
	catchAll := base + "/"
	mux.Handle(catchAll, a.wrap("not-found", "", func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		// The mux sends a known path with the wrong method here too, since this pattern
		// matches every method: ask it which methods the path has.
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != catchAll {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 {
			writeError(w, r, &methodError{method: r.Method, path: r.URL.Path, allowed: allowed})
			return
		}
		writeError(w, r, &errs.Error{Kind: errs.KindNotFound, Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
	}))
	return cors(mux)
}

// cors lets browser applications on any origin call the API, as Cube does by default:
// requests carry tokens in headers, not cookies, so no origin gains anything it lacks.
func cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "x-request-id")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, x-request-id, x-cube-authorization")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyLogger
	keyEngine
)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

func loggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(keyLogger).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// validRequestID is Cube's charset for x-request-id.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9+/=._:-]{1,128}$`)

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:]) + "-span-1"
}

// statusWriter remembers the status for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the connection's writer (to lift write deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush lets streaming handlers push rows through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// wrap gives every endpoint the same edge: request id, logger, body cap, panic recovery,
// authentication for the endpoint's scope, logging and metrics.
func (a *API) wrap(name, scope string, h func(http.ResponseWriter, *http.Request, map[string]any)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("x-request-id")
		if id == "" || !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		log := a.opt.Logger.With("request_id", id, "endpoint", name)
		ctx := context.WithValue(context.WithValue(r.Context(), keyRequestID, id), keyLogger, log)
		r = r.WithContext(ctx)
		w.Header().Set("x-request-id", id)
		sw := &statusWriter{ResponseWriter: w}
		r.Body = http.MaxBytesReader(sw, r.Body, a.opt.MaxBodyBytes)
		defer func() {
			if p := recover(); p != nil {
				log.Error("panic", "panic", p)
				if sw.status == 0 {
					writeError(sw, r, errs.Wrap(errs.KindInternal, nil, "panic: %v", p))
				}
			}
			elapsed := time.Since(start)
			a.opt.Metrics.observeRequest(name, sw.status, elapsed)
			log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration_ms", elapsed.Milliseconds())
		}()
		var claims map[string]any
		if scope != "" {
			var err error
			if claims, err = a.opt.Auth.Authenticate(r, scope); err != nil {
				writeError(sw, r, err)
				return
			}
		}
		h(sw, r, claims)
	})
}

// contextWithTimeout bounds a request's work by the query timeout.
func contextWithTimeout(r *http.Request, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), d)
}
