package preagg

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/refreshkey"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

// Options configure a Set.
type Options struct {
	// Timezones are the zones each rollup is built in (Cube's
	// CUBEJS_SCHEDULED_REFRESH_TIMEZONES); a query in another zone reads the source. Nil is
	// UTC only.
	Timezones []string
	// Fingerprint identifies a cube's definition; a rollup's tables are kept across model
	// versions while its cube's fingerprint stays the same. Nil uses the cube's name only.
	Fingerprint func(*model.Cube) string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Locations loads time zones; nil is time.LoadLocation.
	Locations func(string) (*time.Location, error)
	// Poll is how often the background refresh looks at the refresh keys (default 10 s).
	Poll time.Duration
	// Logger receives build outcomes; nil discards them.
	Logger *slog.Logger
}

// Set is the rollups of one model version over one data source, with the store that holds
// their tables. It matches queries to built rollups (Rewrite), builds them (Build, BuildAll)
// and refreshes them in the background (Run). It is safe for concurrent use.
type Set struct {
	model   *model.Model
	dialect dialect.Dialect
	source  warehouse.Warehouse
	store   *Store
	opt     Options
	rollups []*Rollup

	mu      sync.Mutex
	jobs    map[string]*Job // by rollup id and zone
	checked map[string]time.Time
	kick    chan struct{}
}

// New binds the rollups of m to a source (with its dialect) and a store.
func New(m *model.Model, d dialect.Dialect, source warehouse.Warehouse, store *Store, opt Options) *Set {
	if len(opt.Timezones) == 0 {
		opt.Timezones = []string{"UTC"}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Locations == nil {
		opt.Locations = time.LoadLocation
	}
	if opt.Poll <= 0 {
		opt.Poll = 10 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Set{model: m, dialect: d, source: source, store: store, opt: opt, rollups: Rollups(m),
		jobs: map[string]*Job{}, checked: map[string]time.Time{}, kick: make(chan struct{}, 1)}
	for _, r := range s.rollups {
		for _, tz := range opt.Timezones {
			j := &Job{PreAggregation: r.ID(), Timezone: tz, Status: JobPending, Error: r.Unusable}
			if r.Unusable != "" {
				j.Status = JobUnusable
			}
			s.jobs[r.ID()+"\x00"+tz] = j
		}
	}
	return s
}

// Rollups returns the set's rollups in model order.
func (s *Set) Rollups() []*Rollup { return s.rollups }

// Store returns the set's store.
func (s *Set) Store() *Store { return s.store }

// key identifies a rollup's tables in the store: its id, its cube's definition and the zone.
func (s *Set) key(r *Rollup, tz string) string {
	fp := ""
	if s.opt.Fingerprint != nil {
		fp = s.opt.Fingerprint(r.Cube)
	}
	return r.ID() + "@" + fp + "/" + tz
}

// Rollup returns the rollup with id "<cube>.<name>", or nil.
func (s *Set) Rollup(id string) *Rollup {
	for _, r := range s.rollups {
		if r.ID() == id {
			return r
		}
	}
	return nil
}

// JobStatus is the state of a rollup's builds.
type JobStatus string

const (
	JobPending  JobStatus = "pending"  // never built yet
	JobBuilding JobStatus = "building" // a build is running
	JobBuilt    JobStatus = "built"    // serving; the last build succeeded
	JobFailed   JobStatus = "failed"   // the last build failed (an older table may still serve)
	JobUnusable JobStatus = "unusable" // Cubit cannot build this pre-aggregation
)

// Valid reports whether st is a declared status.
func (st JobStatus) Valid() bool {
	switch st {
	case JobPending, JobBuilding, JobBuilt, JobFailed, JobUnusable:
		return true
	}
	return false
}

// Job is the build state of one rollup in one zone, as the jobs API shows it.
type Job struct {
	PreAggregation string    `json:"preAggregation"`
	Timezone       string    `json:"timezone"`
	Status         JobStatus `json:"status"`
	Table          string    `json:"table,omitempty"`
	Partitions     int       `json:"partitions,omitempty"`
	// Kept is how many of the partitions the last (incremental) build copied unchanged.
	Kept        int       `json:"keptPartitions,omitempty"`
	Rows        int64     `json:"rows,omitempty"`
	RefreshKey  string    `json:"refreshKey,omitempty"`
	LastBuiltAt time.Time `json:"lastBuiltAt,omitzero"`
	Duration    string    `json:"duration,omitempty"`
	Error       string    `json:"error,omitempty"`
	// forced asks the background loop to rebuild at its next turn.
	forced bool
}

// Jobs returns the build state of every rollup in every zone, in model order.
func (s *Set) Jobs() []Job {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Job, 0, len(s.jobs))
	for _, r := range s.rollups {
		for _, tz := range s.opt.Timezones {
			j := *s.jobs[r.ID()+"\x00"+tz]
			if t := s.store.Current(s.key(r, tz)); t != nil && j.Table == "" {
				// Built by an earlier model version with the same cube.
				j.Status, j.Table, j.Partitions, j.Rows, j.LastBuiltAt = JobBuilt, t.Name, len(t.Partitions), t.Rows, t.BuiltAt
			}
			out = append(out, j)
		}
	}
	return out
}

// Trigger asks the background refresh to rebuild the rollups with these ids ("<cube>.<name>";
// none means all) at its next turn, whatever their refresh keys say. It returns an invalid
// error naming an unknown id.
func (s *Set) Trigger(ids ...string) error {
	for _, id := range ids {
		if s.Rollup(id) == nil {
			var names []string
			for _, r := range s.rollups {
				names = append(names, r.ID())
			}
			return errs.UnknownMember("pre-aggregation", id, names)
		}
	}
	s.mu.Lock()
	for _, j := range s.jobs {
		if j.Status != JobUnusable && (len(ids) == 0 || contains(ids, j.PreAggregation)) {
			j.forced = true
		}
	}
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// BuildAll builds every usable rollup in every zone now, one after the other, and returns
// the first error (the other rollups are still built).
func (s *Set) BuildAll(ctx context.Context) error {
	var first error
	for _, r := range s.rollups {
		if r.Unusable != "" {
			continue
		}
		for _, tz := range s.opt.Timezones {
			if err := s.refresh(ctx, r, tz, true); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// Run refreshes the rollups in the background until ctx ends: every Poll it evaluates the
// refresh keys that are due and rebuilds, one rollup at a time, those whose value changed
// or that were never built or were triggered. Queries never wait for it: until a rollup is
// built they read the source, and a rebuild swaps the new table in when it is complete.
func (s *Set) Run(ctx context.Context) {
	t := time.NewTicker(s.opt.Poll)
	defer t.Stop()
	for {
		s.turn(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// turn is one pass of the background refresh.
func (s *Set) turn(ctx context.Context) {
	for _, r := range s.rollups {
		if r.Unusable != "" || (r.Def.ScheduledRefresh != nil && !*r.Def.ScheduledRefresh && !s.forced(r)) {
			continue
		}
		for _, tz := range s.opt.Timezones {
			if ctx.Err() != nil {
				return
			}
			_ = s.refresh(ctx, r, tz, false)
		}
	}
}

func (s *Set) forced(r *Rollup) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, j := range s.jobs {
		if j.PreAggregation == r.ID() && j.forced {
			return true
		}
	}
	return false
}

// refresh rebuilds r in tz when forced, never built, triggered, or when its refresh key
// changed since its table was built. Failures are recorded in the job and logged.
func (s *Set) refresh(ctx context.Context, r *Rollup, tz string, force bool) error {
	id := r.ID() + "\x00" + tz
	key := s.key(r, tz)
	s.mu.Lock()
	j := s.jobs[id]
	force = force || j.forced
	due := force || s.opt.Now().After(s.checked[id]) || s.store.Current(key) == nil
	s.mu.Unlock()
	if !due {
		return nil
	}
	value, err := s.refreshValue(ctx, r)
	if err != nil {
		s.finish(r, tz, nil, 0, err)
		return err
	}
	s.mu.Lock()
	s.checked[id] = s.nextCheck(r)
	s.mu.Unlock()
	// Sets of several engines share a store (the versions of a deployment, deployments of
	// one data source): one builds a table at a time, and the others find it built.
	unlock := s.store.lock(key)
	defer unlock()
	if cur := s.store.Current(key); !force && cur != nil && cur.RefreshKey == value {
		return nil
	}
	s.mu.Lock()
	j.Status, j.forced = JobBuilding, false
	s.mu.Unlock()
	start := time.Now()
	// A refresh that the key asked for is incremental when the key says so; a forced one
	// (Trigger, BuildAll) rebuilds every partition.
	var prev *Table
	if !force {
		prev = s.store.Current(key)
	}
	t, err := s.build(ctx, r, tz, value, prev)
	if errors.Is(err, errRetype) {
		t, err = s.build(ctx, r, tz, value, nil)
	}
	s.finish(r, tz, t, time.Since(start), err)
	return err
}

func (s *Set) finish(r *Rollup, tz string, t *Table, took time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.jobs[r.ID()+"\x00"+tz]
	if err != nil {
		j.Status, j.Error = JobFailed, err.Error()
		s.opt.Logger.Warn("pre-aggregation build failed", "pre_aggregation", r.ID(), "timezone", tz, "error", err)
		return
	}
	j.Status, j.Error = JobBuilt, ""
	j.Table, j.Partitions, j.Kept, j.Rows, j.RefreshKey, j.LastBuiltAt = t.Name, len(t.Partitions), t.Kept, t.Rows, t.RefreshKey, t.BuiltAt
	j.Duration = took.Round(time.Millisecond).String()
	s.opt.Logger.Info("pre-aggregation built", "pre_aggregation", r.ID(), "timezone", tz, "table", t.Name,
		"partitions", len(t.Partitions), "kept_partitions", t.Kept, "rows", t.Rows, "duration", took)
}

// defaultEvery is Cube's refresh interval of a rollup without a refresh_key (spec D.7).
const defaultEvery = time.Hour

// sqlEvery is how often a refresh_key sql without every is read again (spec D.7: 10 s).
const sqlEvery = 10 * time.Second

// refreshValue is the current value of r's refresh key: the result of its sql on the
// source, or the time bucket of now (refreshkey.Every.Bucket). A rollup is rebuilt when the
// value changes.
func (s *Set) refreshValue(ctx context.Context, r *Rollup) (string, error) {
	if k := r.Def.RefreshKey; k != nil && k.SQL != nil {
		v, err := refreshkey.Value(ctx, s.source, refreshkey.SQL(k.SQL))
		if err != nil {
			return "", errs.Wrap(errs.KindOf(err), err, "refresh_key of pre-aggregation %s", r.ID())
		}
		return v, nil
	}
	return s.every(r).Bucket(s.opt.Now()), nil
}

// nextCheck is when r's refresh key must be evaluated again.
func (s *Set) nextCheck(r *Rollup) time.Time {
	now := s.opt.Now()
	if k := r.Def.RefreshKey; k != nil && k.SQL != nil && k.Every == "" {
		return now.Add(sqlEvery)
	}
	return s.every(r).Next(now)
}

// every reads the key's every: an interval, or a cron schedule in the key's zone; without
// one (or one the cron library cannot read), defaultEvery.
func (s *Set) every(r *Rollup) refreshkey.Every {
	k := r.Def.RefreshKey
	if k == nil || k.Every == "" {
		return refreshkey.Every{Interval: defaultEvery}
	}
	loc := time.UTC
	if k.Timezone != "" {
		if l, err := time.LoadLocation(k.Timezone); err == nil {
			loc = l
		}
	}
	if every, ok := refreshkey.Parse(k.Every, loc); ok {
		return every
	}
	return refreshkey.Every{Interval: defaultEvery}
}
