package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
)

// DeploymentState is where a deployment is in its lifecycle.
type DeploymentState string

// Deployment states.
const (
	// StatePending is compiling the model and checking the data source.
	StatePending DeploymentState = "PENDING"
	// StateRunning is serving.
	StateRunning DeploymentState = "RUNNING"
	// StateStopped is not serving, on purpose.
	StateStopped DeploymentState = "STOPPED"
	// StateError is not serving (or serving an older version) because of Error.
	StateError DeploymentState = "ERROR"
)

// Valid reports whether s is a known state.
func (s DeploymentState) Valid() bool {
	switch s {
	case StatePending, StateRunning, StateStopped, StateError:
		return true
	}
	return false
}

// Deployment is the status of one branch of one project; there is at most one per
// (project, branch).
type Deployment struct {
	Project     string
	Branch      string
	State       DeploymentState
	Error       string    // why it is ERROR (with file:line for a model error)
	Version     string    // the model version the state is about: compiling, failing or serving (a commit hash)
	Since       time.Time // when State last changed
	HeartbeatAt time.Time // the last heartbeat; zero before the first
	CreatedAt   time.Time
}

// Status is what SetDeploymentStatus writes.
type Status struct {
	State   DeploymentState
	Error   string
	Version string
}

// CreateDeployment records a deployment of branch of project, in state PENDING.
func (s *Store) CreateDeployment(ctx context.Context, project, branch string) (Deployment, error) {
	if branch == "" {
		return Deployment{}, errs.Invalid("branch name is empty")
	}
	now := toMicros(s.nowUTC())
	err := s.inTx(ctx, func(x q) error {
		pid, err := s.projectID(ctx, x, project)
		if err != nil {
			return err
		}
		_, err = x.exec(ctx, `INSERT INTO deployments (project_id, branch, state, error, version, since, created_at)
			VALUES (?, ?, ?, '', '', ?, ?)`, pid, branch, string(StatePending), now, now)
		if s.dialect.isUnique(err) {
			return errs.Invalid("branch %q of project %q is already deployed", branch, project)
		}
		return internal(err, "creating deployment %s/%s", project, branch)
	})
	if err != nil {
		return Deployment{}, err
	}
	return s.GetDeployment(ctx, project, branch)
}

// GetDeployment returns the deployment of branch of project.
func (s *Store) GetDeployment(ctx context.Context, project, branch string) (Deployment, error) {
	ds, err := s.listDeployments(ctx, "WHERE p.name = ? AND d.branch = ?", project, branch)
	if err != nil {
		return Deployment{}, err
	}
	if len(ds) == 0 {
		if _, err := s.projectID(ctx, s.q(), project); err != nil {
			return Deployment{}, err
		}
		return Deployment{}, notFound("deployment of branch", branch, names(ctx, s.q(),
			"SELECT d.branch FROM deployments d JOIN projects p ON p.id = d.project_id WHERE p.name = ?", project))
	}
	return ds[0], nil
}

// ListDeployments returns the deployments of project, or of every project when project
// is "", by project and branch.
func (s *Store) ListDeployments(ctx context.Context, project string) ([]Deployment, error) {
	if project == "" {
		return s.listDeployments(ctx, "")
	}
	if _, err := s.projectID(ctx, s.q(), project); err != nil {
		return nil, err
	}
	return s.listDeployments(ctx, "WHERE p.name = ?", project)
}

func (s *Store) listDeployments(ctx context.Context, where string, args ...any) ([]Deployment, error) {
	rows, err := s.q().query(ctx, `SELECT p.name, d.branch, d.state, d.error, d.version, d.since,
		d.heartbeat_at, d.created_at
		FROM deployments d JOIN projects p ON p.id = d.project_id `+where+` ORDER BY p.name, d.branch`, args...)
	if err != nil {
		return nil, internal(err, "listing deployments")
	}
	defer rows.Close()
	var out []Deployment
	for rows.Next() {
		var d Deployment
		var state string
		var since, created int64
		var hb sql.NullInt64
		if err := rows.Scan(&d.Project, &d.Branch, &state, &d.Error, &d.Version, &since, &hb, &created); err != nil {
			return nil, internal(err, "reading deployments")
		}
		d.State = DeploymentState(state)
		d.Since, d.HeartbeatAt, d.CreatedAt = fromMicros(since), fromNullMicros(hb), fromMicros(created)
		out = append(out, d)
	}
	return out, internal(rows.Err(), "reading deployments")
}

// SetDeploymentStatus writes the state, error and version of a deployment. Since moves
// only when the state changes, so a RUNNING deployment that reloads keeps its Since.
func (s *Store) SetDeploymentStatus(ctx context.Context, project, branch string, st Status) (Deployment, error) {
	if !st.State.Valid() {
		return Deployment{}, errs.Invalid("unknown deployment state %q", st.State)
	}
	now := toMicros(s.nowUTC())
	err := s.inTx(ctx, func(x q) error {
		id, err := s.deploymentID(ctx, x, project, branch)
		if err != nil {
			return err
		}
		_, err = x.exec(ctx, `UPDATE deployments SET
			since = CASE WHEN state = ? THEN since ELSE ? END,
			state = ?, error = ?, version = ? WHERE id = ?`,
			string(st.State), now, string(st.State), st.Error, st.Version, id)
		return internal(err, "setting the status of %s/%s", project, branch)
	})
	if err != nil {
		return Deployment{}, err
	}
	return s.GetDeployment(ctx, project, branch)
}

// Heartbeat records that the deployment was checked at the store's current time.
func (s *Store) Heartbeat(ctx context.Context, project, branch string) error {
	return s.inTx(ctx, func(x q) error {
		id, err := s.deploymentID(ctx, x, project, branch)
		if err != nil {
			return err
		}
		_, err = x.exec(ctx, "UPDATE deployments SET heartbeat_at = ? WHERE id = ?", toMicros(s.nowUTC()), id)
		return internal(err, "recording a heartbeat of %s/%s", project, branch)
	})
}

// DeleteDeployment removes the deployment of branch of project and its credentials.
func (s *Store) DeleteDeployment(ctx context.Context, project, branch string) error {
	return s.inTx(ctx, func(x q) error {
		id, err := s.deploymentID(ctx, x, project, branch)
		if err != nil {
			return err
		}
		_, err = x.exec(ctx, "DELETE FROM deployments WHERE id = ?", id)
		return internal(err, "deleting deployment %s/%s", project, branch)
	})
}

func (s *Store) deploymentID(ctx context.Context, x q, project, branch string) (int64, error) {
	pid, err := s.projectID(ctx, x, project)
	if err != nil {
		return 0, err
	}
	var id int64
	err = x.row(ctx, "SELECT id FROM deployments WHERE project_id = ? AND branch = ?", pid, branch).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("deployment of branch", branch, names(ctx, x,
			"SELECT branch FROM deployments WHERE project_id = ?", pid))
	}
	if err != nil {
		return 0, internal(err, "finding deployment %s/%s", project, branch)
	}
	return id, nil
}
