// Command charts draws the benchmark suite's figures (bench/suite.sh) as PNG files: it
// reads the results.json that `suite report` writes and writes
//
//	bench-throughput.png   /load requests per second against wrk connections: Cubit and the Cube peer, cached and no-cache
//	bench-latency.png      /load p50 and p99 under wrk against connections, same targets
//	bench-scale.png        uncached aggregate time against orders: Cubit, DuckDB alone, rollup-served
//
//	go run ./bench/charts -in results.json -out docs/img
//
// It is a program of its own so that the plotting library stays out of the suite's build.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// record holds the fields of the suite's Record that the charts use.
type record struct {
	Section string  `json:"section"`
	Target  string  `json:"target"`
	Mode    string  `json:"mode"`
	Kind    string  `json:"kind"`
	Query   string  `json:"query"`
	Scale   float64 `json:"scale"`
	Conns   int     `json:"conns"`
	P50     float64 `json:"p50_ms"`
	P99     float64 `json:"p99_ms"`
	RPS     float64 `json:"rps"`
	NA      string  `json:"na"`
}

type results struct {
	Date    string `json:"date"`
	Machine struct {
		CPUs     int    `json:"cpus"`
		CPUModel string `json:"cpu_model"`
		RAMGB    string `json:"ram_gb"`
	} `json:"machine"`
	Records []record `json:"records"`
}

func main() {
	in := flag.String("in", "results.json", "results.json written by suite report")
	out := flag.String("out", ".", "folder for the PNG files")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "charts:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	var res results
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	machine := fmt.Sprintf("%d CPUs, %s GB RAM, client and servers on one machine; %s", res.Machine.CPUs, res.Machine.RAMGB, res.Date)
	for name, chart := range map[string]func([]record, string) (*plot.Plot, *plot.Legend, error){
		"bench-throughput.png": throughput, "bench-latency.png": latency, "bench-scale.png": scale,
	} {
		p, leg, err := chart(res.Records, machine)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		path := filepath.Join(out, name)
		if err := save(p, leg, path); err != nil {
			return err
		}
		fmt.Println("wrote", path)
	}
	return nil
}

// save writes the chart as a PNG with its legend in a column on the right, where it
// cannot hide a line.
func save(p *plot.Plot, leg *plot.Legend, path string) error {
	const w, h, legendW = 26 * vg.Centimeter, 12 * vg.Centimeter, 8 * vg.Centimeter
	// A log axis over a single value (one connection count, one scale) would be widened by
	// ±1 around it, to 0 and below; widen it by a factor instead.
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		if a.Min == a.Max && a.Min > 0 {
			a.Min, a.Max = a.Min/2, a.Max*2
		}
	}
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(110))
	c := draw.New(img)
	p.Draw(draw.Crop(c, 0, -legendW, 0, 0))
	leg.Draw(draw.Crop(c, w-legendW+vg.Millimeter*3, 0, 0, -vg.Centimeter))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// series is one line of a chart.
type series struct {
	name   string
	color  color.Color
	dashed bool
	xy     plotter.XYs
}

var (
	cubitColor = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	cubeColor  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	duckColor  = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	extraColor = color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff}
	greyColor  = color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff}
)

// newLogLog is a chart with both axes on log scales.
func newLogLog(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Title.Padding = vg.Millimeter * 3
	p.Y.Label.Text = y
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = ticks125{}, ticks125{}
	p.Add(plotter.NewGrid())
	return p
}

// newLegend is a legend for the column beside a chart.
func newLegend() *plot.Legend {
	l := plot.NewLegend()
	l.Top, l.Left = true, true
	l.TextStyle.Font.Size = vg.Points(10)
	return &l
}

// add draws each series with points; empty series are left out.
func add(p *plot.Plot, leg *plot.Legend, ss []series) error {
	for _, s := range ss {
		if len(s.xy) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(s.xy)
		if err != nil {
			return err
		}
		l.Color, pts.Color = s.color, s.color
		l.Width = vg.Points(1.5)
		pts.Shape = draw.CircleGlyph{}
		if s.dashed {
			l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		p.Add(l, pts)
		leg.Add(s.name, l, pts)
	}
	return nil
}

// byConns collects f of the wrk records matching the filter, in connection order.
func byConns(recs []record, match func(record) bool, f func(record) float64) plotter.XYs {
	var xy plotter.XYs
	for _, r := range recs {
		if r.Kind == "wrk" && r.NA == "" && match(r) && f(r) > 0 {
			xy = append(xy, plotter.XY{X: float64(r.Conns), Y: f(r)})
		}
	}
	slices.SortFunc(xy, func(a, b plotter.XY) int { return int(a.X - b.X) })
	return xy
}

func restTarget(target, mode string) func(record) bool {
	return func(r record) bool { return r.Section == "rest" && r.Target == target && r.Mode == mode }
}

func rollupTarget(r record) bool { return r.Section == "scale" && r.Mode == "rollup" && r.Scale == 1 }

func connTicks(p *plot.Plot, recs []record) {
	var ticks []plot.Tick
	for _, r := range recs {
		if r.Kind == "wrk" && !slices.ContainsFunc(ticks, func(t plot.Tick) bool { return t.Value == float64(r.Conns) }) {
			ticks = append(ticks, plot.Tick{Value: float64(r.Conns), Label: strconv.Itoa(r.Conns)})
		}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
}

func throughput(recs []record, machine string) (*plot.Plot, *plot.Legend, error) {
	p := newLogLog("REST /load throughput (wrk)\n"+machine, "connections", "requests per second")
	connTicks(p, recs)
	rps := func(r record) float64 { return r.RPS }
	leg := newLegend()
	err := add(p, leg, []series{
		{"Cubit, cached", cubitColor, false, byConns(recs, restTarget("cubit", "cached"), rps)},
		{"Cubit, no-cache", cubitColor, true, byConns(recs, restTarget("cubit", "no-cache"), rps)},
		{"Cube 1.7, cached", cubeColor, false, byConns(recs, restTarget("cube", "cached"), rps)},
		{"Cube 1.7, no-cache", cubeColor, true, byConns(recs, restTarget("cube", "no-cache"), rps)},
		{"Cubit, rollup-served (demo, 10⁵ orders)", extraColor, true, byConns(recs, rollupTarget, rps)},
	})
	return p, leg, err
}

func latency(recs []record, machine string) (*plot.Plot, *plot.Legend, error) {
	p := newLogLog("REST /load latency under wrk: p99 (solid), p50 (dashed)\n"+machine, "connections", "milliseconds")
	connTicks(p, recs)
	p50 := func(r record) float64 { return r.P50 }
	p99 := func(r record) float64 { return r.P99 }
	leg := newLegend()
	err := add(p, leg, []series{
		{"Cubit cached p99", cubitColor, false, byConns(recs, restTarget("cubit", "cached"), p99)},
		{"Cubit cached p50", cubitColor, true, byConns(recs, restTarget("cubit", "cached"), p50)},
		{"Cubit no-cache p99", extraColor, false, byConns(recs, restTarget("cubit", "no-cache"), p99)},
		{"Cubit no-cache p50", extraColor, true, byConns(recs, restTarget("cubit", "no-cache"), p50)},
		{"Cube cached p99", cubeColor, false, byConns(recs, restTarget("cube", "cached"), p99)},
		{"Cube cached p50", cubeColor, true, byConns(recs, restTarget("cube", "cached"), p50)},
		{"Cube no-cache p99", greyColor, false, byConns(recs, restTarget("cube", "no-cache"), p99)},
		{"Cube no-cache p50", greyColor, true, byConns(recs, restTarget("cube", "no-cache"), p50)},
	})
	if err != nil {
		return nil, nil, err
	}
	// The target of issue 7: p99 under 2 ms at 8 connections.
	target, err := plotter.NewLine(plotter.XYs{{X: 1, Y: 2}, {X: 64, Y: 2}})
	if err != nil {
		return nil, nil, err
	}
	target.Color, target.Dashes = greyColor, []vg.Length{vg.Points(1), vg.Points(3)}
	p.Add(target)
	leg.Add("target: p99 2 ms at 8 connections", target)
	return p, leg, nil
}

func scale(recs []record, machine string) (*plot.Plot, *plot.Legend, error) {
	p := newLogLog("Uncached aggregates against data size (sequential p50)\n"+machine, "orders", "milliseconds")
	// Cubit and DuckDB alone are the "pair" records (measured taking turns); the rollup's
	// are plain sequential ones.
	pick := func(target, mode, query string) plotter.XYs {
		kind := "pair"
		if mode == "rollup" {
			kind = "seq"
		}
		var xy plotter.XYs
		for _, r := range recs {
			if r.Section == "scale" && r.Kind == kind && r.NA == "" && r.Target == target && r.Mode == mode && r.Query == query {
				xy = append(xy, plotter.XY{X: r.Scale * 100000, Y: r.P50})
			}
		}
		slices.SortFunc(xy, func(a, b plotter.XY) int { return int(a.X - b.X) })
		return xy
	}
	leg := newLegend()
	err := add(p, leg, []series{
		{"Cubit, revenue by status", cubitColor, false, pick("cubit", "no-cache", "revenue-by-status")},
		{"DuckDB alone, revenue by status", duckColor, false, pick("duckdb-alone", "no-cache", "revenue-by-status")},
		{"Cubit, revenue by month", cubitColor, true, pick("cubit", "no-cache", "revenue-by-month")},
		{"DuckDB alone, revenue by month", duckColor, true, pick("duckdb-alone", "no-cache", "revenue-by-month")},
		{"Cubit, rollup-served count by status", extraColor, false, pick("cubit", "rollup", "rollup-by-status")},
	})
	p.Y.Min = min(p.Y.Min, 1) // a labelled tick below the rollup's line
	return p, leg, err
}

// ticks125 labels a log axis at 1, 2 and 5 times the powers of ten, which keeps a few
// labels on an axis spanning less than a decade (plot.LogTicks labels powers of ten only).
type ticks125 struct{}

func (ticks125) Ticks(min, max float64) []plot.Tick {
	var ts []plot.Tick
	for p := math.Pow(10, math.Floor(math.Log10(min))); p <= max; p *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if v := p * m; v >= min && v <= max {
				ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
			}
		}
	}
	return ts
}
