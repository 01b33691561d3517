package query

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"

	"github.com/cubit-dev/cubit/internal/errs"
)

// maxDepth bounds how deeply a query may nest (filter groups are the only deep part); it
// keeps every later recursive stage safe from hostile input.
const maxDepth = 64

// kind is the JSON type of a node.
type kind int

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// node is a parsed JSON value that, unlike map[string]any, keeps object keys in the order
// they were sent (Cube's object form of "order" depends on it) and the literal text of
// numbers (filter values are stringified from it).
type node struct {
	kind  kind
	text  string // string value, or number literal
	b     bool
	keys  []string // object keys, in document order
	items []*node  // object values (parallel to keys) or array elements
}

// describe names a node for error messages: scalars by their value (strings cut short),
// arrays and objects by their type.
func (n *node) describe() string {
	switch n.kind {
	case kindNull:
		return "null"
	case kindBool:
		return strconv.FormatBool(n.b)
	case kindNumber:
		return n.text
	case kindString:
		if len(n.text) > 40 {
			return strconv.Quote(n.text[:40] + "...")
		}
		return strconv.Quote(n.text)
	case kindArray:
		return "an array"
	}
	return "an object"
}

// parseTree parses one JSON value and rejects trailing data and duplicate object keys.
//
// A small scanner over the bytes (fastparse.go) handles well-formed input; whenever it meets
// anything it does not accept (malformed JSON, a duplicate key, too deep a nesting), the
// input is parsed again with encoding/json's Decoder below, so that errors are exactly
// those of the strict decoder.
func parseTree(data []byte) (*node, error) {
	if n, ok := fastParse(data); ok {
		return n, nil
	}
	return parseTreeSlow(data)
}

// parseTreeSlow is the reference parser: encoding/json's Decoder tokens, walked in order.
func parseTreeSlow(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := readNode(dec, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errs.Invalid("Unable to decode query as JSON, error: unexpected data after the query object")
	}
	return n, nil
}

// readNode reads the next JSON value from dec.
func readNode(dec *json.Decoder, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, errs.Invalid("Invalid query format: the query nests deeper than %d levels", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError(err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return readObject(dec, depth)
		}
		return readArray(dec, depth)
	case string:
		return &node{kind: kindString, text: t}, nil
	case json.Number:
		return &node{kind: kindNumber, text: string(t)}, nil
	case bool:
		return &node{kind: kindBool, b: t}, nil
	}
	return &node{kind: kindNull}, nil
}

func readObject(dec *json.Decoder, depth int) (*node, error) {
	n := &node{kind: kindObject}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonError(err)
		}
		key, _ := tok.(string) // the decoder only yields strings in key position
		if seen[key] {
			// encoding/json would silently keep the last one; a duplicate is a client bug.
			return nil, errs.Invalid("Invalid query format: key %q appears twice in one object", key)
		}
		seen[key] = true
		v, err := readNode(dec, depth+1)
		if err != nil {
			return nil, err
		}
		n.keys = append(n.keys, key)
		n.items = append(n.items, v)
	}
	if _, err := dec.Token(); err != nil { // closing brace
		return nil, jsonError(err)
	}
	return n, nil
}

func readArray(dec *json.Decoder, depth int) (*node, error) {
	n := &node{kind: kindArray, items: []*node{}}
	for dec.More() {
		v, err := readNode(dec, depth+1)
		if err != nil {
			return nil, err
		}
		n.items = append(n.items, v)
	}
	if _, err := dec.Token(); err != nil { // closing bracket
		return nil, jsonError(err)
	}
	return n, nil
}

// jsonError reports malformed JSON in Cube's words.
func jsonError(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return errs.Invalid("Unable to decode query as JSON, error: %v", err)
}
