package obs

import "github.com/prometheus/client_golang/prometheus"

var (
	aggregatesOldestDirty = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "aggregates", Name: "oldest_dirty_seconds",
		Help: "Seconds since this loader's refresher first saw the oldest day user_day_metrics is still behind on (0: none). Reviews stay exact meanwhile (dirty days are read from raw_signals), only slower; a value growing past minutes means refreshes fail: see the loader's log."})
	aggregatesRefreshes = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "aggregates", Name: "refreshes_total",
		Help: "Refresh passes of user_day_metrics, by result (ok, error)."}, []string{"result"})
)

func init() { registry.MustRegister(aggregatesOldestDirty, aggregatesRefreshes) }

// AggregatesOldestDirty sets the age of the oldest dirty day in seconds.
func AggregatesOldestDirty(seconds float64) { aggregatesOldestDirty.Set(seconds) }

// AggregatesRefresh counts one refresh pass; err is its failure, if any.
func AggregatesRefresh(err error) {
	result := "ok"
	if err != nil {
		result = "error"
	}
	aggregatesRefreshes.WithLabelValues(result).Inc()
}
