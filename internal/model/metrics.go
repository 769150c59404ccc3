package model

import "strings"

// Metric is one review number of an employee in a cycle: what it is
// called, what it counts, when it exists and where it shows. ReviewMetrics
// lists them; the review's text, JSON and CSV (internal/review), the
// Grafana frames and dashboards (grafana/pkg/plugin, grafana/dashgen) and
// the README's definitions table are all built from that one list, so a
// metric is named and defined once. The SQL columns carry the same names.
type Metric struct {
	// Name is the column, JSON key, text line and frame field name.
	Name string
	// Title is the short label a manager reads on a dashboard.
	Title string
	// Definition says exactly what is counted, in Markdown (names in
	// backticks); Plain is the same text for a tooltip.
	Definition string
	// Unit is Grafana's unit id: "" for a count, "s" for seconds. Every
	// value is a whole number.
	Unit string
	// HigherIsWorse colours a value above the cohort median as a warning.
	HigherIsWorse bool
	// Available names the stored boolean column that says whether the
	// number exists for an employee ("" when it always does): where it is
	// false the number is n/a (text "n/a", JSON null, CSV "n/a", a null
	// field), never 0. The JSON carries the column right after the value.
	Available string
	// Extended marks the numbers beside the seed's seven: the text block
	// shows them only under `review --extended`, after the seed's lines,
	// so the seed's block stays byte for byte; JSON and CSV carry them
	// after the seed's columns.
	Extended bool
	// Baseline says the cohort baseline carries median_NAME (the review's
	// [BASELINES] block, JSON and CSV, and the cohort_baselines frame).
	Baseline bool
	// CohortMedian says the review frames fill NAME_median and
	// NAME_vs_median (they are null otherwise).
	CohortMedian bool
}

// Metric availability columns (Metric.Available), as stored on every
// raw_signals row and returned by the review queries.
const (
	// EscalationAvailable is false where the provider has no notes or
	// tags, so escalation cannot be detected.
	EscalationAvailable = "escalation_available"
	// AnswerTimeAvailable is false where no answered inbound call has an
	// answer time.
	AnswerTimeAvailable = "answer_time_available"
)

// ReviewMetrics are the review numbers in the review's order: the seed's
// seven, then the talk-time numbers (migration 013).
var ReviewMetrics = []Metric{
	{Name: "total_calls", Title: "Total calls", Baseline: true, CohortMedian: true,
		Definition: "Calls of the employee that started in the cycle (`[period_start, period_end)` in UTC), through the provider user mapped to them at query time; calls with no user (unanswered inbound Aircall calls) belong to nobody; deleted calls count nowhere."},
	{Name: "inbound_calls", Title: "Inbound calls", CohortMedian: true,
		Definition: "Calls in `total_calls` whose direction is inbound."},
	{Name: "outbound_calls", Title: "Outbound calls", CohortMedian: true,
		Definition: "Calls in `total_calls` whose direction is outbound."},
	{Name: "avg_duration_sec", Title: "Average duration", Unit: "s", CohortMedian: true,
		Definition: "Mean duration in seconds over the calls in `total_calls`, rounded half away from zero; 0 with no calls."},
	{Name: "after_hours_calls", Title: "After-hours calls", HigherIsWorse: true, CohortMedian: true,
		Definition: "Calls in `total_calls` that started outside the org's working hours: by default (the seed's rule) before 08:00 or at/after 18:00 UTC, any day; `phonesignals org set` changes them (README, Working hours)."},
	{Name: "escalated_calls", Title: "Escalated calls", HigherIsWorse: true, Available: EscalationAvailable, CohortMedian: true,
		Definition: "Calls whose Aircall notes or tag names contain `escalat`, `urgent`, `manager`, `complaint` or `refund` (case-insensitive). n/a (JSON `null`, CSV `n/a`) for RingCentral: its call log has no notes or tags, so escalation cannot be detected (never a real 0); `escalation_available` says which."},
	{Name: "resolved_calls", Title: "Resolved calls", CohortMedian: true,
		Definition: "Calls whose notes contain `resolved`, `fixed` or `satisfied`, or that connected and completed (Aircall `done` with `answered_at`; RingCentral `Call connected` / `Accepted`)."},
	{Name: "answered_calls", Title: "Answered calls", Extended: true, Baseline: true, CohortMedian: true,
		Definition: "Calls in `total_calls` that were answered, either direction: Aircall `answered_at` set and no `voicemail` left; RingCentral result `Call connected` or `Accepted`."},
	{Name: "missed_calls", Title: "Missed calls", HigherIsWorse: true, Extended: true, Baseline: true, CohortMedian: true,
		Definition: "Inbound calls in `total_calls` that reached the employee and were not answered: Aircall inbound calls that ended (`done`) with no `answered_at`, or with a `voicemail` left, whatever their `missed_call_reason` (Aircall drops the user of most unanswered calls, which then count for nobody); RingCentral inbound results `Missed`, `Voicemail`, `Rejected`, `Declined`, `No Answer` and `Busy` (not `Hang Up`, `Abandoned`, `Blocked`, `Call Failed`, `Stopped` or `Unknown`: the caller gave up or the call never rang the extension). Outbound calls are never missed. Voicemails are included."},
	{Name: "voicemail_calls", Title: "Voicemails", HigherIsWorse: true, Extended: true, Baseline: true, CohortMedian: true,
		Definition: "Missed calls in which the caller left a voicemail: Aircall `voicemail` set; RingCentral result `Voicemail`."},
	{Name: "talk_time_sec", Title: "Talk time", Unit: "s", Extended: true, Baseline: true, CohortMedian: true,
		Definition: "Total talk time in seconds of the answered calls: Aircall `ended_at - answered_at` (0 while the call lasts, and if it ended before its answer time); RingCentral, whose call log has no answer time, the connected call's `duration` (from its start, so it may include ringing)."},
	{Name: "avg_talk_sec", Title: "Average talk time", Unit: "s", Extended: true, Baseline: true, CohortMedian: true,
		Definition: "`talk_time_sec / answered_calls`, rounded half away from zero; 0 with no answered call."},
	{Name: "avg_answer_sec", Title: "Average time to answer", Unit: "s", HigherIsWorse: true, Available: AnswerTimeAvailable, Extended: true,
		Definition: "Mean time to answer, `answered_at - started_at` in seconds (0 if not after the start), over the answered **inbound** calls, rounded half away from zero (an outbound call's ring time is the callee's, not the employee's). n/a (JSON `null`, CSV `n/a`), never 0, when there is none: always for RingCentral, whose call log has no answer time, and for an employee who answered no inbound call; `answer_time_available` says which. No cohort median: its n/a employees would leave a median over other people than `cohort_size`."},
}

// MedianDefinition explains the cohort median beside every number.
const MedianDefinition = "Cohort median: the exact median of the number over the employees of the same cohort in the cycle, those with no calls counting as 0; the mean of the two middle values when the count is even."

// MedianNADefinition says when a cohort median is n/a.
const MedianNADefinition = "Cohort median; n/a (null) when the cohort is smaller than the org's minimum cohort size " +
	"(`phonesignals org privacy --min-cohort`, default 3): a median of one or two people is their own number. median_na_reason says so."

// Plain is the definition without Markdown, for a tooltip.
func (m Metric) Plain() string { return strings.NewReplacer("`", "", "**", "").Replace(m.Definition) }

// MedianName is the baseline's column of the metric's cohort median.
func (m Metric) MedianName() string { return "median_" + m.Name }

// NA says the number can be n/a.
func (m Metric) NA() bool { return m.Available != "" }
