package engine

import (
	"container/list"
	"fmt"
	"strings"
	"sync"
	"time"
)

// resultCache keeps recent query results in memory, keyed by the SQL and its arguments, for
// as long as the data counts as fresh: Cube's default refresh key (every 10 seconds) until
// refresh keys are evaluated per cube. It is bounded in bytes and evicts the least recently
// used results first. A model reload builds a new engine and so starts a new cache.
type resultCache struct {
	ttl time.Duration
	max int64

	mu    sync.Mutex
	size  int64
	order *list.List // of *cacheEntry, most recently used first
	byKey map[string]*list.Element

	metrics *Metrics
}

type cacheEntry struct {
	key  string
	rows [][]any
	at   time.Time
	size int64
}

func newResultCache(ttl time.Duration, maxBytes int64, metrics *Metrics) *resultCache {
	return &resultCache{ttl: ttl, max: maxBytes, order: list.New(), byKey: map[string]*list.Element{}, metrics: metrics}
}

// cacheKey identifies a statement: its SQL text and its arguments with their types.
func cacheKey(sql string, args []any) string {
	var sb strings.Builder
	sb.WriteString(sql)
	for _, a := range args {
		fmt.Fprintf(&sb, "\x00%T:%v", a, a)
	}
	return sb.String()
}

// get returns the rows of key and when they were read, if they are still fresh.
func (c *resultCache) get(key string, now time.Time) ([][]any, time.Time, bool) {
	if c == nil {
		return nil, time.Time{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[key]
	if !ok || now.Sub(el.Value.(*cacheEntry).at) > c.ttl {
		c.metrics.cacheEvent("miss")
		return nil, time.Time{}, false
	}
	c.order.MoveToFront(el)
	c.metrics.cacheEvent("hit")
	e := el.Value.(*cacheEntry)
	return e.rows, e.at, true
}

// put stores rows read at at, evicting the least recently used results beyond the cap. A
// result larger than the whole cap is not kept.
func (c *resultCache) put(key string, rows [][]any, at time.Time) {
	if c == nil {
		return
	}
	size := int64(len(key)) + rowsSize(rows)
	if size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[key]; ok {
		c.remove(el)
	}
	c.byKey[key] = c.order.PushFront(&cacheEntry{key: key, rows: rows, at: at, size: size})
	c.size += size
	for c.size > c.max {
		c.remove(c.order.Back())
		c.metrics.cacheEvent("eviction")
	}
	c.metrics.cacheSize(c.size)
}

func (c *resultCache) remove(el *list.Element) {
	e := c.order.Remove(el).(*cacheEntry)
	delete(c.byKey, e.key)
	c.size -= e.size
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
