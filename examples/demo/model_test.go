package demo_test

import (
	"io/fs"
	"testing"

	"github.com/cubit-dev/cubit/examples/demo"
	"github.com/cubit-dev/cubit/internal/model"
)

// TestModelLoads compiles the embedded demo model and checks the members the documentation's
// examples use.
func TestModelLoads(t *testing.T) {
	sub, err := fs.Sub(demo.Model, "model")
	if err != nil {
		t.Fatal(err)
	}
	m, err := model.LoadFS(sub)
	if err != nil {
		t.Fatalf("demo model does not compile:\n%v", err)
	}
	orders := m.Cube("orders")
	if orders == nil {
		t.Fatal("no orders cube")
	}
	if d := orders.Dimension("status"); d == nil || d.Type != model.DimString {
		t.Error("orders.status must be a string dimension")
	}
	if d := orders.Dimension("created_at"); d == nil || d.Type != model.DimTime {
		t.Error("orders.created_at must be a time dimension")
	}
	if me := orders.Measure("count"); me == nil || me.Type != model.MeasureCount {
		t.Error("orders.count must be a count measure")
	}
	if me := orders.Measure("total_revenue"); me == nil || me.Type != model.MeasureSum {
		t.Error("orders.total_revenue must be a sum measure")
	}
	for _, name := range []string{"users", "line_items", "products", "daily_sales", "orders_view", "sales_view"} {
		if m.Cube(name) == nil {
			t.Errorf("no %s", name)
		}
	}
}
