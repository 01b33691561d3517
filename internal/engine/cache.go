package engine

import (
	"container/list"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// CacheMode is how a query may use the result cache (spec A.5, G.2): the request's "cache"
// parameter or the query's cache/cacheMode property.
type CacheMode string

const (
	// StaleIfSlow serves a cached result whose refresh keys are current; otherwise it fetches
	// a fresh one, but serves the stale result (slowQuery: true) if the fetch takes longer than
	// Config.StaleIfSlowWait, and lets the fetch finish to fill the cache. The default.
	StaleIfSlow CacheMode = "stale-if-slow"
	// StaleWhileRevalidate serves a cached result at once, current or not, and refreshes a
	// stale one in the background.
	StaleWhileRevalidate CacheMode = "stale-while-revalidate"
	// MustRevalidate serves a cached result only while its refresh keys are current, and
	// otherwise waits for the fresh one.
	MustRevalidate CacheMode = "must-revalidate"
	// NoCache skips the cache when reading and always runs the query (joining an identical
	// one already running); the result is still stored for the other modes.
	NoCache CacheMode = "no-cache"
)

// Valid reports whether m is one of the declared modes; "" is not (it means the default).
func (m CacheMode) Valid() bool {
	switch m {
	case StaleIfSlow, StaleWhileRevalidate, MustRevalidate, NoCache:
		return true
	}
	return false
}

// CacheOptions configure a Cache.
type CacheOptions struct {
	// MaxBytes caps the estimated memory of the cached results (default 64 MiB).
	MaxBytes int64
	// Now is the clock of refresh keys and of lastRefreshTime; nil means time.Now.
	Now func() time.Time
	// Metrics receives hits, misses, stale serves, evictions, bytes and refresh-key
	// evaluations; nil counts nothing.
	Metrics *Metrics
}

// DefaultCacheBytes is the default size cap of a Cache.
const DefaultCacheBytes = 64 << 20

// Cache is the result cache of one deployment (one data source), shared by every engine
// built for it: a reload or a restart builds a new Engine over the same Cache, and only the
// results of cubes whose definitions changed stop matching, because each key carries a
// fingerprint of the definitions of the cubes its query reads.
//
// An entry is a statement's rows, keyed by its SQL, its arguments (the security context's
// values among them) and those fingerprints, together with the refresh-key values of its
// cubes when it was computed and that time. The Cache also holds the memoised values of
// SQL refresh keys and the queries in flight, so that identical concurrent queries run
// once. It is bounded in bytes and evicts the least recently used results first. It is
// safe for concurrent use.
type Cache struct {
	max     int64
	now     func() time.Time
	metrics *Metrics

	mu      sync.Mutex
	size    int64
	order   *list.List // of *cacheEntry, most recently used first
	byKey   map[string]*list.Element
	fetches map[string]*fetch
	keys    map[string]*keyValue
}

// NewCache returns an empty cache.
func NewCache(opt CacheOptions) *Cache {
	if opt.MaxBytes <= 0 {
		opt.MaxBytes = DefaultCacheBytes
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Cache{max: opt.MaxBytes, now: opt.Now, metrics: opt.Metrics, order: list.New(),
		byKey: map[string]*list.Element{}, fetches: map[string]*fetch{}, keys: map[string]*keyValue{}}
}

// Len returns the number of cached results.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// Bytes returns the estimated memory of the cached results.
func (c *Cache) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.size
}

type cacheEntry struct {
	key  string
	rows [][]any
	// refresh are the refresh-key values of the statement's cubes when it was computed.
	refresh string
	// at is when the query that computed rows started: the data is at least that fresh.
	at   time.Time
	size int64
}

// cacheKey identifies a statement: its SQL text, its arguments with their types and the
// fingerprints of the cube definitions it reads.
func cacheKey(sql string, args []any, fingerprints string) string {
	var sb strings.Builder
	sb.WriteString(fingerprints)
	sb.WriteByte('\x01')
	sb.WriteString(sql)
	for _, a := range args {
		fmt.Fprintf(&sb, "\x00%T:%v", a, a)
	}
	return sb.String()
}

// lookup returns the entry of key, current or stale, and marks it used.
func (c *Cache) lookup(key string) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok {
		return nil
	}
	c.order.MoveToFront(el)
	return el.Value.(*cacheEntry)
}

// put stores an entry, evicting the least recently used ones beyond the cap. A result
// larger than the whole cap is not kept, and an entry never replaces a newer one (two
// fetches under different refresh-key values may finish out of order). Called with mu held.
func (c *Cache) put(e *cacheEntry) {
	e.size = int64(len(e.key)+len(e.refresh)) + rowsSize(e.rows)
	if e.size > c.max {
		return
	}
	if el, ok := c.byKey[e.key]; ok {
		if el.Value.(*cacheEntry).at.After(e.at) {
			return
		}
		c.remove(el)
	}
	c.byKey[e.key] = c.order.PushFront(e)
	c.size += e.size
	c.metrics.cacheGrew(e.size)
	for c.size > c.max {
		c.remove(c.order.Back())
		c.metrics.cacheEvent("eviction")
	}
}

func (c *Cache) remove(el *list.Element) {
	e := c.order.Remove(el).(*cacheEntry)
	delete(c.byKey, e.key)
	c.size -= e.size
	c.metrics.cacheGrew(-e.size)
}

// Purge drops every cached result and memoised refresh-key value, for a deployment that
// goes away: the bytes gauge then no longer counts them. Queries in flight finish and
// may store their results again.
func (c *Cache) Purge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.order.Len() > 0 {
		c.remove(c.order.Back())
	}
	clear(c.keys)
}

// fetch is one run of a statement, shared by every identical request while it runs.
type fetch struct {
	key  string // in Cache.fetches
	done chan struct{}
	rows [][]any
	at   time.Time
	err  error

	cancel context.CancelFunc
	// waiters are the requests waiting for the result; when the last one leaves and no
	// one asked for the result to be kept, the query is cancelled.
	waiters int
	keep    bool
}

// start joins the run of key under the refresh-key values refresh, or starts it with run.
// The caller counts as a waiter until it calls wait or leave. The run's context keeps the
// values and the deadline of ctx but not its cancellation: the run belongs to all its
// waiters, and may outlive them to fill the cache.
func (c *Cache) start(ctx context.Context, key, refresh string, run func(context.Context) ([][]any, error)) *fetch {
	fk := key + "\x02" + refresh
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.fetches[fk]; f != nil {
		f.waiters++
		return f
	}
	rctx, cancel := detach(ctx)
	f := &fetch{key: fk, done: make(chan struct{}), at: c.now(), cancel: cancel, waiters: 1}
	c.fetches[fk] = f
	go func() {
		defer cancel()
		rows, err := run(rctx)
		c.mu.Lock()
		defer c.mu.Unlock()
		f.rows, f.err = rows, err
		c.forget(f)
		if err == nil {
			c.put(&cacheEntry{key: key, rows: rows, refresh: refresh, at: f.at})
		}
		close(f.done)
	}()
	return f
}

// wait waits for f until it finishes (true), ctx ends or timeout fires (false). On false
// the caller is still a waiter and must call leave.
func (c *Cache) wait(ctx context.Context, f *fetch, timeout <-chan time.Time) bool {
	select {
	case <-f.done:
		c.leave(f, false)
		return true
	case <-ctx.Done():
		return false
	case <-timeout:
		return false
	}
}

// leave stops waiting for f. keep lets the run finish for the cache even if no one waits
// for it any more; otherwise the last waiter to leave cancels it.
func (c *Cache) leave(f *fetch, keep bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.waiters--
	f.keep = f.keep || keep
	if f.waiters == 0 && !f.keep {
		// A request arriving from now on starts a run of its own rather than joining one
		// that is being cancelled.
		c.forget(f)
		f.cancel()
	}
}

// forget removes f from the runs that requests join. Called with mu held.
func (c *Cache) forget(f *fetch) {
	if c.fetches[f.key] == f {
		delete(c.fetches, f.key)
	}
}

// detach returns a context with the values and the deadline of ctx that ctx's
// cancellation does not reach.
func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	d := context.WithoutCancel(ctx)
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(d, dl)
	}
	return context.WithCancel(d)
}

// rowsSize estimates the memory of rows: slice headers, interface words and string bytes.
func rowsSize(rows [][]any) int64 {
	size := int64(24 * len(rows))
	for _, row := range rows {
		size += int64(16 * len(row))
		for _, v := range row {
			if s, ok := v.(string); ok {
				size += int64(len(s))
			}
		}
	}
	return size
}
