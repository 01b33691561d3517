package sqlapi

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/cubit-dev/cubit/internal/pgwire"
)

// SQL cursors (DECLARE ... CURSOR, FETCH, MOVE, CLOSE), as PostgreSQL has them.
//
// A cursor's SELECT runs when it is declared (its errors are DECLARE's), and its rows are
// kept in the session; FETCH and MOVE walk them. Positions follow PostgreSQL: 0 is before
// the first row, 1..n on a row, n+1 after the last. A cursor scrolls backward only when
// declared SCROLL: without SCROLL or NO SCROLL PostgreSQL decides by the plan, and the SQL
// API's statements are aggregates, which PostgreSQL cannot scan backward, so NO SCROLL is
// the default here. BINARY cursors are refused: the format of the rows is the protocol's.
// A cursor without WITH HOLD needs a transaction block (BEGIN, or the implicit block of a
// multi-statement simple query) and ends with it; one WITH HOLD survives COMMIT, and
// ROLLBACK closes it only if the transaction declared it.

// PostgreSQL's cursor options (parsenodes.h).
const (
	cursorOptBinary   = 0x0001
	cursorOptScroll   = 0x0002
	cursorOptNoScroll = 0x0004
	cursorOptHold     = 0x0020
)

// cursor is a declared cursor.
type cursor struct {
	name    string
	text    string // the DECLARE statement, for pg_cursors
	cols    []pgwire.Column
	data    [][]any
	pos     int // 0: before the first row; len(data)+1: after the last
	hold    bool
	scroll  bool
	inTx    bool // declared in the current transaction
	created time.Time
}

// declareCursor runs DECLARE.
func (s *session) declareCursor(ctx context.Context, st *statement, v *pg.DeclareCursorStmt, params []any) (pgwire.Rows, error) {
	hold := v.Options&cursorOptHold != 0
	if !hold && !s.inTx {
		return nil, sqlErr("25P01", "DECLARE CURSOR can only be used in transaction blocks")
	}
	if _, ok := s.cursors[v.Portalname]; ok {
		return nil, sqlErr("42P03", "cursor %q already exists", v.Portalname)
	}
	if v.Options&cursorOptBinary != 0 {
		return nil, unsupported("BINARY cursors", "declare the cursor without BINARY; the client's protocol chooses text or binary rows")
	}
	if v.Options&cursorOptScroll != 0 && v.Options&cursorOptNoScroll != 0 {
		return nil, sqlErr("42P11", "cannot specify both SCROLL and NO SCROLL")
	}
	if v.Query.GetSelectStmt() == nil {
		return nil, unsupported("DECLARE CURSOR for "+statementName(v.Query), "declare a cursor for a SELECT")
	}
	inner := &statement{s: s, node: v.Query, text: st.text}
	rs, err := s.selectRows(ctx, inner, v.Query, params)
	if err != nil {
		return nil, err
	}
	if !inner.described {
		// A Cube query's columns are its plan's.
		if err := inner.describe(ctx); err != nil {
			return nil, err
		}
	}
	if s.cursors == nil {
		s.cursors = map[string]*cursor{}
	}
	s.cursors[v.Portalname] = &cursor{name: v.Portalname, text: st.text, cols: inner.cols,
		data: rs.(*rows).data, hold: hold, scroll: v.Options&cursorOptScroll != 0, inTx: s.inTx, created: time.Now()}
	return &rows{tag: "DECLARE CURSOR"}, nil
}

// cursor returns the cursor named name, or 34000.
func (s *session) cursor(name string) (*cursor, error) {
	c, ok := s.cursors[name]
	if !ok {
		return nil, sqlErr("34000", "cursor %q does not exist", name)
	}
	return c, nil
}

// closeCursor runs CLOSE name and CLOSE ALL.
func (s *session) closeCursor(v *pg.ClosePortalStmt) (pgwire.Rows, error) {
	if v.Portalname == "" {
		s.cursors = nil
		return &rows{tag: "CLOSE CURSOR ALL"}, nil
	}
	if _, err := s.cursor(v.Portalname); err != nil {
		return nil, err
	}
	delete(s.cursors, v.Portalname)
	return &rows{tag: "CLOSE CURSOR"}, nil
}

// endTxCursors closes the cursors a transaction's end closes: at COMMIT those without
// WITH HOLD, at ROLLBACK also the ones WITH HOLD it declared.
func (s *session) endTxCursors(commit bool) {
	for name, c := range s.cursors {
		if !c.hold || (!commit && c.inTx) {
			delete(s.cursors, name)
			continue
		}
		c.inTx = false
	}
}

// fetch runs FETCH and MOVE.
func (s *session) fetch(v *pg.FetchStmt) (pgwire.Rows, error) {
	c, err := s.cursor(v.Portalname)
	if err != nil {
		return nil, err
	}
	data, moved, err := c.move(v.Direction, v.HowMany, !v.Ismove)
	if err != nil {
		return nil, err
	}
	if v.Ismove {
		return &rows{tag: fmt.Sprintf("MOVE %d", moved)}, nil
	}
	return &rows{data: data, tag: fmt.Sprintf("FETCH %d", moved)}, nil
}

// move moves the cursor as FETCH/MOVE direction count do, and returns the rows it passes
// over (when want) and their number.
func (c *cursor) move(dir pg.FetchDirection, count int64, want bool) ([][]any, int, error) {
	n := int64(len(c.data))
	pos := int64(c.pos)
	switch dir {
	case pg.FetchDirection_FETCH_FORWARD, pg.FetchDirection_FETCH_BACKWARD:
		if count == 0 {
			dir, count = pg.FetchDirection_FETCH_RELATIVE, 0
		} else if count < 0 && count != math.MinInt64 {
			count = -count
			if dir == pg.FetchDirection_FETCH_FORWARD {
				dir = pg.FetchDirection_FETCH_BACKWARD
			} else {
				dir = pg.FetchDirection_FETCH_FORWARD
			}
		}
	}
	// target is the row ABSOLUTE and RELATIVE land on (0 or n+1: none).
	var target int64
	switch dir {
	case pg.FetchDirection_FETCH_FORWARD:
		k := min(count, max(n-pos, 0))
		var out [][]any
		if want && k > 0 {
			out = c.data[pos : pos+k]
		}
		c.pos = int(pos + k)
		if k < count {
			c.pos = int(n + 1)
		}
		return out, int(k), nil
	case pg.FetchDirection_FETCH_BACKWARD:
		if !c.scroll {
			return nil, 0, scanForward()
		}
		from := min(pos, n+1) - 1 // the first row passed over
		k := min(count, max(from, 0))
		var out [][]any
		if want {
			for r := from; r > from-k; r-- {
				out = append(out, c.data[r-1])
			}
		}
		c.pos = int(pos - k)
		if k < count {
			c.pos = 0
		}
		return out, int(k), nil
	case pg.FetchDirection_FETCH_ABSOLUTE:
		switch {
		case count > 0:
			target = min(count, n+1)
		case count < 0:
			target = max(n+1+count, 0)
		}
	case pg.FetchDirection_FETCH_RELATIVE:
		target = min(max(pos+count, 0), n+1)
		if count == 0 && (pos < 1 || pos > n) {
			target = pos
		}
	default:
		return nil, 0, sqlErr("42601", "unknown FETCH direction")
	}
	if !c.scroll && (target <= pos || (dir == pg.FetchDirection_FETCH_ABSOLUTE && count < 0)) && !(target == pos && pos == 0) {
		return nil, 0, scanForward()
	}
	c.pos = int(target)
	if target < 1 || target > n {
		return nil, 0, nil
	}
	if want {
		return [][]any{c.data[target-1]}, 1, nil
	}
	return nil, 1, nil
}

func scanForward() error {
	e := sqlErr("55000", "cursor can only scan forward")
	e.Hint = "Declare it with SCROLL option to enable backward scan."
	return e
}

// fetchColumns describes FETCH's rows: the cursor's columns (none for MOVE).
func (s *session) fetchColumns(v *pg.FetchStmt) ([]pgwire.Column, error) {
	c, err := s.cursor(v.Portalname)
	if err != nil || v.Ismove {
		return nil, err
	}
	return append([]pgwire.Column{}, c.cols...), nil
}

// cursorRows are the rows of pg_cursors: name, statement, is_holdable, is_binary,
// is_scrollable, creation_time.
func (s *session) cursorRows() [][]any {
	out := make([][]any, 0, len(s.cursors))
	for _, c := range s.cursors {
		out = append(out, []any{c.name, c.text, c.hold, false, c.scroll,
			c.created.UTC().Format("2006-01-02 15:04:05.999999+00")})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0].(string) < out[j][0].(string) })
	return out
}
