package preagg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

// DefaultSchema is where rollup tables live (Cube's CUBEJS_PRE_AGGREGATIONS_SCHEMA default
// outside development mode).
const DefaultSchema = "prod_pre_aggregations"

// Store is the local rollup store: an embedded DuckDB database (in memory or a file) that
// holds the built rollup tables, and the list of which table currently serves each rollup.
// It outlives engines: a reload that keeps a cube unchanged keeps its rollups. It is safe for
// concurrent use.
type Store struct {
	wh     warehouse.Warehouse
	schema string

	mu      sync.Mutex
	ready   bool
	current map[string]*Table // by rollup key (see Set.key)
	retired map[string]*Table // the previous table of each key, dropped at the next swap
	seq     int
	// building serialises the builds of one key across the Sets that share the store.
	building map[string]*sync.Mutex
	// models memoises the model over each table (by table name) that serving plans on.
	models sync.Map
}

// NewStore returns a store over wh, which must be a DuckDB database (the SQL it is sent is
// DuckDB's). schema "" is DefaultSchema.
func NewStore(wh warehouse.Warehouse, schema string) *Store {
	if schema == "" {
		schema = DefaultSchema
	}
	return &Store{wh: wh, schema: schema, current: map[string]*Table{}, retired: map[string]*Table{},
		building: map[string]*sync.Mutex{}}
}

// lock takes the build lock of a rollup key and returns its release.
func (s *Store) lock(key string) func() {
	s.mu.Lock()
	m := s.building[key]
	if m == nil {
		m = &sync.Mutex{}
		s.building[key] = m
	}
	s.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// Warehouse returns the DuckDB database of the store.
func (s *Store) Warehouse() warehouse.Warehouse { return s.wh }

// Table is one built version of a rollup in one time zone.
type Table struct {
	// Name is the qualified, quoted-safe table name ("prod_pre_aggregations.orders_x_1a2b3c").
	Name string
	// Coverage is the zone and the range its rows cover.
	Coverage Coverage
	// RefreshKey is the value of the rollup's refresh key the table was built under.
	RefreshKey string
	// BuiltAt is when the build started: the data is at least this fresh.
	BuiltAt time.Time
	// Partitions are the partitions of the table, by their start ("" for an unpartitioned
	// rollup, "null" for the rows without a time).
	Partitions []string
	// Rows is the number of rows.
	Rows int64
	// Kept is how many partitions an incremental refresh copied from the previous table
	// instead of rebuilding them from the source.
	Kept int
	// columns are the table's columns; an incremental refresh copies rows only into a table
	// of the same columns.
	columns []column
}

// Current returns the table serving the rollup key, or nil before its first build.
func (s *Store) Current(key string) *Table {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current[key]
}

// newName returns a fresh table name for a rollup: the cube and rollup names (Cube's
// `<cube>_<preagg>`) and a suffix unique to this build, so that each version has its own
// table, the SQL over it differs and the result cache never mixes versions.
func (s *Store) newName(cube, name, key string) string {
	s.mu.Lock()
	s.seq++
	seq := s.seq
	s.mu.Unlock()
	h := sha256.Sum256([]byte(key + "\x00" + strconv.Itoa(seq) + "\x00" + time.Now().String()))
	return s.schema + "." + ident(cube+"_"+name) + "_" + hex.EncodeToString(h[:4])
}

// ident keeps the characters of a name that need no quoting in DuckDB.
func ident(s string) string {
	var sb strings.Builder
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			sb.WriteRune(r)
		} else {
			sb.WriteByte('_')
		}
	}
	return sb.String()
}

// exec runs a statement that returns no rows of interest.
func (s *Store) exec(ctx context.Context, sql string, args ...any) error {
	rows, err := s.wh.Query(ctx, sql, args)
	if err != nil {
		return err
	}
	_, _, err = warehouse.Collect(rows)
	return err
}

func (s *Store) init(ctx context.Context) error {
	s.mu.Lock()
	ready := s.ready
	s.mu.Unlock()
	if ready {
		return nil
	}
	if err := s.exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+s.schema); err != nil {
		return errs.Wrap(errs.KindOf(err), err, "creating the rollup schema %s", s.schema)
	}
	s.mu.Lock()
	s.ready = true
	s.mu.Unlock()
	return nil
}

// swap makes t the table of key. The table it replaces stays until the next swap, so that
// queries already running on it finish; the one before is dropped now.
func (s *Store) swap(ctx context.Context, key string, t *Table) {
	s.mu.Lock()
	old := s.retired[key]
	s.retired[key] = s.current[key]
	s.current[key] = t
	s.mu.Unlock()
	if old != nil {
		s.models.Delete(old.Name)
		_ = s.exec(ctx, "DROP TABLE IF EXISTS "+old.Name)
	}
}

// column is a column of a rollup table.
type column struct {
	name string
	typ  string
}

// createTable creates an empty rollup table.
func (s *Store) createTable(ctx context.Context, name string, cols []column) error {
	var sb strings.Builder
	sb.WriteString("CREATE TABLE " + name + " (")
	for i, c := range cols {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(quote(c.name) + " " + c.typ)
	}
	sb.WriteString(")")
	return s.exec(ctx, sb.String())
}

// copyPartitions copies the rows of the partitions keep from table from into table to, which
// have the same columns, and returns how many rows it copied.
func (s *Store) copyPartitions(ctx context.Context, from, to string, keep map[string]bool) (int64, error) {
	ids := make([]string, 0, len(keep))
	for id := range keep {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	marks := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		marks[i] = "$" + strconv.Itoa(i+1)
		args[i] = id
	}
	where := " WHERE " + quote(partitionColumn) + " IN (" + strings.Join(marks, ", ") + ")"
	if err := s.exec(ctx, "INSERT INTO "+to+" SELECT * FROM "+from+where, args...); err != nil {
		return 0, err
	}
	rows, err := s.wh.Query(ctx, "SELECT count(*) FROM "+to+where, args)
	if err != nil {
		return 0, err
	}
	_, data, err := warehouse.Collect(rows)
	if err != nil {
		return 0, err
	}
	n, _ := data[0][0].(int64)
	return n, nil
}

// insertBatch is how many rows one INSERT carries.
const insertBatch = 500

// appender is the fast path of a store on DuckDB: its appender (internal/warehouse/duckdb).
type appender interface {
	Append(ctx context.Context, schema, table string, types []string, rows [][]any) error
}

// insert appends rows to a table: through the warehouse's appender when it has one, else
// with bound parameters, a batch at a time.
func (s *Store) insert(ctx context.Context, name string, cols []column, rows [][]any) error {
	if a, ok := s.wh.(appender); ok {
		schema, table, _ := strings.Cut(name, ".")
		types := make([]string, len(cols))
		for i, c := range cols {
			types[i] = c.typ
		}
		return a.Append(ctx, schema, table, types, rows)
	}
	for start := 0; start < len(rows); start += insertBatch {
		batch := rows[start:min(start+insertBatch, len(rows))]
		var sb strings.Builder
		args := make([]any, 0, len(batch)*len(cols))
		sb.WriteString("INSERT INTO " + name + " VALUES ")
		for i, row := range batch {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for j, v := range row {
				if j > 0 {
					sb.WriteString(", ")
				}
				args = append(args, bindable(v))
				fmt.Fprintf(&sb, "CAST($%d AS %s)", len(args), cols[j].typ)
			}
			sb.WriteByte(')')
		}
		if err := s.exec(ctx, sb.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// bindable turns a warehouse value into a driver argument: exact decimals travel as text
// and are cast by the INSERT.
func bindable(v any) any {
	if n, ok := v.(warehouse.Numeric); ok {
		return string(n)
	}
	return v
}

func quote(ident string) string { return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"` }
