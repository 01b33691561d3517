package engine

import (
	"context"
	"strings"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/refreshkey"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

// defaultSQLRenewal is how long the value of a refresh_key sql without every is trusted
// (Cube: the renewal threshold of such a key is 10 seconds).
const defaultSQLRenewal = 10 * time.Second

// slowSourceEvery is Cube's default refresh key of data sources that bill or queue every
// query (spec D.2): every 2 minutes rather than every 10 seconds.
var slowSourceEvery = map[string]bool{"athena": true, "bigquery": true, "databricks": true,
	"firebolt": true, "presto": true, "trino": true, "snowflake": true}

// defaultEvery is the refresh interval of a cube that declares no refresh_key: Config.CacheTTL
// when set, else Cube's default for the data source (spec D.2).
func (e *Engine) defaultEvery() time.Duration {
	if e.cfg.CacheTTL > 0 {
		return e.cfg.CacheTTL
	}
	if e.dialect != nil && slowSourceEvery[e.dialect.Name()] {
		return 2 * time.Minute
	}
	return 10 * time.Second
}

// refreshSchedule is a cube's refresh key, ready to evaluate. Without sql its value is the
// time bucket of now (refreshkey.Every.Bucket). With sql its value is the SQL's result, read
// again once every or the cron tick has passed, or after defaultSQLRenewal without every.
type refreshSchedule struct {
	every refreshkey.Every
	sql   string
}

// schedule compiles the refresh key of c. Validation has checked the model; an every that
// still does not parse here (a cron feature the cron library lacks, such as L or #) falls
// back to the default refresh key rather than failing every query of the cube.
func (e *Engine) schedule(c *model.Cube) refreshSchedule {
	k := c.RefreshKey
	if k == nil || (k.Every == "" && k.SQL == nil) {
		return refreshSchedule{every: refreshkey.Every{Interval: e.defaultEvery()}}
	}
	var s refreshSchedule
	if k.SQL != nil {
		s.sql = refreshkey.SQL(k.SQL)
	}
	loc := time.UTC
	if k.Timezone != "" {
		if l, err := e.zones.Load(k.Timezone); err == nil {
			loc = l
		}
	}
	if k.Every != "" {
		if every, ok := refreshkey.Parse(k.Every, loc); ok {
			s.every = every
		} else if s.sql == "" {
			s.every = refreshkey.Every{Interval: e.defaultEvery()}
		}
	}
	return s
}

// bucket is the time value of a refresh key without sql at now.
func (s refreshSchedule) bucket(now time.Time) string { return s.every.Bucket(now) }

// renewed is when a value of the refresh key's sql read at at must be read again.
func (s refreshSchedule) renewed(at time.Time) time.Time {
	if s.every.IsZero() {
		return at.Add(defaultSQLRenewal)
	}
	return s.every.Next(at)
}

// refreshValues are the current refresh-key values of cubes, in their order, as one string
// that a cache entry records and a hit must match.
func (e *Engine) refreshValues(ctx context.Context, cubes []*model.Cube) (string, error) {
	var sb strings.Builder
	now := e.cache.now()
	for _, c := range cubes {
		if c.Kind == model.KindView {
			continue // a view has no data of its own; its cubes are in the list
		}
		s := e.cubeInfo(c).schedule
		v := ""
		if s.sql == "" {
			v = s.bucket(now)
		} else {
			var err error
			v, err = e.cache.refreshValue(ctx, "sql\x00"+s.sql, s.renewed, func(ctx context.Context) (string, error) {
				return refreshkey.Value(ctx, e.warehouse, s.sql)
			})
			if err != nil {
				return "", errs.Wrap(errs.KindOf(err), err, "refresh_key of cube %s", c.Name)
			}
		}
		sb.WriteString(c.Name)
		sb.WriteByte('=')
		sb.WriteString(v)
		sb.WriteByte('\x00')
	}
	return sb.String(), nil
}

// keyValue is a memoised value of a refresh key's SQL, or its evaluation in progress.
type keyValue struct {
	done  chan struct{}
	value string
	err   error
	until time.Time
}

// maxKeys bounds the memoised refresh-key values before expired ones are dropped: models
// come and go across reloads, their refresh-key SQL with them.
const maxKeys = 1024

// refreshValue returns the value of the refresh key id: the memoised one while it is
// current, else eval's, run once however many requests ask at the same time. renewed says
// until when a value read at a time stays current. A failed evaluation is not kept.
func (c *Cache) refreshValue(ctx context.Context, id string, renewed func(time.Time) time.Time, eval func(context.Context) (string, error)) (string, error) {
	c.mu.Lock()
	now := c.now()
	kv := c.keys[id]
	fresh := false
	if kv != nil {
		select {
		case <-kv.done:
			fresh = now.Before(kv.until)
		default:
			fresh = true // being evaluated: wait for that evaluation
		}
	}
	if !fresh {
		kv = &keyValue{done: make(chan struct{})}
		c.keys[id] = kv
		if len(c.keys) > maxKeys {
			c.sweepKeys(now)
		}
		rctx, cancel := detach(ctx)
		c.metrics.refreshKeyEvaluated()
		go func() {
			defer cancel()
			v, err := eval(rctx)
			c.mu.Lock()
			defer c.mu.Unlock()
			kv.value, kv.err, kv.until = v, err, renewed(now)
			if err != nil && c.keys[id] == kv {
				delete(c.keys, id)
			}
			close(kv.done)
		}()
	}
	c.mu.Unlock()
	select {
	case <-kv.done:
		return kv.value, kv.err
	case <-ctx.Done():
		return "", warehouse.ContextError(ctx, ctx.Err())
	}
}

// sweepKeys drops the expired refresh-key values. Called with mu held.
func (c *Cache) sweepKeys(now time.Time) {
	for id, kv := range c.keys {
		select {
		case <-kv.done:
			if !now.Before(kv.until) {
				delete(c.keys, id)
			}
		default:
		}
	}
}
