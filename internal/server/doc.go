// Package server runs cubit serve: the HTTP listener, the health and metrics endpoints, the
// REST API over the current engine, graceful shutdown on SIGTERM, and reload on SIGHUP
// (the new model compiles beside the old one and replaces it atomically; a model that fails
// to compile leaves the old one serving).
//
// It wires parts built elsewhere and decides nothing about queries. It imports no driver:
// the data source is handed in.
package server
