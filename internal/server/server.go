package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cubit-dev/cubit/internal/config"
	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/pgwire"
	"github.com/cubit-dev/cubit/internal/platform"
	"github.com/cubit-dev/cubit/internal/preagg"
	"github.com/cubit-dev/cubit/internal/restapi"
	"github.com/cubit-dev/cubit/internal/sqlapi"
	"github.com/cubit-dev/cubit/internal/warehouse"
	"github.com/cubit-dev/cubit/web"
)

// Options are what the command line hands the server.
type Options struct {
	Config config.Config
	// LoadModel loads the model; it runs at start and on every reload.
	LoadModel func() (*model.Model, error)
	Warehouse warehouse.Warehouse
	Dialect   dialect.Dialect
	// Rollups, when set, is the local rollup store: the model's rollup pre-aggregations are
	// built there in the background (while Serve runs) and answer the queries they match.
	Rollups *preagg.Store
	Auth    *restapi.Authenticator
	Logger  *slog.Logger
	// SQL serves the SQL API on Config.Server.SQLListen, with Config.Server's SQL user.
	SQL bool
	// Ready, when set, receives the bound addresses once the listeners accept connections
	// (sql is nil without the SQL API).
	Ready func(http, sql net.Addr)

	// Node, when set, serves the platform's deployments beside the default one: their
	// REST APIs under DeploymentPrefix, their SQL logins on the same SQL port, and the
	// admin API under /api/v1. Serve starts the deployments that should run (StartAll),
	// runs the heartbeat, and stops the platform when it stops.
	Node *Node
}

// Server is a running cubit serve.
type Server struct {
	opt     Options
	current atomic.Pointer[engine.Engine]
	reloads prometheus.Counter
	failed  prometheus.Counter
	engines *engine.Metrics
	// cache is the default deployment's result cache, kept across reloads: a reload drops
	// only the results of the cubes it changed.
	cache  *engine.Cache
	sql    *sqlapi.Handler // nil without the SQL API
	health healthCache

	deps   *deployments // nil without the platform
	pgwire atomic.Pointer[pgwire.Server]

	// rollups runs the current engine's rollup refresh under base, Serve's context.
	rollups struct {
		sync.Mutex
		base context.Context
		stop context.CancelFunc
	}
}

// DisconnectSQL closes the live SQL sessions of username (its password was rotated). It
// returns how many were closed.
func (s *Server) DisconnectSQL(username, reason string) int {
	srv := s.pgwire.Load()
	if srv == nil {
		return 0
	}
	return srv.Disconnect(func(ci pgwire.ConnInfo) bool { return ci.Startup["user"] == username }, reason)
}

// Engine implements restapi.Engines: the engine of the current model version.
func (s *Server) Engine() *engine.Engine { return s.current.Load() }

func (s *Server) engineConfig() engine.Config {
	c := s.opt.Config
	return engine.Config{
		DefaultLimit:                    c.DefaultLimit,
		MaxLimit:                        c.MaxLimit,
		DefaultTimezone:                 c.DefaultTimezone,
		AllowUngroupedWithoutPrimaryKey: c.AllowUngroupedWithoutPrimaryKey,
		Metrics:                         s.engines,
		Cache:                           s.cache,
		PreAggregations:                 s.opt.Rollups,
		PreAggregationTimezones:         c.RollupTimezones,
	}
}

// refreshRollups runs the background refresh of eng's rollups until the next reload or
// the end of Serve; it does nothing before Serve or without a rollup store.
func (s *Server) refreshRollups(eng *engine.Engine) {
	s.rollups.Lock()
	defer s.rollups.Unlock()
	if s.rollups.stop != nil {
		s.rollups.stop()
		s.rollups.stop = nil
	}
	set := eng.PreAggregations()
	if s.rollups.base == nil || set == nil {
		return
	}
	ctx, stop := context.WithCancel(s.rollups.base)
	s.rollups.stop = stop
	go set.Run(ctx)
}

// New compiles the model and prepares the server; Serve starts it.
func New(opt Options) (*Server, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	// The counters exist from the start, so that a Reload before Handler (or without it)
	// counts instead of panicking; Handler registers them.
	s := &Server{
		opt:     opt,
		reloads: prometheus.NewCounter(prometheus.CounterOpts{Name: "cubit_model_reloads_total", Help: "Successful model reloads."}),
		failed:  prometheus.NewCounter(prometheus.CounterOpts{Name: "cubit_model_reload_failures_total", Help: "Reloads that failed; the previous model kept serving."}),
		engines: engine.NewMetrics(nil),
	}
	if opt.Node != nil {
		// One set of engine collectors for the default deployment and the platform's.
		s.engines = opt.Node.engines
	}
	s.cache = engine.NewCache(engine.CacheOptions{Metrics: s.engines})
	m, err := opt.LoadModel()
	if err != nil {
		return nil, err
	}
	s.current.Store(engine.New(m, opt.Dialect, opt.Warehouse, s.engineConfig()))
	if opt.Node != nil {
		opt.Node.server.Store(s)
	}
	if opt.SQL {
		c := opt.Config.Server
		s.sql = sqlapi.NewHandler(sqlapi.Options{
			Engines: s, User: c.SQLUser, Password: c.SQLPassword, SuperUser: c.SQLSuperUser, Logger: opt.Logger,
		})
	}
	return s, nil
}

// Reload compiles the model again beside the current one and swaps it in. On failure the
// current model keeps serving and the error says why.
func (s *Server) Reload() error {
	m, err := s.opt.LoadModel()
	if err != nil {
		s.failed.Inc()
		s.opt.Logger.Error("reload failed; the previous model keeps serving", "err", err)
		return err
	}
	eng := engine.New(m, s.opt.Dialect, s.opt.Warehouse, s.engineConfig())
	s.current.Store(eng)
	s.refreshRollups(eng)
	s.reloads.Inc()
	s.opt.Logger.Info("model reloaded", "cubes", len(m.Cubes))
	return nil
}

// Handler is the whole HTTP surface: the REST API, health and metrics.
func (s *Server) Handler(reg *prometheus.Registry) http.Handler {
	cfg := s.opt.Config.Server
	metrics := restapi.NewMetrics(reg)
	api := restapi.New(restapi.Options{
		Engines:      s,
		Auth:         s.opt.Auth,
		Logger:       s.opt.Logger,
		Metrics:      metrics,
		MaxBodyBytes: cfg.MaxRequestBytes,
		ContinueWait: cfg.ContinueWait,
		QueryTimeout: cfg.QueryTimeout,
	})
	reg.MustRegister(append(s.engines.Collectors(), s.reloads, s.failed)...)
	mux := http.NewServeMux()
	mux.Handle("/cubejs-api/", api.Handler("/cubejs-api"))
	if n := s.opt.Node; n != nil {
		deps := restapi.New(restapi.Options{
			Auth:         trusted{},
			Logger:       s.opt.Logger,
			Metrics:      metrics,
			MaxBodyBytes: cfg.MaxRequestBytes,
			ContinueWait: cfg.ContinueWait,
			QueryTimeout: cfg.QueryTimeout,
		})
		s.deps = newDeployments(n.plat, n.limiter, deps)
		mux.Handle(DeploymentPrefix+"/{project}/{branch}/", s.deps)
		mux.Handle("/api/v1/", n.admin.Handler())
		mux.Handle("/", web.Handler())
	}
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /livez", s.livez)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

// healthCache remembers the data source check for a second, as Cube does, so a busy load
// balancer does not hammer the database.
type healthCache struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	s.health.mu.Lock()
	if time.Since(s.health.at) > time.Second {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		s.health.err = s.opt.Warehouse.Ping(ctx)
		cancel()
		s.health.at = time.Now()
	}
	err := s.health.err
	s.health.mu.Unlock()
	if err != nil {
		writeHealth(w, http.StatusInternalServerError, "DOWN")
		return
	}
	writeHealth(w, http.StatusOK, "HEALTH")
}

func (s *Server) livez(w http.ResponseWriter, _ *http.Request) {
	writeHealth(w, http.StatusOK, "HEALTH")
}

func writeHealth(w http.ResponseWriter, status int, health string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"health": health})
}

// Serve listens and serves until ctx ends or SIGTERM/SIGINT arrives, then shuts down
// gracefully: the listener closes and in-flight requests finish (up to ShutdownTimeout).
// SIGHUP reloads the model.
func (s *Server) Serve(ctx context.Context) error {
	cfg := s.opt.Config.Server
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv := &http.Server{
		Handler:           s.Handler(reg),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.opt.Logger.Handler(), slog.LevelWarn),
	}
	// Catch the signals before announcing the address: a SIGTERM or SIGHUP sent as soon as
	// the banner appears must shut down gracefully or reload, not kill the process.
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(signals)
	tlsConfig, err := loadTLS(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	if tlsConfig != nil {
		ln = tls.NewListener(ln, tlsConfig)
	}
	var sqlServer *pgwire.Server
	var sqlAddr net.Addr
	sqlServed := make(chan error, 1)
	if sqlHandler := s.sqlHandler(); sqlHandler != nil {
		if s.sql != nil {
			defer s.sql.Close()
		}
		sqlLn, err := net.Listen("tcp", cfg.SQLListen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listening for the SQL API on %s: %w", cfg.SQLListen, err)
		}
		sqlAddr = sqlLn.Addr()
		popt := pgwire.Options{Handler: sqlHandler, Logger: s.opt.Logger, TLSConfig: tlsConfig}
		if s.deps != nil {
			popt.AuthFailed = s.deps.sqlAuthFailed
		}
		sqlServer = pgwire.NewServer(popt)
		s.pgwire.Store(sqlServer)
		go func() { sqlServed <- sqlServer.Serve(sqlLn) }()
	}
	if n := s.opt.Node; n != nil {
		n.plat.Keeper().SetEndpoints(endpoints(ln.Addr(), sqlAddr, tlsConfig != nil))
		defer s.deps.close()
		defer n.plat.Close()
		runCtx, stopRun := context.WithCancel(ctx)
		defer stopRun()
		mgr := n.plat.Manager()
		go func() {
			if err := mgr.StartAll(runCtx); err != nil {
				s.opt.Logger.Warn("starting the platform's deployments", "err", err)
			}
			mgr.Run(runCtx)
		}()
	}
	s.rollups.Lock()
	s.rollups.base = ctx
	s.rollups.Unlock()
	s.refreshRollups(s.Engine())
	defer func() {
		s.rollups.Lock()
		defer s.rollups.Unlock()
		s.rollups.base = nil
		if s.rollups.stop != nil {
			s.rollups.stop()
			s.rollups.stop = nil
		}
	}()
	if s.opt.Ready != nil {
		s.opt.Ready(ln.Addr(), sqlAddr)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	stop := func() error {
		if sqlServer != nil {
			sqlServer.Close()
		}
		return shutdown(srv, cfg.ShutdownTimeout)
	}
	for {
		select {
		case err := <-served:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return err
		case err := <-sqlServed:
			if err != nil && !errors.Is(err, pgwire.ErrServerClosed) {
				s.opt.Logger.Error("the SQL API stopped", "err", err)
			}
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				_ = s.Reload()
				continue
			}
			s.opt.Logger.Info("shutting down", "signal", sig.String())
			return stop()
		case <-ctx.Done():
			return stop()
		}
	}
}

// sqlHandler is the SQL API's handler: the default deployment's, or, with the platform,
// a router that sends each login to its deployment. nil when the SQL API is off.
func (s *Server) sqlHandler() pgwire.Handler {
	if s.deps == nil {
		if s.sql == nil {
			return nil
		}
		return s.sql
	}
	r := &sqlRouter{d: s.deps, def: s.sql, defUsers: map[string]bool{}}
	if s.sql != nil {
		c := s.opt.Config.Server
		r.defUsers[c.SQLUser] = true
		if c.SQLSuperUser != "" {
			r.defUsers[c.SQLSuperUser] = true
		}
	}
	return r
}

// endpoints are where the deployments' credentials point: the bound addresses, with the
// host a client can dial when the listener takes every interface.
func endpoints(httpAddr, sqlAddr net.Addr, tls bool) platform.Endpoints {
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	origin := scheme + dialable(httpAddr.String())
	e := platform.Endpoints{SQLTLS: tls, BaseURL: func(project, branch string) string { return BaseURL(origin, project, branch) }}
	if sqlAddr != nil {
		host, port, _ := net.SplitHostPort(dialable(sqlAddr.String()))
		e.SQLHost = host
		e.SQLPort, _ = strconv.Atoi(port)
	}
	return e
}

// dialable turns a listener's address into one a client can dial: an unspecified host
// (0.0.0.0, ::) becomes the machine's name.
func dialable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		if name, err := os.Hostname(); err == nil {
			host = name
		}
	}
	return net.JoinHostPort(host, port)
}

// loadTLS reads the configured certificate, or returns nil when none is configured.
func loadTLS(cfg config.Server) (*tls.Config, error) {
	if cfg.TLSCert == "" && cfg.TLSKey == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("loading the TLS certificate (--tls-cert %s, --tls-key %s): %w", cfg.TLSCert, cfg.TLSKey, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

func shutdown(srv *http.Server, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return srv.Shutdown(ctx)
}

// BannerTLS is what the banner says of a self-signed certificate (--tls-self-signed): the
// file a client trusts it with and its SHA-256 fingerprint, to pin. The zero value says
// nothing, as for a certificate the operator brought.
type BannerTLS struct {
	CAFile      string
	Fingerprint string
}

// Banner prints what a person needs to use the server: the REST base URL, a token and a
// curl line that works when pasted (example is its query, on a real measure of the model),
// and the SQL API's connection string when it runs. With a self-signed certificate the curl
// line trusts it with --cacert rather than skipping verification.
func Banner(w io.Writer, addr net.Addr, https bool, token, example, sqlURL string, self BannerTLS) {
	scheme := "http://"
	if https {
		scheme = "https://"
	}
	base := scheme + addr.String() + "/cubejs-api/v1"
	fmt.Fprintf(w, "Cubit is serving.\n\n  REST API   %s\n  Token      %s\n", base, token)
	if sqlURL != "" {
		fmt.Fprintf(w, "  SQL API    psql \"%s\"\n", sqlURL)
	}
	curl := "curl -s"
	if self.CAFile != "" {
		fmt.Fprintf(w, "  TLS        self-signed certificate %s\n             SHA-256 %s\n", self.CAFile, self.Fingerprint)
		curl += " --cacert '" + self.CAFile + "'"
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Try it:\n\n  %s -X POST '%s/load' \\\n    -H 'Authorization: Bearer %s' \\\n    -H 'Content-Type: application/json' \\\n    -d '{\"query\": %s}'\n\n", curl, base, token, example)
}
