package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cubit-dev/cubit/internal/errs"
)

// RepositoryType says where a project's Git repository comes from.
type RepositoryType string

// Repository types.
const (
	// RepositoryManaged is a repository Cubit creates in its data directory.
	RepositoryManaged RepositoryType = "managed"
	// RepositoryImported is a repository cloned from a URL or a local path.
	RepositoryImported RepositoryType = "imported"
)

// Valid reports whether t is a known repository type.
func (t RepositoryType) Valid() bool {
	switch t {
	case RepositoryManaged, RepositoryImported:
		return true
	}
	return false
}

// Repository is a project's Git repository. URL is empty for a managed one.
type Repository struct {
	Type RepositoryType
	URL  string
}

// Project is a Git repository of models deployed to one environment.
type Project struct {
	Name        string // unique, 1–50 characters
	Repository  Repository
	Environment string          // the environment's name
	Deployment  json.RawMessage // the deployment mode, a JSON object owned by the platform
	// ProtectedBranches refuse file writes.
	ProtectedBranches []string
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// MaxProjectName is the longest project name, in characters.
const MaxProjectName = 50

func validProject(p Project) error {
	if n := utf8.RuneCountInString(p.Name); n < 1 || n > MaxProjectName || !utf8.ValidString(p.Name) {
		return errs.Invalid("project name %q must be 1 to %d characters", p.Name, MaxProjectName)
	}
	switch p.Repository.Type {
	case RepositoryManaged:
		if p.Repository.URL != "" {
			return errs.Invalid("project %q: a managed repository has no url", p.Name)
		}
	case RepositoryImported:
		if p.Repository.URL == "" {
			return errs.Invalid("project %q: an imported repository needs a url", p.Name)
		}
	default:
		return errs.Invalid("project %q: unknown repository type %q (want managed or imported)", p.Name, p.Repository.Type)
	}
	if p.Environment == "" {
		return errs.Invalid("project %q: environment is empty", p.Name)
	}
	if !isJSONObject(p.Deployment) {
		return errs.Invalid("project %q: deployment must be a JSON object", p.Name)
	}
	return nil
}

func protectedJSON(branches []string) string {
	if branches == nil {
		branches = []string{}
	}
	b, _ := json.Marshal(branches) // a []string always marshals
	return string(b)
}

// CreateProject stores a new project. Its environment must exist.
func (s *Store) CreateProject(ctx context.Context, p Project) (Project, error) {
	if err := validProject(p); err != nil {
		return Project{}, err
	}
	now := toMicros(s.nowUTC())
	err := s.inTx(ctx, func(x q) error {
		envID, err := s.environmentID(ctx, x, p.Environment)
		if err != nil {
			return asInvalid(err)
		}
		_, err = x.exec(ctx, `INSERT INTO projects
			(name, repo_type, repo_url, environment_id, deployment, protected_branches, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			p.Name, string(p.Repository.Type), p.Repository.URL, envID, string(p.Deployment),
			protectedJSON(p.ProtectedBranches), now, now)
		if s.dialect.isUnique(err) {
			return errs.Conflict("project %q already exists", p.Name)
		}
		return internal(err, "creating project %q", p.Name)
	})
	if err != nil {
		return Project{}, err
	}
	return s.GetProject(ctx, p.Name)
}

// GetProject returns the project called name.
func (s *Store) GetProject(ctx context.Context, name string) (Project, error) {
	ps, err := s.listProjects(ctx, "WHERE p.name = ?", name)
	if err != nil {
		return Project{}, err
	}
	if len(ps) == 0 {
		return Project{}, notFound("project", name, names(ctx, s.q(), "SELECT name FROM projects"))
	}
	return ps[0], nil
}

// ListProjects returns every project by name.
func (s *Store) ListProjects(ctx context.Context) ([]Project, error) {
	return s.listProjects(ctx, "")
}

func (s *Store) listProjects(ctx context.Context, where string, args ...any) ([]Project, error) {
	rows, err := s.q().query(ctx, `SELECT p.name, p.repo_type, p.repo_url, e.name, p.deployment,
		p.protected_branches, p.created_at, p.updated_at
		FROM projects p JOIN environments e ON e.id = p.environment_id `+where+` ORDER BY p.name`, args...)
	if err != nil {
		return nil, internal(err, "listing projects")
	}
	defer rows.Close()
	var out []Project
	for rows.Next() {
		var p Project
		var repoType, deployment, protected string
		var created, updated int64
		if err := rows.Scan(&p.Name, &repoType, &p.Repository.URL, &p.Environment, &deployment,
			&protected, &created, &updated); err != nil {
			return nil, internal(err, "reading projects")
		}
		p.Repository.Type, p.Deployment = RepositoryType(repoType), json.RawMessage(deployment)
		if err := json.Unmarshal([]byte(protected), &p.ProtectedBranches); err != nil {
			return nil, internal(err, "reading protected branches of %q", p.Name)
		}
		p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, p)
	}
	return out, internal(rows.Err(), "reading projects")
}

// UpdateProject replaces the project called name with p (which may rename it); the
// creation time is kept.
func (s *Store) UpdateProject(ctx context.Context, name string, p Project) (Project, error) {
	if err := validProject(p); err != nil {
		return Project{}, err
	}
	err := s.inTx(ctx, func(x q) error {
		envID, err := s.environmentID(ctx, x, p.Environment)
		if err != nil {
			return asInvalid(err)
		}
		res, err := x.exec(ctx, `UPDATE projects SET name = ?, repo_type = ?, repo_url = ?, environment_id = ?,
			deployment = ?, protected_branches = ?, updated_at = ? WHERE name = ?`,
			p.Name, string(p.Repository.Type), p.Repository.URL, envID, string(p.Deployment),
			protectedJSON(p.ProtectedBranches), toMicros(s.nowUTC()), name)
		if s.dialect.isUnique(err) {
			return errs.Conflict("project %q already exists", p.Name)
		}
		return s.mustAffect(ctx, res, err, "project", name, "SELECT name FROM projects")
	})
	if err != nil {
		return Project{}, err
	}
	return s.GetProject(ctx, p.Name)
}

// DeleteProject removes the project called name with its deployments and their
// credentials.
func (s *Store) DeleteProject(ctx context.Context, name string) error {
	res, err := s.q().exec(ctx, "DELETE FROM projects WHERE name = ?", name)
	return s.mustAffect(ctx, res, err, "project", name, "SELECT name FROM projects")
}

func (s *Store) projectID(ctx context.Context, x q, name string) (int64, error) {
	var id int64
	err := x.row(ctx, "SELECT id FROM projects WHERE name = ?", name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("project", name, names(ctx, x, "SELECT name FROM projects"))
	}
	if err != nil {
		return 0, internal(err, "finding project %q", name)
	}
	return id, nil
}

// asInvalid turns the not-found of a referenced thing (a project's environment) into a
// user error: the request names something that does not exist, the resource itself does.
func asInvalid(err error) error {
	var e *errs.Error
	if errors.As(err, &e) && e.Kind == errs.KindNotFound {
		c := *e
		c.Kind = errs.KindInvalid
		c.Message = "unknown " + strings.TrimSuffix(e.Message, " not found")
		return &c
	}
	return err
}
