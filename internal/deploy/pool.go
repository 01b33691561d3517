package deploy

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/preagg"
	"github.com/cubit-dev/cubit/internal/warehouse"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

// errClosed is returned by a Build that comes after Runtime.Close.
var errClosed = &errs.Error{Kind: errs.KindUnavailable, Message: "the deployment runtime is shut down"}

// pool holds the open warehouses, one per source key, with the number of users of each.
type pool struct {
	log *slog.Logger
	// newCache makes the result cache of a new entry.
	newCache func() *engine.Cache

	mu      sync.Mutex
	entries map[string]*entry
	closed  bool
	opening sync.WaitGroup // opens in flight, which Close waits for
}

// entry is one warehouse of the pool, open or being opened.
type entry struct {
	key  string
	desc string // what it connects to, without secrets, for logs

	// ready is closed when the open has finished; w or err is set before.
	ready chan struct{}
	w     warehouse.Warehouse
	err   error
	// cache is the result cache of every instance on this warehouse, so that it survives a
	// restart (the new instance is built on the entry before the old one lets go) and
	// deployments with the same cubes share results. One cache never spans two sources:
	// its keys do not name the warehouse.
	cache *engine.Cache
	// rollups is the local rollup store of the instances on this warehouse, opened when
	// the first model with rollup pre-aggregations is built on it.
	rollups struct {
		once  sync.Once
		db    *duckdb.DB
		store *preagg.Store
		err   error
	}

	// Guarded by pool.mu.
	refs   int  // callers waiting for the open, and leases handed out
	opened bool // the open has finished
	shut   bool // w has been closed, or is being closed by whoever set shut
}

func newPool(log *slog.Logger, newCache func() *engine.Cache) *pool {
	return &pool{log: log, newCache: newCache, entries: map[string]*entry{}}
}

// acquire returns the warehouse of src, opening it when no user holds it yet. The open
// runs in its own goroutine, outside the lock and without the caller's cancellation, so
// that a slow connect blocks only the callers that wait for that source, and a caller that
// gives up does not fail the others waiting for the same open. A failed open is not
// cached: the next acquire tries again. The caller releases the entry when done.
func (p *pool) acquire(ctx context.Context, src source) (*entry, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errClosed
	}
	e := p.entries[src.key]
	if e == nil {
		e = &entry{key: src.key, desc: src.desc, ready: make(chan struct{}), cache: p.newCache()}
		p.entries[src.key] = e
		p.opening.Add(1)
		go p.open(context.WithoutCancel(ctx), e, src.open)
	}
	e.refs++
	p.mu.Unlock()

	select {
	case <-e.ready:
	case <-ctx.Done():
		// A failed or discarded open leaves refs meaningless, so releasing is harmless
		// whichever way the open ends.
		_ = p.release(e)
		return nil, errs.Wrap(errs.KindOf(ctx.Err()), ctx.Err(), "waiting for the data source %s to open", src.desc)
	}
	if e.err != nil {
		return nil, e.err
	}
	return e, nil
}

// open opens e's warehouse and publishes the outcome.
func (p *pool) open(ctx context.Context, e *entry, open func(context.Context) (warehouse.Warehouse, error)) {
	defer p.opening.Done()
	start := time.Now()
	w, err := open(ctx)

	p.mu.Lock()
	e.opened = true
	var discard warehouse.Warehouse
	switch {
	case err != nil:
		e.err = err
		p.forget(e)
	case p.closed: // Close has already emptied the pool
		e.err, e.shut, discard = errClosed, true, w
	case e.refs == 0: // every caller gave up while it opened
		e.err, e.shut, discard = errClosed, true, w
		p.forget(e)
	default:
		e.w = w
	}
	p.mu.Unlock()
	close(e.ready)

	if err != nil {
		p.log.Warn("data source did not open", "source", e.desc, "err", err)
		return
	}
	p.log.Info("data source opened", "source", e.desc, "took", time.Since(start))
	if discard != nil {
		p.closeWarehouse(e, discard)
	}
}

// release gives back one use of e, closing its warehouse when it was the last.
func (p *pool) release(e *entry) error {
	p.mu.Lock()
	e.refs--
	var last warehouse.Warehouse
	if e.refs == 0 && e.opened && e.err == nil && !e.shut {
		e.shut, last = true, e.w
		p.forget(e)
	}
	p.mu.Unlock()
	if last == nil {
		return nil
	}
	return p.closeWarehouse(e, last)
}

// forget removes e from the pool unless a newer entry has taken its key. The caller holds mu.
func (p *pool) forget(e *entry) {
	if p.entries[e.key] == e {
		delete(p.entries, e.key)
	}
}

func (p *pool) closeWarehouse(e *entry, w warehouse.Warehouse) error {
	if e.rollups.db != nil {
		_ = e.rollups.db.Close()
	}
	err := w.Close()
	if err != nil {
		p.log.Error("closing data source", "source", e.desc, "err", err)
		return errs.Wrap(errs.KindInternal, err, "closing data source %s", e.desc)
	}
	p.log.Info("data source closed", "source", e.desc)
	return nil
}

// close closes every warehouse of the pool, in use or not, and refuses new acquires. It
// waits for the opens in flight, which close what they open.
func (p *pool) close() error {
	p.mu.Lock()
	p.closed = true
	var open []*entry
	for _, e := range p.entries {
		if e.opened && e.err == nil && !e.shut {
			e.shut = true
			open = append(open, e)
		}
	}
	clear(p.entries)
	p.mu.Unlock()
	p.opening.Wait()

	var all []error
	for _, e := range open {
		all = append(all, p.closeWarehouse(e, e.w))
	}
	return errors.Join(all...)
}

// size is the number of warehouses in the pool, open or opening.
func (p *pool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries)
}

// rollupStore returns e's local rollup store (an in-memory DuckDB), opening it on first use.
func (e *entry) rollupStore(schema string) (*preagg.Store, error) {
	e.rollups.once.Do(func() {
		e.rollups.db, e.rollups.err = duckdb.Open("", duckdb.Options{})
		if e.rollups.err == nil {
			e.rollups.store = preagg.NewStore(e.rollups.db, schema)
		}
	})
	return e.rollups.store, e.rollups.err
}
