package restapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/cubit-dev/cubit/internal/engine"
	"github.com/cubit-dev/cubit/internal/errs"
)

// continueWait is Cube's answer to a query still running: the client asks again with the
// same request and gets the result once it is ready.
var continueWait = map[string]string{"error": "Continue wait"}

// load answers /v1/load. Identical requests share one run (single-flight); a run that takes
// longer than ContinueWait answers Continue wait and keeps running for the client to ask
// again, as Cube's clients expect.
func (a *API) load(w http.ResponseWriter, r *http.Request, claims map[string]any) {
	req, _, err := parseRequest(r, claims)
	if err != nil {
		writeError(w, r, err)
		return
	}
	// Requests share a run only under the same security context: once queries depend on
	// it, two tenants must never get each other's rows.
	security, err := json.Marshal(claims)
	if err != nil {
		writeError(w, r, errs.Wrap(errs.KindInternal, err, "encoding the security context"))
		return
	}
	eng := a.engine(r)
	fl, shared := a.flights.join(eng, string(security)+"|"+req.Key, requestID(r.Context()), a.opt.QueryTimeout, func(ctx context.Context) (any, error) {
		return eng.Load(ctx, req.Request)
	})
	if shared {
		a.opt.Metrics.singleFlight.Inc()
	}
	timer := time.NewTimer(a.opt.ContinueWait)
	defer timer.Stop()
	select {
	case <-fl.done:
		a.answer(w, r, fl)
	case <-timer.C:
		if !a.flights.owe(fl) {
			// The run ended as the wait did: answer now rather than send the client back
			// for a result that is no longer kept.
			a.answer(w, r, fl)
			return
		}
		writeJSON(w, http.StatusOK, continueWait)
	case <-r.Context().Done():
		// The client left; the query runs on for anyone who asks again.
		a.flights.owe(fl)
	}
}

// answer writes the result of a finished run.
func (a *API) answer(w http.ResponseWriter, r *http.Request, fl *flight) {
	a.flights.served(fl)
	if fl.err != nil {
		a.opt.Metrics.observeError(fl.err)
		writeError(w, r, fl.err)
		return
	}
	writeJSON(w, http.StatusOK, fl.res)
}

// cancelQuery answers DELETE /v1/running-query/{id}: it cancels the database query that the
// request with that id started.
func (a *API) cancelQuery(w http.ResponseWriter, r *http.Request, _ map[string]any) {
	if !a.flights.cancel(r.PathValue("id")) {
		writeError(w, r, &errs.Error{Kind: errs.KindNotFound, Message: "no running query with request id " + r.PathValue("id")})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"result": true})
}

// flight is one run of a request shared by every identical request while it runs.
type flight struct {
	key    string
	ids    []string
	done   chan struct{}
	res    any
	err    error
	cancel context.CancelFunc
	// owed is set when a client was told to continue waiting: the result is then kept
	// until OrphanTimeout for it to ask again.
	owed bool
}

// flights are the runs in progress, by request key and by the request ids that joined them.
type flights struct {
	mu     sync.Mutex
	byKey  map[string]*flight
	byID   map[string]*flight
	orphan time.Duration
}

func newFlights(orphan time.Duration) *flights {
	return &flights{byKey: map[string]*flight{}, byID: map[string]*flight{}, orphan: orphan}
}

// join returns the flight of key, starting it when there is none; shared reports whether an
// existing one was joined. The run's context is its own, bounded by timeout: it must
// outlive the request that started it.
func (f *flights) join(eng *engine.Engine, key, id string, timeout time.Duration, run func(context.Context) (any, error)) (fl *flight, shared bool) {
	key = engineKey(eng) + key
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl = f.byKey[key]; fl != nil {
		fl.ids = append(fl.ids, id)
		f.byID[id] = fl
		return fl, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	fl = &flight{key: key, ids: []string{id}, done: make(chan struct{}), cancel: cancel}
	f.byKey[key] = fl
	f.byID[id] = fl
	go func() {
		defer cancel()
		res, err := run(ctx)
		f.finished(fl, res, err)
	}()
	return fl, false
}

// finished records fl's result, then forgets a flight nobody is owed, or keeps it for
// OrphanTimeout. Both happen under the lock: a request arriving between the two would
// otherwise join a finished run and get its result, however old, instead of running the
// query (even with cache: no-cache).
func (f *flights) finished(fl *flight, res any, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fl.res, fl.err = res, err
	close(fl.done)
	if !fl.owed {
		f.forget(fl)
		return
	}
	time.AfterFunc(f.orphan, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.forget(fl)
	})
}

// owe marks that a client will ask again for fl's result.
// It reports false when fl has already finished: its result may be forgotten already, so
// the caller must answer with it now.
func (f *flights) owe(fl *flight) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	select {
	case <-fl.done:
		return false
	default:
		fl.owed = true
		return true
	}
}

// served is called when a client got fl's result; an owed result is then dropped, so the
// next identical request runs the query afresh.
func (f *flights) served(fl *flight) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl.owed {
		f.forget(fl)
	}
}

func (f *flights) forget(fl *flight) {
	if f.byKey[fl.key] == fl {
		delete(f.byKey, fl.key)
	}
	for _, id := range fl.ids {
		if f.byID[id] == fl {
			delete(f.byID, id)
		}
	}
}

// cancel cancels the running flight that request id joined.
func (f *flights) cancel(id string) bool {
	f.mu.Lock()
	fl := f.byID[id]
	f.mu.Unlock()
	if fl == nil {
		return false
	}
	select {
	case <-fl.done:
		return false
	default:
		fl.cancel()
		return true
	}
}

// engineKey keeps runs of different model versions apart: after a reload, a request must
// not join a run of the old model.
func engineKey(eng *engine.Engine) string { return fmt.Sprintf("%p|", eng) }
