package restapi

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/errs"
)

// export answers POST /v1/export: every row of one query, beyond the row limit, streamed as
// CSV (format "csv") or JSON lines (format "jsonl", the default), with memory that does not
// grow with the result. An error after the first row ends the stream with an error line
// (JSON lines) or a truncated file; the trailer header says which.
func (a *API) export(w http.ResponseWriter, r *http.Request, claims map[string]any) {
	req, body, err := parseRequest(r, claims)
	if err != nil {
		writeError(w, r, err)
		return
	}
	format := "jsonl"
	if raw, ok := body["format"]; ok {
		if err := json.Unmarshal(raw, &format); err != nil || (format != "csv" && format != "jsonl") {
			writeError(w, r, errs.Invalid(`format must be "csv" or "jsonl"`))
			return
		}
	}
	if req.Array || len(engine.Expand(req.Request)) != 1 {
		writeError(w, r, errs.Invalid("export takes one query (no array, no compareDateRange)"))
		return
	}
	ctx, cancel := contextWithTimeout(r, a.opt.QueryTimeout)
	defer cancel()
	// An export may stream for longer than the server's write timeout; the query timeout
	// still bounds it.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Trailer", "X-Cubit-Export-Error")
	var started bool
	var keys []string
	flusher, _ := w.(http.Flusher)
	cw := csv.NewWriter(w)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	rows := 0
	err = a.engine(r).Stream(ctx, req.Queries[0], func(k []string) error {
		keys = k
		started = true
		if format == "csv" {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			return cw.Write(keys)
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		return nil
	}, func(values []any) error {
		rows++
		if format == "csv" {
			rec := make([]string, len(values))
			for i, v := range values {
				if v != nil {
					rec[i] = fmt.Sprint(v)
				}
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		} else if err := enc.Encode(engine.Row{Keys: keys, Values: values}); err != nil {
			return err
		}
		if rows%1000 == 0 {
			cw.Flush()
			if flusher != nil {
				flusher.Flush()
			}
		}
		return nil
	})
	cw.Flush()
	switch {
	case err != nil && !started:
		writeError(w, r, err)
	case err != nil:
		loggerFrom(r.Context()).Warn("export stopped", "rows", rows, "err", err)
		w.Header().Set("X-Cubit-Export-Error", err.Error())
		if format == "jsonl" {
			_ = enc.Encode(map[string]string{"error": err.Error()})
		}
	}
}
