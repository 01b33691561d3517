package query

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParseTree checks that the fast scanner and the encoding/json reference parser agree:
// both accept the same inputs, and build the same tree.
func FuzzParseTree(f *testing.F) {
	for _, s := range seedQueries {
		f.Add([]byte(s))
	}
	for _, s := range parseTreeCases {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParseTree(t, data)
	})
}

var parseTreeCases = []string{
	``, ` `, `null`, `true`, `false`, `truex`, `nul`, `0`, `-0`, `01`, `-`, `1.`, `1.5e`, `1e+5`, `-12.5E-3`,
	`"a"`, `"a\"b"`, `"\u00e9\ud83d\ude00"`, `"\ud800"`, "\"\xff\"", "\"\x01\"", "\"\x7f\"", `"\x"`, `"abc`,
	`[]`, `[ ]`, `[1,]`, `[,1]`, `[1 2]`, `{}`, `{ }`, `{"a":1,}`, `{,}`, `{"a" 1}`, `{"a":1 "b":2}`, `{1:2}`,
	`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `{"a":{"a":1}}`, `[[]] `, `{} {}`, `{}x`, "\ufeff{}", "{\"a\":\t[1,\n2]\r}",
	strings.Repeat("[", 64) + strings.Repeat("]", 64), strings.Repeat("[", 65) + strings.Repeat("]", 65),
	strings.Repeat("[", 66) + strings.Repeat("]", 66), strings.Repeat("[", 65) + "1" + strings.Repeat("]", 65),
	`{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k17":17,"k5":18}`,
	`{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k17":17,"k18":18}`,
}

func TestParseTreeAgrees(t *testing.T) {
	for _, s := range append(append([]string{}, seedQueries...), parseTreeCases...) {
		checkParseTree(t, []byte(s))
	}
}

func checkParseTree(t *testing.T, data []byte) {
	t.Helper()
	fast, ok := fastParse(data)
	slow, err := parseTreeSlow(data)
	if ok != (err == nil) {
		t.Fatalf("%q: fast parser ok=%v, reference error %v", data, ok, err)
	}
	if ok && !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%q: trees differ", data)
	}
	got, gerr := parseTree(data)
	if (gerr == nil) != (err == nil) || gerr != nil && gerr.Error() != err.Error() || !reflect.DeepEqual(got, slow) {
		t.Fatalf("%q: parseTree = %v, %v; reference %v, %v", data, got, gerr, slow, err)
	}
}
