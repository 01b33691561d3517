package demo

import (
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// ColumnType is the SQL type of a demo column, spelled so that DuckDB accepts it as is.
// Loaders for other databases translate the few spellings that differ (DOUBLE).
type ColumnType string

// The column types the demo uses. DECIMAL types are built with Decimal.
const (
	Integer   ColumnType = "INTEGER"
	BigInt    ColumnType = "BIGINT"
	Double    ColumnType = "DOUBLE"
	Varchar   ColumnType = "VARCHAR"
	Boolean   ColumnType = "BOOLEAN"
	Timestamp ColumnType = "TIMESTAMP" // without time zone; values are UTC
)

// Decimal returns the type DECIMAL(precision,scale). Values of such a column are strings
// with exactly scale digits after the point, like "12.50".
func Decimal(precision, scale int) ColumnType {
	return ColumnType(fmt.Sprintf("DECIMAL(%d,%d)", precision, scale))
}

// DecimalParts returns the precision and scale of a DECIMAL type, and ok=false for any
// other type.
func (t ColumnType) DecimalParts() (precision, scale int, ok bool) {
	s, found := strings.CutPrefix(string(t), "DECIMAL(")
	if !found {
		return 0, 0, false
	}
	s, found = strings.CutSuffix(s, ")")
	if !found {
		return 0, 0, false
	}
	ps, ss, found := strings.Cut(s, ",")
	if !found {
		return 0, 0, false
	}
	p, err1 := strconv.Atoi(ps)
	sc, err2 := strconv.Atoi(ss)
	if err1 != nil || err2 != nil || p < 1 || p > 38 || sc < 0 || sc > p {
		return 0, 0, false
	}
	return p, sc, true
}

// Valid reports whether t is one of the declared types or a well-formed DECIMAL.
func (t ColumnType) Valid() bool {
	switch t {
	case Integer, BigInt, Double, Varchar, Boolean, Timestamp:
		return true
	}
	_, _, ok := t.DecimalParts()
	return ok
}

// Column is one column of a demo table.
type Column struct {
	Name string
	Type ColumnType
}

// Table is one demo table: its schema and a generator of its rows.
//
// Rows yields one slice per row, in column order. Values are nil, int64 (INTEGER and
// BIGINT), float64 (DOUBLE), string (VARCHAR and DECIMAL), bool (BOOLEAN) or time.Time
// (TIMESTAMP, in UTC with whole seconds). A yielded slice is fresh: the consumer may keep it.
// Rows may be ranged over any number of times and yields the same rows each time.
type Table struct {
	Name       string
	Columns    []Column
	PrimaryKey []string
	Rows       iter.Seq[[]any]
}

// The shape of the shop at scale 1. Orders and users scale; the product catalogue does not.
const (
	usersAtScale1  = 5000
	ordersAtScale1 = 100000
	productCount   = 300
)

// seed fixes the data for every run on every machine: tests and documentation rely on the
// same numbers.
const seed = 20250101

// Each entity draws from its own PCG stream, keyed by a tag and its id, so a table's rows do
// not depend on which tables were generated before it or in what order.
const (
	tagUser uint64 = iota + 1
	tagProduct
	tagOrder
)

// Orders are placed from 2023-01-01 00:00:00 to 2025-12-31 23:59:59 UTC (unix seconds).
const (
	dataStart int64 = 1672531200
	dataEnd   int64 = 1767225599
)

// Shop returns the demo shop's tables in load order: users, products, orders, line_items.
// Scale 1 gives 5,000 users and 100,000 orders (about 300,000 line items); scale 0.1 gives
// 500 users and 10,000 orders for fast tests. The 300 products do not scale. Scale must be
// positive; the same scale always yields the same rows.
//
// The data has deliberate traps for tests: every 40th user never orders, every 250th order
// belongs to a user id with no users row, every 97th user has no city (nor state or
// coordinates), a few Berlin users are spelled "berlin", completed_at is NULL unless the
// order is completed, discount and coupon_code are often NULL, and some coupon codes
// contain % and _ so that LIKE filters must escape them.
func Shop(scale float64) []Table {
	s := newShop(scale)
	return []Table{s.usersTable(), s.productsTable(), s.ordersTable(), s.lineItemsTable()}
}

type shop struct {
	users    []user
	products []product
	orders   int
}

type user struct {
	created int64 // unix seconds
}

type product struct {
	priceCents int64
}

func newShop(scale float64) *shop {
	if !(scale > 0) || math.IsInf(scale, 0) {
		scale = 1e-9 // the smallest shop: the counts below have floors
	}
	nUsers := max(20, int(math.Round(usersAtScale1*scale)))
	nOrders := max(1, int(math.Round(ordersAtScale1*scale)))
	s := &shop{users: make([]user, nUsers), products: make([]product, productCount), orders: nOrders}
	for i := range s.users {
		s.users[i] = genUser(int64(i + 1)).user
	}
	for i := range s.products {
		s.products[i] = genProduct(int64(i + 1)).product
	}
	return s
}

func rng(tag uint64, id int64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, tag<<48|uint64(id)))
}

// weighted picks an index of weights with probability proportional to its weight.
func weighted(r *rand.Rand, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := r.IntN(total)
	for i, w := range weights {
		if n < w {
			return i
		}
		n -= w
	}
	return len(weights) - 1
}

func between(r *rand.Rand, lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + r.Int64N(hi-lo+1)
}

func ts(unix int64) time.Time { return time.Unix(unix, 0).UTC() }

// money formats cents as a DECIMAL(_,2) string.
func money(cents int64) string {
	var buf [24]byte
	b := buf[:0]
	if cents < 0 {
		b, cents = append(b, '-'), -cents
	}
	b = strconv.AppendInt(b, cents/100, 10)
	return string(append(b, '.', byte('0'+cents%100/10), byte('0'+cents%10)))
}

// --- users ---

type city struct {
	name, state, country string
	lat, lng             float64
	weight               int
}

// The lookup tables below are read-only: generation never writes to package state.

var cities = []city{
	{"Berlin", "Berlin", "Germany", 52.5200, 13.4050, 9},
	{"Munich", "Bavaria", "Germany", 48.1372, 11.5756, 5},
	{"Hamburg", "Hamburg", "Germany", 53.5511, 9.9937, 4},
	{"Paris", "Île-de-France", "France", 48.8566, 2.3522, 7},
	{"Lyon", "Auvergne-Rhône-Alpes", "France", 45.7640, 4.8357, 3},
	{"London", "England", "United Kingdom", 51.5074, -0.1278, 8},
	{"Manchester", "England", "United Kingdom", 53.4808, -2.2426, 3},
	{"New York", "New York", "United States", 40.7128, -74.0060, 10},
	{"San Francisco", "California", "United States", 37.7749, -122.4194, 6},
	{"Los Angeles", "California", "United States", 34.0522, -118.2437, 6},
	{"Chicago", "Illinois", "United States", 41.8781, -87.6298, 5},
	{"Austin", "Texas", "United States", 30.2672, -97.7431, 4},
	{"Toronto", "Ontario", "Canada", 43.6532, -79.3832, 4},
	{"Madrid", "Community of Madrid", "Spain", 40.4168, -3.7038, 4},
	{"Rome", "Lazio", "Italy", 41.9028, 12.4964, 3},
	{"Amsterdam", "North Holland", "Netherlands", 52.3676, 4.9041, 3},
	{"Warsaw", "Masovia", "Poland", 52.2297, 21.0122, 2},
	{"Tokyo", "Tokyo", "Japan", 35.6762, 139.6503, 4},
	{"Sydney", "New South Wales", "Australia", -33.8688, 151.2093, 3},
	{"São Paulo", "São Paulo", "Brazil", -23.5505, -46.6333, 3},
}

var (
	firstNames = []string{"Ann", "Ben", "Chloe", "David", "Emma", "Finn", "Grace", "Hugo", "Ida", "Jonas",
		"Kira", "Liam", "Mia", "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera",
		"Wei", "Yuki", "Zoe"}
	lastNames = []string{"Smith", "Müller", "Dubois", "Rossi", "Tanaka", "Garcia", "Brown", "Novak",
		"Silva", "Jansen", "Kowalski", "Chen", "Murphy", "Schmidt", "Martin", "Lopez", "Nguyen", "Wilson"}
	genders       = []string{"female", "male", "non-binary"}
	genderWeights = []int{48, 48, 4}
)

type userRow struct {
	user
	row []any
}

func cityWeights() []int {
	w := make([]int, len(cities))
	for i, c := range cities {
		w[i] = c.weight
	}
	return w
}

func genUser(id int64) userRow {
	r := rng(tagUser, id)
	first := firstNames[r.IntN(len(firstNames))]
	last := lastNames[r.IntN(len(lastNames))]
	c := cities[weighted(r, cityWeights())]
	created := between(r, time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC).Unix(),
		time.Date(2025, 9, 30, 23, 59, 59, 0, time.UTC).Unix())
	age := int64(18 + r.IntN(30) + r.IntN(33)) // 18..79, most in their thirties and forties
	gender := genders[weighted(r, genderWeights)]
	vip := r.IntN(100) < 6
	jitterLat, jitterLng := (r.Float64()-0.5)/10, (r.Float64()-0.5)/10

	var cityName, state, lat, lng any = c.name, c.state, round6(c.lat + jitterLat), round6(c.lng + jitterLng)
	switch {
	case id%97 == 0: // trap: unknown city
		cityName, state, lat, lng = nil, nil, nil, nil
	case c.name == "Berlin" && id%37 == 0: // trap: inconsistent case
		cityName = "berlin"
	}
	email := strings.ToLower(asciiFold(first)+"."+asciiFold(last)) + strconv.FormatInt(id, 10) + "@example.com"
	return userRow{
		user: user{created: created},
		row: []any{id, first + " " + last, email, cityName, c.country, state, age, gender,
			ts(created), vip, lat, lng},
	}
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

// asciiFold spells the few non-ASCII letters of the name lists in ASCII, for e-mail addresses.
func asciiFold(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case 'ü':
			b.WriteString("ue")
		case 'ö':
			b.WriteString("oe")
		case 'ä':
			b.WriteString("ae")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (s *shop) usersTable() Table {
	return Table{
		Name: "users",
		Columns: []Column{
			{"id", Integer}, {"name", Varchar}, {"email", Varchar}, {"city", Varchar},
			{"country", Varchar}, {"state", Varchar}, {"age", Integer}, {"gender", Varchar},
			{"created_at", Timestamp}, {"is_vip", Boolean}, {"lat", Double}, {"lng", Double},
		},
		PrimaryKey: []string{"id"},
		Rows: func(yield func([]any) bool) {
			for id := int64(1); id <= int64(len(s.users)); id++ {
				if !yield(genUser(id).row) {
					return
				}
			}
		},
	}
}

// --- products ---

type category struct {
	name               string
	nouns              []string
	brands             []string
	minCents, maxCents int64
}

var categories = []category{
	{"Electronics", []string{"Headphones", "Speaker", "Phone", "Tablet", "Charger", "Drone"},
		[]string{"Voltix", "Nimbus", "Apex"}, 1999, 89999},
	{"Home", []string{"Lamp", "Chair", "Mug", "Rug", "Vase", "Clock"},
		[]string{"Hearth", "Nordic Nest", "Casa"}, 899, 34999},
	{"Books", []string{"Novel", "Cookbook", "Atlas", "Notebook", "Comic"},
		[]string{"Inkwell", "Papyrus"}, 499, 5999},
	{"Clothing", []string{"Shirt", "Jacket", "Scarf", "Sneakers", "Hat"},
		[]string{"Threadline", "Urban Fox", "Loom & Co"}, 1299, 24999},
	{"Garden", []string{"Shovel", "Planter", "Hose", "Seeds", "Bench"},
		[]string{"Greenleaf", "Terra"}, 399, 29999},
	{"Toys", []string{"Puzzle", "Robot", "Ball", "Kite", "Blocks"},
		[]string{"Playwise", "Toybox"}, 599, 14999},
}

var adjectives = []string{"Classic", "Smart", "Tiny", "Giant", "Eco", "Retro", "Pro", "Deluxe", "Travel", "Everyday"}

type productRow struct {
	product
	row []any
}

func genProduct(id int64) productRow {
	r := rng(tagProduct, id)
	c := categories[r.IntN(len(categories))]
	name := fmt.Sprintf("%s %s %03d", adjectives[r.IntN(len(adjectives))], c.nouns[r.IntN(len(c.nouns))], id)
	brand := c.brands[r.IntN(len(c.brands))]
	cents := between(r, c.minCents, c.maxCents)
	cents = cents/100*100 + 99 // shop prices end in .99
	if id%25 == 0 {
		cents -= 49 // a few end in .50: trailing zeros must survive the round trip
	}
	created := between(r, time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), dataStart+180*86400)
	return productRow{
		product: product{priceCents: cents},
		row:     []any{id, name, c.name, brand, money(cents), ts(created)},
	}
}

func (s *shop) productsTable() Table {
	return Table{
		Name: "products",
		Columns: []Column{
			{"id", Integer}, {"name", Varchar}, {"category", Varchar}, {"brand", Varchar},
			{"price", Decimal(10, 2)}, {"created_at", Timestamp},
		},
		PrimaryKey: []string{"id"},
		Rows: func(yield func([]any) bool) {
			for id := int64(1); id <= productCount; id++ {
				if !yield(genProduct(id).row) {
					return
				}
			}
		},
	}
}

// --- orders and line items ---

var (
	statuses       = []string{"completed", "shipped", "processing", "cancelled", "returned"}
	statusWeights  = []int{62, 12, 8, 10, 8}
	channels       = []string{"web", "mobile", "store"}
	channelWeights = []int{50, 35, 15}
	// Coupon codes with LIKE wildcards in them: a filter "contains 50%" must not match
	// "5000" and "contains _2" must not match "X2".
	coupons = []string{"WELCOME10", "SPRING_SALE", "SUMMER_2024", "BLACKFRIDAY", "50%OFF", "VIP_20%", "FREESHIP", "10%_BACK"}
)

type lineItem struct {
	productID, quantity, priceCents int64
}

type order struct {
	id, userID       int64
	status, channel  string
	created          int64
	completed        any // time.Time or nil
	amountCents      int64
	discount, coupon any // string or nil
	items            []lineItem
}

// genOrder derives everything about one order, line items included, from its own stream,
// so the orders and line_items tables agree without sharing state.
func (s *shop) genOrder(id int64) order {
	r := rng(tagOrder, id)
	o := order{id: id}

	nUsers := int64(len(s.users))
	o.userID = 1 + r.Int64N(nUsers)
	if o.userID%40 == 0 { // trap: every 40th user never orders
		o.userID--
	}
	lo := max(dataStart, s.users[o.userID-1].created)
	if id%250 == 0 { // trap: an order of a user id with no users row
		o.userID = nUsers + 1 + id/250%50
		lo = dataStart
	}
	o.created = between(r, lo, dataEnd)
	o.status = statuses[weighted(r, statusWeights)]
	o.channel = channels[weighted(r, channelWeights)]
	if o.status == "completed" {
		o.completed = ts(o.created + between(r, 2*3600, 14*86400))
	}

	n := 1 + r.IntN(5)
	o.items = make([]lineItem, n)
	for i := range o.items {
		pid := 1 + int64(r.IntN(1+r.IntN(productCount))) // popular products have low ids
		price := s.products[pid-1].priceCents
		if r.IntN(100) < 15 { // on sale: 10% off
			price -= price / 10
		}
		qty := int64(1 + weighted(r, []int{60, 25, 10, 5}))
		o.items[i] = lineItem{productID: pid, quantity: qty, priceCents: price}
		o.amountCents += price * qty
	}

	switch roll := r.IntN(100); {
	case roll < 20:
		o.coupon = coupons[r.IntN(len(coupons))]
		o.discount = money(o.amountCents * int64(10+r.IntN(11)) / 100)
	case roll < 30:
		o.discount = money(0)
	}
	return o
}

func (s *shop) ordersTable() Table {
	return Table{
		Name: "orders",
		Columns: []Column{
			{"id", Integer}, {"user_id", Integer}, {"status", Varchar}, {"created_at", Timestamp},
			{"completed_at", Timestamp}, {"amount", Decimal(12, 2)}, {"discount", Decimal(12, 2)},
			{"channel", Varchar}, {"coupon_code", Varchar},
		},
		PrimaryKey: []string{"id"},
		Rows: func(yield func([]any) bool) {
			for id := int64(1); id <= int64(s.orders); id++ {
				o := s.genOrder(id)
				row := []any{o.id, o.userID, o.status, ts(o.created), o.completed,
					money(o.amountCents), o.discount, o.channel, o.coupon}
				if !yield(row) {
					return
				}
			}
		},
	}
}

func (s *shop) lineItemsTable() Table {
	return Table{
		Name: "line_items",
		Columns: []Column{
			{"id", Integer}, {"order_id", Integer}, {"product_id", Integer}, {"quantity", Integer},
			{"price", Decimal(10, 2)}, {"created_at", Timestamp},
		},
		PrimaryKey: []string{"id"},
		Rows: func(yield func([]any) bool) {
			next := int64(1)
			for id := int64(1); id <= int64(s.orders); id++ {
				o := s.genOrder(id)
				for _, it := range o.items {
					row := []any{next, o.id, it.productID, it.quantity, money(it.priceCents), ts(o.created)}
					next++
					if !yield(row) {
						return
					}
				}
			}
		},
	}
}
