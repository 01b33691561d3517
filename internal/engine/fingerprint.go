package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/cubit-dev/cubit/internal/model"
	"github.com/cubit-dev/cubit/internal/plan"
)

// cubeInfo is what the cache needs of a cube, computed once per engine.
type cubeInfo struct {
	fingerprint string
	schedule    refreshSchedule
}

func (e *Engine) cubeInfo(c *model.Cube) *cubeInfo {
	if v, ok := e.cubes.Load(c); ok {
		return v.(*cubeInfo)
	}
	v, _ := e.cubes.LoadOrStore(c, &cubeInfo{fingerprint: fingerprint(c), schedule: e.schedule(c)})
	return v.(*cubeInfo)
}

// fingerprints identifies the definitions of cubes, in their order: a result cached under
// one model version is found under the next only if none of the cubes it read changed.
func (e *Engine) fingerprints(cubes []*model.Cube) string {
	var sb strings.Builder
	for _, c := range cubes {
		sb.WriteString(c.Name)
		sb.WriteByte(':')
		sb.WriteString(e.cubeInfo(c).fingerprint)
		sb.WriteByte(' ')
	}
	return sb.String()
}

// fingerprint hashes the definition of a cube: every exported field, deeply, except source
// positions (an edit above a cube in the same file moves it without changing it). Other
// cubes it points to (join targets, members of views) count by name only, so editing a
// cube changes its own fingerprint and no other's.
func fingerprint(c *model.Cube) string {
	w := &fingerprinter{h: sha256.New(), root: c, seen: map[uintptr]bool{}}
	w.value(reflect.ValueOf(c))
	return hex.EncodeToString(w.h.Sum(nil)[:12])
}

type fingerprinter struct {
	h    hash.Hash
	root *model.Cube
	seen map[uintptr]bool
}

var (
	posType  = reflect.TypeFor[model.Pos]()
	cubeType = reflect.TypeFor[*model.Cube]()
)

func (w *fingerprinter) write(s string) {
	fmt.Fprintf(w.h, "%d:%s;", len(s), s)
}

func (w *fingerprinter) value(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			w.write("nil")
			return
		}
		if v.Type() == cubeType && v.Interface().(*model.Cube) != w.root {
			w.write("cube " + v.Interface().(*model.Cube).Name)
			return
		}
		if w.seen[v.Pointer()] {
			w.write("seen") // a back-pointer, such as a member's cube
			return
		}
		w.seen[v.Pointer()] = true
		w.value(v.Elem())
	case reflect.Struct:
		if v.Type() == posType {
			return
		}
		t := v.Type()
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				w.write(f.Name)
				w.value(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		w.write(fmt.Sprint(v.Len()))
		for i := range v.Len() {
			w.value(v.Index(i))
		}
	case reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
		w.write(fmt.Sprint(len(keys)))
		for _, k := range keys {
			w.value(k)
			w.value(v.MapIndex(k))
		}
	case reflect.Interface:
		if v.IsNil() {
			w.write("nil")
			return
		}
		w.write(v.Elem().Type().String())
		w.value(v.Elem())
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		w.write(v.Kind().String())
	default:
		w.write(fmt.Sprint(v.Interface()))
	}
}

// usedCubes are the cubes and views a compiled query reads, sorted by name: the join tree,
// the cubes of multiplied-measure groups and of sub-query dimensions, and the cubes and
// views its members name.
func usedCubes(c *Compiled) []*model.Cube {
	set := map[*model.Cube]bool{}
	addPlan(set, c.Plan)
	r := c.Resolved
	add := func(name string, cube *model.Cube) {
		set[cube] = true
		if view, _, ok := strings.Cut(name, "."); ok && view != cube.Name {
			if v := r.Model.Cube(view); v != nil {
				set[v] = true
			}
		}
	}
	for _, m := range r.Measures {
		add(m.Name, m.Cube)
	}
	for _, d := range r.Dimensions {
		add(d.Name, d.Cube)
	}
	for _, td := range r.TimeDimensions {
		add(td.Name, td.Cube)
	}
	for _, s := range r.Segments {
		add(s.Name, s.Cube)
	}
	delete(set, nil)
	out := make([]*model.Cube, 0, len(set))
	for cube := range set {
		out = append(out, cube)
	}
	slices.SortFunc(out, func(a, b *model.Cube) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func addPlan(set map[*model.Cube]bool, p *plan.Plan) {
	if p == nil {
		return
	}
	addTree(set, p.Tree)
	for _, g := range p.Groups {
		set[g.KeyCube] = true
		addTree(set, g.Source)
	}
	for _, sq := range p.SubQueries {
		addPlan(set, sq.Plan)
	}
}

func addTree(set map[*model.Cube]bool, t *plan.JoinTree) {
	if t == nil {
		return
	}
	set[t.Root] = true
	for _, e := range t.Edges {
		set[e.From] = true
		set[e.To] = true
	}
}
