package store

import (
	"strconv"
	"strings"
)

// dialect is what differs between the two backends. Queries are written once with `?`
// placeholders in the SQL both engines accept; only these few things change.
type dialect interface {
	// name is the folder of the dialect's migrations under migrations/.
	name() string
	// rebind turns `?` placeholders into the engine's own.
	rebind(query string) string
	// migrationLock is a statement that serialises migrations between processes until the
	// transaction ends, or "" when beginning the transaction already does.
	migrationLock() string
	// isUnique and isForeignKey classify constraint violations.
	isUnique(err error) bool
	isForeignKey(err error) bool
}

// numberedPlaceholders rewrites `?` into `$1`, `$2`, …. The store's queries are constants
// with no `?` inside string literals, so a plain scan is enough.
func numberedPlaceholders(q string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}
