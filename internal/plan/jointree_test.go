package plan

import (
	"strings"
	"testing"

	"github.com/cubit-dev/cubit/internal/model"
)

// graph builds a model from "a>b:rel" edges: cube a declares a join to b.
func graph(t *testing.T, edges ...string) *model.Model {
	t.Helper()
	cubes := map[string]*model.Cube{}
	var order []*model.Cube
	cube := func(name string) *model.Cube {
		if c, ok := cubes[name]; ok {
			return c
		}
		c := &model.Cube{Name: name, Kind: model.KindCube, SQLTable: name}
		cubes[name] = c
		order = append(order, c)
		return c
	}
	for _, e := range edges {
		from, rest, _ := strings.Cut(e, ">")
		to, rel, _ := strings.Cut(rest, ":")
		sql, err := model.ParseTemplate("{CUBE}.id = {"+to+"}.id", model.Pos{})
		if err != nil {
			t.Fatal(err)
		}
		cube(to)
		c := cube(from)
		c.Joins = append(c.Joins, &model.Join{Name: to, Relationship: model.Relationship(rel), SQL: sql})
	}
	return model.New(order)
}

func cubesOf(m *model.Model, names ...string) []*model.Cube {
	var out []*model.Cube
	for _, n := range names {
		out = append(out, m.Cube(n))
	}
	return out
}

func TestBuildTree(t *testing.T) {
	cases := []struct {
		name  string
		edges []string
		cubes []string
		want  string // the tree, or "error: <part of message>"
	}{
		{"one cube", nil, []string{"a"}, "a"},
		{"direct", []string{"a>b:many_to_one"}, []string{"a", "b"}, "a -> b (many_to_one)"},
		{"root is the cube that reaches the others", []string{"a>b:many_to_one"}, []string{"b", "a"}, "a -> b (many_to_one)"},
		{"transitive", []string{"a>b:many_to_one", "b>c:many_to_one"}, []string{"a", "c"}, "a -> b (many_to_one), b -> c (many_to_one)"},
		{"smallest tree wins", []string{"a>b:many_to_one", "b>c:many_to_one", "c>b:one_to_many"}, []string{"c", "b"}, "c -> b (one_to_many)"},
		{"diamond is ambiguous", []string{"a>b:many_to_one", "a>c:many_to_one", "b>d:many_to_one", "c>d:many_to_one"}, []string{"a", "d"}, "error: ambiguous join path from a to d"},
		{"an ambiguous winner is an error, not a fallback to another root", []string{"a>b:many_to_one", "a>c:many_to_one", "b>d:many_to_one", "c>d:many_to_one", "d>e:many_to_one", "e>a:many_to_one"}, []string{"a", "d"}, "error: ambiguous join path from a to d"},
		{"unreachable", []string{"a>b:many_to_one"}, []string{"a", "c"}, "error: Can't find join path to join 'a', 'c'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := graph(t, c.edges...)
			for _, n := range c.cubes {
				if m.Cube(n) == nil {
					m = model.New(append(m.Cubes, &model.Cube{Name: n, Kind: model.KindCube, SQLTable: n}))
				}
			}
			tree, err := buildTree(m, cubesOf(m, c.cubes...), nil)
			got := ""
			if err != nil {
				got = "error: " + err.Error()
			} else {
				got = tree.String()
			}
			if !strings.HasPrefix(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestMultiplied(t *testing.T) {
	// customers has many orders and many tickets (a chasm); orders belong to a region.
	m := graph(t, "customers>orders:one_to_many", "customers>tickets:has_many", "orders>regions:many_to_one")
	for _, c := range m.Cubes {
		for _, j := range c.Joins {
			if j.Relationship == "has_many" {
				j.Relationship = model.OneToMany
			}
		}
	}
	tree, err := buildTree(m, cubesOf(m, "customers", "orders", "tickets", "regions"), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := tree.Multiplied()
	want := map[string]bool{"customers": true, "orders": true, "tickets": true, "regions": true}
	for _, c := range tree.Cubes() {
		if got[c] != want[c.Name] {
			t.Errorf("%s multiplied = %v, want %v", c.Name, got[c], want[c.Name])
		}
	}
	// Without tickets, orders are not multiplied: only customers (by orders) and regions
	// (by orders, many to one) are.
	tree, err = buildTree(m, cubesOf(m, "customers", "orders", "regions"), nil)
	if err != nil {
		t.Fatal(err)
	}
	got = tree.Multiplied()
	want = map[string]bool{"customers": true, "orders": false, "regions": true}
	for _, c := range tree.Cubes() {
		if got[c] != want[c.Name] {
			t.Errorf("without tickets: %s multiplied = %v, want %v", c.Name, got[c], want[c.Name])
		}
	}
}

func TestAlias(t *testing.T) {
	for in, want := range map[string]string{
		"users.createdAt":      "users__created_at",
		"orders.total_revenue": "orders__total_revenue",
		"line_items.productID": "line_items__product_id",
	} {
		if got := Alias(in); got != want {
			t.Errorf("Alias(%q) = %q, want %q", in, got, want)
		}
	}
}
