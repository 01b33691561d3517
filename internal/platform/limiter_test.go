package platform_test

import (
	"sync"
	"testing"
	"time"

	"github.com/cubit-dev/cubit/internal/platform"
)

// tclock is a settable clock for the tests of this file set.
type tclock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *tclock { return &tclock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *tclock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *tclock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestLimiterBurstRefuseRefill(t *testing.T) {
	clk := newClock()
	l := platform.NewLimiter(clk.Now)
	limit := platform.RateLimit{RequestsPerSecond: 2, Burst: 3}
	for i := range 3 {
		if ok, _ := l.Allow("shop/main token:a", limit); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, retry := l.Allow("shop/main token:a", limit)
	if ok || retry != 500*time.Millisecond {
		t.Fatalf("after the burst: ok=%v retry=%v, want refused with 500ms", ok, retry)
	}
	// A refused request does not use up the token that is coming.
	clk.Advance(250 * time.Millisecond)
	if ok, retry := l.Allow("shop/main token:a", limit); ok || retry != 250*time.Millisecond {
		t.Fatalf("250ms later: ok=%v retry=%v, want refused with 250ms", ok, retry)
	}
	clk.Advance(250 * time.Millisecond)
	if ok, _ := l.Allow("shop/main token:a", limit); !ok {
		t.Fatal("a refilled token was refused")
	}
	if ok, _ := l.Allow("shop/main token:a", limit); ok {
		t.Fatal("one refill gave two tokens")
	}
	// Other keys have their own buckets.
	if ok, _ := l.Allow("shop/main addr:10.0.0.1", limit); !ok {
		t.Fatal("another key shares the bucket")
	}
	// A long wait refills to the burst, no more.
	clk.Advance(time.Hour)
	for i := range 3 {
		if ok, _ := l.Allow("shop/main token:a", limit); !ok {
			t.Fatalf("refilled burst: request %d refused", i+1)
		}
	}
	if ok, _ := l.Allow("shop/main token:a", limit); ok {
		t.Fatal("a bucket filled beyond its burst")
	}
}

func TestLimiterZeroAlwaysAllows(t *testing.T) {
	l := platform.NewLimiter(newClock().Now)
	for range 1000 {
		if ok, _ := l.Allow("k", platform.RateLimit{}); !ok {
			t.Fatal("a zero limit refused")
		}
	}
}

func TestLimiterChangedLimitApplies(t *testing.T) {
	clk := newClock()
	l := platform.NewLimiter(clk.Now)
	slow := platform.RateLimit{RequestsPerSecond: 1, Burst: 1}
	if ok, _ := l.Allow("k", slow); !ok {
		t.Fatal("first request refused")
	}
	if ok, retry := l.Allow("k", slow); ok || retry != time.Second {
		t.Fatalf("second request: ok=%v retry=%v", ok, retry)
	}
	// The bucket keeps its (empty) state, and refills at the new rate from the change on:
	// 100ms at 10/s is a token, where 200ms at 1/s would not be.
	fast := platform.RateLimit{RequestsPerSecond: 10, Burst: 1}
	clk.Advance(100 * time.Millisecond)
	if ok, _ := l.Allow("k", fast); ok {
		t.Fatal("changing the limit refilled the bucket")
	}
	clk.Advance(100 * time.Millisecond)
	if ok, _ := l.Allow("k", fast); !ok {
		t.Fatal("the faster limit did not apply to the existing bucket")
	}
}
