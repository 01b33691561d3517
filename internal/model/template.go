package model

import (
	"fmt"
	"strings"
)

// PartKind tells the pieces of a SQL template apart.
type PartKind int

const (
	// PartText is literal SQL.
	PartText PartKind = iota
	// PartColumn is a bare column name (`sql: status`), rendered qualified by the cube's alias.
	PartColumn
	// PartRef is {CUBE}, {cube}, {member}, {CUBE.member} or {cube.member}.
	PartRef
	// PartFilterParams is {FILTER_PARAMS.cube.member.filter(arg)}.
	PartFilterParams
)

// Part is one piece of a Template.
type Part struct {
	Kind PartKind
	// Text is the literal SQL of a PartText or the column of a PartColumn.
	Text string
	// Cube is the referenced cube ("CUBE" for the cube that owns the template; "" for a bare
	// {name}, which is a member of the owning cube or, failing that, a cube).
	Cube string
	// Member is the referenced member; "" for a reference to a whole cube.
	Member string
	// Arg is the argument of FILTER_PARAMS ... .filter(arg): a quoted column ('col' or "col")
	// as given, or a SQL expression.
	Arg string
}

// Template is a SQL snippet of the model with its references parsed.
type Template struct {
	Raw   string
	Parts []Part
	Pos   Pos
}

// ParseTemplate splits a SQL template into literal text and references. It never
// interprets the SQL itself: references are the only thing Cubit rewrites.
func ParseTemplate(raw string, pos Pos) (*Template, error) {
	t := &Template{Raw: raw, Pos: pos}
	if isIdentifier(strings.TrimSpace(raw)) {
		t.Parts = []Part{{Kind: PartColumn, Text: strings.TrimSpace(raw)}}
		return t, nil
	}
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			t.Parts = append(t.Parts, Part{Kind: PartText, Text: text.String()})
			text.Reset()
		}
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw) && (raw[i+1] == '{' || raw[i+1] == '}'):
			text.WriteByte(raw[i+1])
			i++
		case c == '{':
			end := matchingBrace(raw, i)
			if end < 0 {
				return nil, fmt.Errorf("unclosed { in SQL %q", raw)
			}
			p, err := parseRef(strings.TrimSpace(raw[i+1 : end]))
			if err != nil {
				return nil, err
			}
			flush()
			t.Parts = append(t.Parts, p)
			i = end
		default:
			text.WriteByte(c)
		}
	}
	flush()
	return t, nil
}

// matchingBrace finds the } closing the { at open, skipping nested braces and quoted
// strings inside FILTER_PARAMS arguments.
func matchingBrace(s string, open int) int {
	depth := 0
	var quote byte
	for i := open; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func parseRef(ref string) (Part, error) {
	if rest, ok := strings.CutPrefix(ref, "FILTER_PARAMS."); ok {
		open := strings.Index(rest, ".filter(")
		if open < 0 || !strings.HasSuffix(rest, ")") {
			return Part{}, fmt.Errorf("FILTER_PARAMS must be {FILTER_PARAMS.cube.member.filter(...)}, got {%s}", ref)
		}
		path := strings.Split(rest[:open], ".")
		if len(path) != 2 || !isIdentifier(path[0]) || !isIdentifier(path[1]) {
			return Part{}, fmt.Errorf("FILTER_PARAMS must name cube.member, got {%s}", ref)
		}
		arg := strings.TrimSpace(rest[open+len(".filter(") : len(rest)-1])
		if arg == "" {
			return Part{}, fmt.Errorf("FILTER_PARAMS filter() needs a column or expression in {%s}", ref)
		}
		return Part{Kind: PartFilterParams, Cube: path[0], Member: path[1], Arg: arg}, nil
	}
	path := strings.Split(ref, ".")
	for _, p := range path {
		if !isIdentifier(p) {
			return Part{}, fmt.Errorf("bad reference {%s}: use {member}, {CUBE.member} or {cube.member}", ref)
		}
	}
	switch len(path) {
	case 1:
		if path[0] == "CUBE" {
			return Part{Kind: PartRef, Cube: "CUBE"}, nil
		}
		return Part{Kind: PartRef, Member: path[0]}, nil
	case 2:
		return Part{Kind: PartRef, Cube: path[0], Member: path[1]}, nil
	}
	return Part{}, fmt.Errorf("bad reference {%s}: at most cube.member", ref)
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Refs returns the references of the template, in order.
func (t *Template) Refs() []Part {
	if t == nil {
		return nil
	}
	var refs []Part
	for _, p := range t.Parts {
		if p.Kind == PartRef || p.Kind == PartFilterParams {
			refs = append(refs, p)
		}
	}
	return refs
}
