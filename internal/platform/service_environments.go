package platform

import (
	"context"
	"encoding/json"
	"io/fs"
	"regexp"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/store"
)

// EnvironmentInput is what creates or changes an environment. Secrets are plaintext here
// and sealed before they reach the store; on a change, nil Secrets keeps them.
type EnvironmentInput struct {
	Name     string
	Type     store.EnvironmentType
	Settings json.RawMessage
	Secrets  map[string]string
	// SkipCheck saves settings without connecting first (a data source that is down
	// for now); by default settings that cannot connect are refused.
	SkipCheck bool
}

// checkEnvironment connects with in's settings when the Runtime can, and says why not.
// On a change without new secrets, the stored ones are used.
func (p *Platform) checkEnvironment(ctx context.Context, in EnvironmentInput) error {
	c, ok := p.opt.Runtime.(Checker)
	if !ok || in.SkipCheck {
		return nil
	}
	secrets := map[string][]byte{}
	if in.Secrets == nil {
		sealed, err := p.opt.Store.EnvironmentSecrets(ctx, in.Name)
		if err != nil && errs.KindOf(err) != errs.KindNotFound {
			return err
		}
		if secrets, err = p.unseal(in.Name, sealed); err != nil {
			return err
		}
	} else {
		for name, v := range in.Secrets {
			secrets[name] = []byte(v)
		}
	}
	err := c.CheckEnvironment(ctx, store.Environment{Name: in.Name, Type: in.Type, Settings: in.Settings}, secrets)
	if err == nil || errs.KindOf(err) == errs.KindInvalid {
		return err
	}
	return errs.Invalid("environment %q cannot connect with these settings: %v (save them anyway with check=false)", in.Name, err)
}

var envNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$`)

func checkName(what, name string) error {
	if !envNameRE.MatchString(name) {
		return errs.Invalid("%s name %q must be 1 to 50 characters: letters, digits, '-', '_' or '.', starting with a letter or digit", what, name)
	}
	return nil
}

func (p *Platform) sealSecrets(env string, secrets map[string]string) (map[string][]byte, error) {
	out := make(map[string][]byte, len(secrets))
	for name, v := range secrets {
		if name != SecretPassword {
			return nil, errs.Invalid("environment %q: unknown secret %q (want %q)", env, name, SecretPassword)
		}
		out[name] = p.opt.Sealer.Seal([]byte(v), envSecretLabel(env, name))
	}
	return out, nil
}

func envSecretLabel(env, name string) string { return "environment-secret " + env + " " + name }

// unsealing is the Runtime the Manager sees: the store hands it sealed secrets, which it
// unseals for the real Runtime.
type unsealing struct {
	Runtime
	p *Platform
}

func (u unsealing) Build(ctx context.Context, model fs.FS, version string, env store.Environment, sealed map[string][]byte) (Instance, error) {
	secrets, err := u.p.unseal(env.Name, sealed)
	if err != nil {
		return nil, err
	}
	return u.Runtime.Build(ctx, model, version, env, secrets)
}

// unseal opens an environment's sealed secrets.
func (p *Platform) unseal(env string, sealed map[string][]byte) (map[string][]byte, error) {
	out := make(map[string][]byte, len(sealed))
	for name, v := range sealed {
		plain, err := p.opt.Sealer.Open(v, envSecretLabel(env, name))
		if err != nil {
			return nil, errs.Wrap(errs.KindInternal, err, "unsealing secret %q of environment %q (was the key changed?)", name, env)
		}
		out[name] = plain
	}
	return out, nil
}

// CreateEnvironment stores a new environment.
func (p *Platform) CreateEnvironment(ctx context.Context, a Actor, in EnvironmentInput) (store.Environment, error) {
	if err := checkName("environment", in.Name); err != nil {
		return store.Environment{}, err
	}
	if _, err := ParseEnvSettings(in.Type, in.Settings); err != nil {
		return store.Environment{}, err
	}
	if _, err := p.opt.Store.GetEnvironment(ctx, in.Name); err == nil {
		return store.Environment{}, errs.Conflict("environment %q already exists", in.Name)
	}
	if err := p.checkEnvironment(ctx, in); err != nil {
		return store.Environment{}, err
	}
	secrets, err := p.sealSecrets(in.Name, in.Secrets)
	if err != nil {
		return store.Environment{}, err
	}
	env, err := p.opt.Store.CreateEnvironment(ctx, store.Environment{Name: in.Name, Type: in.Type, Settings: in.Settings}, secrets)
	if err == nil {
		p.audit(ctx, a, "environment.create", "environment/"+in.Name, map[string]any{"type": in.Type, "secrets": env.SecretNames})
	}
	return env, err
}

// UpdateEnvironment changes an environment's type and settings (both given) and, when
// Secrets is not nil, replaces its secrets. Deployments pick the change up on their next
// start or restart.
func (p *Platform) UpdateEnvironment(ctx context.Context, a Actor, in EnvironmentInput) (store.Environment, error) {
	if _, err := ParseEnvSettings(in.Type, in.Settings); err != nil {
		return store.Environment{}, err
	}
	if err := p.checkEnvironment(ctx, in); err != nil {
		return store.Environment{}, err
	}
	var secrets map[string][]byte
	if in.Secrets != nil {
		var err error
		if secrets, err = p.sealSecrets(in.Name, in.Secrets); err != nil {
			return store.Environment{}, err
		}
	}
	env, err := p.opt.Store.UpdateEnvironment(ctx, in.Name, in.Type, in.Settings)
	if err != nil {
		return store.Environment{}, err
	}
	if secrets != nil {
		if err := p.opt.Store.SetEnvironmentSecrets(ctx, in.Name, secrets); err != nil {
			return store.Environment{}, err
		}
		if env, err = p.opt.Store.GetEnvironment(ctx, in.Name); err != nil {
			return store.Environment{}, err
		}
	}
	p.audit(ctx, a, "environment.update", "environment/"+in.Name, map[string]any{"type": in.Type, "secrets_changed": secrets != nil})
	return env, nil
}

// DeleteEnvironment deletes an environment no project uses.
func (p *Platform) DeleteEnvironment(ctx context.Context, a Actor, name string) error {
	err := p.opt.Store.DeleteEnvironment(ctx, name)
	if err == nil {
		p.audit(ctx, a, "environment.delete", "environment/"+name, nil)
	}
	return err
}

// ListEnvironments lists the environments (never their secrets).
func (p *Platform) ListEnvironments(ctx context.Context) ([]store.Environment, error) {
	return p.opt.Store.ListEnvironments(ctx)
}

// GetEnvironment returns one environment (never its secrets).
func (p *Platform) GetEnvironment(ctx context.Context, name string) (store.Environment, error) {
	return p.opt.Store.GetEnvironment(ctx, name)
}
