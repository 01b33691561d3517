// Package warehouse is where Cubit's SQL meets a database: the Warehouse interface that runs
// compiled SQL with bound arguments on one data source, the row and value shapes every
// driver returns, and the rules for classifying a driver's failure as a Cubit error.
//
// Each database lives in its own sub-package (duckdb, postgres, …), so that cgo and driver
// dependencies stay there and only the packages that execute queries link them. This package
// imports no driver and knows nothing of the semantic model, queries or SQL generation; the
// drivers import it, never the other way round.
package warehouse
