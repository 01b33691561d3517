// Package preagg owns rollup pre-aggregations: which model rollups Cubit can use (Rollups),
// whether one answers a query with the same rows as the source (Match, pure), the local
// rollup store that holds their tables (Store, an embedded DuckDB handed in), building them
// from the source partition by partition through the compiler's own stages (Set.Build; an
// incremental refresh copies the partitions outside its update window from the previous
// table; original_sql pre-aggregations copy their cube's SQL, and rollups may build from it),
// refreshing them in the background on their refresh keys (Set.Run, Set.Jobs, Set.Trigger),
// and rewriting a matched query into SQL over a rollup table (Set.Rewrite).
//
// It sits beside the engine: the engine asks Rewrite after compiling a query and runs the
// rewritten statement on the store instead of the source. It imports the compiler core and
// the warehouse interface, never a driver, the engine or an API.
package preagg
