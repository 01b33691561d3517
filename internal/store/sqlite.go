package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

type sqliteDialect struct{}

func (sqliteDialect) name() string           { return "sqlite" }
func (sqliteDialect) rebind(q string) string { return q }
func (sqliteDialect) isUnique(err error) bool {
	return sqliteCode(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}
func (sqliteDialect) isForeignKey(err error) bool {
	return sqliteCode(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY)
}

// migrationLock is empty: every transaction begins IMMEDIATE (see sqliteDSN), so the
// write lock is already held.
func (sqliteDialect) migrationLock() string { return "" }

func sqliteCode(err error, codes ...int) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if e.Code() == c {
			return true
		}
	}
	return false
}

// openSQLite opens (creating if needed) the database file at path.
//
// Durability: WAL with synchronous=FULL. In WAL mode a commit appends to the -wal file
// before it returns, so even synchronous=NORMAL survives kill -9 (the bytes are in the
// kernel's page cache). FULL adds an fsync of the WAL at every commit, so an acknowledged
// write also survives a power cut or a kernel crash; the platform writes a few rows a
// second at most (admin actions, state changes, heartbeats), so the fsync costs nothing
// that matters. Transactions begin IMMEDIATE so that two writers queue on busy_timeout
// instead of failing with SQLITE_BUSY when a read lock is upgraded.
func openSQLite(path string) (*sql.DB, error) {
	if path == "" {
		return nil, fmt.Errorf("store: empty SQLite path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("store: SQLite path %q must not contain ? or #", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: creating the data directory: %w", err)
	}
	// Created 0600 here because SQLite would use 0644; its -wal and -shm files copy the
	// main file's permissions. The secrets inside are sealed, but names and audit are not.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	_ = f.Close()
	db := sql.OpenDB(sqliteConnector{dsn: sqliteDSN(path), driver: &sqlite.Driver{}})
	if err := walMode(db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	return db, nil
}

// walMode switches the file to WAL once; the mode is persistent, so later connections find
// it set. It is not a DSN parameter because converting the file needs an exclusive lock
// that SQLite does not wait for with busy_timeout: two processes opening a new file at
// once would fail with SQLITE_BUSY, so the switch is retried here instead.
func walMode(db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var mode string
		err := db.QueryRow("PRAGMA journal_mode=WAL").Scan(&mode)
		if err == nil && strings.EqualFold(mode, "wal") {
			return nil
		}
		if err == nil {
			return fmt.Errorf("journal mode is %s, not wal", mode)
		}
		var se *sqlite.Error
		busy := errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_BUSY || se.Code()&0xff == sqlite3.SQLITE_LOCKED)
		if !busy || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sqliteConnector hands database/sql the driver directly instead of through the global
// registry that sql.Open would consult.
type sqliteConnector struct {
	dsn    string
	driver *sqlite.Driver
}

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }
func (c sqliteConnector) Driver() driver.Driver                        { return c.driver }

func sqliteDSN(path string) string {
	q := url.Values{}
	q.Set("_synchronous", "FULL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "1")
	q.Set("_txlock", "immediate")
	return path + "?" + q.Encode()
}
