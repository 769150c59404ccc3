package obs

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Namespace prefixes every phonesignals metric.
const Namespace = "phonesignals"

var (
	registry = prometheus.NewRegistry()

	recordsIn = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "transform", Name: "records_in_total",
		Help: "Raw call records the transform consumed from Kafka and committed."})
	rowsOut = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "transform", Name: "rows_out_total",
		Help: "Call rows the transform loaded into ClickHouse."})
	deadLettered = prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "transform", Name: "dead_lettered_total",
		Help: "Raw records the transform could not use, sent to the dead-letter topic with their reason."})
	batchRecords = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "transform", Name: "batch_records",
		Help:    "Raw records per transform batch (one Arrow batch, one ClickHouse insert, one Kafka transaction).",
		Buckets: prometheus.ExponentialBuckets(1, 4, 9)})
	consumerLag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "kafka", Name: "consumer_lag_records",
		Help: "Records of the topic the consumer group has not committed yet."}, []string{"group", "topic"})
	published = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "kafka", Name: "published_records_total",
		Help: "Records published to Kafka and acknowledged (sync, webhooks)."}, []string{"topic"})
	insertSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "clickhouse", Name: "insert_duration_seconds",
		Help:    "Duration of ClickHouse batch inserts, by outcome (ok, error).",
		Buckets: prometheus.ExponentialBuckets(0.005, 2.5, 10)}, []string{"outcome"})
	clickhouseRetries = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "clickhouse", Name: "retries_total",
		Help: "ClickHouse writes of the transform that failed and were retried after a back-off, by cause: disk_full, unavailable (unreachable, overloaded, timed out), other."}, []string{"cause"})
	clickhouseDiskFull = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "clickhouse", Name: "disk_full",
		Help: "1 while ClickHouse refuses the transform's writes for want of disk space (the pipeline waits, nothing is lost), 0 once a write goes through."})
	providerRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "provider", Name: "requests_total",
		Help: "HTTP requests to phone providers' APIs, by provider and status code (\"error\" when no answer came)."}, []string{"provider", "code"})
	providerRateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "provider", Name: "rate_limited_total",
		Help: "Provider answers 429 Too Many Requests."}, []string{"provider"})
	providerErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "provider", Name: "errors_total",
		Help: "Provider requests that got no answer or a 5xx."}, []string{"provider"})
	webhookResponses = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "webhook", Name: "responses_total",
		Help: "Webhook deliveries answered, by provider and HTTP status."}, []string{"provider", "status"})
	webhookClamped = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "webhook", Name: "timestamps_clamped_total",
		Help: "Webhook events whose timestamp was after their receive time, clamped to it (skewed or forged clocks)."}, []string{"provider"})
	buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Name: "build_info",
		Help: "Always 1; the version label says which build runs."}, []string{"version"})
)

func init() {
	registry.MustRegister(
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		recordsIn, rowsOut, deadLettered, batchRecords, consumerLag, published, insertSeconds, clickhouseRetries, clickhouseDiskFull,
		providerRequests, providerRateLimited, providerErrors, webhookResponses, webhookClamped, buildInfo)
}

// Registry is the process's metrics registry, served on /metrics.
func Registry() *prometheus.Registry { return registry }

// SetVersion records the running build in phonesignals_build_info.
func SetVersion(v string) { buildInfo.WithLabelValues(v).Set(1) }

// TransformBatch records one committed transform batch.
func TransformBatch(records, rows, dead int) {
	recordsIn.Add(float64(records))
	rowsOut.Add(float64(rows))
	deadLettered.Add(float64(dead))
	batchRecords.Observe(float64(records))
}

// ConsumerLag records how far group is behind on topic.
func ConsumerLag(group, topic string, lag int64) {
	consumerLag.WithLabelValues(group, topic).Set(float64(lag))
}

// Published records n records acknowledged by Kafka on topic.
func Published(topic string, n int) { published.WithLabelValues(topic).Add(float64(n)) }

// InsertTimer starts timing a ClickHouse insert; call the result with the
// insert's error: defer func() { done(err) }().
func InsertTimer() (done func(error)) {
	start := time.Now()
	return func(err error) {
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		insertSeconds.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
	}
}

// ClickHouseRetry records one failed ClickHouse write that is retried;
// cause is disk_full, unavailable or other.
func ClickHouseRetry(cause string) { clickhouseRetries.WithLabelValues(cause).Inc() }

// ClickHouseDiskFull records whether ClickHouse is refusing writes for
// want of disk space.
func ClickHouseDiskFull(full bool) {
	v := 0.0
	if full {
		v = 1
	}
	clickhouseDiskFull.Set(v)
}

// WebhookResponse records one webhook answer.
func WebhookResponse(provider string, status int) {
	webhookResponses.WithLabelValues(provider, strconv.Itoa(status)).Inc()
}

// WebhookTimestampClamped records one webhook event whose timestamp was
// after its receive time.
func WebhookTimestampClamped(provider string) { webhookClamped.WithLabelValues(provider).Inc() }

// InstrumentClient returns a copy of c (nil: a client with the given
// timeout) whose requests are counted by provider and status code.
func InstrumentClient(provider string, c *http.Client, timeout time.Duration) *http.Client {
	out := &http.Client{Timeout: timeout}
	if c != nil {
		cp := *c
		out = &cp
	}
	if _, done := out.Transport.(providerTransport); done {
		return out
	}
	base := out.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	out.Transport = providerTransport{provider: provider, base: base}
	return out
}

type providerTransport struct {
	provider string
	base     http.RoundTripper
}

func (t providerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		providerRequests.WithLabelValues(t.provider, "error").Inc()
		providerErrors.WithLabelValues(t.provider).Inc()
		return resp, err
	}
	providerRequests.WithLabelValues(t.provider, strconv.Itoa(resp.StatusCode)).Inc()
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		providerRateLimited.WithLabelValues(t.provider).Inc()
	case resp.StatusCode >= 500:
		providerErrors.WithLabelValues(t.provider).Inc()
	}
	return resp, nil
}
