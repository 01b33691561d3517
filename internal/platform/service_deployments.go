package platform

import (
	"context"
	"fmt"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/store"
)

// Status is a deployment's status. A branch that was never started is STOPPED.
func (p *Platform) Status(ctx context.Context, project, branch string) (Status, error) {
	st, err := p.mgr.Status(ctx, project, branch)
	if errs.KindOf(err) != errs.KindNotFound {
		return st, err
	}
	// No deployment recorded: say STOPPED if the branch exists, else why not.
	_, r, rerr := p.projectRepo(ctx, project)
	if rerr != nil {
		return Status{}, rerr
	}
	if _, _, rerr := r.Snapshot(branch); rerr != nil {
		return Status{}, rerr
	}
	return Status{State: store.StateStopped}, nil
}

// Operation is a lifecycle operation on a deployment.
type Operation string

// Operations.
const (
	OpStart   Operation = "start"
	OpStop    Operation = "stop"
	OpRestart Operation = "restart"
)

// Valid reports whether o is a known operation.
func (o Operation) Valid() bool {
	switch o {
	case OpStart, OpStop, OpRestart:
		return true
	}
	return false
}

// Lifecycle starts, stops or restarts a deployment and returns its status after. A start
// or restart waits until the deployment is RUNNING or ERROR; when it ends in ERROR, the
// status comes back with the error (a model error, or a data source that does not
// answer), so that the caller can show both.
func (p *Platform) Lifecycle(ctx context.Context, a Actor, project, branch string, op Operation) (Status, error) {
	if _, _, err := p.projectRepo(ctx, project); err != nil {
		return Status{}, err
	}
	var err error
	switch op {
	case OpStart:
		err = p.mgr.Start(ctx, project, branch)
	case OpStop:
		err = p.mgr.Stop(ctx, project, branch)
	case OpRestart:
		err = p.mgr.Restart(ctx, project, branch)
	default:
		return Status{}, errs.Invalid("unknown operation %q (want start, stop or restart)", op)
	}
	if err != nil && !isBuildFailure(err) {
		return Status{}, err
	}
	p.audit(ctx, a, "deployment."+string(op), "deployment/"+project+"/"+branch, nil)
	st, serr := p.Status(ctx, project, branch)
	if serr != nil {
		return Status{}, serr
	}
	return st, err
}

// isBuildFailure reports whether err is a load that ended in ERROR (recorded in the
// status) rather than a request that could not be made.
func isBuildFailure(err error) bool {
	switch errs.KindOf(err) {
	case errs.KindModel, errs.KindUnavailable, errs.KindSource, errs.KindTimeout:
		return true
	}
	return false
}

// notRunning is the error for credentials asked of a deployment that is not RUNNING.
func notRunning(project, branch string, st Status) error {
	msg := fmt.Sprintf("deployment %s/%s is %s: credentials are shown only while it is RUNNING", project, branch, st.State)
	switch st.State {
	case store.StateStopped:
		msg += "; start it first"
	case store.StatePending:
		msg += "; wait for it to finish starting"
	case store.StateError:
		msg += "; fix the error (" + st.Error + ") and restart it"
	}
	return &errs.Error{Kind: errs.KindConflict, Message: msg}
}

// Credentials returns a deployment's credentials, only while it is RUNNING. The view is
// audited.
func (p *Platform) Credentials(ctx context.Context, a Actor, project, branch string) (Credentials, error) {
	st, err := p.Status(ctx, project, branch)
	if err != nil {
		return Credentials{}, err
	}
	if st.State != store.StateRunning {
		return Credentials{}, notRunning(project, branch, st)
	}
	c, err := p.opt.Keeper.Show(ctx, project, branch)
	if errs.KindOf(err) == errs.KindNotFound {
		// RUNNING on a node whose OnRunning hook failed or was racing: make them now.
		if err = p.opt.Keeper.Ensure(ctx, project, branch); err == nil {
			c, err = p.opt.Keeper.Show(ctx, project, branch)
		}
	}
	if err == nil {
		p.audit(ctx, a, "credentials.view", "deployment/"+project+"/"+branch, nil)
	}
	return c, err
}

// Rotate replaces a deployment's SQL password and/or REST token; the old ones stop working
// at once, and live SQL sessions that logged in with the old password are closed.
func (p *Platform) Rotate(ctx context.Context, a Actor, project, branch string, sql, rest bool) (Credentials, error) {
	st, err := p.Status(ctx, project, branch)
	if err != nil {
		return Credentials{}, err
	}
	if st.State != store.StateRunning {
		return Credentials{}, notRunning(project, branch, st)
	}
	c, err := p.opt.Keeper.Rotate(ctx, project, branch, sql, rest)
	if err != nil {
		return Credentials{}, err
	}
	if sql && p.opt.Disconnect != nil {
		p.opt.Disconnect(c.SQL.Username)
	}
	p.audit(ctx, a, "credentials.rotate", "deployment/"+project+"/"+branch, map[string]any{"sql": sql, "rest": rest})
	return c, nil
}

// Security returns a deployment's security settings.
func (p *Platform) Security(ctx context.Context, project, branch string) (Security, error) {
	if _, _, err := p.projectRepo(ctx, project); err != nil {
		return Security{}, err
	}
	return p.opt.Keeper.Security(ctx, project, branch)
}

// SetSecurity replaces a deployment's security settings. A new token lifetime applies to
// the next token (rotate the token to apply it now).
func (p *Platform) SetSecurity(ctx context.Context, a Actor, project, branch string, sec Security) (Security, error) {
	_, r, err := p.projectRepo(ctx, project)
	if err != nil {
		return Security{}, err
	}
	if _, _, err := r.Snapshot(branch); err != nil {
		return Security{}, err
	}
	out, err := p.opt.Keeper.SetSecurity(ctx, project, branch, sec)
	if err == nil {
		p.audit(ctx, a, "security.update", "deployment/"+project+"/"+branch, out)
	}
	return out, err
}
