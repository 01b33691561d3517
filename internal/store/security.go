package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/cubit-dev/cubit/internal/errs"
)

// GetSecurity returns the security settings of branch of project, the JSON object the
// platform stored with PutSecurity, or "{}" when none were stored. The branch need not be
// deployed; the project must exist (errs.KindNotFound otherwise).
func (s *Store) GetSecurity(ctx context.Context, project, branch string) (json.RawMessage, error) {
	x := s.q()
	pid, err := s.projectID(ctx, x, project)
	if err != nil {
		return nil, err
	}
	var settings string
	err = x.row(ctx, "SELECT settings FROM deployment_security WHERE project_id = ? AND branch = ?", pid, branch).Scan(&settings)
	if errors.Is(err, sql.ErrNoRows) {
		return json.RawMessage(`{}`), nil
	}
	if err != nil {
		return nil, internal(err, "reading security settings of %s/%s", project, branch)
	}
	return json.RawMessage(settings), nil
}

// PutSecurity stores the security settings of branch of project, replacing any before. raw
// must be a JSON object; what it means is the platform's business. Settings may be stored
// before the branch is first deployed, so that it never serves without them.
func (s *Store) PutSecurity(ctx context.Context, project, branch string, raw json.RawMessage) error {
	if branch == "" {
		return errs.Invalid("branch name is empty")
	}
	if !isJSONObject(raw) {
		return errs.Invalid("security settings of %s/%s must be a JSON object", project, branch)
	}
	return s.inTx(ctx, func(x q) error {
		pid, err := s.projectID(ctx, x, project)
		if err != nil {
			return err
		}
		// Both engines accept this upsert; it keeps two nodes writing at once from failing
		// on the primary key.
		_, err = x.exec(ctx, `INSERT INTO deployment_security (project_id, branch, settings, updated_at)
			VALUES (?, ?, ?, ?)
			ON CONFLICT (project_id, branch) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
			pid, branch, string(raw), toMicros(s.nowUTC()))
		return internal(err, "storing security settings of %s/%s", project, branch)
	})
}
