package deploy

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

// fakeWarehouse counts its closes; the pool never queries it.
type fakeWarehouse struct {
	warehouse.Warehouse
	closes atomic.Int32
}

func (f *fakeWarehouse) Close() error { f.closes.Add(1); return nil }

// gatedSource is a source whose open waits for release and counts its calls.
type gatedSource struct {
	key     string
	release chan struct{}
	fail    atomic.Bool
	opens   atomic.Int32
	opened  []*fakeWarehouse
	mu      sync.Mutex
}

func newGated(key string) *gatedSource {
	return &gatedSource{key: key, release: make(chan struct{})}
}

func (g *gatedSource) source() source {
	return source{key: g.key, desc: g.key, open: func(context.Context) (warehouse.Warehouse, error) {
		g.opens.Add(1)
		<-g.release
		if g.fail.Load() {
			return nil, &errs.Error{Kind: errs.KindUnavailable, Message: "connection refused"}
		}
		w := &fakeWarehouse{}
		g.mu.Lock()
		g.opened = append(g.opened, w)
		g.mu.Unlock()
		return w, nil
	}}
}

func testPool() *pool {
	return newPool(slog.New(slog.DiscardHandler), func() *engine.Cache { return engine.NewCache(engine.CacheOptions{}) })
}

// TestPoolOpensOncePerKey checks that concurrent acquires of one key share one open, that
// a slow open blocks no other key, and that the last release closes the warehouse once.
func TestPoolOpensOncePerKey(t *testing.T) {
	p := testPool()
	slow := newGated("slow")
	const callers = 10
	got := make(chan *entry, callers)
	for range callers {
		go func() {
			e, err := p.acquire(context.Background(), slow.source())
			if err != nil {
				t.Error(err)
			}
			got <- e
		}()
	}

	fast := newGated("fast")
	close(fast.release)
	done := make(chan error, 1)
	go func() {
		e, err := p.acquire(context.Background(), fast.source())
		if err == nil {
			err = p.release(e)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an open of another source waited for the slow one")
	}

	close(slow.release)
	var entries []*entry
	for range callers {
		entries = append(entries, <-got)
	}
	if n := slow.opens.Load(); n != 1 {
		t.Fatalf("%d callers opened the source %d times, want once", callers, n)
	}
	for _, e := range entries {
		if e != entries[0] {
			t.Fatal("callers of one source got different warehouses")
		}
	}
	for i, e := range entries {
		if err := p.release(e); err != nil {
			t.Fatal(err)
		}
		closes := slow.opened[0].closes.Load()
		if last := i == len(entries)-1; (closes == 1) != last {
			t.Fatalf("after %d of %d releases the warehouse was closed %d times", i+1, len(entries), closes)
		}
	}
	if n := p.size(); n != 0 {
		t.Fatalf("pool holds %d warehouses after the last release, want 0", n)
	}
}

// TestPoolFailedOpenIsNotCached checks that the next acquire after a failed open tries again.
func TestPoolFailedOpenIsNotCached(t *testing.T) {
	p := testPool()
	g := newGated("pg")
	close(g.release)
	g.fail.Store(true)
	if _, err := p.acquire(context.Background(), g.source()); errs.KindOf(err) != errs.KindUnavailable {
		t.Fatalf("acquire = %v, want an unavailable error", err)
	}
	if n := p.size(); n != 0 {
		t.Fatalf("a failed open left %d pooled warehouses", n)
	}
	g.fail.Store(false)
	e, err := p.acquire(context.Background(), g.source())
	if err != nil {
		t.Fatalf("acquire after the source came back: %v", err)
	}
	if n := g.opens.Load(); n != 2 {
		t.Fatalf("opens = %d, want 2", n)
	}
	if err := p.release(e); err != nil {
		t.Fatal(err)
	}
}

// TestPoolCallerGivesUp checks that a caller whose context ends stops waiting, and that a
// warehouse nobody waits for any more is closed when its open finishes.
func TestPoolCallerGivesUp(t *testing.T) {
	p := testPool()
	g := newGated("slow")
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() {
		_, err := p.acquire(ctx, g.source())
		res <- err
	}()
	for g.opens.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-res; errs.KindOf(err) != errs.KindCanceled {
		t.Fatalf("acquire = %v, want a canceled error", err)
	}
	close(g.release)
	p.opening.Wait()
	if n := g.opened[0].closes.Load(); n != 1 {
		t.Fatalf("the abandoned warehouse was closed %d times, want once", n)
	}
	if n := p.size(); n != 0 {
		t.Fatalf("pool holds %d warehouses, want 0", n)
	}
}

// TestPoolClose checks that close shuts the warehouses in use once, that their later
// release does not close them again, and that acquires are refused afterwards.
func TestPoolClose(t *testing.T) {
	p := testPool()
	g := newGated("a")
	close(g.release)
	e, err := p.acquire(context.Background(), g.source())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.close(); err != nil {
		t.Fatal(err)
	}
	if err := p.release(e); err != nil {
		t.Fatal(err)
	}
	if n := g.opened[0].closes.Load(); n != 1 {
		t.Fatalf("warehouse closed %d times, want once", n)
	}
	if _, err := p.acquire(context.Background(), g.source()); !errors.Is(err, errClosed) {
		t.Fatalf("acquire after close = %v, want errClosed", err)
	}
}
