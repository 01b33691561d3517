package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of /proc's CPU times: 100 on every Linux platform Go runs on.
const clockTicks = 100

// others measures how much CPU work other than the measurement's own (the server under test,
// the load generator, this program) ran on the machine during a measurement: other sessions
// share this machine, and a figure taken while they ran is lower than the machine can give.
type others struct {
	pids          []int
	busy0, total0 int64
	own0          int64
	start         time.Time
}

// startOthers begins a measurement of other work; pids are the processes under test.
func startOthers(pids []int) *others {
	o := &others{pids: pids, start: time.Now()}
	o.busy0, o.total0, _ = cpuTimes()
	o.own0 = o.own()
	return o
}

// own is the CPU time, in ticks, of this process and of the processes under test.
func (o *others) own() int64 {
	t := procTicks("self")
	for _, p := range o.pids {
		t += procTicks(strconv.Itoa(p))
	}
	return t
}

// stop returns the share of all cores, in percent, that other work used since start. child
// is a finished load generator (wrk) whose CPU time is the measurement's own; nil for none.
func (o *others) stop(child *exec.Cmd) float64 {
	busy1, total1, err := cpuTimes()
	if err != nil || total1 <= o.total0 {
		return 0
	}
	own := o.own() - o.own0
	if child != nil && child.ProcessState != nil {
		own += int64((child.ProcessState.UserTime() + child.ProcessState.SystemTime()).Seconds() * clockTicks)
	}
	return max(0, 100*float64(busy1-o.busy0-own)/float64(total1-o.total0))
}

// procTicks returns utime+stime of /proc/<pid>/stat (all its threads), or 0 if it is gone.
func procTicks(pid string) int64 {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	// The command name may hold spaces; the fields after it are fixed.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64) // field 14, utime
	k, _ := strconv.ParseInt(f[12], 10, 64) // field 15, stime
	return u + k
}

// parsePids reads a -pids flag: process ids separated by spaces or commas.
func parsePids(s string) ([]int, error) {
	var pids []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
		p, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("-pids: %w", err)
		}
		pids = append(pids, p)
	}
	return pids, nil
}
