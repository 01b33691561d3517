package restapi

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cubit-dev/cubit/internal/errs"
)

// Metrics are the API's Prometheus collectors.
type Metrics struct {
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	errors       *prometheus.CounterVec
	singleFlight prometheus.Counter
}

// NewMetrics creates the collectors and registers them with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cubit_http_requests_total", Help: "HTTP requests by endpoint and status code.",
		}, []string{"endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cubit_http_request_duration_seconds", Help: "HTTP request latency by endpoint.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"endpoint"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cubit_query_errors_total", Help: "Failed queries by error class.",
		}, []string{"class"}),
		singleFlight: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cubit_query_single_flight_shared_total", Help: "Requests answered by joining an identical query already running.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.latency, m.errors, m.singleFlight)
	}
	return m
}

func (m *Metrics) observeRequest(endpoint string, status int, d time.Duration) {
	m.requests.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(endpoint).Observe(d.Seconds())
}

func (m *Metrics) observeError(err error) {
	m.errors.WithLabelValues(string(errs.KindOf(err))).Inc()
}
