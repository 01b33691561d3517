// Package engine is a compiled deployment: one model version, its dialect and its data
// source, answering Cube queries. The REST API, the SQL API and the CLI all sit on it, so a
// query gets the same numbers and the same response body whichever way it arrives.
//
// It wires the compiler stages (query → plan → sqlgen) to a warehouse and shapes results.
// It never imports a driver: the warehouse is handed in.
package engine
