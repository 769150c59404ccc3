package review

import (
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/store"
)

// The review metrics are defined once, in model.ReviewMetrics. This file
// binds each entry to the fields of the store's rows that hold it (the
// only per-metric code there is: model cannot import store) and answers
// every output's question (value, n/a, median) from the entry, so the
// text, JSON, CSV and the Grafana frames need no switch on a name.

// binding reads one metric out of the store's rows.
type binding struct {
	value func(store.Metrics) uint64
	// cohort is its median in the Grafana cohort medians; nil where the
	// entry has no CohortMedian.
	cohort func(store.CohortMedians) float64
	// base is its median in the cycle baseline; nil where the entry has
	// no Baseline.
	base func(store.Baseline) float64
}

// bindings are keyed by model.Metric.Name; TestBindings checks every
// entry has one, and only the medians its entry declares.
var bindings = map[string]binding{
	"total_calls": {func(m store.Metrics) uint64 { return m.TotalCalls },
		func(c store.CohortMedians) float64 { return c.TotalCalls }, func(b store.Baseline) float64 { return b.MedianTotalCalls }},
	"inbound_calls": {func(m store.Metrics) uint64 { return m.InboundCalls },
		func(c store.CohortMedians) float64 { return c.InboundCalls }, nil},
	"outbound_calls": {func(m store.Metrics) uint64 { return m.OutboundCalls },
		func(c store.CohortMedians) float64 { return c.OutboundCalls }, nil},
	"avg_duration_sec": {func(m store.Metrics) uint64 { return m.AvgDurationSec },
		func(c store.CohortMedians) float64 { return c.AvgDurationSec }, nil},
	"after_hours_calls": {func(m store.Metrics) uint64 { return m.AfterHoursCalls },
		func(c store.CohortMedians) float64 { return c.AfterHoursCalls }, nil},
	"escalated_calls": {func(m store.Metrics) uint64 { return m.EscalatedCalls },
		func(c store.CohortMedians) float64 { return c.EscalatedCalls }, nil},
	"resolved_calls": {func(m store.Metrics) uint64 { return m.ResolvedCalls },
		func(c store.CohortMedians) float64 { return c.ResolvedCalls }, nil},
	"answered_calls": {func(m store.Metrics) uint64 { return m.AnsweredCalls },
		func(c store.CohortMedians) float64 { return c.Talk.AnsweredCalls }, func(b store.Baseline) float64 { return b.TalkMedians.AnsweredCalls }},
	"missed_calls": {func(m store.Metrics) uint64 { return m.MissedCalls },
		func(c store.CohortMedians) float64 { return c.Talk.MissedCalls }, func(b store.Baseline) float64 { return b.TalkMedians.MissedCalls }},
	"voicemail_calls": {func(m store.Metrics) uint64 { return m.VoicemailCalls },
		func(c store.CohortMedians) float64 { return c.Talk.VoicemailCalls }, func(b store.Baseline) float64 { return b.TalkMedians.VoicemailCalls }},
	"talk_time_sec": {func(m store.Metrics) uint64 { return m.TalkTimeSec },
		func(c store.CohortMedians) float64 { return c.Talk.TalkTimeSec }, func(b store.Baseline) float64 { return b.TalkMedians.TalkTimeSec }},
	"avg_talk_sec": {func(m store.Metrics) uint64 { return m.AvgTalkSec },
		func(c store.CohortMedians) float64 { return c.Talk.AvgTalkSec }, func(b store.Baseline) float64 { return b.TalkMedians.AvgTalkSec }},
	"avg_answer_sec": {func(m store.Metrics) uint64 { return m.AvgAnswerSec }, nil, nil},
}

// availability reads a model.Metric.Available column of an employee's
// row, as the review queries returned it.
var availability = map[string]func(store.Metrics) bool{
	model.EscalationAvailable: func(m store.Metrics) bool { return m.EscalationAvailable },
	model.AnswerTimeAvailable: func(m store.Metrics) bool { return m.AnswerTimeAvailable },
}

// cohortAvailability reads an Available column of a cohort's medians;
// a column missing here means the cohort medians do not depend on it.
var cohortAvailability = map[string]func(store.CohortMedians) bool{
	model.EscalationAvailable: func(c store.CohortMedians) bool { return c.EscalationAvailable },
}

// Available reports the metric's availability column in m: true where the
// metric has none.
func Available(m store.Metrics, mt model.Metric) bool {
	if mt.Available == "" {
		return true
	}
	return availability[mt.Available](m)
}

// Value is the metric's number in m; ok is false where it is n/a.
func Value(m store.Metrics, mt model.Metric) (v uint64, ok bool) {
	if !Available(m, mt) {
		return 0, false
	}
	return bindings[mt.Name].value(m), true
}

// CohortMedian is the metric's median in a cohort's medians; ok is false
// where the metric has none or it is n/a for the cohort.
func CohortMedian(c store.CohortMedians, mt model.Metric) (v float64, ok bool) {
	if !mt.CohortMedian {
		return 0, false
	}
	if avail, dep := cohortAvailability[mt.Available]; dep && !avail(c) {
		return 0, false
	}
	return bindings[mt.Name].cohort(c), true
}

// BaselineMedian is the metric's median in a cycle baseline (an entry
// with Baseline only).
func BaselineMedian(b store.Baseline, mt model.Metric) float64 { return bindings[mt.Name].base(b) }

// Baselines are the metrics whose median the baselines carry, in order.
func Baselines(ms []model.Metric) []model.Metric {
	var out []model.Metric
	for _, m := range ms {
		if m.Baseline {
			out = append(out, m)
		}
	}
	return out
}

// group splits the metrics into the seed's (extended false) or the
// others, keeping their order.
func group(extended bool) []model.Metric {
	var out []model.Metric
	for _, m := range model.ReviewMetrics {
		if m.Extended == extended {
			out = append(out, m)
		}
	}
	return out
}

// seedMetrics and extendedMetrics are model.ReviewMetrics' two groups.
var seedMetrics, extendedMetrics = group(false), group(true)
