// Package deploy is the platform's Runtime built with the engine: it compiles a branch's
// model (a snapshot's model/ folder as an fs.FS) and binds it to the data source of the
// deployment's environment, giving an Instance whose Engine the REST and SQL APIs serve.
//
// It owns the warehouse pool. Warehouses are shared and reference-counted, keyed by what an
// environment connects to (its type, its normalised settings and, for PostgreSQL, a hash of
// its secrets), because a DuckDB file can be opened only once per process, a hundred
// deployments of one environment must not hold a hundred connection pools or a hundred
// copies of the demo data, and a restart builds its new instance beside the old one on the
// same warehouse. Changing an environment's settings or password therefore gives a new
// warehouse on the next build, while the instances built before keep the old one until
// they close; the last instance to close a warehouse closes it.
//
// It must not touch what it only uses. The platform package decides when to build, serve
// and close instances, and must never import deploy (dependencies point from deploy to
// platform, for the Runtime and Instance interfaces and the environment settings). The
// store is read only through the Environment value Build is handed. The engine compiles
// and runs queries; the warehouse drivers connect. The REST and SQL APIs reach an instance
// through Instance.Engine and are never imported here, and the wiring that hands a
// Runtime to the platform's Manager belongs to the server.
package deploy
