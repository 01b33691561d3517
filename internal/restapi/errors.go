package restapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/cubit-dev/cubit/internal/errs"
)

// errorBody is the JSON of every error response: Cube's {"error"} plus a type that tells
// the classes apart, and the request id so a report can be matched to the logs.
type errorBody struct {
	Error     string `json:"error"`
	Type      string `json:"type"`
	Member    string `json:"member,omitempty"`
	RequestID string `json:"requestId,omitempty"`
}

// classify maps an error to its HTTP status and type. It is the only place that does:
// user errors are 4xx, the data source's troubles 5xx with their own codes, and 500 means
// a bug in Cubit.
func classify(err error) (int, string) {
	var me *methodError
	if errors.As(err, &me) {
		return http.StatusMethodNotAllowed, "MethodNotAllowedError"
	}
	var te *bodyTimeoutError
	if errors.As(err, &te) {
		return http.StatusRequestTimeout, "RequestTimeoutError"
	}
	switch k := errs.KindOf(err); k {
	case errs.KindInvalid:
		return http.StatusBadRequest, "UserError"
	case errs.KindUnauthenticated:
		return http.StatusUnauthorized, "AuthenticationError"
	case errs.KindForbidden:
		return http.StatusForbidden, "AuthorizationError"
	case errs.KindNotFound:
		return http.StatusNotFound, "NotFoundError"
	case errs.KindTooLarge:
		return http.StatusRequestEntityTooLarge, "RequestTooLargeError"
	case errs.KindConflict:
		return http.StatusConflict, "ConflictError"
	case errs.KindSource:
		return http.StatusBadRequest, "DatabaseError"
	case errs.KindUnavailable:
		return http.StatusServiceUnavailable, "DataSourceUnavailableError"
	case errs.KindTimeout:
		return http.StatusGatewayTimeout, "QueryTimeoutError"
	case errs.KindCanceled:
		return statusCanceled, "QueryCanceledError"
	case errs.KindModel:
		return http.StatusInternalServerError, "ModelError"
	}
	return http.StatusInternalServerError, "InternalError"
}

// methodError is a request for an endpoint that exists, with a method it does not take.
// It is the REST edge's own error: no other part of Cubit knows about HTTP methods.
type methodError struct {
	method, path string
	allowed      []string
}

func (e *methodError) Error() string {
	return fmt.Sprintf("method %s is not allowed on %s; use %s", e.method, e.path, strings.Join(e.allowed, " or "))
}

// bodyTimeoutError is a request whose body did not arrive within the server's read timeout:
// the client's slowness, not a bad query and not the data source's.
type bodyTimeoutError struct{}

func (*bodyTimeoutError) Error() string {
	return "the request body did not arrive within the server's read timeout"
}

// statusCanceled answers a request whose query was canceled (by DELETE running-query or
// because the client went away): the de facto "client closed request" code.
const statusCanceled = 499

// writeError writes err as a JSON error response.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, typ := classify(err)
	body := errorBody{Error: err.Error(), Type: typ, RequestID: requestID(r.Context())}
	var e *errs.Error
	if errors.As(err, &e) {
		body.Member = e.Member
	}
	if status == http.StatusInternalServerError {
		// Internal details go to the log, not to the client.
		loggerFrom(r.Context()).Error("internal error", "err", err)
		body.Error = "internal error; the server log has the details (request " + body.RequestID + ")"
	}
	var me *methodError
	if errors.As(err, &me) {
		w.Header().Set("Allow", strings.Join(me.allowed, ", "))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cubit"`)
	}
	writeJSON(w, status, body)
}

// writeJSON writes v as the response body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
