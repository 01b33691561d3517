package adminapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/platform"
	"github.com/cubit-dev/cubit/internal/platform/gitrepo"
	"github.com/cubit-dev/cubit/internal/store"
)

// Options configure the API.
type Options struct {
	Platform *platform.Platform
	Admins   *platform.Admins
	Logger   *slog.Logger
	// MaxBodyBytes caps request bodies (413 beyond it); model files are the largest.
	MaxBodyBytes int64
}

// API is the platform's admin API under /api/v1.
type API struct {
	opt Options
	p   *platform.Platform
}

// New returns the API.
func New(opt Options) *API {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = 4 << 20
	}
	return &API{opt: opt, p: opt.Platform}
}

// handlerFunc is an endpoint: it returns the status and the value to write as JSON, or an
// error that writeError classifies.
type handlerFunc func(r *http.Request, who caller) (int, any, error)

// caller is the authenticated admin making a request.
type caller struct {
	platform.Admin
	actor platform.Actor
}

// Handler serves the API; mount it at "/api/v1/".
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	const pr = "/api/v1/projects/{project}"
	const br = pr + "/branches/{branch}"
	routes := []struct {
		pattern string
		need    platform.Action
		h       handlerFunc
	}{
		{"GET /api/v1/environments", platform.ActionRead, a.listEnvironments},
		{"POST /api/v1/environments", platform.ActionAdmin, a.createEnvironment},
		{"GET /api/v1/environments/{env}", platform.ActionRead, a.getEnvironment},
		{"PATCH /api/v1/environments/{env}", platform.ActionAdmin, a.updateEnvironment},
		{"DELETE /api/v1/environments/{env}", platform.ActionAdmin, a.deleteEnvironment},

		{"GET /api/v1/projects", platform.ActionRead, a.listProjects},
		{"POST /api/v1/projects", platform.ActionWrite, a.createProject},
		{"GET " + pr, platform.ActionRead, a.getProject},
		{"PATCH " + pr, platform.ActionWrite, a.updateProject},
		{"DELETE " + pr, platform.ActionWrite, a.deleteProject},

		{"GET " + pr + "/branches", platform.ActionRead, a.listBranches},
		{"POST " + pr + "/branches", platform.ActionWrite, a.createBranch},
		{"GET " + br + "/files", platform.ActionRead, a.getFile},
		{"GET " + br + "/files/{path...}", platform.ActionRead, a.getFile},
		{"PUT " + br + "/files/{path...}", platform.ActionWrite, a.putFile},
		{"DELETE " + br + "/files/{path...}", platform.ActionWrite, a.deleteFile},
		{"GET " + br + "/status", platform.ActionRead, a.status},
		{"GET " + br + "/problems", platform.ActionRead, a.problems},
		{"POST " + br + "/start", platform.ActionWrite, a.lifecycle(platform.OpStart)},
		{"POST " + br + "/stop", platform.ActionWrite, a.lifecycle(platform.OpStop)},
		{"POST " + br + "/restart", platform.ActionWrite, a.lifecycle(platform.OpRestart)},
		{"GET " + br + "/credentials", platform.ActionSecrets, a.credentials},
		{"POST " + br + "/credentials/rotate", platform.ActionSecrets, a.rotate},
		{"GET " + br + "/security", platform.ActionRead, a.getSecurity},
		{"PUT " + br + "/security", platform.ActionWrite, a.putSecurity},

		{"GET /api/v1/audit", platform.ActionRead, a.audit},
		{"GET /api/v1/admin-tokens", platform.ActionAdmin, a.listAdmins},
		{"POST /api/v1/admin-tokens", platform.ActionAdmin, a.createAdmin},
		{"DELETE /api/v1/admin-tokens/{name}", platform.ActionAdmin, a.deleteAdmin},
		{"GET /api/v1/whoami", platform.ActionRead, a.whoami},
	}
	for _, rt := range routes {
		mux.Handle(rt.pattern, a.endpoint(rt.need, rt.h))
	}
	mux.HandleFunc("/api/v1/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &errs.Error{Kind: errs.KindNotFound, Message: "no admin endpoint " + r.Method + " " + r.URL.Path})
	})
	return mux
}

// endpoint authenticates the admin, checks the role and runs h.
func (a *API) endpoint(need platform.Action, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		addr := clientAddr(r)
		token, ok := bearer(r)
		if !ok {
			a.p.Audit(r.Context(), platform.Actor{Name: "anonymous", Address: addr}, "auth.failure", "admin-api",
				map[string]any{"reason": "missing token", "path": r.URL.Path})
			writeError(w, &errs.Error{Kind: errs.KindUnauthenticated,
				Message: "missing admin token: send the header 'Authorization: Bearer <admin token>'"})
			return
		}
		admin, err := a.opt.Admins.Check(r.Context(), token)
		if err != nil {
			a.p.Audit(r.Context(), platform.Actor{Name: "anonymous", Address: addr}, "auth.failure", "admin-api",
				map[string]any{"reason": err.Error(), "path": r.URL.Path})
			writeError(w, err)
			return
		}
		if !admin.Role.Can(need) {
			writeError(w, &errs.Error{Kind: errs.KindForbidden,
				Message: "admin token " + admin.Name + " has role " + string(admin.Role) + ", which may not " + string(need)})
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, a.opt.MaxBodyBytes)
		status, body, err := h(r, caller{Admin: admin, actor: platform.Actor{Name: admin.Name, Address: addr}})
		if err != nil {
			if errs.KindOf(err) == errs.KindInternal || errs.KindOf(err) == "" {
				a.opt.Logger.Error("admin api", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			var fl *failedLoad
			if errors.As(err, &fl) {
				writeErrorWith(w, err, map[string]any{"status": fl.status})
				return
			}
			writeError(w, err)
			return
		}
		writeJSON(w, status, body)
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		h = t
	}
	h = strings.TrimSpace(h)
	return h, h != ""
}

// clientAddr is the client's IP address (no port), for the audit log.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// decode reads a JSON body strictly into v.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &errs.Error{Kind: errs.KindTooLarge, Message: "request body is over " + strconv.FormatInt(mbe.Limit, 10) + " bytes"}
		}
		return errs.Invalid("reading the request body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return errs.Invalid("the request needs a JSON body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errs.Invalid("malformed JSON body: %v", err)
	}
	if dec.More() {
		return errs.Invalid("malformed JSON body: more than one JSON value")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	if v != nil {
		_ = json.NewEncoder(w).Encode(v)
	}
}

// writeError classifies err into its status; it is the API's only error mapping.
func writeError(w http.ResponseWriter, err error) {
	writeErrorWith(w, err, nil)
}

// writeErrorWith is writeError with more fields in the body (a deployment's status).
func writeErrorWith(w http.ResponseWriter, err error, extra map[string]any) {
	status := http.StatusInternalServerError
	switch errs.KindOf(err) {
	case errs.KindInvalid:
		status = http.StatusBadRequest
	case errs.KindModel:
		status = http.StatusUnprocessableEntity
	case errs.KindUnauthenticated:
		status = http.StatusUnauthorized
		w.Header().Set("WWW-Authenticate", `Bearer realm="cubit-admin"`)
	case errs.KindForbidden:
		status = http.StatusForbidden
	case errs.KindNotFound:
		status = http.StatusNotFound
	case errs.KindConflict:
		status = http.StatusConflict
	case errs.KindTooLarge:
		status = http.StatusRequestEntityTooLarge
	case errs.KindUnavailable, errs.KindSource:
		status = http.StatusServiceUnavailable
	case errs.KindTimeout, errs.KindCanceled:
		status = http.StatusGatewayTimeout
	}
	msg := err.Error()
	if status == http.StatusInternalServerError {
		msg = "internal error; see the server log"
	}
	body := map[string]any{"error": msg}
	for k, v := range extra {
		body[k] = v
	}
	writeJSON(w, status, body)
}

// failedLoad is the error of a start or restart that ended in ERROR: it carries the
// deployment's status, which the response shows beside the error.
type failedLoad struct {
	err    error
	status statusJSON
}

func (f *failedLoad) Error() string { return f.err.Error() }
func (f *failedLoad) Unwrap() error { return f.err }

// Environments.

type environmentJSON struct {
	Name      string                `json:"name"`
	Type      store.EnvironmentType `json:"type"`
	Settings  json.RawMessage       `json:"settings"`
	Secrets   []string              `json:"secrets"` // the names of the secrets that are set
	CreatedAt time.Time             `json:"created_at"`
	UpdatedAt time.Time             `json:"updated_at"`
}

func environmentOut(e store.Environment) environmentJSON {
	names := e.SecretNames
	if names == nil {
		names = []string{}
	}
	return environmentJSON{Name: e.Name, Type: e.Type, Settings: e.Settings, Secrets: names, CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
}

type environmentIn struct {
	Name     string                `json:"name"`
	Type     store.EnvironmentType `json:"type"`
	Settings json.RawMessage       `json:"settings"`
	Secrets  map[string]string     `json:"secrets"`
}

// input is the platform's input for in; "?check=false" saves settings without connecting.
func (in environmentIn) input(r *http.Request) platform.EnvironmentInput {
	return platform.EnvironmentInput{Name: in.Name, Type: in.Type, Settings: in.Settings, Secrets: in.Secrets,
		SkipCheck: r.URL.Query().Get("check") == "false"}
}

func (a *API) listEnvironments(r *http.Request, _ caller) (int, any, error) {
	envs, err := a.p.ListEnvironments(r.Context())
	out := make([]environmentJSON, 0, len(envs))
	for _, e := range envs {
		out = append(out, environmentOut(e))
	}
	return http.StatusOK, map[string]any{"environments": out}, err
}

func (a *API) createEnvironment(r *http.Request, c caller) (int, any, error) {
	var in environmentIn
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	env, err := a.p.CreateEnvironment(r.Context(), c.actor, in.input(r))
	return http.StatusCreated, environmentOut(env), err
}

func (a *API) getEnvironment(r *http.Request, _ caller) (int, any, error) {
	env, err := a.p.GetEnvironment(r.Context(), r.PathValue("env"))
	return http.StatusOK, environmentOut(env), err
}

func (a *API) updateEnvironment(r *http.Request, c caller) (int, any, error) {
	var in environmentIn
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	name := r.PathValue("env")
	if in.Name != "" && in.Name != name {
		return 0, nil, errs.Invalid("an environment cannot be renamed (path says %q, body says %q)", name, in.Name)
	}
	cur, err := a.p.GetEnvironment(r.Context(), name)
	if err != nil {
		return 0, nil, err
	}
	in.Name = name
	if in.Type == "" {
		in.Type = cur.Type
	}
	if in.Settings == nil {
		in.Settings = cur.Settings
	}
	env, err := a.p.UpdateEnvironment(r.Context(), c.actor, in.input(r))
	return http.StatusOK, environmentOut(env), err
}

func (a *API) deleteEnvironment(r *http.Request, c caller) (int, any, error) {
	return http.StatusNoContent, nil, a.p.DeleteEnvironment(r.Context(), c.actor, r.PathValue("env"))
}

// Projects.

type repositoryJSON struct {
	Type store.RepositoryType `json:"type"`
	URL  string               `json:"url,omitempty"`
}

type projectJSON struct {
	Name              string          `json:"name"`
	Repository        repositoryJSON  `json:"repository"`
	Environment       string          `json:"environment"`
	Deployment        json.RawMessage `json:"deployment"`
	ProtectedBranches []string        `json:"protected_branches"`
	CreatedAt         time.Time       `json:"created_at,omitzero"`
	UpdatedAt         time.Time       `json:"updated_at,omitzero"`
}

func projectOut(p store.Project) projectJSON {
	pb := p.ProtectedBranches
	if pb == nil {
		pb = []string{}
	}
	return projectJSON{Name: p.Name, Repository: repositoryJSON{p.Repository.Type, p.Repository.URL},
		Environment: p.Environment, Deployment: p.Deployment, ProtectedBranches: pb,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func (in projectJSON) input() platform.ProjectInput {
	return platform.ProjectInput{Name: in.Name, Repository: store.Repository{Type: in.Repository.Type, URL: in.Repository.URL},
		Environment: in.Environment, Deployment: in.Deployment, ProtectedBranches: in.ProtectedBranches}
}

func (a *API) listProjects(r *http.Request, _ caller) (int, any, error) {
	ps, err := a.p.ListProjects(r.Context())
	out := make([]projectJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, projectOut(p))
	}
	return http.StatusOK, map[string]any{"projects": out}, err
}

func (a *API) createProject(r *http.Request, c caller) (int, any, error) {
	var in projectJSON
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Repository.Type == "" {
		in.Repository.Type = store.RepositoryManaged
	}
	p, err := a.p.CreateProject(r.Context(), c.actor, in.input())
	return http.StatusCreated, projectOut(p), err
}

func (a *API) getProject(r *http.Request, _ caller) (int, any, error) {
	p, err := a.p.GetProject(r.Context(), r.PathValue("project"))
	return http.StatusOK, projectOut(p), err
}

func (a *API) updateProject(r *http.Request, c caller) (int, any, error) {
	var in projectJSON
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	name := r.PathValue("project")
	if in.Name != "" && in.Name != name {
		return 0, nil, errs.Invalid("a project cannot be renamed (path says %q, body says %q)", name, in.Name)
	}
	in.Name = name
	p, err := a.p.UpdateProject(r.Context(), c.actor, in.input())
	return http.StatusOK, projectOut(p), err
}

func (a *API) deleteProject(r *http.Request, c caller) (int, any, error) {
	return http.StatusNoContent, nil, a.p.DeleteProject(r.Context(), c.actor, r.PathValue("project"))
}

// Branches and files.

type branchJSON struct {
	Name   string    `json:"name"`
	Commit string    `json:"commit"`
	Time   time.Time `json:"time"`
}

func (a *API) listBranches(r *http.Request, _ caller) (int, any, error) {
	bs, err := a.p.Branches(r.Context(), r.PathValue("project"))
	out := make([]branchJSON, 0, len(bs))
	for _, b := range bs {
		out = append(out, branchJSON(b))
	}
	return http.StatusOK, map[string]any{"branches": out}, err
}

func (a *API) createBranch(r *http.Request, c caller) (int, any, error) {
	var in struct {
		Name string `json:"name"`
		From string `json:"from"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	b, err := a.p.CreateBranch(r.Context(), c.actor, r.PathValue("project"), in.Name, in.From)
	return http.StatusCreated, branchJSON(b), err
}

// getFile returns a file's content as {"path", "content"}, or, for a directory (or no
// path), the list of files under it as {"files": [...]}.
func (a *API) getFile(r *http.Request, _ caller) (int, any, error) {
	project, branch, path := r.PathValue("project"), r.PathValue("branch"), strings.TrimSuffix(r.PathValue("path"), "/")
	if path != "" {
		data, err := a.p.ReadFile(r.Context(), project, branch, path)
		if err == nil {
			return http.StatusOK, map[string]any{"path": path, "content": string(data)}, nil
		}
		if errs.KindOf(err) != errs.KindInvalid { // Invalid: it is a directory
			return 0, nil, err
		}
	}
	files, err := a.p.ListFiles(r.Context(), project, branch, path)
	if files == nil {
		files = []string{}
	}
	return http.StatusOK, map[string]any{"files": files}, err
}

type fileIn struct {
	Content *string `json:"content"`
	Message string  `json:"message"`
	// Force commits a change that leaves the model broken (by default it is refused).
	Force  bool `json:"force"`
	Author struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"author"`
}

func (in fileIn) author(c caller) gitrepo.Signature {
	s := gitrepo.Signature{Name: in.Author.Name, Email: in.Author.Email}
	if s.Name == "" {
		s.Name = c.Name
	}
	if s.Email == "" {
		s.Email = c.Name + "@cubit"
	}
	return s
}

func (a *API) putFile(r *http.Request, c caller) (int, any, error) {
	var in fileIn
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	if in.Content == nil {
		return 0, nil, errs.Invalid("the body needs \"content\": the file's text")
	}
	path := r.PathValue("path")
	commit, err := a.p.ChangeFile(r.Context(), c.actor, r.PathValue("project"), r.PathValue("branch"), platform.FileChange{
		Path: path, Data: []byte(*in.Content), Author: in.author(c), Message: in.Message, Force: in.Force})
	return http.StatusOK, map[string]any{"path": path, "commit": commit}, err
}

func (a *API) deleteFile(r *http.Request, c caller) (int, any, error) {
	var in fileIn
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
	}
	path := r.PathValue("path")
	commit, err := a.p.ChangeFile(r.Context(), c.actor, r.PathValue("project"), r.PathValue("branch"), platform.FileChange{
		Path: path, Author: in.author(c), Message: in.Message, Force: in.Force})
	return http.StatusOK, map[string]any{"path": path, "commit": commit}, err
}

// Deployments.

type statusJSON struct {
	State           store.DeploymentState `json:"state"`
	HeartbeatAt     *time.Time            `json:"heartbeat_at"`
	Since           *time.Time            `json:"since"`
	Version         string                `json:"version"`
	Error           string                `json:"error"`
	ServingVersion  string                `json:"serving_version"`
	ServingPrevious bool                  `json:"serving_previous"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func statusOut(st platform.Status) statusJSON {
	return statusJSON{State: st.State, HeartbeatAt: timePtr(st.HeartbeatAt), Since: timePtr(st.Since),
		Version: st.Version, Error: st.Error, ServingVersion: st.ServingVersion, ServingPrevious: st.ServingPrevious}
}

// problems lists the problems of the branch head's model, each with its file (under
// model/) and line: {"problems": [...]}, empty when it compiles.
func (a *API) problems(r *http.Request, _ caller) (int, any, error) {
	ps, err := a.p.Problems(r.Context(), r.PathValue("project"), r.PathValue("branch"))
	for i := range ps {
		if ps[i].File != "" {
			ps[i].File = gitrepo.StarterDir + "/" + ps[i].File
		}
	}
	return http.StatusOK, map[string]any{"problems": ps}, err
}

func (a *API) status(r *http.Request, _ caller) (int, any, error) {
	st, err := a.p.Status(r.Context(), r.PathValue("project"), r.PathValue("branch"))
	return http.StatusOK, statusOut(st), err
}

func (a *API) lifecycle(op platform.Operation) handlerFunc {
	return func(r *http.Request, c caller) (int, any, error) {
		st, err := a.p.Lifecycle(r.Context(), c.actor, r.PathValue("project"), r.PathValue("branch"), op)
		if err != nil && st.State != "" {
			err = &failedLoad{err: err, status: statusOut(st)}
		}
		return http.StatusOK, statusOut(st), err
	}
}

func (a *API) credentials(r *http.Request, c caller) (int, any, error) {
	cr, err := a.p.Credentials(r.Context(), c.actor, r.PathValue("project"), r.PathValue("branch"))
	return http.StatusOK, cr, err
}

func (a *API) rotate(r *http.Request, c caller) (int, any, error) {
	in := struct {
		SQL  *bool `json:"sql"`
		REST *bool `json:"rest"`
	}{}
	if r.ContentLength != 0 {
		if err := decode(r, &in); err != nil {
			return 0, nil, err
		}
	}
	// No body, or neither named: rotate both.
	sql, rest := in.SQL == nil && in.REST == nil, in.SQL == nil && in.REST == nil
	if in.SQL != nil {
		sql = *in.SQL
	}
	if in.REST != nil {
		rest = *in.REST
	}
	cr, err := a.p.Rotate(r.Context(), c.actor, r.PathValue("project"), r.PathValue("branch"), sql, rest)
	return http.StatusOK, cr, err
}

func (a *API) getSecurity(r *http.Request, _ caller) (int, any, error) {
	sec, err := a.p.Security(r.Context(), r.PathValue("project"), r.PathValue("branch"))
	return http.StatusOK, sec, err
}

func (a *API) putSecurity(r *http.Request, c caller) (int, any, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return 0, nil, errs.Invalid("reading the request body: %v", err)
	}
	sec, err := platform.ParseSecurity(body)
	if err != nil {
		return 0, nil, err
	}
	out, err := a.p.SetSecurity(r.Context(), c.actor, r.PathValue("project"), r.PathValue("branch"), sec)
	return http.StatusOK, out, err
}

// Audit and admin tokens.

type auditJSON struct {
	ID      int64           `json:"id"`
	At      time.Time       `json:"at"`
	Actor   string          `json:"actor"`
	Action  string          `json:"action"`
	Target  string          `json:"target"`
	Address string          `json:"address"`
	Details json.RawMessage `json:"details"`
}

func (a *API) audit(r *http.Request, _ caller) (int, any, error) {
	q := r.URL.Query()
	f := store.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target")}
	var err error
	parseTime := func(name string) time.Time {
		v := q.Get(name)
		if v == "" || err != nil {
			return time.Time{}
		}
		t, perr := time.Parse(time.RFC3339, v)
		if perr != nil {
			err = errs.Invalid("%s=%q is not an RFC 3339 time such as 2026-11-28T12:00:00Z", name, v)
		}
		return t
	}
	parseInt := func(name string) int64 {
		v := q.Get(name)
		if v == "" || err != nil {
			return 0
		}
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil || n < 0 {
			err = errs.Invalid("%s=%q is not a non-negative integer", name, v)
		}
		return n
	}
	f.Since, f.Until = parseTime("since"), parseTime("until")
	f.Before, f.Limit = parseInt("before"), int(parseInt("limit"))
	if err != nil {
		return 0, nil, err
	}
	entries, err := a.p.ListAudit(r.Context(), f)
	out := make([]auditJSON, 0, len(entries))
	for _, e := range entries {
		out = append(out, auditJSON(e))
	}
	return http.StatusOK, map[string]any{"entries": out}, err
}

func (a *API) listAdmins(r *http.Request, _ caller) (int, any, error) {
	list, err := a.opt.Admins.List(r.Context())
	return http.StatusOK, map[string]any{"admin_tokens": list}, err
}

func (a *API) createAdmin(r *http.Request, c caller) (int, any, error) {
	var in struct {
		Name string        `json:"name"`
		Role platform.Role `json:"role"`
	}
	if err := decode(r, &in); err != nil {
		return 0, nil, err
	}
	token, err := a.opt.Admins.Create(r.Context(), in.Name, in.Role)
	if err != nil {
		return 0, nil, err
	}
	a.p.Audit(r.Context(), c.actor, "admin-token.create", "admin-token/"+in.Name, map[string]any{"role": in.Role})
	return http.StatusCreated, map[string]any{"name": in.Name, "role": in.Role, "token": token}, nil
}

func (a *API) deleteAdmin(r *http.Request, c caller) (int, any, error) {
	name := r.PathValue("name")
	if err := a.opt.Admins.Delete(r.Context(), name); err != nil {
		return 0, nil, err
	}
	a.p.Audit(r.Context(), c.actor, "admin-token.delete", "admin-token/"+name, nil)
	return http.StatusNoContent, nil, nil
}

func (a *API) whoami(_ *http.Request, c caller) (int, any, error) {
	return http.StatusOK, map[string]any{"name": c.Name, "role": c.Role}, nil
}
