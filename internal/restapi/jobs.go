package restapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/cubit-dev/cubit/internal/errs"
)

// jobsRequest is the body of POST /v1/pre-aggregations/jobs: Cube's action and selector.
// Cubit builds every time zone of a selected rollup, so contexts and timezones are accepted
// and not needed.
type jobsRequest struct {
	Action   string `json:"action"`
	Selector struct {
		PreAggregations []string          `json:"preAggregations"`
		Contexts        []json.RawMessage `json:"contexts"`
		Timezones       []string          `json:"timezones"`
	} `json:"selector"`
	Tokens []string `json:"tokens"`
}

// jobs answers POST /v1/pre-aggregations/jobs. "post" asks for builds of the selected
// rollups (all of them without a selector) and "get" reads the builds' state; both answer
// {"jobs": [...]}, one entry per rollup and time zone with its status (scheduled,
// building, built, failed), table, partitions, rows, refresh key, last build and error.
// Cube answers "post" with job tokens to poll; Cubit's state is per rollup, so the answer
// is the state itself.
func (a *API) jobs(w http.ResponseWriter, r *http.Request, _ map[string]any) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, r, &errs.Error{Kind: errs.KindTooLarge, Message: "request body is too large"})
			return
		}
		writeError(w, r, errs.Invalid("reading the request body: %v", err))
		return
	}
	var req jobsRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, r, errs.Invalid("malformed jobs request: %v", err))
		return
	}
	set := a.engine(r).PreAggregations()
	if set == nil {
		writeError(w, r, errs.Invalid("this deployment has no rollup store: pre-aggregations are not built here"))
		return
	}
	switch req.Action {
	case "post":
		if err := set.Trigger(req.Selector.PreAggregations...); err != nil {
			writeError(w, r, err)
			return
		}
	case "get":
	default:
		writeError(w, r, errs.Invalid(`jobs: unknown action %q (want "post" or "get")`, req.Action))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": set.Jobs()})
}
