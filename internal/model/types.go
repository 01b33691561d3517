package model

import "fmt"

// Pos is where a definition starts in the model files.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string {
	if p.File == "" {
		return "model"
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Kind tells a cube from a view.
type Kind string

const (
	KindCube Kind = "cube"
	KindView Kind = "view"
)

// Valid reports whether k is a declared kind.
func (k Kind) Valid() bool { return k == KindCube || k == KindView }

// Cube is a cube or a view. A view has no SQL of its own: its members are aliases of cube
// members (AliasOf) reached through the join paths of ViewCubes.
type Cube struct {
	Name        string
	Kind        Kind
	Title       string
	Description string
	// SQLTable and SQL are exclusive; SQLTable is inlined as a table name.
	SQLTable   string
	SQL        *Template
	SQLAlias   string
	DataSource string
	Public     bool
	Extends    string
	RefreshKey *RefreshKey
	Meta       map[string]any

	Measures        []*Measure
	Dimensions      []*Dimension
	Segments        []*Segment
	Joins           []*Join
	PreAggregations []*PreAggregation
	Hierarchies     []*Hierarchy
	Folders         []*Folder
	ViewCubes       []*ViewCube // views only

	// AccessPolicy is the raw access_policy of the definition. Cubit parses it so that Cube
	// models load, but does not enforce it yet.
	AccessPolicy any

	Pos Pos

	measures   map[string]*Measure
	dimensions map[string]*Dimension
	segments   map[string]*Segment
}

// RefreshKey says when a cube's or a pre-aggregation's data is considered changed.
type RefreshKey struct {
	Every        string // "10 second", "1 hour", or a cron expression
	SQL          *Template
	Timezone     string
	Incremental  bool
	UpdateWindow string
	Pos          Pos
}

// MeasureType is the aggregation of a measure.
type MeasureType string

const (
	MeasureCount               MeasureType = "count"
	MeasureCountDistinct       MeasureType = "count_distinct"
	MeasureCountDistinctApprox MeasureType = "count_distinct_approx"
	MeasureSum                 MeasureType = "sum"
	MeasureAvg                 MeasureType = "avg"
	MeasureMin                 MeasureType = "min"
	MeasureMax                 MeasureType = "max"
	MeasureNumber              MeasureType = "number"
	MeasureString              MeasureType = "string"
	MeasureTime                MeasureType = "time"
	MeasureBoolean             MeasureType = "boolean"
	MeasureRunningTotal        MeasureType = "running_total"
)

// Valid reports whether t is a declared measure type.
func (t MeasureType) Valid() bool {
	switch t {
	case MeasureCount, MeasureCountDistinct, MeasureCountDistinctApprox, MeasureSum, MeasureAvg,
		MeasureMin, MeasureMax, MeasureNumber, MeasureString, MeasureTime, MeasureBoolean,
		MeasureRunningTotal:
		return true
	}
	return false
}

// Aggregating reports whether the measure's SQL is a row expression that Cubit aggregates,
// as opposed to an expression that is already an aggregate (number, string, time, boolean).
func (t MeasureType) Aggregating() bool {
	switch t {
	case MeasureNumber, MeasureString, MeasureTime, MeasureBoolean:
		return false
	}
	return true
}

// Measure is an aggregate of a cube.
type Measure struct {
	Cube          *Cube
	Name          string
	Title         string
	Description   string
	Type          MeasureType
	SQL           *Template // nil for a count of rows
	Filters       []*Template
	Format        string
	DrillMembers  []string
	RollingWindow *RollingWindow
	Public        bool
	Meta          map[string]any
	AliasOf       string   // "cube.member" for a view member
	Path          []string // view members: the cubes of the join path, root first
	Pos           Pos
}

// RollingWindow makes a measure cumulative over a window of time around each bucket.
type RollingWindow struct {
	Trailing    string // interval like "7 day", "unbounded", or ""
	Leading     string
	Offset      string // "start" or "end" (default)
	Type        string // "" or "to_date"
	Granularity string // for to_date
	Pos         Pos
}

// DimensionType is the data type of a dimension.
type DimensionType string

const (
	DimString  DimensionType = "string"
	DimNumber  DimensionType = "number"
	DimTime    DimensionType = "time"
	DimBoolean DimensionType = "boolean"
	DimGeo     DimensionType = "geo"
	DimSwitch  DimensionType = "switch"
)

// Valid reports whether t is a declared dimension type.
func (t DimensionType) Valid() bool {
	switch t {
	case DimString, DimNumber, DimTime, DimBoolean, DimGeo, DimSwitch:
		return true
	}
	return false
}

// Dimension is an attribute of a cube's rows.
type Dimension struct {
	Cube                       *Cube
	Name                       string
	Title                      string
	Description                string
	Type                       DimensionType
	SQL                        *Template
	PrimaryKey                 bool
	Public                     bool
	Case                       *Case
	SubQuery                   bool
	PropagateFiltersToSubQuery bool
	Granularities              []*Granularity
	Latitude, Longitude        *Template // geo only
	Format                     string
	Meta                       map[string]any
	AliasOf                    string
	Path                       []string
	Pos                        Pos
}

// Case is a dimension defined by conditions and labels instead of one SQL expression.
type Case struct {
	When []CaseWhen
	Else CaseLabel
}

// CaseWhen is one branch of a Case.
type CaseWhen struct {
	SQL   *Template
	Label CaseLabel
}

// CaseLabel is a literal label or, when SQL is set, a label computed by SQL.
type CaseLabel struct {
	Text string
	SQL  *Template
}

// Granularity is a custom time granularity of a time dimension.
type Granularity struct {
	Name     string
	Title    string
	Interval string // "1 year", "2 weeks", "1 month 15 days"
	Offset   string
	Origin   string
	Pos      Pos
}

// Segment is a named, reusable row filter.
type Segment struct {
	Cube        *Cube
	Name        string
	Title       string
	Description string
	SQL         *Template
	Public      bool
	Meta        map[string]any
	AliasOf     string
	Path        []string
	Pos         Pos
}

// Relationship is the cardinality of a join, from the declaring cube to the joined one.
type Relationship string

const (
	OneToOne  Relationship = "one_to_one"
	OneToMany Relationship = "one_to_many"
	ManyToOne Relationship = "many_to_one"
)

// Valid reports whether r is a declared (normalised) relationship.
func (r Relationship) Valid() bool { return r == OneToOne || r == OneToMany || r == ManyToOne }

// Join is an edge of the join graph: the declaring cube LEFT JOINs cube Name.
type Join struct {
	From         *Cube
	Name         string
	Relationship Relationship
	SQL          *Template
	Pos          Pos
}

// PreAggregation is parsed and validated now; it is used by the rollup store.
type PreAggregation struct {
	Name                    string
	Type                    string // rollup (default), original_sql, rollup_join, rollup_lambda
	Measures                []string
	Dimensions              []string
	Segments                []string
	TimeDimension           string
	Granularity             string
	PartitionGranularity    string
	RefreshKey              *RefreshKey
	BuildRangeStart         *Template
	BuildRangeEnd           *Template
	Indexes                 []*Index
	Rollups                 []string
	ScheduledRefresh        *bool
	AllowNonStrictDateRange bool
	// UseOriginalSQL (use_original_sql_pre_aggregations) builds a rollup from the copy of
	// its cube's SQL that an original_sql pre-aggregation of the cube holds.
	UseOriginalSQL bool
	Pos            Pos
}

// Index is an index of a rollup table.
type Index struct {
	Name    string
	Columns []string
	Type    string
}

// Hierarchy is an ordered drill path of dimensions.
type Hierarchy struct {
	Name   string
	Title  string
	Levels []string
	Public bool
	Pos    Pos
}

// Folder groups members of a cube or view for display.
type Folder struct {
	Name    string
	Members []string // member names and nested folder names
	Folders []*Folder
	Pos     Pos
}

// ViewCube is one entry of a view's cubes list.
type ViewCube struct {
	JoinPath string // "orders.users"
	All      bool   // includes: "*"
	Includes []*ViewMember
	Excludes []string
	Prefix   bool
	Alias    string
	Pos      Pos
}

// ViewMember is an included member, possibly renamed.
type ViewMember struct {
	Name        string
	Alias       string
	Title       string
	Description string
	Format      string
	Meta        map[string]any
	Pos         Pos
}
