// Package cli is the cubit command line. Each command takes its arguments, the
// environment, stdin, stdout and stderr, and returns an exit code, so tests run commands in
// process. It is the top of the wiring: it opens data sources and builds engines by hand.
package cli
