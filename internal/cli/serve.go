package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"time"

	"github.com/cubit-dev/cubit/internal/config"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/preagg"
	"github.com/cubit-dev/cubit/internal/restapi"
	"github.com/cubit-dev/cubit/internal/server"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

func runServe(e *env, args []string) int {
	fs := newFlags(e, "serve", "serve [--listen ADDR] [--model DIR] [--tls-cert FILE --tls-key FILE | --tls-self-signed]")
	var cf commonFlags
	fs.StringVar(&cf.model, "model", "", "model folder holding cubes/ and views/ (default $CUBEJS_SCHEMA_PATH, else the embedded demo)")
	listen := fs.String("listen", "", "HTTP address (default 127.0.0.1:4000; PORT sets the port)")
	sqlListen := fs.String("sql-listen", "", "SQL API address (default 127.0.0.1:15432; CUBEJS_PG_SQL_PORT sets the port)")
	tlsCert := fs.String("tls-cert", "", "PEM certificate: HTTPS for the REST API, TLS for the SQL API ($CUBIT_TLS_CERT)")
	tlsKey := fs.String("tls-key", "", "PEM private key of --tls-cert ($CUBIT_TLS_KEY)")
	tlsSelfSigned := fs.Bool("tls-self-signed", false, "serve TLS with a self-signed certificate kept in --data-dir/tls (made on the first start, renewed a week before it expires)")
	dataDir := fs.String("data-dir", "", "the platform's state: store, repositories, key (default $CUBIT_DATA_DIR, else ./.cubit)")
	storeURL := fs.String("store", "", "PostgreSQL URL of a store shared by several nodes ($CUBIT_STORE; default SQLite in --data-dir)")
	noPlatform := fs.Bool("no-platform", false, "serve the default deployment only: no projects, admin API or data directory ($CUBIT_PLATFORM=off)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if _, err := parse(fs, args); err != nil {
		return exitUsage
	}
	cfg, err := cf.config(e)
	if err != nil {
		return fail(e, err)
	}
	if *listen != "" {
		cfg.Server.Listen = *listen
	}
	if *sqlListen != "" {
		cfg.Server.SQLListen = *sqlListen
	}
	if *tlsCert != "" || *tlsKey != "" {
		cfg.Server.TLSCert, cfg.Server.TLSKey = *tlsCert, *tlsKey
	}
	if *dataDir != "" {
		cfg.Platform.DataDir = *dataDir
	}
	if *storeURL != "" {
		cfg.Platform.Store = *storeURL
	}
	if *noPlatform {
		cfg.Platform.Off = true
	}
	if *tlsSelfSigned && (cfg.Server.TLSCert != "" || cfg.Server.TLSKey != "") {
		fmt.Fprintln(e.stderr, "cubit serve: --tls-self-signed makes its own certificate: drop --tls-cert and --tls-key (or $CUBIT_TLS_CERT and $CUBIT_TLS_KEY), or drop --tls-self-signed")
		return exitUsage
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(e.stderr, "cubit serve: --log-level: %v\n", err)
		return exitUsage
	}
	logger := slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	var bannerTLS server.BannerTLS
	if *tlsSelfSigned {
		if bannerTLS, err = useSelfSigned(&cfg, logger); err != nil {
			return fail(e, err)
		}
	}
	secrets := cfg.Server.APISecrets
	if len(secrets) == 0 {
		secrets = []string{randomSecret()}
		logger.Warn("CUBEJS_API_SECRET is not set: using a random secret for this run; the printed token works until the server stops")
	}
	auth, err := restapi.NewAuthenticator(secrets, cfg.Server.Scopes)
	if err != nil {
		return fail(e, err)
	}
	ctx := context.Background()
	w, d, err := openSource(ctx, cfg)
	if err != nil {
		return fail(e, err)
	}
	defer w.Close()
	if cfg.Server.SQLPassword == "" {
		cfg.Server.SQLPassword = randomSecret()[:20]
	}
	var srv *server.Server
	var n *server.Node
	if !cfg.Platform.Off {
		var opts []server.NodeOption
		if cfg.DBType == "" {
			// The default deployment holds the demo shop: the demo project shares it.
			opts = append(opts, server.WithDemo(w))
		}
		if n, err = server.OpenNode(ctx, cfg, logger, opts...); err != nil {
			return fail(e, err)
		}
		defer n.Close()
	}
	opt := server.Options{
		Config:    cfg,
		LoadModel: func() (*model.Model, error) { return loadModel(cfg.ModelDir) },
		Warehouse: w,
		Dialect:   d,
		Auth:      auth,
		Logger:    logger,
		SQL:       true,
		Ready: func(addr, sqlAddr net.Addr) {
			token, err := auth.Mint(nil, 24*time.Hour)
			if err != nil {
				logger.Error("minting the banner token", "err", err)
				return
			}
			server.Banner(e.stdout, addr, cfg.Server.TLSCert != "", token, exampleQuery(srv.Engine().Model()), sqlURL(cfg, sqlAddr), bannerTLS)
			if n != nil {
				n.Banner(e.stdout, addr, cfg.Server.TLSCert != "", bannerTLS.CAFile)
			}
		},
	}
	opt.Node = n
	// The local rollup store: an in-memory DuckDB beside the source, filled in the
	// background with the model's rollup pre-aggregations.
	rollupDB, err := duckdb.Open("", duckdb.Options{})
	if err != nil {
		return fail(e, err)
	}
	defer rollupDB.Close()
	opt.Rollups = preagg.NewStore(rollupDB, cfg.RollupSchema)
	srv, err = server.New(opt)
	if err != nil {
		return fail(e, err)
	}
	if err := srv.Serve(ctx); err != nil {
		return fail(e, err)
	}
	return exitOK
}

// useSelfSigned points cfg's TLS at the self-signed certificate in the data directory,
// made or reused for the listen addresses' hosts, and returns what the banner says of it.
// The data directory holds it even with --no-platform: it is where Cubit keeps its state.
func useSelfSigned(cfg *config.Config, logger *slog.Logger) (server.BannerTLS, error) {
	dir, err := filepath.Abs(cfg.Platform.DataDir)
	if err != nil {
		return server.BannerTLS{}, err
	}
	// The SQL API serves the same certificate, so its host is covered too.
	hosts := selfSignedHosts(cfg.Server.Listen, cfg.Server.SQLListen)
	s, err := ensureSelfSigned(dir, hosts, time.Now())
	if err != nil {
		return server.BannerTLS{}, err
	}
	msg := "generated a self-signed TLS certificate"
	if s.Reused {
		msg = "reusing the self-signed TLS certificate"
	}
	logger.Info(msg, "cert", s.CertFile, "hosts", hosts, "sha256", s.Fingerprint)
	cfg.Server.TLSCert, cfg.Server.TLSKey = s.CertFile, s.KeyFile
	return server.BannerTLS{CAFile: s.CertFile, Fingerprint: s.Fingerprint}, nil
}

// sqlURL is the connection string of the SQL API, percent-encoded so psql takes it as is.
func sqlURL(cfg config.Config, addr net.Addr) string {
	if addr == nil {
		return ""
	}
	u := url.URL{Scheme: "postgresql", User: url.UserPassword(cfg.Server.SQLUser, cfg.Server.SQLPassword), Host: addr.String(), Path: "/cubit"}
	if cfg.Server.TLSCert != "" {
		u.RawQuery = "sslmode=require"
	}
	return u.String()
}

func randomSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// exampleQuery is a query for the banner's curl line: the documentation's example on the
// demo, else the model's first visible measure.
func exampleQuery(m *model.Model) string {
	if c := m.Cube("orders"); c != nil && c.Measure("count") != nil && c.Dimension("status") != nil {
		return `{"measures": ["orders.count"], "dimensions": ["orders.status"]}`
	}
	for _, c := range m.Cubes {
		for _, mm := range c.Measures {
			if c.Public && mm.Public {
				b, _ := json.Marshal(map[string][]string{"measures": {c.Name + "." + mm.Name}})
				return string(b)
			}
		}
	}
	return `{"measures": []}`
}

func runToken(e *env, args []string) int {
	fs := newFlags(e, "token", "token [--ttl 24h] [--claims JSON] [--secret S]")
	ttl := fs.Duration("ttl", 24*time.Hour, "lifetime of the token (0: no expiry)")
	claims := fs.String("claims", "{}", "JSON object of claims: the security context")
	secret := fs.String("secret", "", "secret to sign with (default $CUBEJS_API_SECRET)")
	if _, err := parse(fs, args); err != nil {
		return exitUsage
	}
	if *secret == "" {
		*secret = e.getenv("CUBEJS_API_SECRET")
	}
	if *secret == "" {
		fmt.Fprintln(e.stderr, "cubit token: no secret: set CUBEJS_API_SECRET or pass --secret")
		return exitUsage
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(*claims), &c); err != nil {
		fmt.Fprintf(e.stderr, "cubit token: --claims must be a JSON object: %v\n", err)
		return exitUsage
	}
	auth, err := restapi.NewAuthenticator([]string{*secret}, nil)
	if err != nil {
		return fail(e, err)
	}
	token, err := auth.Mint(c, *ttl)
	if err != nil {
		return fail(e, err)
	}
	fmt.Fprintln(e.stdout, token)
	return exitOK
}
