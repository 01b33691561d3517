package platform

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
)

// Mode says when a project's deployments run.
type Mode string

// Deployment modes.
const (
	// ModeAlwaysOn deployments are started at boot (StartAll) and kept running.
	ModeAlwaysOn Mode = "always_on"
	// ModeOnDemand deployments are started by their first request (Acquire) and stopped
	// after IdleTimeout without one.
	ModeOnDemand Mode = "on_demand"
	// ModeScheduled deployments run inside the windows of their Schedule: Manager.Schedule
	// starts a deployment when one of its windows opens and stops it when the window
	// closes, and StartAll starts the ones inside a window at boot (and records the others
	// STOPPED). The schedule acts only at those edges: a deployment stopped by hand inside
	// a window stays stopped until the next window opens, and one started by hand outside
	// its windows runs until the next window closes. A start that fails is not retried
	// before the next window, as with always_on at boot. The edges are remembered per node,
	// in memory: a node that restarts inside a window starts the deployment again, even if
	// it had been stopped by hand.
	ModeScheduled Mode = "scheduled"
)

// Valid reports whether m is a known mode.
func (m Mode) Valid() bool {
	switch m {
	case ModeAlwaysOn, ModeOnDemand, ModeScheduled:
		return true
	}
	return false
}

// DefaultIdleTimeout is how long an on-demand deployment stays up without a request when
// its project does not say.
const DefaultIdleTimeout = 15 * time.Minute

// Config is a project's deployment settings, the JSON object store.Project.Deployment:
// {"mode": "on_demand", "idle_timeout": "30m"}, or for the scheduled mode
// {"mode": "scheduled", "schedule": [{"start": "0 8 * * 1-5", "end": "0 20 * * 1-5"}],
// "timezone": "Europe/Berlin"}.
type Config struct {
	Mode Mode
	// IdleTimeout is how long an on-demand deployment may go without a request before it
	// is stopped. It is ignored by the other modes.
	IdleTimeout time.Duration
	// Schedule is when a scheduled deployment runs; nil for the other modes. It is a
	// pointer so that a Config stays comparable.
	Schedule *Schedule
}

// windowJSON is one window of the deployment JSON.
type windowJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// ParseConfig decodes a project's deployment JSON strictly: unknown fields are refused. A
// missing mode is always_on; a missing idle_timeout is DefaultIdleTimeout. idle_timeout is
// a Go duration ("90s", "15m", "1h").
//
// The scheduled mode needs "schedule", one or more windows each opened by the cron
// expression "start" and closed by "end" (five fields: minute, hour, day of month, month,
// day of week), and takes "timezone", the IANA name of the zone the expressions are read
// in (default UTC). The other modes refuse both fields.
func ParseConfig(raw json.RawMessage) (Config, error) {
	var c struct {
		Mode        Mode         `json:"mode"`
		IdleTimeout string       `json:"idle_timeout"`
		Schedule    []windowJSON `json:"schedule"`
		Timezone    *string      `json:"timezone"`
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return Config{}, errs.Wrap(errs.KindInvalid, err, "deployment settings: %v", err)
		}
	}
	out := Config{Mode: c.Mode, IdleTimeout: DefaultIdleTimeout}
	if out.Mode == "" {
		out.Mode = ModeAlwaysOn
	}
	if !out.Mode.Valid() {
		return Config{}, errs.Invalid("deployment settings: unknown mode %q (want always_on, on_demand or scheduled)", c.Mode)
	}
	if c.IdleTimeout != "" {
		d, err := time.ParseDuration(c.IdleTimeout)
		if err != nil || d <= 0 {
			return Config{}, errs.Invalid("deployment settings: idle_timeout %q must be a positive duration such as \"15m\"", c.IdleTimeout)
		}
		out.IdleTimeout = d
	}
	switch out.Mode {
	case ModeScheduled:
		tz := ""
		if c.Timezone != nil {
			tz = *c.Timezone
		}
		sched, err := parseSchedule(c.Schedule, tz)
		if err != nil {
			return Config{}, err
		}
		out.Schedule = sched
	case ModeAlwaysOn, ModeOnDemand:
		if c.Schedule != nil || c.Timezone != nil {
			return Config{}, errs.Invalid("deployment settings: schedule and timezone are for the scheduled mode, not %s", out.Mode)
		}
	}
	return out, nil
}
