package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
)

// AdminToken is one token of the admin API, as stored: the public id that finds it, the
// SHA-256 of the whole token (checked in constant time; tokens are random, so no slow hash
// is needed) and who it belongs to. The token itself is never stored.
type AdminToken struct {
	ID        string
	Name      string // unique
	Role      string // owner, editor or viewer; the platform gives them meaning
	Hash      []byte
	CreatedAt time.Time
}

// CreateAdminToken stores a new admin token. A name already in use is errs.KindConflict.
func (s *Store) CreateAdminToken(ctx context.Context, t AdminToken) (AdminToken, error) {
	if t.ID == "" || t.Name == "" || t.Role == "" || len(t.Hash) == 0 {
		return AdminToken{}, errs.Invalid("an admin token needs an id, a name, a role and a hash")
	}
	created := t.CreatedAt
	if created.IsZero() {
		created = s.nowUTC()
	}
	_, err := s.q().exec(ctx, `INSERT INTO admin_tokens (id, name, role, token_hash, created_at)
		VALUES (?, ?, ?, ?, ?)`, t.ID, t.Name, t.Role, t.Hash, toMicros(created))
	if s.dialect.isUnique(err) {
		return AdminToken{}, errs.Conflict("admin token %q already exists", t.Name)
	}
	if err != nil {
		return AdminToken{}, internal(err, "storing admin token %q", t.Name)
	}
	return s.AdminTokenByID(ctx, t.ID)
}

// AdminTokenByID finds the admin token a presented token's id names.
func (s *Store) AdminTokenByID(ctx context.Context, id string) (AdminToken, error) {
	t, ok, err := s.oneAdminToken(ctx, "WHERE id = ?", id)
	if err == nil && !ok {
		// No suggestion: near ids would help someone guessing tokens.
		err = &errs.Error{Kind: errs.KindNotFound, Message: "no admin token has this id"}
	}
	return t, err
}

// GetAdminToken returns the admin token called name.
func (s *Store) GetAdminToken(ctx context.Context, name string) (AdminToken, error) {
	t, ok, err := s.oneAdminToken(ctx, "WHERE name = ?", name)
	if err == nil && !ok {
		err = notFound("admin token", name, names(ctx, s.q(), "SELECT name FROM admin_tokens"))
	}
	return t, err
}

func (s *Store) oneAdminToken(ctx context.Context, where string, args ...any) (AdminToken, bool, error) {
	var t AdminToken
	var created int64
	err := s.q().row(ctx, "SELECT id, name, role, token_hash, created_at FROM admin_tokens "+where, args...).
		Scan(&t.ID, &t.Name, &t.Role, &t.Hash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return AdminToken{}, false, nil
	}
	if err != nil {
		return AdminToken{}, false, internal(err, "reading an admin token")
	}
	t.CreatedAt = fromMicros(created)
	return t, true, nil
}

// ListAdminTokens returns every admin token by name, without ids or hashes: a listing is
// shown to people, and neither is theirs to see.
func (s *Store) ListAdminTokens(ctx context.Context) ([]AdminToken, error) {
	rows, err := s.q().query(ctx, "SELECT name, role, created_at FROM admin_tokens ORDER BY name")
	if err != nil {
		return nil, internal(err, "listing admin tokens")
	}
	defer rows.Close()
	var out []AdminToken
	for rows.Next() {
		var t AdminToken
		var created int64
		if err := rows.Scan(&t.Name, &t.Role, &created); err != nil {
			return nil, internal(err, "reading admin tokens")
		}
		t.CreatedAt = fromMicros(created)
		out = append(out, t)
	}
	return out, internal(rows.Err(), "reading admin tokens")
}

// DeleteAdminToken removes the admin token called name; it stops opening the API at once.
func (s *Store) DeleteAdminToken(ctx context.Context, name string) error {
	res, err := s.q().exec(ctx, "DELETE FROM admin_tokens WHERE name = ?", name)
	return s.mustAffect(ctx, res, err, "admin token", name, "SELECT name FROM admin_tokens")
}
