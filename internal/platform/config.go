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
	// ModeScheduled deployments run inside cron windows. The windows are not implemented
	// yet: a scheduled deployment is started and stopped by hand, and StartAll restores it
	// when it was running.
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
// {"mode": "on_demand", "idle_timeout": "30m"}.
type Config struct {
	Mode Mode
	// IdleTimeout is how long an on-demand deployment may go without a request before it
	// is stopped. It is ignored by the other modes.
	IdleTimeout time.Duration
}

// ParseConfig decodes a project's deployment JSON strictly: unknown fields are refused. A
// missing mode is always_on; a missing idle_timeout is DefaultIdleTimeout. idle_timeout is
// a Go duration ("90s", "15m", "1h").
func ParseConfig(raw json.RawMessage) (Config, error) {
	var c struct {
		Mode        Mode   `json:"mode"`
		IdleTimeout string `json:"idle_timeout"`
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
	return out, nil
}
