// Package restapi serves Cube's REST API over an engine: /v1/load, /v1/meta, /v1/sql,
// /v1/dry-run, DELETE /v1/running-query/{id}, and Cubit's streaming /v1/export. It owns
// authentication (JWT), request parsing, the Continue wait protocol, single-flight of
// identical queries, and the one function that maps errors to HTTP statuses.
//
// It sits on package engine and must not import the SQL API, the platform, or any driver.
package restapi
