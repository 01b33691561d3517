// Package config is Cubit's typed configuration: defaults, then Cube's environment
// variables (CUBEJS_*) and Cubit's own (CUBIT_*), then flags. It validates strictly so a
// typo fails at start-up, not at the first query.
//
// It reads nothing itself: callers pass getenv, so tests need no process environment.
package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DBType is a data source engine as CUBEJS_DB_TYPE names it.
type DBType string

const (
	// DBEmbedded is no configured source: the embedded demo.
	DBEmbedded DBType = ""
	DBDuckDB   DBType = "duckdb"
	DBPostgres DBType = "postgres"
)

// Valid reports whether t is a supported engine.
func (t DBType) Valid() bool {
	switch t {
	case DBEmbedded, DBDuckDB, DBPostgres:
		return true
	}
	return false
}

// Config is the configuration of one deployment's data source, model and query limits.
type Config struct {
	// ModelDir is the model folder (CUBEJS_SCHEMA_PATH); "" means the embedded demo model.
	ModelDir string
	DBType   DBType
	// DuckDBPath is the DuckDB file (CUBEJS_DB_DUCKDB_DATABASE_PATH); "" is in-memory.
	DuckDBPath string
	// Getenv is kept for the PostgreSQL settings, which the driver package reads.
	Getenv func(string) string

	DefaultLimit                    int
	MaxLimit                        int
	DefaultTimezone                 string
	AllowUngroupedWithoutPrimaryKey bool

	Server   Server
	Platform Platform
	// RollupTimezones are the time zones rollup pre-aggregations are built in
	// (CUBEJS_SCHEDULED_REFRESH_TIMEZONES, comma-separated; default UTC).
	RollupTimezones []string
	// RollupSchema is the schema of the rollup tables in the local rollup store
	// (CUBEJS_PRE_AGGREGATIONS_SCHEMA, default prod_pre_aggregations).
	RollupSchema string
}

// Platform holds the settings of the platform that cubit serve runs beside the default
// deployment: projects, branches, deployments, credentials.
type Platform struct {
	// Off runs the default deployment only (--no-platform; CUBIT_PLATFORM=off).
	Off bool
	// DataDir holds the platform's state: the SQLite store, the repositories and the
	// sealing key (--data-dir; CUBIT_DATA_DIR, default ./.cubit).
	DataDir string
	// Store is a PostgreSQL URL for a store shared by several nodes (--store; CUBIT_STORE);
	// "" is SQLite in DataDir.
	Store string
	// AdminToken is the owner's admin token (CUBIT_ADMIN_TOKEN); "" generates one on the
	// first start and prints it once.
	AdminToken string
	// SecretKey seals the secrets shown again (standard base64 of 32 bytes;
	// CUBIT_SECRET_KEY); "" uses DataDir/secret.key, generated with mode 0600.
	SecretKey string
	// Heartbeat is how often running deployments are checked (CUBIT_HEARTBEAT_INTERVAL,
	// default 10s).
	Heartbeat time.Duration
}

func platformFromEnv(getenv func(string) string) (Platform, error) {
	p := Platform{
		DataDir:    getenv("CUBIT_DATA_DIR"),
		Store:      getenv("CUBIT_STORE"),
		AdminToken: getenv("CUBIT_ADMIN_TOKEN"),
		SecretKey:  getenv("CUBIT_SECRET_KEY"),
		Heartbeat:  10 * time.Second,
	}
	if p.DataDir == "" {
		p.DataDir = ".cubit"
	}
	switch v := strings.ToLower(getenv("CUBIT_PLATFORM")); v {
	case "", "on":
	case "off":
		p.Off = true
	default:
		return p, fmt.Errorf("CUBIT_PLATFORM=%q: want on or off", v)
	}
	if v := getenv("CUBIT_HEARTBEAT_INTERVAL"); v != "" {
		d, err := ParseDuration(v)
		if err != nil || d <= 0 {
			return p, fmt.Errorf("CUBIT_HEARTBEAT_INTERVAL=%q: want a positive duration such as 10s", v)
		}
		p.Heartbeat = d
	}
	return p, nil
}

// Server holds the settings of cubit serve.
type Server struct {
	// Listen is the HTTP address (--listen; PORT sets the port of the default).
	Listen string
	// APISecrets verify REST tokens: CUBEJS_API_SECRET first, then CUBEJS_API_SECRETS.
	// Empty means cubit serve generates a secret and prints a token.
	APISecrets []string
	// Scopes are the API scopes of tokens that name none (CUBEJS_DEFAULT_API_SCOPES).
	Scopes []string
	// MaxRequestBytes caps request bodies (CUBEJS_MAX_REQUEST_SIZE, default 1mb).
	MaxRequestBytes int64
	// QueryTimeout cancels a database query that runs longer (CUBEJS_DB_QUERY_TIMEOUT).
	QueryTimeout time.Duration
	// ContinueWait is how long /load waits before answering Continue wait
	// (CUBIT_CONTINUE_WAIT, default 5s as in Cube).
	ContinueWait time.Duration
	// ReadTimeout and WriteTimeout bound slow clients (CUBIT_HTTP_READ_TIMEOUT,
	// CUBIT_HTTP_WRITE_TIMEOUT); exports lift the write deadline while they stream.
	ReadTimeout, WriteTimeout time.Duration
	// ShutdownTimeout is how long in-flight requests may take to finish on SIGTERM.
	ShutdownTimeout time.Duration

	// SQLListen is the SQL API's address (--sql-listen; CUBEJS_PG_SQL_PORT sets the port of
	// the default 127.0.0.1:15432).
	SQLListen string
	// SQLUser and SQLPassword log in to the SQL API (CUBEJS_SQL_USER, default "cube";
	// CUBEJS_SQL_PASSWORD, else a random password printed at start).
	SQLUser, SQLPassword string
	// SQLSuperUser may switch the security context with __user (CUBEJS_SQL_SUPER_USER).
	SQLSuperUser string

	// TLSCert and TLSKey are PEM files (--tls-cert, --tls-key; CUBIT_TLS_CERT,
	// CUBIT_TLS_KEY). With them the REST API serves HTTPS and the SQL API accepts TLS
	// (SSLRequest), which also allows cleartext passwords.
	TLSCert, TLSKey string
}

// FromEnv reads Cube's variables.
func FromEnv(getenv func(string) string) (Config, error) {
	c := Config{
		ModelDir:        getenv("CUBEJS_SCHEMA_PATH"),
		DBType:          DBType(strings.ToLower(getenv("CUBEJS_DB_TYPE"))),
		DuckDBPath:      getenv("CUBEJS_DB_DUCKDB_DATABASE_PATH"),
		Getenv:          getenv,
		DefaultLimit:    10000,
		MaxLimit:        50000,
		DefaultTimezone: "UTC",
	}
	if c.DBType == "postgresql" {
		c.DBType = DBPostgres
	}
	var err error
	if c.Server, err = serverFromEnv(getenv); err != nil {
		return c, err
	}
	if c.Platform, err = platformFromEnv(getenv); err != nil {
		return c, err
	}
	c.RollupSchema = getenv("CUBEJS_PRE_AGGREGATIONS_SCHEMA")
	for _, tz := range strings.Split(getenv("CUBEJS_SCHEDULED_REFRESH_TIMEZONES"), ",") {
		if tz = strings.TrimSpace(tz); tz == "" {
			continue
		}
		if _, err := time.LoadLocation(tz); err != nil {
			return c, fmt.Errorf("CUBEJS_SCHEDULED_REFRESH_TIMEZONES: %q is not an IANA time zone", tz)
		}
		c.RollupTimezones = append(c.RollupTimezones, tz)
	}
	if c.DefaultLimit, err = intVar(getenv, "CUBEJS_DB_QUERY_DEFAULT_LIMIT", c.DefaultLimit); err != nil {
		return c, err
	}
	if c.MaxLimit, err = intVar(getenv, "CUBEJS_DB_QUERY_LIMIT", c.MaxLimit); err != nil {
		return c, err
	}
	if tz := getenv("CUBEJS_DEFAULT_TIMEZONE"); tz != "" {
		c.DefaultTimezone = tz
	}
	if v := getenv("CUBEJS_ALLOW_UNGROUPED_WITHOUT_PRIMARY_KEY"); v != "" {
		if c.AllowUngroupedWithoutPrimaryKey, err = strconv.ParseBool(v); err != nil {
			return c, fmt.Errorf("CUBEJS_ALLOW_UNGROUPED_WITHOUT_PRIMARY_KEY=%q: want true or false", v)
		}
	}
	return c, c.Validate()
}

func intVar(getenv func(string) string, name string, def int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive integer", name, v)
	}
	return n, nil
}

// Validate checks the configuration as a whole.
func (c Config) Validate() error {
	if !c.DBType.Valid() {
		return fmt.Errorf("CUBEJS_DB_TYPE=%q is not supported (supported: duckdb, postgres)", c.DBType)
	}
	if c.DefaultLimit > c.MaxLimit {
		return fmt.Errorf("CUBEJS_DB_QUERY_DEFAULT_LIMIT (%d) is above CUBEJS_DB_QUERY_LIMIT (%d)", c.DefaultLimit, c.MaxLimit)
	}
	if _, err := time.LoadLocation(c.DefaultTimezone); err != nil {
		return fmt.Errorf("CUBEJS_DEFAULT_TIMEZONE=%q is not an IANA time zone", c.DefaultTimezone)
	}
	return nil
}

func serverFromEnv(getenv func(string) string) (Server, error) {
	s := Server{
		Listen:          "127.0.0.1:4000",
		MaxRequestBytes: 1 << 20,
		QueryTimeout:    10 * time.Minute,
		ContinueWait:    5 * time.Second,
		ReadTimeout:     30 * time.Second,
		WriteTimeout:    2 * time.Minute,
		ShutdownTimeout: 30 * time.Second,
		SQLListen:       "127.0.0.1:15432",
		SQLUser:         "cube",
		SQLPassword:     getenv("CUBEJS_SQL_PASSWORD"),
		SQLSuperUser:    getenv("CUBEJS_SQL_SUPER_USER"),
		TLSCert:         getenv("CUBIT_TLS_CERT"),
		TLSKey:          getenv("CUBIT_TLS_KEY"),
	}
	if u := getenv("CUBEJS_SQL_USER"); u != "" {
		s.SQLUser = u
	}
	if port := getenv("CUBEJS_PG_SQL_PORT"); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return s, fmt.Errorf("CUBEJS_PG_SQL_PORT=%q: want a port number", port)
		}
		s.SQLListen = "127.0.0.1:" + port
	}
	if port := getenv("PORT"); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return s, fmt.Errorf("PORT=%q: want a port number", port)
		}
		s.Listen = "127.0.0.1:" + port
	}
	for _, secret := range append([]string{getenv("CUBEJS_API_SECRET")}, strings.Split(getenv("CUBEJS_API_SECRETS"), ",")...) {
		if secret = strings.TrimSpace(secret); secret != "" {
			s.APISecrets = append(s.APISecrets, secret)
		}
	}
	if v := getenv("CUBEJS_DEFAULT_API_SCOPES"); v != "" {
		for _, scope := range strings.Split(v, ",") {
			s.Scopes = append(s.Scopes, strings.TrimSpace(scope))
		}
	}
	var err error
	if v := getenv("CUBEJS_MAX_REQUEST_SIZE"); v != "" {
		if s.MaxRequestBytes, err = ParseSize(v); err != nil {
			return s, fmt.Errorf("CUBEJS_MAX_REQUEST_SIZE=%q: %v", v, err)
		}
	}
	durations := []struct {
		name string
		dst  *time.Duration
	}{
		{"CUBEJS_DB_QUERY_TIMEOUT", &s.QueryTimeout},
		{"CUBIT_CONTINUE_WAIT", &s.ContinueWait},
		{"CUBIT_HTTP_READ_TIMEOUT", &s.ReadTimeout},
		{"CUBIT_HTTP_WRITE_TIMEOUT", &s.WriteTimeout},
		{"CUBIT_SHUTDOWN_TIMEOUT", &s.ShutdownTimeout},
	}
	for _, d := range durations {
		if v := getenv(d.name); v != "" {
			if *d.dst, err = ParseDuration(v); err != nil {
				return s, fmt.Errorf("%s=%q: %v", d.name, v, err)
			}
		}
	}
	return s, nil
}

// ParseSize reads a byte size as Cube writes it: "1mb", "512kb", "100b", or a number of bytes.
func ParseSize(v string) (int64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"b", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("want a size like 1mb, 512kb or a number of bytes")
	}
	return n * mult, nil
}

// ParseDuration reads a Go duration ("30s", "10m") or a number of seconds, as Cube's
// timeouts are often written.
func ParseDuration(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("want a duration like 30s or 10m, or a number of seconds")
	}
	return d, nil
}
