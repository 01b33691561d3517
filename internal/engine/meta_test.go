package engine_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cubit-dev/cubit/internal/dialect"
	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/model"
)

// demoMetaEngine is an engine over the demo model; /meta needs no warehouse.
func demoMetaEngine(t *testing.T) *engine.Engine {
	t.Helper()
	m, err := demoModel()
	if err != nil {
		t.Fatal(err)
	}
	return engine.New(m, dialect.DuckDB{}, nil, engine.DefaultConfig())
}

// metaJSON is the meta as a client decodes it, so that the tests check the JSON keys and
// not only the Go fields.
type metaJSON struct {
	Cubes []map[string]any `json:"cubes"`
}

func decodeMeta(t *testing.T, meta *engine.Meta) metaJSON {
	t.Helper()
	b, err := json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	var out metaJSON
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func cubeOf(t *testing.T, meta metaJSON, name string) map[string]any {
	t.Helper()
	for _, c := range meta.Cubes {
		if c["name"] == name {
			return c
		}
	}
	t.Fatalf("cube %s is missing from the meta", name)
	return nil
}

func hasCube(meta metaJSON, name string) bool {
	return slices.ContainsFunc(meta.Cubes, func(c map[string]any) bool { return c["name"] == name })
}

// memberOf returns the member called name from the list key ("measures", ...) of cube,
// or nil.
func memberOf(cube map[string]any, key, name string) map[string]any {
	list, _ := cube[key].([]any)
	for _, item := range list {
		if m, ok := item.(map[string]any); ok && m["name"] == name {
			return m
		}
	}
	return nil
}

func memberNames(cube map[string]any, key string) []string {
	var names []string
	list, _ := cube[key].([]any)
	for _, item := range list {
		names = append(names, item.(map[string]any)["name"].(string))
	}
	return names
}

func strList(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, s := range list {
		out = append(out, s.(string))
	}
	return out
}

func wantField(t *testing.T, what string, obj map[string]any, key string, want any) {
	t.Helper()
	got, ok := obj[key]
	if !ok {
		t.Errorf("%s: %s is missing", what, key)
		return
	}
	if n, isNum := got.(json.Number); isNum {
		got = n.String()
	}
	if got != want {
		t.Errorf("%s: %s = %#v, want %#v", what, key, got, want)
	}
}

func TestMetaDemoCubes(t *testing.T) {
	meta := decodeMeta(t, demoMetaEngine(t).Meta(engine.MetaOptions{}))

	var names []string
	for _, c := range meta.Cubes {
		names = append(names, c["name"].(string))
	}
	// Model order: files sorted by path, cubes/ before views/.
	want := []string{"daily_sales", "line_items", "orders", "products", "users", "orders_view", "sales_view"}
	if !slices.Equal(names, want) {
		t.Errorf("cubes = %v, want %v", names, want)
	}

	orders := cubeOf(t, meta, "orders")
	wantField(t, "orders", orders, "type", "cube")
	wantField(t, "orders", orders, "title", "Orders")
	wantField(t, "orders", orders, "description", "One row per order placed in the shop, 2023 to 2025.")
	wantField(t, "orders", orders, "isVisible", true)
	wantField(t, "orders", orders, "public", true)
	if m, _ := orders["meta"].(map[string]any); m["owner"] != "sales-analytics" {
		t.Errorf("orders meta = %v, want owner sales-analytics", orders["meta"])
	}
	for _, key := range []string{"measures", "dimensions", "segments", "hierarchies", "folders", "nestedFolders"} {
		if _, ok := orders[key].([]any); !ok {
			t.Errorf("orders: %s = %#v, want an array", key, orders[key])
		}
	}
	for _, key := range []string{"sql", "sqlTable", "joins", "preAggregations"} {
		if _, ok := orders[key]; ok {
			t.Errorf("orders: %s is set outside the extended meta", key)
		}
	}
	if c := cubeOf(t, meta, "line_items"); c["title"] != "Order lines" {
		t.Errorf("line_items title = %v, want the explicit title", c["title"])
	}

	// Members keep definition order.
	measures := memberNames(orders, "measures")
	if len(measures) < 3 || !slices.Equal(measures[:3], []string{"orders.count", "orders.completed_count", "orders.mobile_completed_count"}) {
		t.Errorf("orders measures start %v, want definition order", measures)
	}
	segments := memberNames(orders, "segments")
	if !slices.Equal(segments, []string{"orders.completed", "orders.web", "orders.with_coupon"}) {
		t.Errorf("orders segments = %v", segments)
	}
}

func TestMetaDemoMeasures(t *testing.T) {
	meta := decodeMeta(t, demoMetaEngine(t).Meta(engine.MetaOptions{}))
	orders := cubeOf(t, meta, "orders")

	count := memberOf(orders, "measures", "orders.count")
	if count == nil {
		t.Fatal("orders.count is missing")
	}
	wantField(t, "orders.count", count, "title", "Orders Number of orders")
	wantField(t, "orders.count", count, "shortTitle", "Number of orders")
	wantField(t, "orders.count", count, "type", "number")
	wantField(t, "orders.count", count, "aggType", "count")
	wantField(t, "orders.count", count, "cumulative", false)
	wantField(t, "orders.count", count, "cumulativeTotal", false)
	wantField(t, "orders.count", count, "isVisible", true)
	wantField(t, "orders.count", count, "public", true)
	drill := []string{"orders.id", "orders.status", "orders.amount", "orders.created_at", "users.name", "users.city"}
	if got := strList(count["drillMembers"]); !slices.Equal(got, drill) {
		t.Errorf("orders.count drillMembers = %v, want %v", got, drill)
	}
	grouped, _ := count["drillMembersGrouped"].(map[string]any)
	if got := strList(grouped["dimensions"]); !slices.Equal(got, drill) {
		t.Errorf("orders.count drillMembersGrouped.dimensions = %v, want %v", got, drill)
	}
	if m, ok := grouped["measures"].([]any); !ok || len(m) != 0 {
		t.Errorf("orders.count drillMembersGrouped.measures = %#v, want []", grouped["measures"])
	}
	if _, ok := count["aliasMember"]; ok {
		t.Error("orders.count has aliasMember, but it is a cube member")
	}

	revenue := memberOf(orders, "measures", "orders.total_revenue")
	wantField(t, "orders.total_revenue", revenue, "title", "Orders Total Revenue")
	wantField(t, "orders.total_revenue", revenue, "shortTitle", "Total Revenue")
	wantField(t, "orders.total_revenue", revenue, "aggType", "sum")
	wantField(t, "orders.total_revenue", revenue, "type", "number")
	wantField(t, "orders.total_revenue", revenue, "format", "currency")
	wantField(t, "orders.total_revenue", revenue, "description", "Sum of order amounts, before discounts, whatever the status.")

	for name, want := range map[string][2]string{
		"orders.customers":           {"countDistinct", "number"},
		"orders.customers_approx":    {"countDistinctApprox", "number"},
		"orders.average_order_value": {"avg", "number"},
		"orders.min_amount":          {"min", "number"},
		"orders.max_amount":          {"max", "number"},
		"orders.completed_ratio":     {"number", "number"},
		"orders.first_order_at":      {"time", "time"},
		"orders.channels":            {"string", "string"},
		"orders.any_returned":        {"boolean", "boolean"},
		"orders.running_revenue":     {"runningTotal", "number"},
	} {
		m := memberOf(orders, "measures", name)
		if m == nil {
			t.Errorf("%s is missing", name)
			continue
		}
		wantField(t, name, m, "aggType", want[0])
		wantField(t, name, m, "type", want[1])
	}
	for _, name := range []string{"orders.running_revenue", "orders.cumulative_revenue", "orders.revenue_7d", "orders.revenue_year_to_date"} {
		m := memberOf(orders, "measures", name)
		wantField(t, name, m, "cumulative", true)
		wantField(t, name, m, "cumulativeTotal", true)
	}
	wantField(t, "orders.completed_ratio", memberOf(orders, "measures", "orders.completed_ratio"), "format", "percent")
	// A measure without a format or description leaves the keys out, as Cube does.
	if m := memberOf(orders, "measures", "orders.completed_count"); m["format"] != nil || m["description"] != nil {
		t.Errorf("orders.completed_count = %v, want no format or description", m)
	}
}

func TestMetaDemoDimensionsAndSegments(t *testing.T) {
	meta := decodeMeta(t, demoMetaEngine(t).Meta(engine.MetaOptions{}))
	orders := cubeOf(t, meta, "orders")

	channel := memberOf(orders, "dimensions", "orders.channel")
	wantField(t, "orders.channel", channel, "title", "Orders Sales channel")
	wantField(t, "orders.channel", channel, "shortTitle", "Sales channel")
	wantField(t, "orders.channel", channel, "type", "string")
	wantField(t, "orders.channel", channel, "suggestFilterValues", true)
	wantField(t, "orders.channel", channel, "primaryKey", false)
	wantField(t, "orders.channel", channel, "isVisible", true)

	// The primary key is public in the demo, so it stays, flagged as the key.
	id := memberOf(orders, "dimensions", "orders.id")
	wantField(t, "orders.id", id, "primaryKey", true)
	wantField(t, "orders.id", id, "title", "Orders ID")
	wantField(t, "orders.id", id, "type", "number")
	wantField(t, "orders.amount", memberOf(orders, "dimensions", "orders.amount"), "format", "currency")

	created := memberOf(orders, "dimensions", "orders.created_at")
	wantField(t, "orders.created_at", created, "type", "time")
	wantField(t, "orders.created_at", created, "title", "Orders Order time")
	grans, _ := created["granularities"].([]any)
	if len(grans) != 3 {
		t.Fatalf("orders.created_at granularities = %v, want the 3 custom ones", created["granularities"])
	}
	fiscal := grans[0].(map[string]any)
	wantField(t, "fiscal_year", fiscal, "name", "fiscal_year")
	wantField(t, "fiscal_year", fiscal, "title", "Fiscal year (starts in April)")
	wantField(t, "fiscal_year", fiscal, "interval", "1 year")
	wantField(t, "fiscal_year", fiscal, "offset", "3 months")
	if _, ok := fiscal["origin"]; ok {
		t.Error("fiscal_year has an origin, but the model gives none")
	}
	wantField(t, "two_weeks", grans[1].(map[string]any), "origin", "2023-01-02")
	if _, ok := memberOf(orders, "dimensions", "orders.completed_at")["granularities"]; ok {
		t.Error("orders.completed_at lists granularities, but it has no custom ones")
	}

	// Booleans stay booleans; geo dimensions read as strings.
	wantField(t, "orders.is_completed", memberOf(orders, "dimensions", "orders.is_completed"), "type", "boolean")
	users := cubeOf(t, meta, "users")
	wantField(t, "users.location", memberOf(users, "dimensions", "users.location"), "type", "string")
	wantField(t, "users", users, "title", "Customers")
	email := memberOf(users, "dimensions", "users.email")
	if m, _ := email["meta"].(map[string]any); m["pii"] != true {
		t.Errorf("users.email meta = %v, want pii true", email["meta"])
	}

	web := memberOf(orders, "segments", "orders.web")
	wantField(t, "orders.web", web, "title", "Orders Web orders")
	wantField(t, "orders.web", web, "shortTitle", "Web orders")
	wantField(t, "orders.web", web, "isVisible", true)
	wantField(t, "orders.completed", memberOf(orders, "segments", "orders.completed"), "title", "Orders Completed")

	geo := memberOf(users, "hierarchies", "users.geography")
	if geo == nil {
		t.Fatal("users.geography is missing")
	}
	wantField(t, "users.geography", geo, "title", "Geography")
	if got := strList(geo["levels"]); !slices.Equal(got, []string{"users.country", "users.state", "users.city"}) {
		t.Errorf("users.geography levels = %v", got)
	}
}

func TestMetaHiddenMembers(t *testing.T) {
	e := demoMetaEngine(t)
	meta := decodeMeta(t, e.Meta(engine.MetaOptions{}))
	orders := cubeOf(t, meta, "orders")
	if memberOf(orders, "dimensions", "orders.user_id") != nil {
		t.Error("orders.user_id (public: false) is listed")
	}
	// products.id is a primary key without public: hidden by default.
	if memberOf(cubeOf(t, meta, "products"), "dimensions", "products.id") != nil {
		t.Error("products.id (a primary key, hidden by default) is listed")
	}
	if memberOf(cubeOf(t, meta, "users"), "dimensions", "users.id") == nil {
		t.Error("users.id (public: true) is missing")
	}
	for _, c := range meta.Cubes {
		for _, key := range []string{"measures", "dimensions", "segments"} {
			for _, item := range c[key].([]any) {
				if m := item.(map[string]any); m["isVisible"] != true || m["public"] != true {
					t.Errorf("%s is listed but not visible", m["name"])
				}
			}
		}
	}

	// The extended meta keeps hidden members, marked invisible.
	ext := decodeMeta(t, e.Meta(engine.MetaOptions{Extended: true}))
	userID := memberOf(cubeOf(t, ext, "orders"), "dimensions", "orders.user_id")
	if userID == nil {
		t.Fatal("extended: orders.user_id is missing")
	}
	wantField(t, "extended orders.user_id", userID, "isVisible", false)
	wantField(t, "extended orders.user_id", userID, "public", false)
	wantField(t, "extended products.id", memberOf(cubeOf(t, ext, "products"), "dimensions", "products.id"), "isVisible", false)
}

// TestMetaHiddenCube builds a model by hand: an invisible cube hides all its members and
// drops out of the meta, as does a cube whose only members are hidden.
func TestMetaHiddenCube(t *testing.T) {
	secret := &model.Cube{Name: "secret", Kind: model.KindCube, SQLTable: "secret", Public: false,
		Measures: []*model.Measure{{Name: "count", Type: model.MeasureCount, Public: true}}}
	keysOnly := &model.Cube{Name: "keys_only", Kind: model.KindCube, SQLTable: "k", Public: true,
		Dimensions: []*model.Dimension{{Name: "id", Type: model.DimNumber, PrimaryKey: true}}}
	open := &model.Cube{Name: "open", Kind: model.KindCube, SQLTable: "o", Public: true,
		Measures: []*model.Measure{{Name: "count", Type: model.MeasureCount, Public: true}}}
	e := engine.New(model.New([]*model.Cube{secret, keysOnly, open}), dialect.DuckDB{}, nil, engine.DefaultConfig())

	meta := decodeMeta(t, e.Meta(engine.MetaOptions{}))
	if hasCube(meta, "secret") || hasCube(meta, "keys_only") || !hasCube(meta, "open") {
		t.Errorf("cubes = %v, want only open", meta.Cubes)
	}
	// Isolated cubes are each their own component.
	ext := decodeMeta(t, e.Meta(engine.MetaOptions{Extended: true}))
	s := cubeOf(t, ext, "secret")
	wantField(t, "extended secret", s, "isVisible", false)
	wantField(t, "extended secret.count", memberOf(s, "measures", "secret.count"), "isVisible", false)
	seen := map[any]bool{}
	for _, c := range ext.Cubes {
		n := c["connectedComponent"].(json.Number).String()
		if seen[n] {
			t.Errorf("unjoined cubes share connectedComponent %s", n)
		}
		seen[n] = true
	}
}

func TestMetaConnectedComponents(t *testing.T) {
	meta := decodeMeta(t, demoMetaEngine(t).Meta(engine.MetaOptions{}))
	component := func(name string) string {
		return cubeOf(t, meta, name)["connectedComponent"].(json.Number).String()
	}
	// orders joins users and line_items; line_items joins products: one component, though
	// products declares no join itself.
	want := component("orders")
	for _, name := range []string{"users", "line_items", "products", "orders_view", "sales_view"} {
		if got := component(name); got != want {
			t.Errorf("%s connectedComponent = %s, want %s (orders')", name, got, want)
		}
	}
	// daily_sales joins nothing.
	if component("daily_sales") == want {
		t.Error("daily_sales shares the component of orders but joins nothing")
	}
}

func TestMetaViews(t *testing.T) {
	e := demoMetaEngine(t)
	meta := decodeMeta(t, e.Meta(engine.MetaOptions{}))
	v := cubeOf(t, meta, "orders_view")
	wantField(t, "orders_view", v, "type", "view")
	wantField(t, "orders_view", v, "title", "Orders with customers")

	aov := memberOf(v, "measures", "orders_view.aov")
	if aov == nil {
		t.Fatal("orders_view.aov is missing")
	}
	wantField(t, "orders_view.aov", aov, "aliasMember", "orders.average_order_value")
	wantField(t, "orders_view.aov", aov, "title", "Orders with customers Average order value")
	wantField(t, "orders_view.aov", aov, "shortTitle", "Average order value")
	wantField(t, "orders_view.aov", aov, "aggType", "avg")
	wantField(t, "orders_view.aov", aov, "format", "currency")

	// Drill members of the source measure are carried over to the view's own members
	// where the view includes them.
	count := memberOf(v, "measures", "orders_view.count")
	wantField(t, "orders_view.count", count, "aliasMember", "orders.count")
	drill := []string{"orders_view.id", "orders_view.status", "orders_view.created_at", "orders_view.users_name", "orders_view.users_city"}
	if got := strList(count["drillMembers"]); !slices.Equal(got, drill) {
		t.Errorf("orders_view.count drillMembers = %v, want %v", got, drill)
	}
	city := memberOf(v, "dimensions", "orders_view.users_city")
	wantField(t, "orders_view.users_city", city, "aliasMember", "users.city")
	wantField(t, "orders_view.users_city", city, "title", "Orders with customers Users City")
	wantField(t, "orders_view.completed", memberOf(v, "segments", "orders_view.completed"), "aliasMember", "orders.completed")
	if memberOf(v, "dimensions", "orders_view.users_email") != nil {
		t.Error("orders_view.users_email is excluded but listed")
	}
	// The view's time dimension keeps the custom granularities of its source.
	created := memberOf(v, "dimensions", "orders_view.created_at")
	if grans, _ := created["granularities"].([]any); len(grans) != 3 {
		t.Errorf("orders_view.created_at granularities = %v, want 3", created["granularities"])
	}

	// Folders: nested as written, and flat with the nested folders' members merged in.
	folders, _ := v["folders"].([]any)
	if len(folders) != 3 {
		t.Fatalf("orders_view folders = %v, want 3", v["folders"])
	}
	customer := folders[2].(map[string]any)
	wantField(t, "folder", customer, "name", "Customer")
	wantMembers := []string{"orders_view.users_name", "orders_view.users_city", "orders_view.users_country",
		"orders_view.users_age", "orders_view.users_age_group", "orders_view.users_gender", "orders_view.users_is_vip"}
	if got := strList(customer["members"]); !slices.Equal(got, wantMembers) {
		t.Errorf("flat folder Customer members = %v, want %v", got, wantMembers)
	}
	nested := v["nestedFolders"].([]any)[2].(map[string]any)
	members := nested["members"].([]any)
	if len(members) != 4 || members[0] != "orders_view.users_name" {
		t.Fatalf("nested folder Customer members = %v", members)
	}
	profile, ok := members[3].(map[string]any)
	if !ok || profile["name"] != "Profile" || len(profile["members"].([]any)) != 4 {
		t.Errorf("nested folder Profile = %v", members[3])
	}

	sales := cubeOf(t, meta, "sales_view")
	wantField(t, "sales_view.ordered_at", memberOf(sales, "dimensions", "sales_view.ordered_at"), "aliasMember", "orders.created_at")
	wantField(t, "sales_view.product_name", memberOf(sales, "dimensions", "sales_view.product_name"), "aliasMember", "products.name")
}

func TestMetaOnlyViews(t *testing.T) {
	meta := decodeMeta(t, demoMetaEngine(t).Meta(engine.MetaOptions{OnlyViews: true}))
	var names []string
	for _, c := range meta.Cubes {
		names = append(names, c["name"].(string))
		if c["type"] != "view" {
			t.Errorf("onlyViews lists %s of type %v", c["name"], c["type"])
		}
	}
	if !slices.Equal(names, []string{"orders_view", "sales_view"}) {
		t.Errorf("onlyViews cubes = %v", names)
	}
}

func TestMetaExtended(t *testing.T) {
	meta := decodeMeta(t, demoMetaEngine(t).Meta(engine.MetaOptions{Extended: true}))
	orders := cubeOf(t, meta, "orders")
	wantField(t, "orders", orders, "sqlTable", "orders")
	joins, _ := orders["joins"].([]any)
	if len(joins) != 2 {
		t.Fatalf("orders joins = %v, want 2", orders["joins"])
	}
	users := joins[0].(map[string]any)
	wantField(t, "orders join", users, "name", "users")
	wantField(t, "orders join", users, "relationship", "many_to_one")
	wantField(t, "orders join", users, "sql", "{CUBE}.user_id = {users.id}")
	wantField(t, "orders join", joins[1].(map[string]any), "relationship", "one_to_many")

	pas, _ := orders["preAggregations"].([]any)
	if len(pas) != 1 {
		t.Fatalf("orders preAggregations = %v, want 1", orders["preAggregations"])
	}
	pa := pas[0].(map[string]any)
	wantField(t, "pre-aggregation", pa, "name", "revenue_by_status_daily")
	wantField(t, "pre-aggregation", pa, "type", "rollup")
	wantField(t, "pre-aggregation", pa, "timeDimensionReference", "orders.created_at")
	wantField(t, "pre-aggregation", pa, "granularity", "day")
	wantField(t, "pre-aggregation", pa, "partitionGranularity", "year")
	if got := strList(pa["measureReferences"]); !slices.Equal(got, []string{"orders.count", "orders.total_revenue"}) {
		t.Errorf("measureReferences = %v", got)
	}
	if got := strList(pa["dimensionReferences"]); !slices.Equal(got, []string{"orders.status", "orders.channel"}) {
		t.Errorf("dimensionReferences = %v", got)
	}

	wantField(t, "orders.revenue_per_customer", memberOf(orders, "measures", "orders.revenue_per_customer"),
		"sql", "{total_revenue} / NULLIF({customers}, 0)")
	wantField(t, "orders.status", memberOf(orders, "dimensions", "orders.status"), "sql", "status")
	wantField(t, "orders.web", memberOf(orders, "segments", "orders.web"), "sql", "{CUBE}.channel = 'web'")

	daily := cubeOf(t, meta, "daily_sales")
	if sql, _ := daily["sql"].(string); !strings.Contains(sql, "FILTER_PARAMS.daily_sales.day.filter('created_at')") {
		t.Errorf("daily_sales sql = %q, want the raw SQL", daily["sql"])
	}
	if _, ok := daily["sqlTable"]; ok {
		t.Error("daily_sales has sqlTable, but it is defined by sql")
	}
}

func TestMetaIsCached(t *testing.T) {
	e := demoMetaEngine(t)
	for _, opt := range []engine.MetaOptions{{}, {Extended: true}, {OnlyViews: true}, {Extended: true, OnlyViews: true}} {
		first, second := e.Meta(opt), e.Meta(opt)
		if first != second {
			t.Errorf("Meta(%+v) is rebuilt on each call", opt)
		}
	}
	if e.Meta(engine.MetaOptions{}) == e.Meta(engine.MetaOptions{Extended: true}) {
		t.Error("the plain and the extended meta are the same value")
	}
	other := demoMetaEngine(t)
	if other.Meta(engine.MetaOptions{}) == e.Meta(engine.MetaOptions{}) {
		t.Error("two engines share one cached meta")
	}
}

func TestMetaPeerModel(t *testing.T) {
	m, err := model.Load("../../../shared/peer/model")
	if err != nil {
		t.Fatal(err)
	}
	e := engine.New(m, dialect.DuckDB{}, nil, engine.DefaultConfig())
	meta := decodeMeta(t, e.Meta(engine.MetaOptions{}))
	want := map[string][]string{
		"line_items": {"count", "quantity_sum", "revenue", "avg_price", "orders_count"},
		"orders": {"count", "total_amount", "avg_amount", "min_amount", "max_amount", "users_count",
			"users_count_approx", "completed_count", "completed_ratio", "avg_per_user", "running_total_amount"},
		"products": {"count"},
		"users":    {"count", "cities_count"},
	}
	if len(meta.Cubes) != len(want) {
		t.Errorf("peer meta has %d cubes, want %d", len(meta.Cubes), len(want))
	}
	var component string
	for name, measures := range want {
		c := cubeOf(t, meta, name)
		wantField(t, name, c, "title", engine.Titleize(name))
		var full []string
		for _, ms := range measures {
			full = append(full, name+"."+ms)
		}
		if got := memberNames(c, "measures"); !slices.Equal(got, full) {
			t.Errorf("%s measures = %v, want %v", name, got, full)
		}
		n := c["connectedComponent"].(json.Number).String()
		if component == "" {
			component = n
		} else if n != component {
			t.Errorf("%s connectedComponent = %s, want %s: the peer's cubes are all joined", name, n, component)
		}
	}
	orders := cubeOf(t, meta, "orders")
	wantField(t, "orders.running_total_amount", memberOf(orders, "measures", "orders.running_total_amount"), "cumulative", true)
	wantField(t, "orders.users_count_approx", memberOf(orders, "measures", "orders.users_count_approx"), "aggType", "countDistinctApprox")
	// orders.id is public in the peer model; the other primary keys are hidden.
	if memberOf(orders, "dimensions", "orders.id") == nil {
		t.Error("peer orders.id (public: true) is missing")
	}
	if memberOf(cubeOf(t, meta, "users"), "dimensions", "users.id") != nil {
		t.Error("peer users.id (a primary key) is listed")
	}
	wantField(t, "users.europe", memberOf(cubeOf(t, meta, "users"), "segments", "users.europe"), "title", "Users Europe")
}
