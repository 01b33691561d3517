// Package engine is a compiled deployment: one model version, its dialect and its data
// source, answering Cube queries. The REST API, the SQL API and the CLI all sit on it, so a
// query gets the same numbers and the same response body whichever way it arrives.
//
// It wires the compiler stages (query → plan → sqlgen) to a warehouse and shapes results.
// It never imports a driver: the warehouse is handed in.
//
// Who asks travels with each query, in query.Query.SecurityContext, which the API edge sets
// (the token's claims, the SQL login) and SECURITY_CONTEXT templates bind as parameters.
// It is a field of the query rather than a context.Context value because Compile takes no
// context, and because Load, Stream and the expansions of compareDateRange and blending then
// carry it without another argument. Its values are arguments of the statement, so the result
// cache, keyed by SQL and arguments, never serves one context's rows to another.
//
// The result cache (Cache) outlives engines: a deployment makes one and hands it to every
// engine it builds, so that a reload keeps what it did not change. Its keys carry a
// fingerprint of each cube the query reads, its entries the refresh-key values of those
// cubes (refreshkey.go); Execute decides by the query's cache mode what to serve.
package engine
