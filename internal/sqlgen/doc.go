// Package sqlgen renders a logical plan to SQL text and bound arguments for one dialect.
//
// Every value from a query is a bound parameter; identifiers are quoted by the dialect;
// model SQL is pasted as the model's author wrote it, with its references rewritten. It
// decides nothing about the shape of the query: package plan does.
package sqlgen
