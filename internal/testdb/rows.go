package testdb

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// SortRows sorts result rows (values as text), for comparing results as sets.
func SortRows(rows [][]string) {
	sort.Slice(rows, func(i, j int) bool { return strings.Join(rows[i], "\x00") < strings.Join(rows[j], "\x00") })
}

// RowsEqual compares two rows value by value, numbers with NumbersClose.
func RowsEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !NumbersClose(a[i], b[i]) {
			return false
		}
	}
	return true
}

// NumbersClose compares numbers written as text with a relative tolerance of 1e-9:
// averages and ratios differ in their last digits between engines, between exact and
// floating-point arithmetic, and when decimals travel as float8.
func NumbersClose(a, b string) bool {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	return math.Abs(x-y) <= 1e-9*math.Max(1, math.Max(math.Abs(x), math.Abs(y)))
}
