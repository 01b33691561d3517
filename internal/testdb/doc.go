// Package testdb gives tests a real PostgreSQL: the server named by CUBIT_TEST_PG_URL, and a
// fresh schema per test so that test packages running in parallel never see each other's
// tables. It also has the helpers that compare result rows with the rows of a hand-written
// check, and the Cube peer's data.
//
// It is for _test.go files only. It owns no data and no schema of its own, and it must not
// be imported by production code.
package testdb
