package store

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
)

// AuditEntry is one line of the audit log: who did what to what, when, from where.
type AuditEntry struct {
	ID      int64 // increasing; the paging cursor
	At      time.Time
	Actor   string // the admin token's name, a deployment's username, "anonymous"…
	Action  string // e.g. "project.create", "credentials.view", "auth.failure"
	Target  string // e.g. "project/shop", "deployment/shop/main"
	Address string // the client's address
	Details json.RawMessage
}

// AuditFilter selects audit entries; zero fields select everything. Entries come newest
// first; to page, pass the ID of the last entry of a page as Before.
type AuditFilter struct {
	Actor  string
	Action string
	Target string
	Since  time.Time // inclusive
	Until  time.Time // exclusive
	Before int64     // only entries with a smaller ID
	Limit  int       // at most this many; 0 means DefaultAuditLimit, capped at MaxAuditLimit
}

// Audit page sizes.
const (
	DefaultAuditLimit = 100
	MaxAuditLimit     = 1000
)

// AppendAudit adds an entry, stamped with the store's clock when At is zero. The log is
// append-only: there is no method to change or delete an entry, and the database refuses
// it too (triggers in the migration).
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	if e.Action == "" {
		return AuditEntry{}, errs.Invalid("audit entry without an action")
	}
	if e.At.IsZero() {
		e.At = s.nowUTC()
	}
	e.At = e.At.UTC().Truncate(time.Microsecond)
	if len(e.Details) == 0 {
		e.Details = json.RawMessage("{}")
	}
	if !json.Valid(e.Details) {
		return AuditEntry{}, errs.Invalid("audit details are not valid JSON")
	}
	err := s.q().row(ctx, `INSERT INTO audit (at, actor, action, target, address, details)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		toMicros(e.At), e.Actor, e.Action, e.Target, e.Address, string(e.Details)).Scan(&e.ID)
	if err != nil {
		return AuditEntry{}, internal(err, "appending to the audit log")
	}
	return e, nil
}

// ListAudit returns the entries that match f, newest first.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Target != "" {
		add("target = ?", f.Target)
	}
	if !f.Since.IsZero() {
		add("at >= ?", toMicros(f.Since))
	}
	if !f.Until.IsZero() {
		add("at < ?", toMicros(f.Until))
	}
	if f.Before > 0 {
		add("id < ?", f.Before)
	}
	limit := f.Limit
	switch {
	case limit < 0:
		return nil, errs.Invalid("audit limit %d is negative", limit)
	case limit == 0:
		limit = DefaultAuditLimit
	case limit > MaxAuditLimit:
		limit = MaxAuditLimit
	}
	query := "SELECT id, at, actor, action, target, address, details FROM audit"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	rows, err := s.q().query(ctx, query, args...)
	if err != nil {
		return nil, internal(err, "reading the audit log")
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		var details string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Address, &details); err != nil {
			return nil, internal(err, "reading the audit log")
		}
		e.At, e.Details = fromMicros(at), json.RawMessage(details)
		out = append(out, e)
	}
	return out, internal(rows.Err(), "reading the audit log")
}
