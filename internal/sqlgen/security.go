package sqlgen

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/model"
)

// securityContext renders {SECURITY_CONTEXT.key.filter(arg)}, .requiredFilter(arg) and
// .unsafeValue() with the query's security context, as Cube does, except that a value is
// always a bound parameter, never SQL text: the context comes from a token or a login,
// and pasting it would let whoever controls it inject SQL.
//
// filter renders `arg = $n`, `arg IN ($n, ...)` for an array (Cube renders `arg = $1,$2`,
// which only works for one element), 1 = 0 for an empty array, and 1 = 1 when the key is
// missing or null. requiredFilter fails the query instead (forbidden). unsafeValue renders
// the value's placeholder, the placeholders of an array separated by commas, or NULL.
func (b *builder) securityContext(part model.Part) (string, error) {
	key := strings.Join(part.Path, ".")
	v, ok := lookupContext(b.root.Query.SecurityContext, part.Path)
	if !ok {
		switch part.Method {
		case model.SecurityRequiredFilter:
			return "", &errs.Error{Kind: errs.KindForbidden,
				Message: fmt.Sprintf("Filter for %s is required: the security context has no %s", part.Column(), key)}
		case model.SecurityUnsafeValue:
			return "NULL", nil
		}
		return "1 = 1", nil
	}
	vals, list, err := contextValues(key, v)
	if err != nil {
		return "", err
	}
	phs := make([]string, len(vals))
	for i, x := range vals {
		phs[i] = b.arg(x)
	}
	switch part.Method {
	case model.SecurityUnsafeValue:
		if len(phs) == 0 {
			return "NULL", nil
		}
		return strings.Join(phs, ", "), nil
	case model.SecurityFilter, model.SecurityRequiredFilter:
		expr := part.Column()
		switch {
		case !list:
			return expr + " = " + phs[0], nil
		case len(phs) == 0:
			return "1 = 0", nil
		}
		return expr + " IN (" + strings.Join(phs, ", ") + ")", nil
	}
	return "", fmt.Errorf("unknown SECURITY_CONTEXT method %q", part.Method)
}

// lookupContext walks the security context along path; ok is false when a key is
// missing, a value on the way is not an object, or the value is null.
func lookupContext(ctx map[string]any, path []string) (any, bool) {
	var cur any = ctx
	for _, k := range path {
		obj, isObj := cur.(map[string]any)
		if !isObj {
			return nil, false
		}
		if cur = obj[k]; cur == nil {
			return nil, false
		}
	}
	return cur, true
}

// contextValues returns the values to bind for a security-context value: one scalar, or
// the elements of an array (list true).
func contextValues(key string, v any) (vals []any, list bool, err error) {
	switch x := v.(type) {
	case []any:
		vals = make([]any, len(x))
		for i, e := range x {
			if vals[i], err = contextScalar(fmt.Sprintf("%s[%d]", key, i), e); err != nil {
				return nil, true, err
			}
		}
		return vals, true, nil
	case []string:
		vals = make([]any, len(x))
		for i, e := range x {
			vals[i] = e
		}
		return vals, true, nil
	}
	s, err := contextScalar(key, v)
	return []any{s}, false, err
}

// contextScalar checks that a value can be bound and gives whole JSON numbers (float64 once
// decoded) an integer type, so that `user_id = $1` compares integers on every engine.
func contextScalar(key string, v any) (any, error) {
	switch x := v.(type) {
	case string, bool, int64:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), nil
		}
		return x, nil
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
		if f, err := x.Float64(); err == nil {
			return f, nil
		}
	}
	return nil, errs.Invalid("security context value %s is %s: SECURITY_CONTEXT takes a string, a number, a boolean or an array of them", key, describeValue(v))
}

func describeValue(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return fmt.Sprintf("a %T", v)
}
