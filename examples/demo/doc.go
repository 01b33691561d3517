// Package demo is the embedded demo that `cubit serve` runs with no configuration: a
// deterministic generator of a sample shop (users, products, orders, line items) and a Cube
// YAML model over it that shows every modelling feature Cubit supports.
//
// It owns the sample data's shape and values and the demo model files. It imports no
// database driver and nothing of the compiler: the warehouse packages load its tables and
// the model loader reads its files, so tests anywhere in the tree can use both.
package demo
