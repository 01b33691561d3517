package sqlapi

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/pgwire"
)

// Options configure the SQL API of one deployment.
type Options struct {
	// Engines gives the current model version; a reload swaps it, and each statement runs
	// on the version current when it executes.
	Engines interface{ Engine() *engine.Engine }
	// User and Password log in (CUBEJS_SQL_USER, CUBEJS_SQL_PASSWORD).
	User, Password string
	// SuperUser may switch the security context with WHERE __user = '...'
	// (CUBEJS_SQL_SUPER_USER). It logs in with Password too.
	SuperUser string
	// Logger receives statement failures at debug level; nil discards them.
	Logger *slog.Logger
}

// Handler is the SQL API: it checks logins and opens sessions for package pgwire. It is
// safe for concurrent use.
type Handler struct {
	opt  Options
	post postEngine

	mu        sync.Mutex
	catEngine *engine.Engine
	cat       *catalog
}

var _ pgwire.Handler = (*Handler)(nil)

// NewHandler returns the SQL API over opt.Engines.
func NewHandler(opt Options) *Handler {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{opt: opt}
}

// Close releases the post-processing engine.
func (h *Handler) Close() error { return h.post.close() }

// Password returns the configured password of the SQL user (and of the super user). Any
// database name is accepted, as in Cube. Another user gets Cube's error as an
// unauthenticated one: pgwire then fails the login only after the client has answered
// the password challenge, exactly like a wrong password, so that user names cannot be
// probed.
func (h *Handler) Password(ctx context.Context, user, database string) (string, error) {
	if user != "" && (user == h.opt.User || user == h.opt.SuperUser) {
		return h.opt.Password, nil
	}
	return "", &errs.Error{Kind: errs.KindUnauthenticated, Message: fmt.Sprintf("Incorrect user name %q or password", user)}
}

// NewSession opens a session for an authenticated user. The settings the client sent in
// its startup packet and its -c options apply, where they are valid: PostgreSQL's
// client libraries send client_encoding, DateStyle, TimeZone, extra_float_digits and
// application_name there.
func (h *Handler) NewSession(ctx context.Context, user, database string) (pgwire.Session, error) {
	s := &session{h: h, user: user, database: database, settings: defaultSettings(user)}
	if info, ok := pgwire.ConnInfoFromContext(ctx); ok {
		s.pid = info.ProcessID
		for _, src := range []map[string]string{info.Startup, info.Options} {
			for name, value := range src {
				switch strings.ToLower(name) {
				case "user", "database", "options", "replication":
					continue
				}
				if err := s.settings.set(name, value); err != nil {
					h.opt.Logger.Debug("sqlapi: startup setting ignored", "name", name, "value", value, "error", err)
				}
			}
		}
	}
	return s, nil
}

// catalog returns the tables of the engine's model, built once per model version.
func (h *Handler) catalog(eng *engine.Engine) *catalog {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.catEngine != eng || h.cat == nil {
		h.cat = newCatalog(eng.Model())
		h.catEngine = eng
	}
	return h.cat
}

func (h *Handler) engine() (*engine.Engine, error) {
	if h.opt.Engines == nil {
		return nil, sqlErr("57P03", "the SQL API has no model loaded")
	}
	eng := h.opt.Engines.Engine()
	if eng == nil {
		return nil, sqlErr("57P03", "the SQL API has no model loaded")
	}
	return eng, nil
}
