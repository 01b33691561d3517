package engine

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the engine's Prometheus collectors. One set serves every engine of a server:
// model versions come and go, the counts continue. A nil *Metrics counts nothing.
type Metrics struct {
	stages     *prometheus.HistogramVec
	cache      *prometheus.CounterVec
	cacheBytes prometheus.Gauge
	refreshKey prometheus.Counter
}

// NewMetrics creates the collectors and registers them with reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cubit_query_stage_duration_seconds",
			Help:    "Time spent compiling queries and executing them on the data source.",
			Buckets: []float64{.00001, .00005, .0001, .0005, .001, .005, .01, .05, .1, .5, 1, 5, 30},
		}, []string{"stage"}),
		cache: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cubit_result_cache_events_total", Help: "Result cache events: hit (current result served), miss (query run), stale (stale result served: stale-while-revalidate, or stale-if-slow when the fresh one was slow), eviction.",
		}, []string{"event"}),
		cacheBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cubit_result_cache_bytes", Help: "Estimated memory held by the result cache.",
		}),
		refreshKey: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cubit_refresh_key_evaluations_total", Help: "Refresh-key SQL queries run on the data source.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Collectors()...)
	}
	return m
}

// Collectors returns the collectors, for a registry made after the metrics.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.stages, m.cache, m.cacheBytes, m.refreshKey}
}

func (m *Metrics) observe(stage string, start time.Time) {
	if m != nil {
		m.stages.WithLabelValues(stage).Observe(time.Since(start).Seconds())
	}
}

func (m *Metrics) cacheEvent(event string) {
	if m != nil {
		m.cache.WithLabelValues(event).Inc()
	}
}

// cacheGrew adds delta bytes to the gauge: every Cache of a server adds its own, so the
// gauge is their sum.
func (m *Metrics) cacheGrew(delta int64) {
	if m != nil {
		m.cacheBytes.Add(float64(delta))
	}
}

func (m *Metrics) refreshKeyEvaluated() {
	if m != nil {
		m.refreshKey.Inc()
	}
}
