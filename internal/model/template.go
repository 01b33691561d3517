package model

import (
	"errors"
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
	// PartSecurityContext is {SECURITY_CONTEXT.key.filter(arg)}, .requiredFilter(arg) or
	// .unsafeValue(): a value of the security context of the request, always bound as a
	// parameter when the SQL is rendered.
	PartSecurityContext
)

// SecurityMethod is what a SECURITY_CONTEXT reference does with its value.
type SecurityMethod string

const (
	// SecurityFilter renders `arg = value` (`arg IN (...)` for an array), or 1 = 1 when
	// the context has no such key.
	SecurityFilter SecurityMethod = "filter"
	// SecurityRequiredFilter is SecurityFilter, but a missing key fails the query.
	SecurityRequiredFilter SecurityMethod = "requiredFilter"
	// SecurityUnsafeValue renders the value itself (as a bound parameter in Cubit).
	SecurityUnsafeValue SecurityMethod = "unsafeValue"
)

// Valid reports whether m is one of the declared methods.
func (m SecurityMethod) Valid() bool {
	switch m {
	case SecurityFilter, SecurityRequiredFilter, SecurityUnsafeValue:
		return true
	}
	return false
}

// securityContextNames are the spellings Cube accepts for the security context in
// templates.
var securityContextNames = []string{"SECURITY_CONTEXT", "security_context", "securityContext"}

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
	// Arg is the argument of FILTER_PARAMS ... .filter(arg) and SECURITY_CONTEXT ...
	// .filter(arg): a quoted column ('col' or "col") as given, or a SQL expression.
	Arg string
	// Path is the key of a PartSecurityContext, outer object first: ["tenant", "id"] for
	// {SECURITY_CONTEXT.tenant.id.filter(...)}.
	Path []string
	// Method is what a PartSecurityContext does with the value.
	Method SecurityMethod
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
// strings inside FILTER_PARAMS and SECURITY_CONTEXT arguments.
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
	for _, name := range securityContextNames {
		if rest, ok := strings.CutPrefix(ref, name+"."); ok {
			return parseSecurityContext(ref, name, rest)
		}
	}
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

// parseSecurityContext parses the rest of {SECURITY_CONTEXT.rest}: a key path, then one of
// the three methods with its argument.
func parseSecurityContext(ref, name, rest string) (Part, error) {
	usage := fmt.Sprintf("%s must be {%s.key.filter('column')}, .requiredFilter('column') or .unsafeValue(), got {%s}",
		name, name, ref)
	open := strings.IndexByte(rest, '(')
	if open < 0 || !strings.HasSuffix(rest, ")") {
		return Part{}, errors.New(usage)
	}
	head := rest[:open]
	dot := strings.LastIndexByte(head, '.')
	if dot < 0 {
		return Part{}, errors.New(usage)
	}
	method := SecurityMethod(head[dot+1:])
	if !method.Valid() {
		return Part{}, fmt.Errorf("unknown %s method %s in {%s} (valid: filter, requiredFilter, unsafeValue)%s", name, method, ref,
			didYouMean(string(method), []string{string(SecurityFilter), string(SecurityRequiredFilter), string(SecurityUnsafeValue)}))
	}
	path := strings.Split(head[:dot], ".")
	for _, p := range path {
		if !isIdentifier(p) {
			return Part{}, fmt.Errorf("%s key must be names joined by dots, got {%s}", name, ref)
		}
	}
	arg := strings.TrimSpace(rest[open+1 : len(rest)-1])
	switch {
	case method == SecurityUnsafeValue && arg != "":
		return Part{}, fmt.Errorf("%s unsafeValue() takes no argument, got {%s}", name, ref)
	case method != SecurityUnsafeValue && (arg == "" || unquote(arg) == ""):
		return Part{}, fmt.Errorf("%s %s() needs a column or expression in {%s}", name, method, ref)
	case strings.ContainsAny(arg, "{}"):
		// As in Cube, the argument is pasted as written; a reference in it would reach
		// the database as braces.
		return Part{}, fmt.Errorf("references are not rewritten inside the argument of %s %s(): write the column itself (qualified by the cube's name if needed) in {%s}", name, method, ref)
	}
	return Part{Kind: PartSecurityContext, Path: path, Method: method, Arg: arg}, nil
}

// unquote strips the quotes of a 'column' or "column" argument; other text is returned as
// is (an unquoted SQL expression).
func unquote(arg string) string {
	if n := len(arg); n >= 2 && (arg[0] == '\'' || arg[0] == '"') && arg[n-1] == arg[0] {
		return arg[1 : n-1]
	}
	return arg
}

// Column is the SQL expression of a FILTER_PARAMS or SECURITY_CONTEXT argument, without
// the quotes it was written in.
func (p Part) Column() string { return unquote(p.Arg) }

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
