package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
)

// Credentials are the SQL and REST credentials of one deployment, in the forms the
// platform needs: to check a login without decrypting anything, and to show the secret
// again (only while RUNNING) by unsealing it with the operator's key.
//
// What is stored, and why:
//   - SQL password: a SCRAM-SHA-256 verifier (PostgreSQL's text form,
//     "SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>"), which is all a server needs to
//     run a SCRAM exchange and is not a password equivalent; plus the password sealed
//     (AES-GCM by the platform) so the credentials endpoint can show it again. An md5 login,
//     if ever offered, computes md5(password+username) from the unsealed password: storing
//     the md5 hash would store a password equivalent for a legacy method.
//   - REST token: a public id (to find the row), the SHA-256 of the token (checked in
//     constant time on each request; tokens are random, so no slow hash is needed), the
//     token sealed (to show it again), and its expiry.
//
// The store never sees a key or a plaintext: it keeps these bytes as given.
type Credentials struct {
	Project string
	Branch  string

	SQLUsername         string // unique across deployments: it selects the deployment
	SQLDatabase         string
	SQLPasswordVerifier string
	SQLPasswordSealed   []byte

	TokenID        string // unique across deployments
	TokenHash      []byte
	TokenSealed    []byte
	TokenExpiresAt time.Time

	CreatedAt time.Time
	RotatedAt time.Time
}

// SQLSecret is a new SQL password, for RotateSQLPassword.
type SQLSecret struct {
	Verifier string
	Sealed   []byte
}

// RESTToken is a new REST token, for RotateRESTToken.
type RESTToken struct {
	ID        string
	Hash      []byte
	Sealed    []byte
	ExpiresAt time.Time
}

func validSQLSecret(v SQLSecret) error {
	if v.Verifier == "" || len(v.Sealed) == 0 {
		return errs.Invalid("a SQL password needs a verifier and a sealed copy")
	}
	return nil
}

func validToken(t RESTToken) error {
	if t.ID == "" || len(t.Hash) == 0 || len(t.Sealed) == 0 || t.ExpiresAt.IsZero() {
		return errs.Invalid("a REST token needs an id, a hash, a sealed copy and an expiry")
	}
	return nil
}

// CreateCredentials stores the first credentials of a deployment (when it first reaches
// RUNNING). A deployment has one set; later changes go through the Rotate methods.
func (s *Store) CreateCredentials(ctx context.Context, c Credentials) (Credentials, error) {
	if c.SQLUsername == "" || c.SQLDatabase == "" {
		return Credentials{}, errs.Invalid("credentials need a SQL username and database")
	}
	if err := validSQLSecret(SQLSecret{c.SQLPasswordVerifier, c.SQLPasswordSealed}); err != nil {
		return Credentials{}, err
	}
	if err := validToken(RESTToken{c.TokenID, c.TokenHash, c.TokenSealed, c.TokenExpiresAt}); err != nil {
		return Credentials{}, err
	}
	now := toMicros(s.nowUTC())
	err := s.inTx(ctx, func(x q) error {
		id, err := s.deploymentID(ctx, x, c.Project, c.Branch)
		if err != nil {
			return err
		}
		var n int
		if err := x.row(ctx, "SELECT count(*) FROM credentials WHERE deployment_id = ?", id).Scan(&n); err != nil {
			return internal(err, "checking credentials")
		}
		if n > 0 {
			return errs.Invalid("deployment %s/%s already has credentials; rotate them instead", c.Project, c.Branch)
		}
		_, err = x.exec(ctx, `INSERT INTO credentials (deployment_id, sql_username, sql_database,
			sql_password_verifier, sql_password_sealed, rest_token_id, rest_token_hash, rest_token_sealed,
			rest_token_expires_at, created_at, rotated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, c.SQLUsername, c.SQLDatabase, c.SQLPasswordVerifier, c.SQLPasswordSealed, c.TokenID,
			c.TokenHash, c.TokenSealed, toMicros(c.TokenExpiresAt), now, now)
		if s.dialect.isUnique(err) {
			return errs.Invalid("SQL username %q or token id is already in use", c.SQLUsername)
		}
		return internal(err, "storing credentials of %s/%s", c.Project, c.Branch)
	})
	if err != nil {
		return Credentials{}, err
	}
	return s.GetCredentials(ctx, c.Project, c.Branch)
}

const credentialsSelect = `SELECT p.name, d.branch, c.sql_username, c.sql_database, c.sql_password_verifier,
	c.sql_password_sealed, c.rest_token_id, c.rest_token_hash, c.rest_token_sealed, c.rest_token_expires_at,
	c.created_at, c.rotated_at
	FROM credentials c JOIN deployments d ON d.id = c.deployment_id JOIN projects p ON p.id = d.project_id `

func (s *Store) oneCredentials(ctx context.Context, where string, args ...any) (Credentials, bool, error) {
	var c Credentials
	var expires, created, rotated int64
	err := s.hotRow(ctx, credentialsSelect+where, args...).Scan(&c.Project, &c.Branch, &c.SQLUsername,
		&c.SQLDatabase, &c.SQLPasswordVerifier, &c.SQLPasswordSealed, &c.TokenID, &c.TokenHash, &c.TokenSealed,
		&expires, &created, &rotated)
	if errors.Is(err, sql.ErrNoRows) {
		return Credentials{}, false, nil
	}
	if err != nil {
		return Credentials{}, false, internal(err, "reading credentials")
	}
	c.TokenExpiresAt, c.CreatedAt, c.RotatedAt = fromMicros(expires), fromMicros(created), fromMicros(rotated)
	return c, true, nil
}

// GetCredentials returns the credentials of a deployment.
func (s *Store) GetCredentials(ctx context.Context, project, branch string) (Credentials, error) {
	c, ok, err := s.oneCredentials(ctx, "WHERE p.name = ? AND d.branch = ?", project, branch)
	if err != nil || ok {
		return c, err
	}
	if _, err := s.deploymentID(ctx, s.q(), project, branch); err != nil {
		return Credentials{}, err
	}
	return Credentials{}, &errs.Error{Kind: errs.KindNotFound,
		Message: "deployment " + project + "/" + branch + " has no credentials yet (they are made when it first reaches RUNNING)"}
}

// CredentialsBySQLUsername finds the credentials a SQL login names.
func (s *Store) CredentialsBySQLUsername(ctx context.Context, username string) (Credentials, error) {
	c, ok, err := s.oneCredentials(ctx, "WHERE c.sql_username = ?", username)
	if err == nil && !ok {
		// No suggestion: listing usernames to a failed login would help an attacker.
		err = &errs.Error{Kind: errs.KindNotFound, Message: "no deployment has this SQL username"}
	}
	return c, err
}

// CredentialsByTokenID finds the credentials a REST token's id names.
func (s *Store) CredentialsByTokenID(ctx context.Context, tokenID string) (Credentials, error) {
	c, ok, err := s.oneCredentials(ctx, "WHERE c.rest_token_id = ?", tokenID)
	if err == nil && !ok {
		err = &errs.Error{Kind: errs.KindNotFound, Message: "no deployment has this token"}
	}
	return c, err
}

// RotateSQLPassword replaces the SQL password of a deployment; the old one stops matching
// at once.
func (s *Store) RotateSQLPassword(ctx context.Context, project, branch string, v SQLSecret) (Credentials, error) {
	if err := validSQLSecret(v); err != nil {
		return Credentials{}, err
	}
	return s.rotate(ctx, project, branch, `UPDATE credentials SET sql_password_verifier = ?,
		sql_password_sealed = ?, rotated_at = ? WHERE deployment_id = ?`, v.Verifier, v.Sealed)
}

// RotateRESTToken replaces the REST token of a deployment; the old one stops matching at
// once.
func (s *Store) RotateRESTToken(ctx context.Context, project, branch string, t RESTToken) (Credentials, error) {
	if err := validToken(t); err != nil {
		return Credentials{}, err
	}
	return s.rotate(ctx, project, branch, `UPDATE credentials SET rest_token_id = ?, rest_token_hash = ?,
		rest_token_sealed = ?, rest_token_expires_at = ?, rotated_at = ? WHERE deployment_id = ?`,
		t.ID, t.Hash, t.Sealed, toMicros(t.ExpiresAt))
}

// rotate runs update with args, then the rotation time and the deployment id.
func (s *Store) rotate(ctx context.Context, project, branch, update string, args ...any) (Credentials, error) {
	err := s.inTx(ctx, func(x q) error {
		id, err := s.deploymentID(ctx, x, project, branch)
		if err != nil {
			return err
		}
		res, err := x.exec(ctx, update, append(args, toMicros(s.nowUTC()), id)...)
		if s.dialect.isUnique(err) {
			return errs.Invalid("token id is already in use")
		}
		if err != nil {
			return internal(err, "rotating credentials of %s/%s", project, branch)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return &errs.Error{Kind: errs.KindNotFound, Message: "deployment " + project + "/" + branch + " has no credentials to rotate"}
		}
		return nil
	})
	if err != nil {
		return Credentials{}, err
	}
	return s.GetCredentials(ctx, project, branch)
}
