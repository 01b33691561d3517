package platform

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// bucketIdle is how long a bucket may go unused before it is dropped. A dropped bucket
// comes back full, which is what ten idle minutes would have refilled it to for any rate
// of at least Burst per ten minutes; slower limits forget a little, and memory stays
// bounded by the clients of the last ten minutes instead of every client ever seen.
const bucketIdle = 10 * time.Minute

// Limiter holds token buckets by key (a deployment with a token or a client address). It
// is safe for concurrent use. The buckets live in this process: with several nodes each
// node limits on its own, so a client spread over n nodes may get up to n times the rate.
type Limiter struct {
	clock func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim   *rate.Limiter
	limit RateLimit
	used  time.Time
}

// NewLimiter returns a Limiter reading the time from clock (time.Now when nil), so that
// tests control refills.
func NewLimiter(clock func() time.Time) *Limiter {
	if clock == nil {
		clock = time.Now
	}
	return &Limiter{clock: clock, buckets: map[string]*bucket{}}
}

// Allow takes one token from the bucket of key (e.g. "shop/main token:abc" or
// "shop/main addr:1.2.3.4") with limit. When the bucket is empty it returns false and how
// long until the next token, for Retry-After (rounding up to whole seconds is the HTTP
// edge's business). A zero limit always allows. A changed limit applies to the key's
// existing bucket, keeping the tokens it has.
func (l *Limiter) Allow(key string, limit RateLimit) (ok bool, retryAfter time.Duration) {
	if limit.Unlimited() || limit.RequestsPerSecond < 0 {
		return true, 0
	}
	burst := max(limit.Burst, 1) // ParseSecurity refuses 0; a hand-made limit still works
	now := l.clock()

	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(rate.Limit(limit.RequestsPerSecond), burst), limit: limit} // starts full
		l.buckets[key] = b
	} else if b.limit != limit {
		b.lim.SetLimitAt(now, rate.Limit(limit.RequestsPerSecond))
		b.lim.SetBurstAt(now, burst)
		b.limit = limit
	}
	b.used = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Second // cannot happen with burst >= 1; refuse rather than panic
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now) // a refused request must not use up the next token
		return false, d
	}
	return true, 0
}

// sweep drops idle buckets, at most once a minute so that it costs nothing per request.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < time.Minute {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		if now.Sub(b.used) >= bucketIdle {
			delete(l.buckets, k)
		}
	}
}

// size is the number of buckets held, for tests of the sweep.
func (l *Limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
