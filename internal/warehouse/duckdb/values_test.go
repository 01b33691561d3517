package duckdb

import (
	"math/big"
	"regexp"
	"testing"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

func TestIntervalText(t *testing.T) {
	for _, tc := range []struct {
		in   duckdb.Interval
		want string
	}{
		{duckdb.Interval{}, "00:00:00"},
		{duckdb.Interval{Months: 14, Days: 3, Micros: 4*3600e6 + 5*60e6 + 6e6}, "1 year 2 months 3 days 04:05:06"},
		{duckdb.Interval{Days: 1}, "1 day"},
		{duckdb.Interval{Micros: -1500000}, "-00:00:01.5"},
	} {
		if got := intervalText(tc.in); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

var canonicalDecimal = regexp.MustCompile(`^-?(0|[1-9][0-9]{0,30})\.[0-9]{2}$`)

// FuzzDecimalRoundTrip checks that a DECIMAL(_,2) string survives the loader's parsing and
// the reader's rendering unchanged, trailing zeros included.
func FuzzDecimalRoundTrip(f *testing.F) {
	for _, s := range []string{"0.00", "12.50", "-0.05", "19867713.45", "9223372036854775807.99"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !canonicalDecimal.MatchString(s) || s == "-0.00" {
			return
		}
		d, err := parseDecimal(s, 2)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if got := decimalText(new(big.Int).Set(d.Value), 2); got != s {
			t.Fatalf("%q came back as %q", s, got)
		}
	})
}
