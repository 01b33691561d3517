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
