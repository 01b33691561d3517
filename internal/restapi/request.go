package restapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/errs"
	"github.com/cubit-dev/cubit/internal/query"
)

// request is a parsed /load, /sql or /dry-run request.
type request struct {
	engine.Request
	// Key identifies identical requests for single-flight: the queries re-encoded, so that
	// spacing and key order do not matter.
	Key string
}

// bodyKeys are the keys a POST body may have.
var bodyKeys = map[string]bool{"query": true, "queryType": true, "cache": true, "renewQuery": true, "format": true}

// parseRequest reads the query from ?query= (GET) or the JSON body (POST). Every query
// gets the request's security context, the token's claims, which the model's
// SECURITY_CONTEXT templates bind.
func parseRequest(r *http.Request, claims map[string]any) (*request, map[string]json.RawMessage, error) {
	var raw []byte
	queryType := r.URL.Query().Get("queryType")
	var body map[string]json.RawMessage
	if r.Method == http.MethodGet {
		if q := r.URL.Query().Get("query"); q != "" && q != "undefined" {
			raw = []byte(q)
		}
	} else {
		data, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, nil, bodyError(err)
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, nil, errs.Invalid("Query param is required: send {\"query\": {...}}")
		}
		if err := json.Unmarshal(data, &body); err != nil {
			return nil, nil, errs.Invalid("Unable to decode the request body as a JSON object, error: %v", err)
		}
		for k := range body {
			if !bodyKeys[k] {
				return nil, nil, errs.Invalid("Invalid request: %q is not allowed (allowed: query, queryType, cache)", k)
			}
		}
		raw = body["query"]
		if qt, ok := body["queryType"]; ok {
			if err := json.Unmarshal(qt, &queryType); err != nil {
				return nil, nil, errs.Invalid("queryType must be a string")
			}
		}
	}
	if len(raw) == 0 || string(raw) == "null" || string(raw) == `"undefined"` {
		return nil, nil, errs.Invalid("Query param is required")
	}
	// A query sent as a JSON string holding JSON, as some clients do.
	var inner string
	if raw[0] == '"' && json.Unmarshal(raw, &inner) == nil {
		raw = []byte(inner)
	}
	queries, array, err := query.DecodeAny(raw)
	if err != nil {
		return nil, nil, err
	}
	if queryType != "" && queryType != "multi" && queryType != "regularQuery" {
		return nil, nil, errs.Invalid("queryType must be multi, got %q", queryType)
	}
	if err := applyCacheMode(r, body, queries); err != nil {
		return nil, nil, err
	}
	for _, q := range queries {
		q.SecurityContext = claims
	}
	req := &request{Request: engine.Request{Queries: queries, Array: array, Multi: queryType == "multi"}}
	key, err := json.Marshal(queries)
	if err != nil {
		return nil, nil, errs.Wrap(errs.KindInternal, err, "encoding the query key")
	}
	req.Key = fmt.Sprintf("%s|%v|%s", queryType, array, key)
	return req, body, nil
}

func bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return &bodyTimeoutError{}
	}
	if errors.As(err, &tooLarge) {
		return &errs.Error{Kind: errs.KindTooLarge, Message: fmt.Sprintf("request body is larger than %d bytes; send a smaller query or raise the limit", tooLarge.Limit)}
	}
	return errs.Invalid("reading the request body: %v", err)
}

// applyCacheMode gives the request-level cache mode (?cache= or the body's "cache", spec
// A.5) to the queries that set none of their own; the engine applies it (engine.CacheMode).
func applyCacheMode(r *http.Request, body map[string]json.RawMessage, queries []*query.Query) error {
	mode := r.URL.Query().Get("cache")
	if raw, ok := body["cache"]; ok {
		if err := json.Unmarshal(raw, &mode); err != nil {
			return errs.Invalid("cache must be a string")
		}
	}
	if mode == "" {
		return nil
	}
	if !engine.CacheMode(mode).Valid() {
		return errs.Invalid("cache must be one of stale-if-slow, stale-while-revalidate, must-revalidate, no-cache; got %q", mode)
	}
	for _, q := range queries {
		if q.Cache == "" {
			q.Cache = mode
		}
	}
	return nil
}
