// Command suite is the measuring half of bench/suite.sh, the benchmark suite of issue 7. Each
// subcommand measures one thing and appends JSON records (one per line) to the results file
// given by -out; `report` turns that file and the machine's description into results.json
// and a Markdown table. bench/suite.sh starts and stops the servers; this program only
// drives them, so every figure of one run comes from the same client code.
//
//	suite gen     -scale 10 -db FILE               the demo shop at a scale, in a DuckDB file
//	suite token   -secret S                        an HS256 JWT for the REST API
//	suite sql     -url URL -token T -query Q -save F  the SQL the server generates for Q
//	suite seq     -url URL -token T -query Q ...   sequential /load latency over one keep-alive connection
//	suite wrk     -url URL -token T -query Q ...   wrk throughput and latency at several connection counts
//	suite alone   -db FILE -sqlfile F ...          DuckDB alone running saved SQL, sequentially
//	suite pair    -url URL -token T -query Q -db FILE   uncached /load and DuckDB alone, taking turns
//	suite pgx     -dsn DSN -sql S ...              the SQL API through pgx: sequential, then concurrent
//	suite machine                                  the machine's description, as JSON on stdout
//	suite load    -label PART                      the load average before a part of the run
//	suite report  -in FILE -machine F -json F -md F   results.json and the Markdown tables
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: suite gen|token|sql|seq|wrk|alone|pair|pgx|machine|load|report [flags]")
		return 2
	}
	cmds := map[string]func([]string, io.Writer) error{
		"gen": cmdGen, "token": cmdToken, "sql": cmdSQL, "seq": cmdSeq, "wrk": cmdWrk,
		"alone": cmdAlone, "pair": cmdPair, "pgx": cmdPgx, "machine": cmdMachine, "load": cmdLoad, "report": cmdReport,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "suite: unknown command %q\n", args[0])
		return 2
	}
	if err := cmd(args[1:], stdout); err != nil {
		fmt.Fprintf(stderr, "suite %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

// newFlags is a flag set that reports its errors instead of exiting.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return fs
}
