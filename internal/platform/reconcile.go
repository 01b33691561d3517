package platform

import (
	"context"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/store"
)

// follow is what Reconcile does to one deployment on this node.
type follow int

const (
	followNothing follow = iota
	// followStart builds the branch head here, quietly: another node runs it.
	followStart
	// followRestart builds the branch head here beside the instance serving, quietly:
	// another node has restarted it onto a new version.
	followRestart
	// followStop detaches the instance here without a store write: the store says
	// STOPPED, or no longer has the deployment.
	followStop
	// followWake records RUNNING again: an on-demand deployment that another node
	// stopped (on its own idle timeout, or by hand) still has users here.
	followWake
)

// local is what this node does for one deployment, read under d.mu.
type local struct {
	loading   bool
	serving   bool
	version   string // of the serving instance
	unreached bool
	inUse     bool // the serving instance is held by a user now
	lastUsed  time.Time
	// failed is the store version that a quiet start or restart here failed to follow.
	failed string
}

func (d *deployment) local() local {
	d.mu.Lock()
	defer d.mu.Unlock()
	l := local{loading: d.loading, lastUsed: d.lastUsed, failed: d.followFailed}
	if s := d.serving; s != nil {
		l.serving, l.version, l.unreached, l.inUse = true, s.version, s.unreached, s.refs > 0
	}
	return l
}

// Reconcile brings this node in line with the deployments recorded in the store, which
// every node on a shared store writes. Each node runs its own instances, so a state one
// node reaches must be followed by the others:
//
//   - RUNNING or PENDING (another node is loading) and nothing serves here: an always_on
//     or scheduled deployment is started here; an on_demand one waits for a request here.
//   - RUNNING at a version other than the one serving here: restarted here (another node
//     restarted it onto a new commit).
//   - STOPPED and serving here: stopped here. An on_demand deployment still in use here
//     (an instance held, or used within the last heartbeat interval) is recorded RUNNING
//     again instead, as its next request would: idle timeouts are per node.
//   - ERROR: nothing. A model error keeps the version serving here, as a failed restart
//     does; a source that another node cannot reach is its own heartbeat's affair.
//   - gone from the store (its project deleted) and serving here: closed here.
//
// A deployment with no row yet (a project just created through another node) is left to
// the node that writes it. What Reconcile builds and stops to follow the store is not
// written back: the store says it already, and a PENDING from every follower would blur
// the state that the leading node wrote. Only a wake writes, and a source found down by
// the heartbeat, as on any node.
//
// A node's own writes never make it act: after them, what it serves agrees with the store.
// A deployment in the middle of a start, stop or restart here is skipped this round, and
// every action is decided again under the deployment's lock on a fresh read of its row.
// A round costs two queries (projects, deployments) when there is nothing to do. Builds
// run here, one after the other, as in Schedule.
func (m *Manager) Reconcile(ctx context.Context) {
	projects, err := m.opt.Store.ListProjects(ctx)
	if err != nil {
		m.log.Error("reconcile: listing projects", "err", err)
		return
	}
	modes := make(map[string]Mode, len(projects))
	for _, p := range projects {
		// Settings that do not parse are logged by Schedule; without a mode nothing is
		// started here, but stops and restarts are still followed.
		c, _ := ParseConfig(p.Deployment)
		modes[p.Name] = c.Mode
	}
	deps, err := m.opt.Store.ListDeployments(ctx, "")
	if err != nil {
		m.log.Error("reconcile: listing deployments", "err", err)
		return
	}
	recorded := make(map[key]bool, len(deps))
	for _, dep := range deps {
		if ctx.Err() != nil {
			return
		}
		k := key{dep.Project, dep.Branch}
		recorded[k] = true
		mode, ok := modes[dep.Project]
		if !ok {
			continue // created since ListProjects: the next round
		}
		m.mu.Lock()
		d := m.deps[k]
		m.mu.Unlock()
		var l local
		if d != nil {
			l = d.local()
		}
		if m.decide(dep, mode, l) == followNothing {
			continue
		}
		if d == nil {
			if d, err = m.deployment(dep.Project, dep.Branch); err != nil {
				return // closing
			}
		}
		m.act(ctx, d, mode)
	}
	for _, d := range m.all() {
		if recorded[d.key] || !d.local().serving {
			continue
		}
		if ctx.Err() != nil {
			return
		}
		// Created since ListDeployments, or deleted: act reads the row again to tell.
		m.act(ctx, d, modes[d.project])
	}
}

// decide is what this node should do for dep given what it does (l).
func (m *Manager) decide(dep store.Deployment, mode Mode, l local) follow {
	if l.loading {
		return followNothing // the load decides the state itself
	}
	switch dep.State {
	case store.StateRunning, store.StatePending:
		if !l.serving {
			if (mode == ModeAlwaysOn || mode == ModeScheduled) && l.failed != dep.Version {
				return followStart
			}
			return followNothing
		}
		if dep.State == store.StateRunning && l.version != dep.Version && l.failed != dep.Version {
			return followRestart
		}
	case store.StateStopped:
		if !l.serving {
			return followNothing
		}
		if mode == ModeOnDemand && !l.unreached &&
			(l.inUse || m.opt.Clock().Sub(l.lastUsed) < m.opt.HeartbeatInterval) {
			return followWake
		}
		return followStop
	case store.StateError:
	}
	return followNothing
}

// act does what decide says for d, with d.op held and on a fresh read of its row; a
// deployment busy with another operation is left to the next round.
func (m *Manager) act(ctx context.Context, d *deployment, mode Mode) {
	if !d.op.TryLock() {
		return
	}
	defer d.op.Unlock()
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return // Close detaches what serves; nothing new may start
	}
	dep, err := m.opt.Store.GetDeployment(ctx, d.project, d.branch)
	switch {
	case errs.KindOf(err) == errs.KindNotFound:
		// Gone: its project (or the deployment alone) was deleted through another node.
		if d.local().serving {
			m.log.Info("reconcile: deleted elsewhere", "project", d.project, "branch", d.branch)
			m.detach(d, store.Status{State: store.StateStopped})
		}
		return
	case err != nil:
		m.log.Error("reconcile: reading deployment", "project", d.project, "branch", d.branch, "err", err)
		return
	}
	var ferr error
	switch m.decide(dep, mode, d.local()) {
	case followNothing:
		return
	case followStart:
		m.log.Info("reconcile: running elsewhere; starting", "project", d.project, "branch", d.branch, "version", dep.Version)
		ferr = m.load(ctx, d, true)
	case followRestart:
		m.log.Info("reconcile: restarted elsewhere; restarting", "project", d.project, "branch", d.branch, "version", dep.Version)
		ferr = m.load(ctx, d, true)
	case followStop:
		m.log.Info("reconcile: stopped elsewhere; stopping", "project", d.project, "branch", d.branch)
		m.detach(d, store.Status{State: store.StateStopped, Version: dep.Version})
	case followWake:
		l := d.local()
		m.log.Info("reconcile: stopped elsewhere, still used here", "project", d.project, "branch", d.branch)
		ferr = m.setStatus(ctx, d, store.Status{State: store.StateRunning, Version: l.version}, false)
	}
	d.mu.Lock()
	switch {
	case ferr == nil:
		d.followFailed = ""
	case errs.KindOf(ferr) != errs.KindUnavailable: // a source down is retried by the heartbeat
		// Not again at this version: a build that fails here would fail every round.
		d.followFailed = dep.Version
	}
	d.mu.Unlock()
	if ferr != nil {
		m.log.Error("reconcile", "project", d.project, "branch", d.branch, "err", ferr)
	}
}

// detach stops serving d on this node without writing the store, which says so already;
// st goes to d's mirror. d.op must be held.
func (m *Manager) detach(d *deployment, st store.Status) {
	d.mu.Lock()
	old := d.serving
	d.serving = nil
	d.mu.Unlock()
	m.retire(d, old)
	m.mirror(d, st, false)
}
