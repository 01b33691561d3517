package engine

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/plan"
	"github.com/cubit-dev/cubit/internal/warehouse"
)

// Result is the body of a /load response for one query (spec C.1), plus Cubit's
// truncated flag.
type Result struct {
	Query           json.RawMessage `json:"query"`
	Data            any             `json:"data"`
	LastRefreshTime string          `json:"lastRefreshTime"`
	Annotation      Annotation      `json:"annotation"`
	DataSource      string          `json:"dataSource"`
	DBType          string          `json:"dbType"`
	ExtDBType       string          `json:"extDbType"`
	External        bool            `json:"external"`
	SlowQuery       bool            `json:"slowQuery"`
	Total           *int64          `json:"total"`
	// UsedPreAggregations names the rollup table the rows were read from; absent when they
	// came from the source.
	UsedPreAggregations map[string]UsedPreAggregation `json:"usedPreAggregations,omitempty"`
	// Truncated is true when the row limit cut the result: Cube says nothing then.
	Truncated bool `json:"truncated"`

	rows    []Row
	columns []string
}

// Rows returns the result rows in order.
func (r *Result) Rows() []Row { return r.rows }

// Columns returns the keys of each row, in order.
func (r *Result) Columns() []string { return r.columns }

// Row is one result row: member keys and values, in column order. It marshals as a JSON
// object whose keys keep that order.
type Row struct {
	Keys   []string
	Values []any
}

// Get returns the value of key and whether the row has it.
func (r Row) Get(key string) (any, bool) {
	for i, k := range r.Keys {
		if k == key {
			return r.Values[i], true
		}
	}
	return nil, false
}

// MarshalJSON writes the row as an object with its keys in column order.
func (r Row) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range r.Keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		vb, err := json.Marshal(r.Values[i])
		if err != nil {
			return nil, err
		}
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// compact is the data of responseFormat "compact".
type compact struct {
	Members []string `json:"members"`
	Dataset [][]any  `json:"dataset"`
}

// columnar is the data of responseFormat "columnar": one array of values per member.
type columnar struct {
	Members []string `json:"members"`
	Columns [][]any  `json:"columns"`
}

// TimeLayout is how Cube writes times: local wall clock, milliseconds, no offset.
const TimeLayout = "2006-01-02T15:04:05.000"

// formatValue turns a warehouse value into its JSON form. Numbers are strings, as Cube
// returns them, unless typed numbers were asked for.
func formatValue(v any, typed bool) any {
	switch x := v.(type) {
	case time.Time:
		return x.Format(TimeLayout)
	case int64:
		if typed {
			return x
		}
		return strconv.FormatInt(x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		if typed {
			return x
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case warehouse.Numeric:
		if typed {
			return json.Number(x)
		}
		return string(x)
	}
	return v
}

// outputKeys are the row keys of each column: a time dimension with a granularity also
// appears under its bare name, as Cube's clients expect, carrying its finest granularity,
// unless it is a plain dimension too.
func outputKeys(cols []*plan.Column) (keys []string, source []int) {
	plain := map[string]bool{}
	finest := map[string]int{}
	for i, c := range cols {
		switch {
		case c.Kind == plan.ColDimension:
			plain[c.Key] = true
		case c.Kind == plan.ColTime:
			if j, ok := finest[c.Time.Name]; !ok || fineness(c) < fineness(cols[j]) {
				finest[c.Time.Name] = i
			}
		}
	}
	for i, c := range cols {
		keys = append(keys, c.Key)
		source = append(source, i)
		if c.Kind == plan.ColTime && !plain[c.Time.Name] && finest[c.Time.Name] == i {
			keys = append(keys, c.Time.Name)
			source = append(source, i)
		}
	}
	return keys, source
}

// granularityRank orders the built-in granularities from finest to coarsest; custom ones
// rank after them.
var granularityRank = map[string]int{"second": 0, "minute": 1, "hour": 2, "day": 3, "week": 4, "month": 5, "quarter": 6, "year": 7}

func fineness(c *plan.Column) int {
	if r, ok := granularityRank[c.Time.Granularity]; ok && c.Time.Custom == nil {
		return r
	}
	return len(granularityRank)
}

// Annotation describes the members of a result (spec C.2).
type Annotation struct {
	Measures       map[string]MemberAnnotation `json:"measures"`
	Dimensions     map[string]MemberAnnotation `json:"dimensions"`
	Segments       map[string]MemberAnnotation `json:"segments"`
	TimeDimensions map[string]MemberAnnotation `json:"timeDimensions"`
}

// MemberAnnotation is the annotation of one member.
type MemberAnnotation struct {
	Title               string              `json:"title"`
	ShortTitle          string              `json:"shortTitle"`
	Description         string              `json:"description,omitempty"`
	Type                string              `json:"type"`
	Format              string              `json:"format,omitempty"`
	Meta                map[string]any      `json:"meta,omitempty"`
	DrillMembers        []string            `json:"drillMembers,omitempty"`
	DrillMembersGrouped *DrillMembersGroups `json:"drillMembersGrouped,omitempty"`
	Granularity         *GranularityInfo    `json:"granularity,omitempty"`
}

// DrillMembersGroups splits drill members into measures and dimensions.
type DrillMembersGroups struct {
	Measures   []string `json:"measures"`
	Dimensions []string `json:"dimensions"`
}

// GranularityInfo describes the granularity of a time dimension column.
type GranularityInfo struct {
	Name     string `json:"name"`
	Title    string `json:"title"`
	Interval string `json:"interval"`
	Type     string `json:"type"`
	Offset   string `json:"offset,omitempty"`
	Origin   string `json:"origin,omitempty"`
}

func annotate(p *plan.Plan, m *model.Model) Annotation {
	a := Annotation{
		Measures:       map[string]MemberAnnotation{},
		Dimensions:     map[string]MemberAnnotation{},
		Segments:       map[string]MemberAnnotation{},
		TimeDimensions: map[string]MemberAnnotation{},
	}
	r := p.Query
	for _, mm := range r.Measures {
		a.Measures[mm.Name] = measureAnnotation(m, mm.Name, mm.Measure)
	}
	for _, d := range r.Dimensions {
		a.Dimensions[d.Name] = dimensionAnnotation(m, d.Name, d.Dimension)
	}
	for _, s := range r.Segments {
		cube, short := titles(m, s.Name, s.Segment.Title)
		a.Segments[s.Name] = MemberAnnotation{Title: cube + " " + short, ShortTitle: short, Type: "boolean", Description: s.Segment.Description, Meta: s.Segment.Meta}
	}
	for _, c := range p.Columns {
		if c.Kind != plan.ColTime {
			continue
		}
		ann := dimensionAnnotation(m, c.Time.Name, c.Time.Dimension)
		if _, plain := a.Dimensions[c.Time.Name]; !plain {
			if _, seen := a.TimeDimensions[c.Time.Name]; !seen {
				a.TimeDimensions[c.Time.Name] = ann
			}
		}
		ann.Granularity = granularityInfo(c.Time.Granularity, c.Time.Custom)
		a.TimeDimensions[c.Key] = ann
	}
	return a
}

func measureAnnotation(m *model.Model, name string, mm *model.Measure) MemberAnnotation {
	cube, short := titles(m, name, mm.Title)
	typ := "number"
	switch mm.Type {
	case model.MeasureString:
		typ = "string"
	case model.MeasureTime:
		typ = "time"
	case model.MeasureBoolean:
		typ = "boolean"
	}
	a := MemberAnnotation{Title: cube + " " + short, ShortTitle: short, Type: typ, Format: mm.Format, Description: mm.Description, Meta: mm.Meta}
	if len(mm.DrillMembers) > 0 {
		a.DrillMembers = mm.DrillMembers
		g := &DrillMembersGroups{Measures: []string{}, Dimensions: []string{}}
		for _, d := range mm.DrillMembers {
			if c, member, ok := strings.Cut(d, "."); ok && m.Cube(c) != nil && m.Cube(c).Measure(member) != nil {
				g.Measures = append(g.Measures, d)
			} else {
				g.Dimensions = append(g.Dimensions, d)
			}
		}
		a.DrillMembersGrouped = g
	}
	return a
}

func dimensionAnnotation(m *model.Model, name string, d *model.Dimension) MemberAnnotation {
	cube, short := titles(m, name, d.Title)
	typ := string(d.Type)
	if d.Type == model.DimSwitch || d.Type == model.DimGeo {
		typ = "string"
	}
	return MemberAnnotation{Title: cube + " " + short, ShortTitle: short, Type: typ, Format: d.Format, Description: d.Description, Meta: d.Meta}
}

// titles returns the cube title and the member title of a member name as queried.
func titles(m *model.Model, name, memberTitle string) (string, string) {
	cubeName, member, _ := strings.Cut(name, ".")
	cube := Titleize(cubeName)
	if c := m.Cube(cubeName); c != nil && c.Title != "" {
		cube = c.Title
	}
	if memberTitle == "" {
		memberTitle = Titleize(member)
	}
	return cube, memberTitle
}

func granularityInfo(name string, custom *model.Granularity) *GranularityInfo {
	if custom != nil {
		title := custom.Title
		if title == "" {
			title = Titleize(custom.Name)
		}
		return &GranularityInfo{Name: custom.Name, Title: title, Interval: custom.Interval, Type: "custom", Offset: custom.Offset, Origin: custom.Origin}
	}
	interval := "1 " + name
	if name == "quarter" {
		interval = "3 months"
	}
	return &GranularityInfo{Name: name, Title: Titleize(name), Interval: interval, Type: "built-in"}
}

// Titleize turns a member name into a title as Cube does: words split at underscores and
// case changes, each capitalised, "id" as "ID" (users_orders → Users Orders).
func Titleize(s string) string {
	var words []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			words = append(words, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || c == ' ':
			flush()
		case c >= 'A' && c <= 'Z' && i > 0 && s[i-1] >= 'a' && s[i-1] <= 'z':
			flush()
			cur.WriteByte(c)
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	for i, w := range words {
		if strings.EqualFold(w, "id") {
			words[i] = "ID"
			continue
		}
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}
