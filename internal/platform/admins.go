package platform

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"sync/atomic"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/store"
)

// Role is what an admin token may do.
type Role string

// Roles, from most to least powerful.
const (
	// RoleOwner may do everything, including managing admin tokens.
	RoleOwner Role = "owner"
	// RoleEditor changes projects and deployments and sees their credentials.
	RoleEditor Role = "editor"
	// RoleViewer sees names, settings and status, never a secret.
	RoleViewer Role = "viewer"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleOwner, RoleEditor, RoleViewer:
		return true
	}
	return false
}

// Action is a kind of admin request, for Role.Can.
type Action string

// Actions.
const (
	// ActionRead reads projects, files, environments (never their secrets), deployments'
	// status and security settings, and the audit log (who did what; it holds no secret):
	// every role.
	ActionRead Action = "read"
	// ActionWrite creates, updates and deletes projects and files, changes security
	// settings, and starts, stops and restarts deployments: editor and owner.
	ActionWrite Action = "write"
	// ActionSecrets shows and rotates deployments' credentials: editor and owner. An editor
	// can change the model a deployment serves, which already gives it the data the
	// credentials open, so hiding them from it would protect nothing.
	ActionSecrets Action = "secrets"
	// ActionAdmin manages admin tokens, and creates, changes and deletes environments (whose
	// secrets open the data sources themselves, beyond what any model exposes): owner only.
	ActionAdmin Action = "admin"
)

// Valid reports whether a is a known action.
func (a Action) Valid() bool {
	switch a {
	case ActionRead, ActionWrite, ActionSecrets, ActionAdmin:
		return true
	}
	return false
}

// Can reports whether role r may perform action a. Unknown roles and actions can nothing.
func (r Role) Can(a Action) bool {
	if !a.Valid() {
		return false
	}
	switch r {
	case RoleOwner:
		return true
	case RoleEditor:
		return a != ActionAdmin
	case RoleViewer:
		return a == ActionRead
	}
	return false
}

// Admin is who presented an admin token.
type Admin struct {
	Name string
	Role Role
}

// AdminInfo describes an admin token without its secret, for listings.
type AdminInfo struct {
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
}

// RootAdmin is the name of the first owner token, which cannot be deleted.
const RootAdmin = "root"

// minEnvTokenLen is the shortest CUBIT_ADMIN_TOKEN accepted: it is compared as given, so a
// short one could be guessed.
const minEnvTokenLen = 16

// maxAdminName is the longest admin token name.
const maxAdminName = 50

// Admins issues and checks the tokens of the admin API. It is safe for concurrent use.
type Admins struct {
	st    *store.Store
	clock func() time.Time
	// envRoot is the SHA-256 of the operator's root token (CUBIT_ADMIN_TOKEN), nil when none
	// was given. Hashing both sides gives equal lengths for the constant-time comparison.
	envRoot atomic.Pointer[[sha256.Size]byte]
}

// NewAdmins returns Admins over st; clock (time.Now when nil) stamps new tokens.
func NewAdmins(st *store.Store, clock func() time.Time) *Admins {
	if clock == nil {
		clock = time.Now
	}
	return &Admins{st: st, clock: clock}
}

// Bootstrap sets up the root owner token at start. When envToken is not empty it is the
// root token: kept in memory only, compared in constant time, never stored, and a root
// token stored by an earlier start stops working (so setting CUBIT_ADMIN_TOKEN replaces a
// leaked generated one). Otherwise, when the store has no root token, Bootstrap makes one,
// stores its hash and returns it for the caller to print once; when one exists (made by an
// earlier start or by another node) it returns "".
func (a *Admins) Bootstrap(ctx context.Context, envToken string) (generated string, err error) {
	if envToken != "" {
		if len(envToken) < minEnvTokenLen {
			return "", errs.Invalid("CUBIT_ADMIN_TOKEN must be at least %d characters", minEnvTokenLen)
		}
		h := sha256.Sum256([]byte(envToken))
		a.envRoot.Store(&h)
		return "", nil
	}
	a.envRoot.Store(nil)
	_, err = a.st.GetAdminToken(ctx, RootAdmin)
	if err == nil || errs.KindOf(err) != errs.KindNotFound {
		return "", err
	}
	tok, err := a.create(ctx, RootAdmin, RoleOwner)
	if errs.KindOf(err) == errs.KindConflict {
		return "", nil // another node made it first and printed it
	}
	return tok, err
}

// Create makes an admin token called name with role and returns it; it is shown this once.
// Names are 1–50 characters of [A-Za-z0-9_.-]; a name in use is errs.KindConflict, and
// "root" is reserved.
func (a *Admins) Create(ctx context.Context, name string, role Role) (token string, err error) {
	if err := validAdminName(name); err != nil {
		return "", err
	}
	if name == RootAdmin {
		return "", errs.Invalid("admin name %q is reserved for the first owner token", RootAdmin)
	}
	if !role.Valid() {
		return "", errs.Invalid("unknown role %q (want owner, editor or viewer)", role)
	}
	return a.create(ctx, name, role)
}

func (a *Admins) create(ctx context.Context, name string, role Role) (string, error) {
	tok, id := newToken(adminTokenPrefix)
	_, err := a.st.CreateAdminToken(ctx, store.AdminToken{ID: id, Name: name, Role: string(role),
		Hash: tokenHash(tok), CreatedAt: a.clock()})
	if err != nil {
		return "", err
	}
	return tok, nil
}

func validAdminName(name string) error {
	if len(name) < 1 || len(name) > maxAdminName {
		return errs.Invalid("admin name %q must be 1 to %d characters", name, maxAdminName)
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return errs.Invalid("admin name %q may contain only letters, digits, '_', '.' and '-'", name)
		}
	}
	return nil
}

// List returns the stored admin tokens by name, never a secret. The operator's
// CUBIT_ADMIN_TOKEN is not stored, so it is not listed.
func (a *Admins) List(ctx context.Context) ([]AdminInfo, error) {
	ts, err := a.st.ListAdminTokens(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]AdminInfo, 0, len(ts))
	for _, t := range ts {
		out = append(out, AdminInfo{Name: t.Name, Role: Role(t.Role), CreatedAt: t.CreatedAt})
	}
	return out, nil
}

// Delete removes the admin token called name; it stops working at once. The root token
// cannot be deleted, so that the platform always has an owner; to replace it, set
// CUBIT_ADMIN_TOKEN.
func (a *Admins) Delete(ctx context.Context, name string) error {
	if name == RootAdmin {
		return errs.Invalid("the %q admin token cannot be deleted; set CUBIT_ADMIN_TOKEN to replace it", RootAdmin)
	}
	return a.st.DeleteAdminToken(ctx, name)
}

// Check returns who an admin token belongs to. An unknown, deleted or malformed token is
// errs.KindUnauthenticated.
func (a *Admins) Check(ctx context.Context, token string) (Admin, error) {
	if root := a.envRoot.Load(); root != nil {
		h := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(h[:], root[:]) == 1 {
			return Admin{Name: RootAdmin, Role: RoleOwner}, nil
		}
	}
	id, ok := splitToken(adminTokenPrefix, token)
	if !ok {
		return Admin{}, unauthenticated("malformed admin token: want the %s… token made by Cubit or CUBIT_ADMIN_TOKEN", adminTokenPrefix)
	}
	t, err := a.st.AdminTokenByID(ctx, id)
	if errs.KindOf(err) == errs.KindNotFound {
		return Admin{}, unauthenticated("invalid admin token")
	}
	if err != nil {
		return Admin{}, err
	}
	if !hashMatches(token, t.Hash) || (t.Name == RootAdmin && a.envRoot.Load() != nil) {
		return Admin{}, unauthenticated("invalid admin token")
	}
	role := Role(t.Role)
	if !role.Valid() {
		return Admin{}, &errs.Error{Kind: errs.KindInternal, Message: "admin token " + t.Name + " has unknown role " + t.Role}
	}
	return Admin{Name: t.Name, Role: role}, nil
}
