package query

import (
	"encoding/json"
	"unicode/utf8"
)

// fastParser is a minimal JSON scanner that builds the same node tree as parseTreeSlow for
// every input that parseTreeSlow accepts. It never reports errors itself: on anything it
// does not accept it gives up, and parseTree falls back to the encoding/json path, which
// produces the error. Strings without escapes are sliced out of one copy of the input, and
// nodes and child slices are carved out of shared chunks, to keep allocations few.
type fastParser struct {
	src   string // the input, copied once; unescaped strings are substrings of it
	pos   int
	nodes []node   // chunk that new nodes are taken from
	ptrs  []*node  // chunk that child slices are taken from
	strs  []string // chunk that key slices are taken from
	stack []*node  // children of the open containers, innermost last
	kstk  []string // keys of the open objects, innermost last
}

// emptyItems is the items slice of an empty array: non-nil like parseTreeSlow's, and with
// no capacity, so that it is never written through.
var emptyItems = []*node{}

// fastParse parses data, reporting false if it is not a single well-formed JSON value
// (followed only by whitespace) without duplicate keys and within maxDepth.
func fastParse(data []byte) (*node, bool) {
	p := fastParser{src: string(data)}
	p.nodes = make([]node, 0, len(data)/12+4)
	p.stack = make([]*node, 0, 16)
	n, ok := p.value(0)
	if !ok {
		return nil, false
	}
	p.skipSpace()
	if p.pos != len(p.src) {
		return nil, false
	}
	return n, true
}

func (p *fastParser) newNode(k kind) *node {
	if len(p.nodes) == cap(p.nodes) {
		p.nodes = make([]node, 0, 32)
	}
	p.nodes = p.nodes[:len(p.nodes)+1]
	n := &p.nodes[len(p.nodes)-1]
	n.kind = k
	return n
}

// takePtrs returns a copy of items in a slice of exactly its length.
func (p *fastParser) takePtrs(items []*node) []*node {
	if len(items) > cap(p.ptrs)-len(p.ptrs) {
		p.ptrs = make([]*node, 0, max(64, len(items)))
	}
	start := len(p.ptrs)
	p.ptrs = append(p.ptrs, items...)
	return p.ptrs[start:len(p.ptrs):len(p.ptrs)]
}

// takeStrs returns a copy of keys in a slice of exactly its length.
func (p *fastParser) takeStrs(keys []string) []string {
	if len(keys) > cap(p.strs)-len(p.strs) {
		p.strs = make([]string, 0, max(32, len(keys)))
	}
	start := len(p.strs)
	p.strs = append(p.strs, keys...)
	return p.strs[start:len(p.strs):len(p.strs)]
}

func (p *fastParser) skipSpace() {
	for p.pos < len(p.src) {
		switch p.src[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value parses the value at p.pos (after optional whitespace).
func (p *fastParser) value(depth int) (*node, bool) {
	if depth > maxDepth {
		return nil, false
	}
	p.skipSpace()
	if p.pos >= len(p.src) {
		return nil, false
	}
	switch c := p.src[p.pos]; c {
	case '{':
		return p.object(depth)
	case '[':
		return p.array(depth)
	case '"':
		s, ok := p.str()
		if !ok {
			return nil, false
		}
		n := p.newNode(kindString)
		n.text = s
		return n, true
	case 't':
		if !p.literal("true") {
			return nil, false
		}
		n := p.newNode(kindBool)
		n.b = true
		return n, true
	case 'f':
		if !p.literal("false") {
			return nil, false
		}
		return p.newNode(kindBool), true
	case 'n':
		if !p.literal("null") {
			return nil, false
		}
		return p.newNode(kindNull), true
	default:
		if c == '-' || '0' <= c && c <= '9' {
			s, ok := p.number()
			if !ok {
				return nil, false
			}
			n := p.newNode(kindNumber)
			n.text = s
			return n, true
		}
	}
	return nil, false
}

// literal consumes word if the input continues with it and then with a byte that can
// end a literal (anything but a letter or digit, which the value's caller then checks).
func (p *fastParser) literal(word string) bool {
	end := p.pos + len(word)
	if end > len(p.src) || p.src[p.pos:end] != word {
		return false
	}
	p.pos = end
	return true
}

// number consumes a number per the JSON grammar and returns its literal text.
func (p *fastParser) number() (string, bool) {
	s, i := p.src, p.pos
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && '1' <= s[i] && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return "", false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return "", false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return "", false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	text := s[p.pos:i]
	p.pos = i
	return text, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// str consumes a string literal starting at the opening quote and returns its value.
// Plain strings (no escapes, no control characters, valid UTF-8) are substrings of the
// input; any other string is decoded by encoding/json, exactly as the Decoder would.
func (p *fastParser) str() (string, bool) {
	s := p.src
	start := p.pos + 1
	i := start
	plain, ascii := true, true
	for {
		if i >= len(s) {
			return "", false
		}
		c := s[i]
		if c == '"' {
			break
		}
		if c == '\\' {
			plain = false
			i += 2 // skip the escaped byte; encoding/json validates the escape below
			continue
		}
		if c < 0x20 {
			return "", false
		}
		if c >= 0x80 {
			ascii = false
		}
		i++
	}
	p.pos = i + 1
	if plain && (ascii || utf8.ValidString(s[start:i])) {
		return s[start:i], true
	}
	var v string
	if err := json.Unmarshal([]byte(s[start-1:i+1]), &v); err != nil {
		return "", false
	}
	return v, true
}

func (p *fastParser) array(depth int) (*node, bool) {
	p.pos++ // [
	n := p.newNode(kindArray)
	base := len(p.stack)
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == ']' {
		p.pos++
		n.items = emptyItems
		return n, true
	}
	for {
		v, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		p.stack = append(p.stack, v)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, false
		}
		c := p.src[p.pos]
		p.pos++
		if c == ']' {
			break
		}
		if c != ',' {
			return nil, false
		}
	}
	n.items = p.takePtrs(p.stack[base:])
	clear(p.stack[base:])
	p.stack = p.stack[:base]
	return n, true
}

func (p *fastParser) object(depth int) (*node, bool) {
	p.pos++ // {
	n := p.newNode(kindObject)
	base, kbase := len(p.stack), len(p.kstk)
	var seen map[string]struct{}
	p.skipSpace()
	if p.pos < len(p.src) && p.src[p.pos] == '}' {
		p.pos++
		return n, true
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '"' {
			return nil, false
		}
		key, ok := p.str()
		if !ok {
			return nil, false
		}
		// A duplicate key gives up: the slow path reports it. Small objects (every query
		// object) are checked by a scan; large ones by a map, to stay linear.
		if seen != nil {
			if _, dup := seen[key]; dup {
				return nil, false
			}
			seen[key] = struct{}{}
		} else {
			keys := p.kstk[kbase:]
			for _, k := range keys {
				if k == key {
					return nil, false
				}
			}
			if len(keys) >= 16 {
				seen = make(map[string]struct{}, 2*len(keys))
				for _, k := range keys {
					seen[k] = struct{}{}
				}
				seen[key] = struct{}{}
			}
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != ':' {
			return nil, false
		}
		p.pos++
		v, ok := p.value(depth + 1)
		if !ok {
			return nil, false
		}
		p.kstk = append(p.kstk, key)
		p.stack = append(p.stack, v)
		p.skipSpace()
		if p.pos >= len(p.src) {
			return nil, false
		}
		c := p.src[p.pos]
		p.pos++
		if c == '}' {
			break
		}
		if c != ',' {
			return nil, false
		}
	}
	n.keys = p.takeStrs(p.kstk[kbase:])
	n.items = p.takePtrs(p.stack[base:])
	clear(p.stack[base:])
	clear(p.kstk[kbase:])
	p.stack, p.kstk = p.stack[:base], p.kstk[:kbase]
	return n, true
}
