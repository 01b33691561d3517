package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
)

// EnvironmentType is the kind of data source an environment describes.
type EnvironmentType string

// The environment types of the first slice; the other dialects come later.
const (
	EnvironmentDuckDB   EnvironmentType = "duckdb"
	EnvironmentPostgres EnvironmentType = "postgres"
)

// Valid reports whether t is a known environment type.
func (t EnvironmentType) Valid() bool {
	switch t {
	case EnvironmentDuckDB, EnvironmentPostgres:
		return true
	}
	return false
}

// Environment is a named set of data-source settings. It has no field for secrets on
// purpose: they are written with SetEnvironmentSecrets and read only with
// EnvironmentSecrets, so an Environment can be returned by any API without leaking one.
type Environment struct {
	Name     string
	Type     EnvironmentType
	Settings json.RawMessage // a JSON object; the platform owns its fields
	// SecretNames lists which secrets are set (never their values), so a UI can show
	// "password: set".
	SecretNames []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func validEnvironment(e Environment) error {
	if e.Name == "" {
		return errs.Invalid("environment name is empty")
	}
	if !e.Type.Valid() {
		return errs.Invalid("environment %q: unknown type %q (want duckdb or postgres)", e.Name, e.Type)
	}
	if !isJSONObject(e.Settings) {
		return errs.Invalid("environment %q: settings must be a JSON object", e.Name)
	}
	return nil
}

// CreateEnvironment stores a new environment and its secrets (values already sealed by
// the caller) in one transaction.
func (s *Store) CreateEnvironment(ctx context.Context, e Environment, secrets map[string][]byte) (Environment, error) {
	if err := validEnvironment(e); err != nil {
		return Environment{}, err
	}
	now := s.nowUTC()
	err := s.inTx(ctx, func(x q) error {
		var id int64
		err := x.row(ctx, `INSERT INTO environments (name, type, settings, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`,
			e.Name, string(e.Type), string(e.Settings), toMicros(now), toMicros(now)).Scan(&id)
		if s.dialect.isUnique(err) {
			return errs.Conflict("environment %q already exists", e.Name)
		}
		if err != nil {
			return internal(err, "creating environment %q", e.Name)
		}
		return putSecrets(ctx, x, id, secrets)
	})
	if err != nil {
		return Environment{}, err
	}
	return s.GetEnvironment(ctx, e.Name)
}

// GetEnvironment returns the environment called name, without its secrets.
func (s *Store) GetEnvironment(ctx context.Context, name string) (Environment, error) {
	envs, err := s.listEnvironments(ctx, s.q(), "WHERE e.name = ?", name)
	if err != nil {
		return Environment{}, err
	}
	if len(envs) == 0 {
		return Environment{}, notFound("environment", name, names(ctx, s.q(), "SELECT name FROM environments"))
	}
	return envs[0], nil
}

// ListEnvironments returns every environment by name, without secrets.
func (s *Store) ListEnvironments(ctx context.Context) ([]Environment, error) {
	return s.listEnvironments(ctx, s.q(), "")
}

func (s *Store) listEnvironments(ctx context.Context, x q, where string, args ...any) ([]Environment, error) {
	// The secrets table is joined for the names only; its value column is never selected.
	rows, err := x.query(ctx, `SELECT e.name, e.type, e.settings, e.created_at, e.updated_at, es.name
		FROM environments e LEFT JOIN environment_secrets es ON es.environment_id = e.id `+where+`
		ORDER BY e.name, es.name`, args...)
	if err != nil {
		return nil, internal(err, "listing environments")
	}
	defer rows.Close()
	var out []Environment
	for rows.Next() {
		var e Environment
		var typ, settings string
		var created, updated int64
		var secret sql.NullString
		if err := rows.Scan(&e.Name, &typ, &settings, &created, &updated, &secret); err != nil {
			return nil, internal(err, "reading environments")
		}
		if n := len(out); n > 0 && out[n-1].Name == e.Name {
			out[n-1].SecretNames = append(out[n-1].SecretNames, secret.String)
			continue
		}
		e.Type, e.Settings = EnvironmentType(typ), json.RawMessage(settings)
		e.CreatedAt, e.UpdatedAt = fromMicros(created), fromMicros(updated)
		if secret.Valid {
			e.SecretNames = []string{secret.String}
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(err, "reading environments")
	}
	return out, nil
}

// UpdateEnvironment replaces the type and settings of the environment called name. Its
// secrets are untouched.
func (s *Store) UpdateEnvironment(ctx context.Context, name string, typ EnvironmentType, settings json.RawMessage) (Environment, error) {
	if err := validEnvironment(Environment{Name: name, Type: typ, Settings: settings}); err != nil {
		return Environment{}, err
	}
	res, err := s.q().exec(ctx, "UPDATE environments SET type = ?, settings = ?, updated_at = ? WHERE name = ?",
		string(typ), string(settings), toMicros(s.nowUTC()), name)
	if err := s.mustAffect(ctx, res, err, "environment", name, "SELECT name FROM environments"); err != nil {
		return Environment{}, err
	}
	return s.GetEnvironment(ctx, name)
}

// SetEnvironmentSecrets replaces all the secrets of the environment called name with
// secrets (values sealed by the caller). An empty map removes them all.
func (s *Store) SetEnvironmentSecrets(ctx context.Context, name string, secrets map[string][]byte) error {
	return s.inTx(ctx, func(x q) error {
		id, err := s.environmentID(ctx, x, name)
		if err != nil {
			return err
		}
		if _, err := x.exec(ctx, "DELETE FROM environment_secrets WHERE environment_id = ?", id); err != nil {
			return internal(err, "replacing secrets of %q", name)
		}
		if _, err := x.exec(ctx, "UPDATE environments SET updated_at = ? WHERE id = ?", toMicros(s.nowUTC()), id); err != nil {
			return internal(err, "replacing secrets of %q", name)
		}
		return putSecrets(ctx, x, id, secrets)
	})
}

// EnvironmentSecrets returns the sealed secrets of the environment called name. It is for
// the server's own use (connecting to the data source) and must never reach an API.
func (s *Store) EnvironmentSecrets(ctx context.Context, name string) (map[string][]byte, error) {
	x := s.q()
	id, err := s.environmentID(ctx, x, name)
	if err != nil {
		return nil, err
	}
	rows, err := x.query(ctx, "SELECT name, value FROM environment_secrets WHERE environment_id = ?", id)
	if err != nil {
		return nil, internal(err, "reading secrets of %q", name)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return nil, internal(err, "reading secrets of %q", name)
		}
		out[k] = v
	}
	return out, internal(rows.Err(), "reading secrets of %q", name)
}

// DeleteEnvironment removes the environment called name and its secrets. An environment
// that a project uses cannot be deleted.
func (s *Store) DeleteEnvironment(ctx context.Context, name string) error {
	return s.inTx(ctx, func(x q) error {
		id, err := s.environmentID(ctx, x, name)
		if err != nil {
			return err
		}
		users := names(ctx, x, "SELECT name FROM projects WHERE environment_id = ? ORDER BY name", id)
		if len(users) > 0 {
			return errs.Conflict("environment %q is used by project %q; change or delete the project first", name, users[0])
		}
		_, err = x.exec(ctx, "DELETE FROM environments WHERE id = ?", id)
		if s.dialect.isForeignKey(err) {
			return errs.Conflict("environment %q is used by a project", name)
		}
		return internal(err, "deleting environment %q", name)
	})
}

func (s *Store) environmentID(ctx context.Context, x q, name string) (int64, error) {
	var id int64
	err := x.row(ctx, "SELECT id FROM environments WHERE name = ?", name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("environment", name, names(ctx, x, "SELECT name FROM environments"))
	}
	if err != nil {
		return 0, internal(err, "finding environment %q", name)
	}
	return id, nil
}

func putSecrets(ctx context.Context, x q, envID int64, secrets map[string][]byte) error {
	keys := make([]string, 0, len(secrets))
	for k := range secrets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "" {
			return errs.Invalid("secret name is empty")
		}
		v := secrets[k]
		if v == nil {
			v = []byte{}
		}
		if _, err := x.exec(ctx, "INSERT INTO environment_secrets (environment_id, name, value) VALUES (?, ?, ?)", envID, k, v); err != nil {
			return internal(err, "storing secret %q", k)
		}
	}
	return nil
}

// mustAffect turns an UPDATE or DELETE that matched no row into a not-found error.
func (s *Store) mustAffect(ctx context.Context, res sql.Result, err error, what, name, namesQuery string) error {
	if s.dialect.isUnique(err) {
		return errs.Conflict("%s %q already exists", what, name)
	}
	if err != nil {
		return internal(err, "changing %s %q", what, name)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return internal(err, "changing %s %q", what, name)
	}
	if n == 0 {
		return notFound(what, name, names(ctx, s.q(), namesQuery))
	}
	return nil
}

func isJSONObject(b json.RawMessage) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil && m != nil
}
