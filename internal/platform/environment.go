package platform

import (
	"bytes"
	"encoding/json"
	"net"
	"net/url"
	"strconv"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/store"
)

// SecretPassword is the environment secret that holds a PostgreSQL password. Secrets are
// write-only: the platform stores them sealed and hands them only to the Runtime.
const SecretPassword = "password"

// EnvSettings are an environment's data-source settings, the JSON object
// store.Environment.Settings, by type:
//
//	duckdb:   {"demo": true}                       the embedded demo shop, in memory
//	          {"path": "/data/shop.duckdb"}        a DuckDB file, opened read-only
//	postgres: {"url": "postgres://user@host:5432/db?sslmode=disable"}
//	          {"host": "db", "port": 5432, "database": "shop", "user": "cubit", "sslmode": "require"}
//
// A PostgreSQL password goes in the secret "password", never in the settings: a URL that
// carries one is refused, so that no secret is ever returned by a read.
type EnvSettings struct {
	Demo bool   `json:"demo,omitempty"`
	Path string `json:"path,omitempty"`

	URL      string `json:"url,omitempty"`
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"`
	Database string `json:"database,omitempty"`
	User     string `json:"user,omitempty"`
	SSLMode  string `json:"sslmode,omitempty"`
}

// ParseEnvSettings decodes and checks the settings of an environment of type typ. Unknown
// fields are refused.
func ParseEnvSettings(typ store.EnvironmentType, raw json.RawMessage) (EnvSettings, error) {
	var s EnvSettings
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return EnvSettings{}, errs.Wrap(errs.KindInvalid, err, "environment settings: %v", err)
		}
	}
	switch typ {
	case store.EnvironmentDuckDB:
		if s.URL != "" || s.Host != "" || s.Port != 0 || s.Database != "" || s.User != "" || s.SSLMode != "" {
			return EnvSettings{}, errs.Invalid("environment settings: a duckdb environment takes \"path\" or \"demo\" only")
		}
		if s.Demo == (s.Path != "") {
			return EnvSettings{}, errs.Invalid("environment settings: a duckdb environment needs exactly one of \"path\" (a database file) or \"demo\": true")
		}
	case store.EnvironmentPostgres:
		if s.Demo || s.Path != "" {
			return EnvSettings{}, errs.Invalid("environment settings: a postgres environment takes \"url\" or host, port, database, user, sslmode")
		}
		if (s.URL == "") == (s.Host == "") {
			return EnvSettings{}, errs.Invalid("environment settings: a postgres environment needs exactly one of \"url\" or \"host\"")
		}
		if s.URL != "" {
			u, err := url.Parse(s.URL)
			if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
				return EnvSettings{}, errs.Invalid("environment settings: \"url\" must be a postgres:// URL")
			}
			if _, has := u.User.Password(); has || u.Query().Has("password") {
				return EnvSettings{}, errs.Invalid("environment settings: put the password in the secret %q, not in the URL", SecretPassword)
			}
		}
		if s.Port < 0 || s.Port > 65535 {
			return EnvSettings{}, errs.Invalid("environment settings: port %d is out of range", s.Port)
		}
		switch s.SSLMode {
		case "", "disable", "allow", "prefer", "require", "verify-ca", "verify-full":
		default:
			return EnvSettings{}, errs.Invalid("environment settings: unknown sslmode %q", s.SSLMode)
		}
	default:
		return EnvSettings{}, errs.Invalid("environment: unknown type %q (want duckdb or postgres)", typ)
	}
	return s, nil
}

// PostgresURL is the connection URL of a postgres environment's settings with the
// password from its secrets, for the Runtime.
func (s EnvSettings) PostgresURL(secrets map[string][]byte) string {
	u := &url.URL{Scheme: "postgres"}
	if s.URL != "" {
		parsed, err := url.Parse(s.URL)
		if err == nil {
			u = parsed
		}
	} else {
		port := s.Port
		if port == 0 {
			port = 5432
		}
		u.Host = net.JoinHostPort(s.Host, strconv.Itoa(port))
		if s.Database != "" {
			u.Path = "/" + s.Database
		}
		if s.User != "" {
			u.User = url.User(s.User)
		}
		if s.SSLMode != "" {
			q := u.Query()
			q.Set("sslmode", s.SSLMode)
			u.RawQuery = q.Encode()
		}
	}
	if pw, ok := secrets[SecretPassword]; ok {
		name := ""
		if u.User != nil {
			name = u.User.Username()
		}
		u.User = url.UserPassword(name, string(pw))
	}
	return u.String()
}
