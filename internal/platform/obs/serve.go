package obs

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// OtherOrg is the org label of every org past the per-org label cap
// (SetServeOrgLabelCap): their counters add up under it, and their gauges
// show the worst of them (the oldest success, the most seconds behind).
const OtherOrg = "_other"

// DefaultServeOrgLabelCap is how many orgs one serve replica exports
// under their own org label. Past it orgs share OtherOrg, so a replica of
// a 10,000-org deployment exports at most this many series per metric
// plus one; `phonesignals serve status` still lists every org.
const DefaultServeOrgLabelCap = 500

var (
	serveOrgLastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "serve", Name: "org_last_success_timestamp_seconds",
		Help: "UNIX time of the org's last successful sync round on this replica (org=\"_other\": the oldest of the orgs past the label cap)."}, []string{"org"})
	serveOrgBehind = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "serve", Name: "org_behind_seconds",
		Help: "Seconds since the start of the org's last successful sync round: calls created since may not be in Kafka yet (org=\"_other\": the most of the orgs past the label cap)."}, []string{"org"})
	serveOrgErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "serve", Name: "org_errors_total",
		Help: "Failed sync rounds of the org, by kind: auth, rate_limited, provider_down, timeout, kafka, other."}, []string{"org", "kind"})
	serveOrgRateWaits = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "serve", Name: "org_rate_limit_waits_total",
		Help: "Times the org's connector waited for its provider rate limit."}, []string{"org"})
	serveOrgRateWaitSeconds = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "serve", Name: "org_rate_limit_wait_seconds_total",
		Help: "Seconds the org's connector waited for its provider rate limit."}, []string{"org"})
	serveOrgsFollowed = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "serve", Name: "orgs_followed",
		Help: "Orgs this replica follows now."})
	serveOwnedPartitions = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: Namespace, Subsystem: "serve", Name: "owned_partitions",
		Help: "Partitions of phonesignals.orgs the consumer group assigned to this replica."})
)

func init() {
	registry.MustRegister(serveOrgLastSuccess, serveOrgBehind, serveOrgErrors, serveOrgRateWaits, serveOrgRateWaitSeconds,
		serveOrgsFollowed, serveOwnedPartitions)
}

// orgLabels hands out the bounded org labels of the serve metrics.
var orgLabels = struct {
	sync.Mutex
	cap  int
	have map[string]bool
}{cap: DefaultServeOrgLabelCap, have: map[string]bool{}}

// SetServeOrgLabelCap sets how many orgs get a label of their own
// (`serve --metrics-max-orgs`); n <= 0 keeps the default.
func SetServeOrgLabelCap(n int) {
	if n <= 0 {
		n = DefaultServeOrgLabelCap
	}
	orgLabels.Lock()
	orgLabels.cap = n
	orgLabels.Unlock()
}

// ServeOrgLabel is the label org's serve metrics use: the org itself while
// fewer than the cap have one, OtherOrg after.
func ServeOrgLabel(org string) string {
	orgLabels.Lock()
	defer orgLabels.Unlock()
	if orgLabels.have[org] {
		return org
	}
	if len(orgLabels.have) < orgLabels.cap {
		orgLabels.have[org] = true
		return org
	}
	return OtherOrg
}

// ServeOrgGone drops org's series when this replica stops following it,
// freeing its label for another org.
func ServeOrgGone(org string) {
	orgLabels.Lock()
	had := orgLabels.have[org]
	delete(orgLabels.have, org)
	orgLabels.Unlock()
	if !had {
		return
	}
	serveOrgLastSuccess.DeleteLabelValues(org)
	serveOrgBehind.DeleteLabelValues(org)
	serveOrgRateWaits.DeleteLabelValues(org)
	serveOrgRateWaitSeconds.DeleteLabelValues(org)
	serveOrgErrors.DeletePartialMatch(prometheus.Labels{"org": org})
}

// ServeOrgFreshness sets the gauges of label (from ServeOrgLabel): the
// last success as UNIX seconds (0: none yet) and the seconds behind.
func ServeOrgFreshness(label string, lastSuccessUnix, behindSeconds float64) {
	serveOrgLastSuccess.WithLabelValues(label).Set(lastSuccessUnix)
	serveOrgBehind.WithLabelValues(label).Set(behindSeconds)
}

// ServeOrgError counts one failed round of kind.
func ServeOrgError(label, kind string) { serveOrgErrors.WithLabelValues(label, kind).Inc() }

// ServeOrgRateWait counts one wait for the provider rate limit.
func ServeOrgRateWait(label string, seconds float64) {
	serveOrgRateWaits.WithLabelValues(label).Inc()
	serveOrgRateWaitSeconds.WithLabelValues(label).Add(seconds)
}

// ServeOrgsFollowed sets how many orgs this replica follows.
func ServeOrgsFollowed(n int) { serveOrgsFollowed.Set(float64(n)) }

// ServeOwnedPartitions sets how many org partitions this replica owns.
func ServeOwnedPartitions(n int) { serveOwnedPartitions.Set(float64(n)) }
