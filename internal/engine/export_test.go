package engine

// Waiting returns how many requests wait for runs in flight, so that a test can release a
// blocked query only once every request it started has joined.
func (c *Cache) Waiting() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, f := range c.fetches {
		n += f.waiters
	}
	return n
}
