package model

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxExpansion bounds how many nodes one file may reach through YAML aliases. Anchors are
// legitimate in models (shared meta, repeated filters), but a self-referencing anchor or an
// "alias bomb" would otherwise make the reader loop or explode; see FuzzLoad.
const maxExpansion = 1_000_000

// maxDepth bounds free-form values (meta, access_policy) so that deeply nested input cannot
// exhaust the stack.
const maxDepth = 64

// reader reads the yaml.Node tree of one file strictly: every mapping is checked against the
// keys its definition accepts, and every wrong shape becomes a Problem at its line instead of
// stopping the load.
type reader struct {
	file  string
	lines []string // the source, to read folded SQL as Cube does (see literal)
	probs *Problems
	// expanded counts the nodes reached through aliases so far; sizes memoizes the size of
	// anchored subtrees.
	expanded int
	sizes    map[*yaml.Node]int
}

func (r *reader) pos(n *yaml.Node) Pos { return Pos{File: r.file, Line: n.Line} }

// deref follows aliases to the node they name, or returns nil once the file has used up its
// expansion allowance.
func (r *reader) deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		if r.expanded > maxExpansion {
			return nil
		}
		r.expanded += r.size(n.Alias)
		if r.expanded > maxExpansion {
			r.probs.add(r.pos(n), "YAML aliases expand to more than %d nodes", maxExpansion)
			return nil
		}
		n = n.Alias
	}
	return n
}

// size counts the nodes of the tree under n, not following aliases: each alias is charged
// when it is followed.
func (r *reader) size(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	if s, ok := r.sizes[n]; ok {
		return s
	}
	s := 1
	if n.Kind != yaml.AliasNode {
		for _, c := range n.Content {
			s += r.size(c)
		}
	}
	if r.sizes == nil {
		r.sizes = map[*yaml.Node]int{}
	}
	r.sizes[n] = s
	return s
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// fields is the checked content of one YAML mapping: canonical key → value. Keys whose value
// is null (`sql:` with nothing after it) are treated as absent.
type fields struct {
	r    *reader
	what string // "measure orders.count", for messages
	pos  Pos
	vals map[string]*yaml.Node
	keys map[string]*yaml.Node
}

// fields checks that n is a mapping whose keys are all in allowed (snake_case; camelCase
// spellings are accepted) and returns its values. ok is false when n is not a mapping.
func (r *reader) fields(n *yaml.Node, what string, allowed []string) (f fields, ok bool) {
	f = fields{r: r, what: what, vals: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}}
	n = r.deref(n)
	if n == nil {
		return f, false
	}
	f.pos = r.pos(n)
	if n.Kind != yaml.MappingNode {
		r.probs.add(f.pos, "%s must be a mapping", what)
		return f, false
	}
	lines := map[string]int{}
	r.collect(n, &f, allowed, lines, false)
	return f, true
}

// collect adds the pairs of mapping n to f. Merged mappings (`<<: *anchor`) only fill keys
// that the mapping itself does not set, as YAML specifies.
func (r *reader) collect(n *yaml.Node, f *fields, allowed []string, lines map[string]int, merged bool) {
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := r.deref(n.Content[i]), n.Content[i+1]
		if k == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			r.probs.add(r.pos(k), "keys of %s must be strings", f.what)
			continue
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		key := canonicalKey(k.Value)
		if !slices.Contains(allowed, key) {
			r.probs.add(r.pos(k), "unknown key %s in %s%s", k.Value, f.what, didYouMean(key, allowed))
			continue
		}
		if first, dup := lines[key]; dup {
			if !merged {
				r.probs.add(r.pos(k), "duplicate key %s in %s (first at line %d)", k.Value, f.what, first)
			}
			continue
		}
		lines[key] = k.Line
		if v = r.deref(v); !isNull(v) {
			f.vals[key], f.keys[key] = v, k
		}
	}
	for _, m := range merges {
		r.merge(m, f, allowed, lines)
	}
}

func (r *reader) merge(m *yaml.Node, f *fields, allowed []string, lines map[string]int) {
	m = r.deref(m)
	switch {
	case m == nil:
	case m.Kind == yaml.MappingNode:
		r.collect(m, f, allowed, lines, true)
	case m.Kind == yaml.SequenceNode:
		for _, item := range m.Content {
			if item = r.deref(item); item != nil && item.Kind == yaml.MappingNode {
				r.collect(item, f, allowed, lines, true)
			}
		}
	default:
		r.probs.add(r.pos(m), "<< in %s must merge a mapping", f.what)
	}
}

// canonicalKey turns a camelCase key into snake_case and maps the few legacy spellings Cube
// still accepts to their current name.
func canonicalKey(k string) string {
	k = snake(k)
	switch k {
	case "measure_references":
		return "measures"
	case "dimension_references":
		return "dimensions"
	case "segment_references":
		return "segments"
	case "time_dimension_reference":
		return "time_dimension"
	case "rollup_references":
		return "rollups"
	}
	return k
}

// snake converts camelCase to snake_case; snake_case input is returned unchanged.
func snake(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r >= 'A' && r <= 'Z' }) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			if i > 0 && s[i-1] != '_' {
				b.WriteByte('_')
			}
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

func (f fields) has(key string) bool { return f.vals[key] != nil }

// at is the position of key's value, or of the mapping when key is absent.
func (f fields) at(key string) Pos {
	if n := f.vals[key]; n != nil {
		return f.r.pos(n)
	}
	return f.pos
}

// str returns a scalar value as written. Numbers and booleans are accepted as their text, so
// that `title: 2024` works.
func (f fields) str(key string) string {
	n := f.vals[key]
	if n == nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		f.r.probs.add(f.r.pos(n), "%s of %s must be a string", key, f.what)
		return ""
	}
	return n.Value
}

// boolean returns a true/false value, or def when the key is absent or not a boolean.
func (f fields) boolean(key string, def bool) bool {
	if p := f.boolPtr(key); p != nil {
		return *p
	}
	return def
}

func (f fields) boolPtr(key string) *bool {
	n := f.vals[key]
	if n == nil {
		return nil
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		f.r.probs.add(f.r.pos(n), "%s of %s must be true or false", key, f.what)
		return nil
	}
	return &b
}

// list returns the items of a sequence, aliases followed.
func (f fields) list(key string) []*yaml.Node {
	n := f.vals[key]
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		f.r.probs.add(f.r.pos(n), "%s of %s must be a list", key, f.what)
		return nil
	}
	items := make([]*yaml.Node, 0, len(n.Content))
	for _, item := range n.Content {
		if item = f.r.deref(item); item != nil {
			items = append(items, item)
		}
	}
	return items
}

// strs returns a list of scalars.
func (f fields) strs(key string) []string {
	items := f.list(key)
	if len(items) == 0 {
		return nil
	}
	out := make([]string, 0, len(items))
	for _, item := range items {
		if item.Kind != yaml.ScalarNode || isNull(item) {
			f.r.probs.add(f.r.pos(item), "items of %s of %s must be strings", key, f.what)
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

// template parses a SQL value. A template that does not parse is a problem at the line of
// the value.
func (f fields) template(key string) *Template {
	if !f.has(key) {
		return nil
	}
	raw := f.str(key)
	if n := f.vals[key]; n.Kind == yaml.ScalarNode && n.Style&yaml.FoldedStyle != 0 {
		raw = f.r.literal(f.keys[key], n)
	}
	t, err := ParseTemplate(raw, f.at(key))
	if err != nil {
		f.r.probs.add(f.at(key), "%s of %s: %v", key, f.what, err)
		// Keep the SQL, unparsed, so that "sql is required" is not reported as well.
		return &Template{Raw: raw, Pos: f.at(key)}
	}
	return t
}

// sqlObject reads `key: {sql: ...}` (latitude, build_range_start, ...).
func (f fields) sqlObject(key string) *Template {
	if !f.has(key) {
		return nil
	}
	sub, ok := f.r.fields(f.vals[key], fmt.Sprintf("%s of %s", key, f.what), []string{"sql"})
	if !ok {
		return nil
	}
	return sub.template("sql")
}

// meta returns a free-form mapping.
func (f fields) meta(key string) map[string]any {
	n := f.vals[key]
	if n == nil {
		return nil
	}
	m, ok := f.r.value(n, 0).(map[string]any)
	if !ok {
		f.r.probs.add(f.r.pos(n), "%s of %s must be a mapping", key, f.what)
	}
	return m
}

// format reads a member format: a name (`percent`) or an object, stored by its type (or as
// JSON when it has none) because Cube's meta reports the type.
func (f fields) format(key string) string {
	n := f.vals[key]
	if n == nil {
		return ""
	}
	if n.Kind == yaml.ScalarNode {
		return n.Value
	}
	v := f.r.value(n, 0)
	if m, ok := v.(map[string]any); ok {
		if t, ok := m["type"].(string); ok {
			return t
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		f.r.probs.add(f.r.pos(n), "%s of %s: %v", key, f.what, err)
		return ""
	}
	return string(b)
}

// value converts a free-form node to Go values: maps, slices, strings, numbers, booleans.
func (r *reader) value(n *yaml.Node, depth int) any {
	n = r.deref(n)
	if n == nil {
		return nil
	}
	if depth > maxDepth {
		r.probs.add(r.pos(n), "value nested deeper than %d levels", maxDepth)
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := r.deref(n.Content[i]); k != nil && k.Kind == yaml.ScalarNode {
				m[k.Value] = r.value(n.Content[i+1], depth+1)
			}
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			s = append(s, r.value(item, depth+1))
		}
		return s
	case yaml.ScalarNode:
		return scalarValue(n)
	}
	return nil
}

// scalarValue converts a scalar by its resolved tag. It avoids yaml's reflection-based
// Decode, which is slow enough per call to matter on large meta blocks.
func scalarValue(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		if b, err := strconv.ParseBool(strings.ToLower(n.Value)); err == nil {
			return b
		}
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 10, 0); err == nil {
			return int(i)
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f
		}
	default:
		return n.Value
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return n.Value
	}
	return v
}

// peekName returns the name of a definition before its keys are checked, for messages.
func (r *reader) peekName(n *yaml.Node) string {
	n = r.deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == "name" {
			if v := r.deref(n.Content[i+1]); v != nil && v.Kind == yaml.ScalarNode {
				return v.Value
			}
		}
	}
	return ""
}

// literal re-reads a folded block scalar (`sql: >`) as if it were literal (`sql: |`), as
// Cube does: folding would join the lines of the SQL, and a `-- comment` would then swallow
// everything after it. It falls back to the folded value when the block uses an explicit
// indentation indicator or cannot be found in the source.
func (r *reader) literal(key, n *yaml.Node) string {
	if key == nil || n.Line < 1 || n.Line > len(r.lines) || n.Column < 1 {
		return n.Value
	}
	header := r.lines[n.Line-1]
	if n.Column > len(header) || header[n.Column-1] != '>' {
		return n.Value
	}
	chomp := byte(0)
	for _, c := range []byte(strings.TrimSpace(strings.SplitN(header[n.Column:], "#", 2)[0])) {
		switch {
		case c == '-' || c == '+':
			chomp = c
		default: // an indentation indicator
			return n.Value
		}
	}
	body := r.blockLines(n.Line, key.Column-1)
	text := strings.Join(body, "\n")
	trimmed := strings.TrimRight(text, "\n")
	switch {
	case chomp == '+':
		return text + "\n"
	case chomp == '-' || trimmed == "":
		return trimmed
	}
	return trimmed + "\n"
}

// blockLines returns the lines of a block scalar whose header is on line header (1-based),
// with the block's indentation removed. The block ends at the first non-blank line indented
// no deeper than parent.
func (r *reader) blockLines(header, parent int) []string {
	var body []string
	indent := -1
	for _, line := range r.lines[header:] {
		line = strings.TrimSuffix(line, "\r")
		content := strings.TrimLeft(line, " ")
		if content == "" {
			body = append(body, "")
			continue
		}
		depth := len(line) - len(content)
		if indent < 0 {
			indent = depth
		}
		if depth <= parent || depth < indent {
			break
		}
		body = append(body, line[indent:])
	}
	return body
}
