package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/cubit-dev/cubit/internal/model"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the request failed: bad query, invalid model, data source error
	exitUsage = 2 // the command line itself is wrong
)

// env is what a command sees of the process.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

type command struct {
	name    string
	summary string
	run     func(e *env, args []string) int
}

func commands() []command {
	return []command{
		{"serve", "serve the REST API (the embedded demo without configuration)", runServe},
		{"token", "mint a REST API token (JWT) signed with CUBEJS_API_SECRET", runToken},
		{"validate", "compile a model directory and print every problem as file:line: message", runValidate},
		{"query", "run one Cube JSON query and print the result", runQuery},
		{"sql", "print the SQL a Cube JSON query compiles to", runSQL},
		{"version", "print the version and build information", runVersion},
	}
}

// Main runs the cubit command line and returns the process exit code.
func Main(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(e, args[1:])
		}
	}
	fmt.Fprintf(stderr, "cubit: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: cubit <command> [flags] [arguments]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun cubit <command> -h for the flags of a command.")
}

// parse parses flags that may come before or after the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func newFlags(e *env, name, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: cubit %s\n\nFlags:\n", usageLine)
		fs.PrintDefaults()
	}
	return fs
}

// fail prints an error the way a person can act on it and returns its exit code.
func fail(e *env, err error) int {
	var problems model.Problems
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Fprintln(e.stderr, p.String())
		}
		fmt.Fprintf(e.stderr, "model has %d problem(s)\n", len(problems))
		return exitError
	}
	fmt.Fprintf(e.stderr, "cubit: %v\n", err)
	return exitError
}

func runVersion(e *env, args []string) int {
	version, revision, goVersion := "devel", "", ""
	if info, ok := debug.ReadBuildInfo(); ok {
		goVersion = info.GoVersion
		if info.Main.Version != "" && info.Main.Version != "(devel)" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				revision = s.Value
			}
		}
	}
	fmt.Fprintf(e.stdout, "cubit %s", version)
	if revision != "" {
		fmt.Fprintf(e.stdout, " (%s)", revision[:min(12, len(revision))])
	}
	fmt.Fprintf(e.stdout, " %s\n", strings.TrimSpace(goVersion))
	return exitOK
}
