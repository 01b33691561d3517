package sqlapi

import (
	"sort"
	"strings"

	"github.com/cubit-dev/cubit/internal/model"
)

// OIDs of the PostgreSQL types the SQL API describes its columns with.
const (
	oidBool        uint32 = 16
	oidInt8        uint32 = 20
	oidInt2        uint32 = 21
	oidInt4        uint32 = 23
	oidText        uint32 = 25
	oidFloat4      uint32 = 700
	oidFloat8      uint32 = 701
	oidDate        uint32 = 1082
	oidTime        uint32 = 1083
	oidTimestamp   uint32 = 1114
	oidTimestamptz uint32 = 1184
	oidInterval    uint32 = 1186
	oidNumeric     uint32 = 1700
)

// typeNames are the information_schema data_type names of the OIDs.
var typeNames = map[uint32]string{
	oidBool: "boolean", oidInt8: "bigint", oidInt2: "smallint", oidInt4: "integer",
	oidText: "text", oidFloat4: "real", oidFloat8: "double precision", oidDate: "date",
	oidTime: "time without time zone", oidTimestamp: "timestamp without time zone",
	oidTimestamptz: "timestamp with time zone", oidInterval: "interval", oidNumeric: "numeric",
}

// duckTypes are the DuckDB column types the pushed-down results are loaded as.
var duckTypes = map[uint32]string{
	oidBool: "BOOLEAN", oidInt8: "BIGINT", oidText: "VARCHAR", oidFloat8: "DOUBLE",
	oidTimestamp: "TIMESTAMP",
}

// colKind tells the columns of a cube table apart.
type colKind int

const (
	colMeasure colKind = iota
	colDimension
	colSegment
	colUser      // __user: the security context switch
	colJoinField // __cubeJoinField: the join marker between cube tables
)

// Column names of the two pseudo columns every cube table has (spec F).
const (
	userColumn      = "__user"
	joinFieldColumn = "__cubeJoinField"
)

// column is one column of a cube table: a member, or one of the pseudo columns.
type column struct {
	Name string // the member's short name, as the table shows it
	Kind colKind
	// Member is "cube.member"; empty for the pseudo columns.
	Member    string
	Measure   *model.Measure   // Kind == colMeasure
	Dimension *model.Dimension // Kind == colDimension
	OID       uint32
	Attr      uint16
}

// table is a visible cube or view, seen as a table of schema public.
type table struct {
	Name    string
	Cube    *model.Cube
	OID     uint32
	Columns []*column
	byName  map[string]*column // lower-case names
}

// column finds a column by name, case-insensitively.
func (t *table) column(name string) *column { return t.byName[strings.ToLower(name)] }

func (t *table) columnNames() []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Name
	}
	return out
}

// catalog is the SQL view of one model version: its visible cubes and views as tables.
type catalog struct {
	model  *model.Model
	tables []*table          // sorted by name
	byName map[string]*table // lower-case names
}

// firstTableOID numbers the tables like user relations of a PostgreSQL database.
const firstTableOID = 16384

// newCatalog lists the tables of m: every public cube and view, with its public members.
// Columns come in spec F's order: measures, dimensions, segments, __user, __cubeJoinField.
func newCatalog(m *model.Model) *catalog {
	c := &catalog{model: m, byName: map[string]*table{}}
	var cubes []*model.Cube
	for _, cube := range m.Cubes {
		if cube.Public {
			cubes = append(cubes, cube)
		}
	}
	sort.Slice(cubes, func(i, j int) bool { return cubes[i].Name < cubes[j].Name })
	for i, cube := range cubes {
		t := &table{Name: cube.Name, Cube: cube, OID: uint32(firstTableOID + i), byName: map[string]*column{}}
		add := func(col *column) {
			if _, dup := t.byName[strings.ToLower(col.Name)]; dup {
				return
			}
			col.Attr = uint16(len(t.Columns) + 1)
			t.Columns = append(t.Columns, col)
			t.byName[strings.ToLower(col.Name)] = col
		}
		for _, ms := range cube.Measures {
			if ms.Public {
				add(&column{Name: ms.Name, Kind: colMeasure, Member: cube.Name + "." + ms.Name, Measure: ms, OID: measureOID(ms.Type)})
			}
		}
		for _, d := range cube.Dimensions {
			if d.Public {
				add(&column{Name: d.Name, Kind: colDimension, Member: cube.Name + "." + d.Name, Dimension: d, OID: dimensionOID(d.Type)})
			}
		}
		for _, s := range cube.Segments {
			if s.Public {
				add(&column{Name: s.Name, Kind: colSegment, Member: cube.Name + "." + s.Name, OID: oidBool})
			}
		}
		add(&column{Name: userColumn, Kind: colUser, OID: oidText})
		add(&column{Name: joinFieldColumn, Kind: colJoinField, OID: oidText})
		c.tables = append(c.tables, t)
		c.byName[strings.ToLower(t.Name)] = t
	}
	return c
}

// table finds a table by name, case-insensitively.
func (c *catalog) table(name string) *table { return c.byName[strings.ToLower(name)] }

func (c *catalog) tableNames() []string {
	out := make([]string, len(c.tables))
	for i, t := range c.tables {
		out[i] = t.Name
	}
	return out
}

// measureOID is the column type of a measure (spec F): counts are int8, the other
// aggregates and number measures float8. A time measure is a timestamp where Cube says
// text: its values are times, and a BI tool can only use them as times.
func measureOID(t model.MeasureType) uint32 {
	switch t {
	case model.MeasureCount, model.MeasureCountDistinct, model.MeasureCountDistinctApprox:
		return oidInt8
	case model.MeasureBoolean:
		return oidBool
	case model.MeasureString:
		return oidText
	case model.MeasureTime:
		return oidTimestamp
	}
	return oidFloat8
}

// dimensionOID is the column type of a dimension (spec F).
func dimensionOID(t model.DimensionType) uint32 {
	switch t {
	case model.DimTime:
		return oidTimestamp
	case model.DimNumber:
		return oidFloat8
	case model.DimBoolean:
		return oidBool
	}
	return oidText
}
