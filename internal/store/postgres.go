package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

type postgresDialect struct{}

// migrationLockKey is an arbitrary constant: the advisory lock that lets one node at a
// time migrate. Nodes on different schemas of one database wait for each other, briefly.
const migrationLockKey = 0x637562697473746f // "cubitsto"

func (postgresDialect) name() string           { return "postgres" }
func (postgresDialect) rebind(q string) string { return numberedPlaceholders(q) }

func (postgresDialect) migrationLock() string {
	return "SELECT pg_advisory_xact_lock(" + strconv.FormatInt(migrationLockKey, 10) + ")"
}

func (postgresDialect) isUnique(err error) bool     { return pgCode(err, "23505") }
func (postgresDialect) isForeignKey(err error) bool { return pgCode(err, "23503") }

func pgCode(err error, code string) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == code
}

func openPostgres(dsn string) (*sql.DB, error) {
	// database/sql over pgx: one query path for both backends. Strictly the pool of pgx
	// would be faster, but the control plane is not on any hot path.
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: bad PostgreSQL URL: %w", redactErr(err))
	}
	return stdlib.OpenDB(*cfg), nil
}

// redactErr drops the message of a URL parse error, which can echo the password.
func redactErr(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("cannot parse the connection string")
	}
	return err
}
