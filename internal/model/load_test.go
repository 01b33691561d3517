package model

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func loadGood(t testing.TB) *Model {
	t.Helper()
	m, err := Load("testdata/good")
	if err != nil {
		t.Fatalf("good model: %v", err)
	}
	return m
}

func eq[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func at(file string, line int) Pos { return Pos{File: file, Line: line} }

func TestLoadGoodFiles(t *testing.T) {
	m := loadGood(t)
	// Sorted by path: cubes/catalog.yaml, cubes/orders.yml, cubes/users.yml,
	// extra/deep/events.yaml, views/orders_view.yml. The .js file, README.md and the hidden
	// .github folder (whose YAML is invalid) are skipped.
	eq(t, "cubes", names(m.Cubes), []string{"line_items", "products", "product_details",
		"profiles", "orders", "users", "base_events", "page_views", "orders_view",
		"orders_view_extended"})
	eq(t, "users.Pos", m.Cube("users").Pos, at("cubes/users.yml", 2))
	eq(t, "page_views.Pos", m.Cube("page_views").Pos, at("extra/deep/events.yaml", 34))
	if m.Cube("ignored") != nil {
		t.Error("loaded a .js cube")
	}
}

func names(cubes []*Cube) []string {
	out := make([]string, len(cubes))
	for i, c := range cubes {
		out[i] = c.Name
	}
	return out
}

func TestLoadGoodCube(t *testing.T) {
	c := loadGood(t).Cube("orders")
	const file = "cubes/orders.yml"
	eq(t, "Kind", c.Kind, KindCube)
	eq(t, "Pos", c.Pos, at(file, 3))
	// Folded SQL keeps its lines, as in Cube.
	eq(t, "SQL", c.SQL.Raw, "SELECT * FROM public.orders\n"+
		"WHERE {FILTER_PARAMS.orders.created_at.filter('created_at')}\n")
	eq(t, "SQL.Pos", c.SQL.Pos, at(file, 4))
	fp := c.SQL.Refs()[0]
	eq(t, "FILTER_PARAMS", fp, Part{Kind: PartFilterParams, Cube: "orders", Member: "created_at", Arg: "'created_at'"})
	eq(t, "SQLAlias", c.SQLAlias, "ord")
	eq(t, "DataSource", c.DataSource, "warehouse")
	eq(t, "Title", c.Title, "Orders")
	eq(t, "Description", c.Description, "All orders.")
	eq(t, "Public", c.Public, true)
	eq(t, "RefreshKey", *c.RefreshKey, RefreshKey{Every: "1 hour", Timezone: "Europe/Berlin", Pos: at(file, 12)})
	eq(t, "Meta", c.Meta, map[string]any{"owner": "sales", "tier": 1})
	eq(t, "members", c.MemberNames(), []string{"count", "total_amount", "completed_count",
		"completed_ratio", "users_count", "running_total", "last_week", "month_to_date",
		"avg_amount", "id", "user_id", "status", "amount", "created_at", "size", "items_count",
		"notes", "completed", "big"})
	eq(t, "Cube back-pointer", c.Measure("count").Cube, c)
}

func TestLoadGoodJoins(t *testing.T) {
	m := loadGood(t)
	// Every spelling of every relationship is normalised.
	want := map[string]Relationship{
		"orders>users": ManyToOne, "orders>line_items": OneToMany, "users>orders": OneToMany,
		"users>page_views": OneToMany, "users>profiles": OneToOne, "line_items>orders": ManyToOne,
		"line_items>products": ManyToOne, "products>product_details": OneToOne,
		"profiles>users": OneToOne, "base_events>users": ManyToOne, "page_views>users": ManyToOne,
	}
	got := map[string]Relationship{}
	for _, c := range m.Cubes {
		for _, j := range c.Joins {
			got[c.Name+">"+j.Name] = j.Relationship
			if j.From != c {
				t.Errorf("join %s>%s has From %v", c.Name, j.Name, j.From)
			}
		}
	}
	eq(t, "joins", got, want)
	j := m.Cube("orders").Join("line_items")
	eq(t, "join Pos", j.Pos, at("cubes/orders.yml", 22))
	eq(t, "join SQL", j.SQL.Raw, "{CUBE}.id = {line_items.order_id}")
	eq(t, "join SQL.Pos", j.SQL.Pos, at("cubes/orders.yml", 24))
}

func TestLoadGoodMeasures(t *testing.T) {
	c := loadGood(t).Cube("orders")
	const file = "cubes/orders.yml"
	count := c.Measure("count")
	eq(t, "count", *count, Measure{Cube: c, Name: "count", Type: MeasureCount, Public: true,
		DrillMembers: []string{"orders.id", "orders.status", "users.name"}, Pos: at(file, 27)})
	eq(t, "total_amount.SQL.Parts", c.Measure("total_amount").SQL.Parts,
		[]Part{{Kind: PartColumn, Text: "amount"}})
	eq(t, "total_amount.Format", c.Measure("total_amount").Format, "currency")
	filters := c.Measure("completed_count").Filters
	eq(t, "filters", []string{filters[0].Raw, filters[1].Raw},
		[]string{"{CUBE}.status = 'completed'", "{CUBE.amount} > 0"})
	eq(t, "filter Pos", filters[1].Pos, at(file, 38))
	eq(t, "completed_ratio.Public", c.Measure("completed_ratio").Public, false)
	eq(t, "countDistinct", c.Measure("users_count").Type, MeasureCountDistinct)
	eq(t, "object format", c.Measure("users_count").Format, "custom-numeric")
	eq(t, "avg_amount shown: false", c.Measure("avg_amount").Public, false)
	eq(t, "avg_amount.Meta", c.Measure("avg_amount").Meta, map[string]any{"unit": "EUR"})
	eq(t, "running_total", *c.Measure("running_total").RollingWindow,
		RollingWindow{Trailing: "unbounded", Pos: at(file, 54)})
	eq(t, "last_week", *c.Measure("last_week").RollingWindow,
		RollingWindow{Trailing: "7 days", Leading: "1 day", Offset: "start", Pos: at(file, 59)})
	eq(t, "month_to_date", *c.Measure("month_to_date").RollingWindow,
		RollingWindow{Type: "to_date", Granularity: "month", Pos: at(file, 66)})
}

func TestLoadGoodDimensions(t *testing.T) {
	m := loadGood(t)
	c := m.Cube("orders")
	const file = "cubes/orders.yml"
	id := c.Dimension("id")
	eq(t, "id", [3]any{id.PrimaryKey, id.Public, id.Pos}, [3]any{true, false, at(file, 76)})
	eq(t, "status.Title", c.Dimension("status").Title, "Order status")
	eq(t, "granularities", derefAll(c.Dimension("created_at").Granularities), []Granularity{
		{Name: "fiscal_year", Title: "Fiscal year", Interval: "1 year", Offset: "3 months", Pos: at(file, 94)},
		{Name: "sunday_week", Interval: "1 week", Origin: "2024-01-07", Pos: at(file, 98)},
		{Name: "half_month", Interval: "2 weeks 1 day", Pos: at(file, 101)},
	})
	size := c.Dimension("size")
	if size.SQL != nil || len(size.Case.When) != 2 {
		t.Fatalf("size: %+v", size)
	}
	eq(t, "case when sql", size.Case.When[0].SQL.Raw, "{CUBE}.amount < 100")
	eq(t, "case text label", size.Case.When[0].Label.Text, "small")
	eq(t, "case sql label", size.Case.When[1].Label.SQL.Raw, "{CUBE}.status")
	eq(t, "case else", size.Case.Else, CaseLabel{Text: "unknown"})
	sub := c.Dimension("items_count")
	eq(t, "sub_query", [2]bool{sub.SubQuery, sub.PropagateFiltersToSubQuery}, [2]bool{true, true})
	eq(t, "literal SQL", c.Dimension("notes").SQL.Raw, "CASE\n  WHEN {CUBE}.status = 'x' THEN 'y'\nEND\n")

	u := m.Cube("users")
	loc := u.Dimension("location")
	eq(t, "geo", [3]any{loc.Type, loc.Latitude.Raw, loc.Longitude.Raw},
		[3]any{DimGeo, "{CUBE}.lat", "{CUBE}.lng"})
	eq(t, "primaryKey + shown", [2]bool{u.Dimension("id").PrimaryKey, u.Dimension("id").Public},
		[2]bool{true, true})
	eq(t, "sqlTable", u.SQLTable, "public.users")
	eq(t, "refreshKey.sql", u.RefreshKey.SQL.Raw, "SELECT MAX(updated_at) FROM public.users")
	eq(t, "drillMembers", u.Measure("count").DrillMembers, []string{"users.id", "users.name"})
	eq[any](t, "accessPolicy", u.AccessPolicy, []any{map[string]any{"role": "*",
		"rowLevel": map[string]any{"allowAll": true}}})
	eq(t, "default data_source", m.Cube("line_items").DataSource, "default")
}

func derefAll[T any](ps []*T) []T {
	out := make([]T, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}

func TestLoadGoodSegmentsHierarchiesFolders(t *testing.T) {
	c := loadGood(t).Cube("orders")
	const file = "cubes/orders.yml"
	eq(t, "completed", *c.Segment("completed"), Segment{Cube: c, Name: "completed",
		Title: "Completed orders", SQL: c.Segment("completed").SQL, Public: true, Pos: at(file, 127)})
	eq(t, "big.Public", c.Segment("big").Public, false)
	eq(t, "hierarchies", derefAll(c.Hierarchies), []Hierarchy{{Name: "by_status",
		Title: "By status", Levels: []string{"orders.status", "users.city"}, Public: true,
		Pos: at(file, 163)}})
	nested := &Folder{Name: "Nested", Members: []string{"created_at", "by_status"}, Pos: at(file, 173)}
	eq(t, "folders", c.Folders, []*Folder{
		{Name: "Basics", Members: []string{"count", "status"}, Pos: at(file, 168)},
		{Name: "More", Members: []string{"amount", "Nested"}, Folders: []*Folder{nested}, Pos: at(file, 170)},
	})
}

func TestLoadGoodPreAggregations(t *testing.T) {
	c := loadGood(t).Cube("orders")
	const file = "cubes/orders.yml"
	main := c.PreAggregations[0]
	noRefresh := false
	eq(t, "main", *main, PreAggregation{
		Name: "main", Type: "rollup",
		Measures:   []string{"orders.count", "orders.total_amount", "orders.completed_count"},
		Dimensions: []string{"orders.status"}, Segments: []string{"orders.completed"},
		TimeDimension: "orders.created_at", Granularity: "fiscal_year", PartitionGranularity: "month",
		RefreshKey: &RefreshKey{Every: "0 * * * *", Incremental: true, UpdateWindow: "7 days",
			Pos: at(file, 143)},
		BuildRangeStart: main.BuildRangeStart, BuildRangeEnd: main.BuildRangeEnd,
		Indexes:          []*Index{{Name: "by_status", Columns: []string{"orders.status"}}},
		ScheduledRefresh: &noRefresh, AllowNonStrictDateRange: true, Pos: at(file, 135),
	})
	eq(t, "build_range_start", main.BuildRangeStart.Raw, "SELECT NOW() - INTERVAL '1 year'")
	eq(t, "build_range_end", main.BuildRangeEnd.Pos, at(file, 149))
	eq(t, "originalSql", c.PreAggregations[1].Type, "original_sql")
	eq(t, "lambda rollups", c.PreAggregations[2].Rollups, []string{"orders.main"})
}

func TestLoadGoodExtends(t *testing.T) {
	m := loadGood(t)
	pv, base := m.Cube("page_views"), m.Cube("base_events")
	eq(t, "members", pv.MemberNames(), []string{"count", "users", "bounces", "id", "user_id", "at", "url"})
	eq(t, "own sql_table", pv.SQLTable, "public.page_views")
	eq(t, "inherited title", pv.Title, "Events")
	eq(t, "inherited public", pv.Public, false)
	eq(t, "override", pv.Measure("users").Title, "Visitors")
	eq(t, "override Pos", pv.Measure("users").Pos, at("extra/deep/events.yaml", 38))
	// Inherited members are the child's own copies, positioned where the parent defined them.
	if pv.Measure("count") == base.Measure("count") || pv.Measure("count").Cube != pv {
		t.Error("inherited measure shares the parent's struct")
	}
	eq(t, "inherited Pos", pv.Dimension("at").Pos, at("extra/deep/events.yaml", 25))
	eq(t, "inherited join", pv.Join("users").From, pv)
	daily := pv.PreAggregations[0]
	eq(t, "rebased pre-aggregation", [2]any{daily.Measures, daily.TimeDimension},
		[2]any{[]string{"page_views.count"}, "page_views.at"})
	eq(t, "parent unchanged", base.PreAggregations[0].Measures, []string{"base_events.count"})
}

func TestLoadGoodViews(t *testing.T) {
	m := loadGood(t)
	v := m.Cube("orders_view")
	const file = "views/orders_view.yml"
	eq(t, "Kind", v.Kind, KindView)
	eq(t, "Pos", v.Pos, at(file, 2))
	eq(t, "Meta", v.Meta, map[string]any{"audience": "everyone"})
	eq(t, "members", v.MemberNames(), []string{"count", "revenue", "users_count", "item_count",
		"status", "created_at", "users_id", "users_name", "users_city", "completed"})
	eq(t, "ViewCubes[2]", *v.ViewCubes[2], ViewCube{JoinPath: "orders.line_items", Prefix: true,
		Alias: "item", Includes: []*ViewMember{{Name: "count", Pos: at(file, 31)}}, Pos: at(file, 28)})
	eq(t, "ViewCubes[1].Excludes", v.ViewCubes[1].Excludes, []string{"location", "CUBE.signed_up_at"})

	revenue := v.Measure("revenue")
	eq(t, "revenue", *revenue, Measure{Cube: v, Name: "revenue", Title: "Revenue",
		Description: "Sum of amounts.", Type: MeasureSum, Format: "currency", Public: true,
		Meta: map[string]any{"certified": true}, AliasOf: "orders.total_amount",
		Path: []string{"orders"}, Pos: at(file, 12)})
	if revenue == m.Cube("orders").Measure("total_amount") {
		t.Error("view member is the source struct")
	}
	usersID := v.Dimension("users_id")
	eq(t, "users_id", [5]any{usersID.AliasOf, usersID.Path, usersID.PrimaryKey, usersID.Public, usersID.Pos},
		[5]any{"users.id", []string{"orders", "users"}, true, true, at(file, 23)})
	eq(t, "granularities copied", v.Dimension("created_at").Granularities,
		m.Cube("orders").Dimension("created_at").Granularities)
	eq(t, "segment", v.Segment("completed").AliasOf, "orders.completed")
	eq(t, "item_count", v.Measure("item_count").Path, []string{"orders", "line_items"})
	eq(t, "hierarchy", derefAll(v.Hierarchies), []Hierarchy{{Name: "by_status", Title: "By status",
		Levels: []string{"orders_view.status", "orders_view.users_city"}, Public: true, Pos: at(file, 21)}})
	eq(t, "folders", len(v.Folders[1].Folders), 1)

	ext := m.Cube("orders_view_extended")
	eq(t, "extended", ext.MemberNames(), []string{"count", "revenue", "users_count", "item_count",
		"page_views_bounces", "status", "created_at", "users_id", "users_name", "users_city", "completed"})
	eq(t, "extended title", ext.Title, "Orders with customers")
	eq(t, "extended description", ext.Description, "More.")
	eq(t, "extended path", ext.Measure("page_views_bounces").Path, []string{"orders", "users", "page_views"})
}

// TestLoadPeerModel loads the model the peer Cube runs on: it must load unchanged.
func TestLoadPeerModel(t *testing.T) {
	const dir = "../../../shared/peer/model"
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the peer model must be beside the checkout in CI: %v", err)
		}
		t.Skipf("peer model not present: %v", err)
	}
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "cubes", m.CubeNames(), []string{"line_items", "orders", "products", "users"})
	eq(t, "orders.running_total_amount", m.Cube("orders").Measure("running_total_amount").RollingWindow.Trailing, "unbounded")
}

func TestLoadEmptyAndMissing(t *testing.T) {
	m, err := LoadFS(fstest.MapFS{"notes.txt": {Data: []byte("hi")}, "empty.yml": {}})
	if err != nil || len(m.Cubes) != 0 {
		t.Errorf("empty model: %v, %v", m, err)
	}
	_, err = Load("testdata/does-not-exist")
	var probs Problems
	if err == nil || errors.As(err, &probs) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing dir: %v", err)
	}
}

// TestFoldedSQLIsLiteral checks that `sql: >` reads like `sql: |`, chomping included.
func TestFoldedSQLIsLiteral(t *testing.T) {
	bodies := []string{
		"\n          SELECT 1 -- one\n          FROM t\n",
		"-\n          SELECT 1\n\n            AND x\n          FROM t\n\n",
		"+  # comment\n          SELECT 1\n          FROM t\n\n\n",
		"\n          SELECT 1\n",
	}
	for _, body := range bodies {
		load := func(style string) string {
			src := "cubes:\n  - name: c\n    dimensions:\n      - name: d\n        type: string\n        sql: " +
				style + body + "    sql_table: t\n"
			m, err := LoadFS(fstest.MapFS{"m.yml": {Data: []byte(src)}})
			if err != nil {
				t.Fatalf("%s\n%v", src, err)
			}
			return m.Cube("c").Dimension("d").SQL.Raw
		}
		if folded, literal := load(">"), load("|"); folded != literal {
			t.Errorf("folded %q, literal %q", folded, literal)
		}
	}
}

func TestAnchorsAndMerge(t *testing.T) {
	src := `cubes:
  - name: orders
    sql_table: orders
    meta: &meta {team: sales}
    dimensions:
      - &dim
        name: id
        sql: id
        type: number
        primary_key: true
      - <<: *dim
        name: id2
        primary_key: false
    segments:
      - <<: {name: merged_name, sql: "{CUBE}.x = 1"}
    measures:
      - name: count
        type: count
        meta: *meta
`
	m, err := LoadFS(fstest.MapFS{"m.yml": {Data: []byte(src)}})
	if err != nil {
		t.Fatal(err)
	}
	c := m.Cube("orders")
	eq(t, "meta via alias", c.Measure("count").Meta, map[string]any{"team": "sales"})
	id2 := c.Dimension("id2")
	eq(t, "merged", [3]any{id2.SQL.Raw, id2.Type, id2.PrimaryKey}, [3]any{"id", DimNumber, false})
	eq(t, "name from a merge", c.MemberNames()[3], "merged_name")
}

// TestAliasBomb checks that exponential and self-referencing aliases end in a problem.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("cubes:\n  - name: c\n    sql_table: t\n    meta:\n      l0: &l0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "      l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n",
			i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	_, err := LoadFS(fstest.MapFS{"m.yml": {Data: []byte(b.String())}})
	if err == nil || !strings.Contains(err.Error(), "YAML aliases expand to more than") {
		t.Errorf("alias bomb: %v", err)
	}
	self := "cubes:\n  - &c\n    name: c\n    sql_table: t\n    meta: {x: *c}\n"
	if _, err := LoadFS(fstest.MapFS{"m.yml": {Data: []byte(self)}}); err == nil {
		t.Error("self-referencing anchor loaded")
	}
}

// FuzzLoad feeds arbitrary bytes as a model file: LoadFS must return a model or problems,
// never panic or hang.
func FuzzLoad(f *testing.F) {
	err := fs.WalkDir(os.DirFS("testdata"), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".yaml")) {
			data, err := os.ReadFile("testdata/" + p)
			if err != nil {
				return err
			}
			f.Add(data)
		}
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := LoadFS(fstest.MapFS{"cubes/fuzz.yml": {Data: data}})
		if (m == nil) == (err == nil) {
			t.Fatalf("model %v with error %v", m, err)
		}
		var probs Problems
		if err != nil && (!errors.As(err, &probs) || len(probs) == 0) {
			t.Fatalf("error is not problems: %v", err)
		}
	})
}

// BenchmarkLoad1000Cubes measures LoadFS on a model of 1,000 cubes, each with five
// dimensions, five measures and a join to the previous cube.
func BenchmarkLoad1000Cubes(b *testing.B) {
	fsys := fstest.MapFS{}
	for i := range 1000 {
		fsys[fmt.Sprintf("cubes/c%04d.yml", i)] = &fstest.MapFile{Data: []byte(benchCube(i))}
	}
	if _, err := LoadFS(fsys); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := LoadFS(fsys); err != nil {
			b.Fatal(err)
		}
	}
}

func benchCube(i int) string {
	var s strings.Builder
	fmt.Fprintf(&s, "cubes:\n  - name: c%d\n    sql_table: public.t%d\n", i, i)
	if i > 0 {
		fmt.Fprintf(&s, "    joins:\n      - name: c%d\n        relationship: many_to_one\n"+
			"        sql: \"{CUBE}.parent_id = {c%d}.id\"\n", i-1, i-1)
	}
	s.WriteString("    dimensions:\n      - name: id\n        sql: id\n        type: number\n        primary_key: true\n")
	for _, d := range []string{"parent_id", "status", "city", "created_at"} {
		typ := map[string]string{"parent_id": "number", "created_at": "time"}[d]
		fmt.Fprintf(&s, "      - name: %s\n        sql: %s\n        type: %s\n", d, d, cmpOr(typ, "string"))
	}
	s.WriteString("    measures:\n      - name: count\n        type: count\n")
	for _, m := range []string{"sum", "avg", "min", "max"} {
		fmt.Fprintf(&s, "      - name: amount_%s\n        sql: \"{CUBE}.amount\"\n        type: %s\n", m, m)
	}
	return s.String()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// TestCamelCaseKeys loads a model written with Cube's camelCase spellings.
func TestCamelCaseKeys(t *testing.T) {
	src := `cubes:
  - name: orders
    sqlTable: orders
    sqlAlias: o
    dimensions:
      - name: id
        sql: id
        type: number
        primaryKey: true
      - name: createdAt
        sql: created_at
        type: time
      - name: itemCount
        sql: "{items.count}"
        type: number
        subQuery: true
        propagateFiltersToSubQuery: true
    measures:
      - name: count
        type: count
      - name: runningCount
        type: runningTotal
        sql: id
        rollingWindow:
          trailing: unbounded
    joins:
      - name: items
        relationship: hasMany
        sql: "{CUBE}.id = {items}.order_id"
    preAggregations:
      - name: main
        type: rollup
        measureReferences: [count]
        timeDimension: CUBE.createdAt
        granularity: day
        partitionGranularity: month
        scheduledRefresh: true
        allowNonStrictDateRangeMatch: true
        useOriginalSqlPreAggregations: false
        buildRangeStart:
          sql: SELECT '2024-01-01'
        refreshKey:
          every: 1 day
          updateWindow: 3 days
          incremental: true
  - name: items
    sql_table: items
    dimensions:
      - name: id
        sql: id
        type: number
        primary_key: true
    measures:
      - name: count
        type: count
`
	m, err := LoadFS(fstest.MapFS{"m.yml": {Data: []byte(src)}})
	if err != nil {
		t.Fatal(err)
	}
	c := m.Cube("orders")
	p := c.PreAggregations[0]
	eq(t, "pre-aggregation", [5]any{p.Measures, p.TimeDimension, p.PartitionGranularity,
		p.BuildRangeStart.Raw, p.RefreshKey.UpdateWindow},
		[5]any{[]string{"orders.count"}, "orders.createdAt", "month", "SELECT '2024-01-01'", "3 days"})
	eq(t, "sub query", c.Dimension("itemCount").SubQuery, true)
	eq(t, "runningTotal", c.Measure("runningCount").Type, MeasureRunningTotal)
	eq(t, "sqlAlias", c.SQLAlias, "o")
}

// TestSecurityContextTemplates parses every form of SECURITY_CONTEXT: the three spellings,
// nested keys, the three methods, quoted and unquoted arguments.
func TestSecurityContextTemplates(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want Part
	}{
		{"{SECURITY_CONTEXT.user_id.filter('user_id')}",
			Part{Kind: PartSecurityContext, Path: []string{"user_id"}, Method: SecurityFilter, Arg: "'user_id'"}},
		{`{security_context.tenant.id.requiredFilter("orders.tenant_id")}`,
			Part{Kind: PartSecurityContext, Path: []string{"tenant", "id"}, Method: SecurityRequiredFilter, Arg: `"orders.tenant_id"`}},
		{"{securityContext.a.b.c.filter(lower(email))}",
			Part{Kind: PartSecurityContext, Path: []string{"a", "b", "c"}, Method: SecurityFilter, Arg: "lower(email)"}},
		{"{ SECURITY_CONTEXT.ids.unsafeValue() }",
			Part{Kind: PartSecurityContext, Path: []string{"ids"}, Method: SecurityUnsafeValue}},
	} {
		tmpl, err := ParseTemplate("x IN "+c.raw, at("m.yml", 1))
		if err != nil {
			t.Errorf("%s: %v", c.raw, err)
			continue
		}
		eq(t, c.raw, tmpl.Parts, []Part{{Kind: PartText, Text: "x IN "}, c.want})
		// The context is not a member: nothing for the validator to resolve.
		eq(t, c.raw+" refs", len(tmpl.Refs()), 0)
	}
	eq(t, "Column", Part{Arg: "'user_id'"}.Column(), "user_id")
	eq(t, "Column unquoted", Part{Arg: "lower(email)"}.Column(), "lower(email)")
}
