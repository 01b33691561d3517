package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// cmdToken prints an HS256 JWT over the secret, valid for a day: what Cube's clients send.
func cmdToken(args []string, w io.Writer) error {
	fs := newFlags("token")
	secret := fs.String("secret", "", "CUBEJS_API_SECRET")
	if err := fs.Parse(args); err != nil {
		return err
	}
	enc := base64.RawURLEncoding
	now := time.Now().Unix()
	head := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body := enc.EncodeToString(fmt.Appendf(nil, `{"iat":%d,"exp":%d}`, now, now+86400))
	mac := hmac.New(sha256.New, []byte(*secret))
	mac.Write([]byte(head + "." + body))
	fmt.Fprintf(w, "%s.%s.%s\n", head, body, enc.EncodeToString(mac.Sum(nil)))
	return nil
}

// loadBody is the /load request body for a query and a cache mode ("" or "cached": the
// server's default, stale-if-slow). The rollup mode is no-cache too: the rollup, not the
// result cache, must answer it.
func loadBody(query, mode string) string {
	if mode == "no-cache" || mode == "rollup" {
		return `{"query":` + query + `,"cache":"no-cache"}`
	}
	return `{"query":` + query + `}`
}

// cmdSQL saves the SQL and parameters the server generates for a query
// (GET /cubejs-api/v1/sql), for `suite alone` to run directly.
func cmdSQL(args []string, w io.Writer) error {
	fs := newFlags("sql")
	base := fs.String("url", "", "server origin, like http://127.0.0.1:4000")
	token := fs.String("token", "", "JWT")
	query := fs.String("query", "", "Cube query (JSON)")
	save := fs.String("save", "", "file to write {sql, args} to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	req, err := http.NewRequest("GET", *base+"/cubejs-api/v1/sql?query="+url.QueryEscape(*query), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", *token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	var out struct {
		SQL struct {
			SQL []json.RawMessage `json:"sql"`
		} `json:"sql"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return err
	}
	if len(out.SQL.SQL) != 2 {
		return fmt.Errorf("want sql.sql = [text, params], got %s", b)
	}
	saved, err := json.Marshal(map[string]json.RawMessage{"sql": out.SQL.SQL[0], "args": out.SQL.SQL[1]})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s\n", saved)
	return os.WriteFile(*save, saved, 0o644)
}

// target is what the seq and wrk commands share: where, what, and how to label it.
type target struct {
	base, token, query, mode string
	rec                      Record
	out, pids                string
}

// targetFlags declares the flags of a target and the record labels on a new flag set.
func targetFlags(name string) (*target, *flag.FlagSet) {
	fs := newFlags(name)
	t := &target{}
	fs.StringVar(&t.base, "url", "", "server origin, like http://127.0.0.1:4000")
	fs.StringVar(&t.token, "token", "", "JWT")
	fs.StringVar(&t.query, "query", "", "Cube query (JSON)")
	fs.StringVar(&t.mode, "mode", "cached", "cached, no-cache or rollup")
	fs.StringVar(&t.out, "out", "", "results file (JSON lines)")
	fs.StringVar(&t.rec.Section, "section", "rest", "record section")
	fs.StringVar(&t.rec.Target, "target", "cubit", "record target")
	fs.StringVar(&t.rec.Query, "label", "", "record query label")
	fs.Float64Var(&t.rec.Scale, "scale", 0, "record scale")
	fs.StringVar(&t.pids, "pids", "", "process ids of the server under test (to tell other work on the machine from its own)")
	return t, fs
}

// post sends one /load request and returns the response body; a status other than 200, or
// a "Continue wait" answer (the query is still running), is an error.
func post(c *http.Client, t *target, body string) ([]byte, error) {
	req, err := http.NewRequest("POST", t.base+"/cubejs-api/v1/load", strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", t.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 || bytes.Contains(b, []byte(`"Continue wait"`)) {
		return nil, fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, b)
	}
	return b, nil
}

// usedRollup returns the names of the pre-aggregations a /load response says it used, at
// the top level or in results[] (Cube's two layouts), or "" when it names none.
func usedRollup(b []byte) (string, error) {
	var resp struct {
		Used    map[string]json.RawMessage `json:"usedPreAggregations"`
		Results []struct {
			Used map[string]json.RawMessage `json:"usedPreAggregations"`
		} `json:"results"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return "", err
	}
	used := resp.Used
	for _, r := range resp.Results {
		if len(used) == 0 {
			used = r.Used
		}
	}
	var names []string
	for k := range used {
		names = append(names, k)
	}
	return strings.Join(names, ","), nil
}

// noRollup is what the table prints for a rollup row the server did not answer from a rollup.
const noRollup = "n/a (no rollup served)"

// cmdSeq times /load sequentially over one keep-alive connection, after warm-up requests.
// In rollup mode it first checks that the response names a pre-aggregation, and records
// noRollup instead of a figure when it does not.
func cmdSeq(args []string, w io.Writer) error {
	t, fs := targetFlags("seq")
	n := fs.Int("n", 500, "requests measured")
	warm := fs.Int("warmup", 20, "requests before measuring")
	wait := fs.Duration("rollup-wait", 5*time.Second, "rollup mode: how long to wait for a response naming a pre-aggregation (a rollup may still be building)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rec := t.rec
	rec.Kind, rec.Mode, rec.Conns = "seq", t.mode, 1
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	body := loadBody(t.query, t.mode)
	began := time.Now()
	first, err := post(c, t, body)
	if err != nil {
		return err
	}
	if t.mode == "rollup" {
		deadline := time.Now().Add(*wait)
		for {
			if rec.Rollup, err = usedRollup(first); err != nil {
				return err
			}
			if rec.Rollup != "" || time.Now().After(deadline) {
				break
			}
			time.Sleep(500 * time.Millisecond)
			if first, err = post(c, t, body); err != nil {
				return err
			}
		}
		if rec.Rollup == "" {
			rec.NA = noRollup
			return appendRecords(t.out, w, rec)
		}
		// How long the server took, from this command's start, to answer from the rollup
		// (cubit serve builds rollups in the background after it starts).
		rec.Seconds = time.Since(began).Seconds()
	}
	for range *warm {
		if _, err := post(c, t, body); err != nil {
			return err
		}
	}
	lat := make([]time.Duration, *n)
	for i := range lat {
		start := time.Now()
		if _, err := post(c, t, body); err != nil {
			return err
		}
		lat[i] = time.Since(start)
	}
	rec.N = *n
	rec.P50, rec.P99, rec.Mean = stats(lat)
	rec.RPS = 1000 / rec.Mean
	return appendRecords(t.out, w, rec)
}

// cmdWrk runs wrk against /load at each connection count, with bench/suite/wrk.lua (which
// prints one JSON line of figures). One wrk thread drives one connection; two threads drive
// more (the machine this was written on has two cores, shared with the server).
func cmdWrk(args []string, w io.Writer) error {
	t, fs := targetFlags("wrk")
	conns := fs.String("conns", "1 8 64", "connection counts")
	dur := fs.String("duration", "10s", "wrk -d")
	lua := fs.String("lua", "", "wrk.lua")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pids, err := parsePids(t.pids)
	if err != nil {
		return err
	}
	body := loadBody(t.query, t.mode)
	if t.mode == "rollup" {
		// Checked once here, so that no wrk time is spent on a query no rollup answers.
		b, err := post(http.DefaultClient, t, body)
		if err != nil {
			return err
		}
		name, err := usedRollup(b)
		if err != nil {
			return err
		}
		t.rec.Rollup = name
	}
	for _, f := range strings.Fields(*conns) {
		c, err := strconv.Atoi(f)
		if err != nil {
			return fmt.Errorf("-conns: %w", err)
		}
		rec := t.rec
		rec.Kind, rec.Mode, rec.Conns = "wrk", t.mode, c
		if t.mode == "rollup" && rec.Rollup == "" {
			rec.NA = noRollup
			if err := appendRecords(t.out, w, rec); err != nil {
				return err
			}
			continue
		}
		cmd := exec.Command("wrk", "-t"+strconv.Itoa(min(2, c)), "-c"+f, "-d"+*dur, "--timeout", "10s",
			"-s", *lua, t.base)
		cmd.Env = append(os.Environ(), "SUITE_BODY="+body, "SUITE_TOKEN="+t.token)
		cmd.Stderr = os.Stderr
		o := startOthers(pids)
		outb, err := cmd.Output()
		rec.Others = o.stop(cmd)
		if err != nil {
			return fmt.Errorf("wrk: %w: %s", err, outb)
		}
		var got struct {
			Requests int     `json:"requests"`
			Seconds  float64 `json:"seconds"`
			P50      float64 `json:"p50_ms"`
			P99      float64 `json:"p99_ms"`
			Mean     float64 `json:"mean_ms"`
			Errors   int     `json:"errors"`
		}
		line := outb[bytes.LastIndex(outb[:len(bytes.TrimRight(outb, "\n"))], []byte("\n"))+1:]
		if err := json.Unmarshal(line, &got); err != nil {
			return fmt.Errorf("wrk output: %w: %s", err, outb)
		}
		if got.Seconds == 0 {
			return errors.New("wrk ran for 0 s")
		}
		rec.N, rec.P50, rec.P99, rec.Mean, rec.Errors = got.Requests, got.P50, got.P99, got.Mean, got.Errors
		rec.RPS = float64(got.Requests) / got.Seconds
		if err := appendRecords(t.out, w, rec); err != nil {
			return err
		}
	}
	return nil
}
