package platform

import (
	"context"
	"strings"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/platform/gitrepo"
	"github.com/cubit-dev/cubit/internal/store"
	"github.com/robfig/cron/v3"
)

// Schedule is when a scheduled deployment runs: inside any of its windows, with the cron
// expressions read in Location.
type Schedule struct {
	Windows  []Window
	Location *time.Location
}

// Window is one recurring period: it opens when Start fires and closes when End fires.
type Window struct {
	// Start and End are the cron expressions as the settings give them.
	Start, End string

	start, end cron.Schedule
}

// cronParser reads the standard five fields. Descriptors (@daily, @every 1h) are refused:
// @every counts from whatever instant it is asked about, which has no meaning for a
// window's edges.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// cronReference is the instant a new expression is checked to fire after: a fixed one, so
// that whether a configuration is valid does not depend on when it is read, and a leap
// year's start, so that "29 2" counts as firing.
var cronReference = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// parseSchedule checks the windows and time zone of a scheduled deployment's settings.
func parseSchedule(windows []windowJSON, tz string) (*Schedule, error) {
	if len(windows) == 0 {
		return nil, errs.Invalid(`deployment settings: the scheduled mode needs "schedule", a list of windows such as [{"start": "0 8 * * 1-5", "end": "0 20 * * 1-5"}]`)
	}
	loc := time.UTC
	if tz != "" {
		var err error
		// "Local" would be the zone of whichever host the node runs on.
		if loc, err = time.LoadLocation(tz); err != nil || tz == "Local" {
			return nil, errs.Invalid("deployment settings: unknown timezone %q (want an IANA name such as \"Europe/Berlin\")", tz)
		}
	}
	s := &Schedule{Location: loc}
	for i, w := range windows {
		win := Window{Start: w.Start, End: w.End}
		var err error
		if win.start, err = parseCron(i, "start", w.Start, loc); err != nil {
			return nil, err
		}
		if win.end, err = parseCron(i, "end", w.End, loc); err != nil {
			return nil, err
		}
		if strings.Join(strings.Fields(w.Start), " ") == strings.Join(strings.Fields(w.End), " ") {
			return nil, errs.Invalid("deployment settings: schedule[%d]: start and end are the same expression %q, so the window never opens", i, w.Start)
		}
		s.Windows = append(s.Windows, win)
	}
	return s, nil
}

// parseCron parses the start or end (field) of window i, to be read in loc.
func parseCron(i int, field, expr string, loc *time.Location) (cron.Schedule, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, errs.Invalid("deployment settings: schedule[%d].%s is missing (a cron expression such as \"0 8 * * 1-5\")", i, field)
	}
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return nil, errs.Invalid("deployment settings: schedule[%d].%s %q: give the time zone in \"timezone\", not in the expression", i, field, expr)
	}
	parsed, err := cronParser.Parse(expr)
	if err != nil {
		return nil, errs.Invalid("deployment settings: schedule[%d].%s %q is not a cron expression of 5 fields (minute hour day-of-month month day-of-week): %v", i, field, expr, err)
	}
	spec, ok := parsed.(*cron.SpecSchedule)
	if !ok {
		return nil, errs.Invalid("deployment settings: schedule[%d].%s %q is not a cron expression of 5 fields", i, field, expr)
	}
	spec.Location = loc
	if spec.Next(cronReference).IsZero() {
		return nil, errs.Invalid("deployment settings: schedule[%d].%s %q never fires (no such date)", i, field, expr)
	}
	return spec, nil
}

// Open reports whether t is inside one of the windows: whether, for one of them, the
// latest firing of Start at or before t is later than the latest firing of End at or
// before t. When Start and End fire at the same instant the window is closed.
//
// The firings are looked for in spans reaching back from t by an hour, a day, 8 days, 32
// days and 366 days, the next span only when neither edge fired in the last, so that the
// common windows cost a few steps. A window neither of whose edges fired in the last 366
// days (only a date like February 29 can do that) counts as closed.
func (s *Schedule) Open(t time.Time) bool {
	for _, w := range s.Windows {
		if w.open(t) {
			return true
		}
	}
	return false
}

func (w Window) open(t time.Time) bool {
	const day = 24 * time.Hour
	for _, back := range []time.Duration{time.Hour, day, 8 * day, 32 * day, 366 * day} {
		from := t.Add(-back)
		start, started := lastFiring(w.start, from, t)
		end, ended := lastFiring(w.end, from, t)
		switch {
		case started && ended:
			return start.After(end)
		case started:
			return true // the end's last firing is before from, so before start
		case ended:
			return false
		}
	}
	return false
}

// lastFiring returns the latest firing of s in (from, to].
func lastFiring(s cron.Schedule, from, to time.Time) (time.Time, bool) {
	var last time.Time
	found := false
	for n := s.Next(from); !n.IsZero() && !n.After(to); n = s.Next(n) {
		last, found = n, true
	}
	return last, found
}

// Schedule runs one round of the scheduled mode, by the Manager's clock: for every project
// whose mode is scheduled, each of its deployments (its main branch when it has none) is
// started when one of its windows has opened and stopped when its window has closed
// since this node last acted on it (see ModeScheduled). Starts run here, one after the
// other, so a round takes as long as its builds. A deployment in the middle of a start,
// stop or restart is skipped this round and looked at again on the next. Failures are
// logged; they are recorded in the deployment's status by Start.
func (m *Manager) Schedule(ctx context.Context) {
	now := m.opt.Clock()
	projects, err := m.opt.Store.ListProjects(ctx)
	if err != nil {
		m.log.Error("schedule: listing projects", "err", err)
		return
	}
	for _, p := range projects {
		if ctx.Err() != nil {
			return
		}
		c, err := ParseConfig(p.Deployment)
		if err != nil {
			// Settings are checked when they are saved and at boot (StartAll); a project
			// whose settings do not parse is left as it is.
			m.log.Warn("schedule: deployment settings", "project", p.Name, "err", err)
			continue
		}
		if c.Mode != ModeScheduled {
			continue
		}
		branches, err := m.branches(ctx, p.Name)
		if err != nil {
			m.log.Error("schedule: listing deployments", "project", p.Name, "err", err)
			continue
		}
		open := c.Schedule.Open(now)
		for _, b := range branches {
			d, err := m.deployment(p.Name, b)
			if err != nil {
				return // closing
			}
			if !d.op.TryLock() {
				continue
			}
			if err := m.followWindow(ctx, d, open, false); err != nil {
				m.log.Error("schedule", "project", p.Name, "branch", b, "window_open", open, "err", err)
			}
			d.op.Unlock()
		}
	}
}

// branches returns the branches of project's recorded deployments, or the main branch
// when it has none.
func (m *Manager) branches(ctx context.Context, project string) ([]string, error) {
	deps, err := m.opt.Store.ListDeployments(ctx, project)
	if err != nil {
		return nil, err
	}
	if len(deps) == 0 {
		return []string{gitrepo.MainBranch}, nil
	}
	out := make([]string, 0, len(deps))
	for _, dep := range deps {
		out = append(out, dep.Branch)
	}
	return out, nil
}

// followWindow brings d to the state of its window (open: running) when the window has
// changed since this node last acted on d, and records the window as acted on; d.op
// must be held. At boot every deployment is brought to its window's state: nothing
// serves yet, so an open window starts it and a closed one records it STOPPED.
//
// A deployment seen for the first time outside boot (a project created or switched to
// scheduled since) is started when its window is open, and otherwise only recorded: it
// may have just been started by hand.
func (m *Manager) followWindow(ctx context.Context, d *deployment, open, boot bool) error {
	seen, wasOpen := d.windowSeen, d.windowOpen
	d.windowSeen, d.windowOpen = true, open
	if open {
		if boot || !seen || !wasOpen {
			m.log.Info("schedule: window open", "project", d.project, "branch", d.branch)
			return m.startLocked(ctx, d)
		}
		return nil
	}
	if !boot && !(seen && wasOpen) {
		return nil
	}
	d.mu.Lock()
	serving := d.serving != nil
	d.mu.Unlock()
	if serving {
		m.log.Info("schedule: window closed", "project", d.project, "branch", d.branch)
		return m.stop(ctx, d, nil)
	}
	if boot {
		dep, err := m.opt.Store.GetDeployment(ctx, d.project, d.branch)
		switch {
		case errs.KindOf(err) == errs.KindNotFound:
			return nil // never deployed: nothing to record
		case err != nil:
			return err
		case dep.State != store.StateStopped:
			// The recorded state is from before the restart; nothing serves it now.
			return m.setStatus(ctx, d, store.Status{State: store.StateStopped, Version: dep.Version}, false)
		}
	}
	return nil
}
