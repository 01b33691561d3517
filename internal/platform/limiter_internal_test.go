package platform

import (
	"testing"
	"time"
)

func TestLimiterDropsIdleBuckets(t *testing.T) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	l := NewLimiter(func() time.Time { return now })
	limit := RateLimit{RequestsPerSecond: 1, Burst: 1}
	l.Allow("a", limit)
	l.Allow("b", limit)
	now = now.Add(9 * time.Minute)
	l.Allow("b", limit) // b is used again; a is not
	now = now.Add(2 * time.Minute)
	l.Allow("c", limit)
	if got := l.size(); got != 2 {
		t.Fatalf("%d buckets after a's 11 idle minutes, want 2 (b and c)", got)
	}
	if ok, _ := l.Allow("a", limit); !ok {
		t.Fatal("a dropped bucket came back empty")
	}
}
