// Command cubit is the Cubit metrics store.
package main

import (
	"os"
	// Time zones must work on hosts without a zoneinfo database.
	_ "time/tzdata"

	"github.com/cubit-dev/cubit/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)) }
