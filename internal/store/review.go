package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/phonesignals/phonesignals/queries"
)

// Metrics are one employee's review numbers in one cycle.
type Metrics struct {
	EmployeeID      string `ch:"employee_id"`
	Name            string `ch:"name"`
	Cohort          string `ch:"cohort"`
	TotalCalls      uint64 `ch:"total_calls"`
	InboundCalls    uint64 `ch:"inbound_calls"`
	OutboundCalls   uint64 `ch:"outbound_calls"`
	AvgDurationSec  uint64 `ch:"avg_duration_sec"`
	AfterHoursCalls uint64 `ch:"after_hours_calls"`
	EscalatedCalls  uint64 `ch:"escalated_calls"`
	ResolvedCalls   uint64 `ch:"resolved_calls"`
	// EscalationAvailable is false for RingCentral orgs: escalated_calls
	// is then not a real zero and must be shown as not available.
	EscalationAvailable bool `ch:"-"`
	Talk
}

// Talk are the talk-time numbers of one employee in one cycle (migration
// 013; the README's definitions table says each in words).
type Talk struct {
	AnsweredCalls  uint64 `ch:"answered_calls"`
	MissedCalls    uint64 `ch:"missed_calls"`
	VoicemailCalls uint64 `ch:"voicemail_calls"`
	// TalkTimeSec is the total talk time in seconds; AvgTalkSec its mean
	// over AnsweredCalls, rounded half away from zero, 0 with none.
	TalkTimeSec uint64 `ch:"talk_time_sec"`
	AvgTalkSec  uint64 `ch:"avg_talk_sec"`
	// AvgAnswerSec is the mean time to answer of the answered inbound
	// calls with an answer time, rounded; AnswerTimeAvailable is false
	// when there is none (always for RingCentral): it is then n/a, never 0.
	AvgAnswerSec        uint64 `ch:"-"`
	AnswerTimeAvailable bool   `ch:"-"`
}

// metricsRow is a row of the review queries: the two columns Metrics
// holds in another form are selected here and converted by metrics.
type metricsRow struct {
	Metrics
	Escalation uint8 `ch:"escalation_available"`
	// AvgAnswer is NULL when time to answer is n/a.
	AvgAnswer *uint64 `ch:"avg_answer_sec"`
}

// metrics is r with escalation_available and avg_answer_sec taken in.
func (r metricsRow) metrics() Metrics {
	m := r.Metrics
	m.EscalationAvailable = r.Escalation == 1
	m.AvgAnswerSec, m.AnswerTimeAvailable = 0, r.AvgAnswer != nil
	if r.AvgAnswer != nil {
		m.AvgAnswerSec = *r.AvgAnswer
	}
	return m
}

// Baseline is a cohort's size and exact median total_calls in a cycle,
// and the medians of the talk-time numbers.
type Baseline struct {
	Cohort           string  `ch:"cohort"`
	Size             uint64  `ch:"cohort_size"`
	MedianTotalCalls float64 `ch:"median_total_calls"`
	TalkMedians
}

// TalkMedians are the exact medians of the talk-time numbers over a
// cohort's employees in a cycle, those with no calls counting as 0 (as
// median_total_calls). Time to answer has none: its n/a employees would
// leave a median over another set of people than cohort_size says.
type TalkMedians struct {
	AnsweredCalls  float64 `ch:"median_answered_calls"`
	MissedCalls    float64 `ch:"median_missed_calls"`
	VoicemailCalls float64 `ch:"median_voicemail_calls"`
	TalkTimeSec    float64 `ch:"median_talk_time_sec"`
	AvgTalkSec     float64 `ch:"median_avg_talk_sec"`
}

// dirtyDays returns the org's days user_day_metrics is behind on
// ('YYYY-MM-DD,...'), the @dirty parameter of the review queries: read once
// per query, so the query's parts agree on them while a refresh completes.
func (s *Store) dirtyDays(ctx context.Context, org string) (driver.NamedValue, error) {
	var days string
	if err := s.conn.QueryRow(ctx, queries.DirtyDaysOfOrg, clickhouse.Named("org", org)).Scan(&days); err != nil {
		return driver.NamedValue{}, fmt.Errorf("reading the days of org %s not aggregated yet: %w", org, err)
	}
	return clickhouse.Named("dirty", days), nil
}

// Review reads one employee's metrics in a cycle.
func (s *Store) Review(ctx context.Context, org, cycle, employee string) (Metrics, error) {
	dirty, err := s.dirtyDays(ctx, org)
	if err != nil {
		return Metrics{}, err
	}
	var rows []metricsRow
	if err := s.conn.Select(ctx, &rows, queries.Review, clickhouse.Named("org", org), clickhouse.Named("cycle", cycle), clickhouse.Named("employee", employee), dirty); err != nil {
		return Metrics{}, fmt.Errorf("reading review of employee %s in cycle %s of org %s: %w", employee, cycle, org, err)
	}
	if len(rows) == 0 {
		return Metrics{}, fmt.Errorf("employee %q in cycle %q of org %s: %w (check `phonesignals employees import` and `phonesignals cycles add`)", employee, cycle, org, ErrNotFound)
	}
	m := rows[0].metrics()
	m.EmployeeID = employee
	return m, nil
}

// CycleMetrics reads every employee's metrics in a cycle.
func (s *Store) CycleMetrics(ctx context.Context, org, cycle string) ([]Metrics, error) {
	dirty, err := s.dirtyDays(ctx, org)
	if err != nil {
		return nil, err
	}
	var rows []metricsRow
	if err := s.conn.Select(ctx, &rows, queries.CycleMetrics, clickhouse.Named("org", org), clickhouse.Named("cycle", cycle), dirty); err != nil {
		return nil, fmt.Errorf("reading metrics of cycle %s of org %s: %w", cycle, org, err)
	}
	var out []Metrics
	for _, r := range rows {
		out = append(out, r.metrics())
	}
	return out, nil
}

// Baseline reads a cohort's baseline in a cycle.
func (s *Store) Baseline(ctx context.Context, org, cycle, cohort string) (Baseline, error) {
	b := Baseline{Cohort: cohort}
	dirty, err := s.dirtyDays(ctx, org)
	if err != nil {
		return b, err
	}
	var rows []Baseline
	if err := s.conn.Select(ctx, &rows, queries.Baseline, clickhouse.Named("org", org), clickhouse.Named("cycle", cycle), clickhouse.Named("cohort", cohort), dirty); err != nil {
		return b, fmt.Errorf("reading baseline of cohort %s in cycle %s of org %s: %w", cohort, cycle, org, err)
	}
	if len(rows) == 0 {
		return b, fmt.Errorf("cohort %q in cycle %q of org %s: %w", cohort, cycle, org, ErrNotFound)
	}
	b = rows[0]
	b.Cohort = cohort
	return b, nil
}

// CycleBaselines reads every cohort's baseline in a cycle.
func (s *Store) CycleBaselines(ctx context.Context, org, cycle string) ([]Baseline, error) {
	dirty, err := s.dirtyDays(ctx, org)
	if err != nil {
		return nil, err
	}
	var out []Baseline
	if err := s.conn.Select(ctx, &out, queries.CycleBaselines, clickhouse.Named("org", org), clickhouse.Named("cycle", cycle), dirty); err != nil {
		return nil, fmt.Errorf("reading baselines of cycle %s of org %s: %w", cycle, org, err)
	}
	return out, nil
}

// UserCalls is a provider user's call count.
type UserCalls struct {
	UserID string `ch:"user_id"`
	Calls  uint64 `ch:"calls"`
}

// UnmappedUsers lists provider users with calls in [from, to) and no
// employee mapping, busiest first ("" is calls with no user).
func (s *Store) UnmappedUsers(ctx context.Context, org string, from, to time.Time) ([]UserCalls, error) {
	var out []UserCalls
	if err := s.conn.Select(ctx, &out, queries.UnmappedUsers, clickhouse.Named("org", org), clickhouse.Named("from", from.UTC()), clickhouse.Named("to", to.UTC())); err != nil {
		return nil, fmt.Errorf("listing unmapped users of org %s: %w", org, err)
	}
	return out, nil
}

// CallCounts summarises an org's current calls in a range.
type CallCounts struct {
	Calls    uint64
	WithUser uint64
	Versions uint64
}

// OrgCalls counts an org's current calls started in [from, to).
func (s *Store) OrgCalls(ctx context.Context, org string, from, to time.Time) (CallCounts, error) {
	var c CallCounts
	if err := s.conn.QueryRow(ctx, queries.OrgCalls, clickhouse.Named("org", org), clickhouse.Named("from", from.UTC()), clickhouse.Named("to", to.UTC())).Scan(&c.Calls, &c.WithUser, &c.Versions); err != nil {
		return c, fmt.Errorf("counting calls of org %s: %w", org, err)
	}
	return c, nil
}

// Count is a labelled count for doctor output.
type Count struct {
	Label string
	N     uint64
	Last  time.Time
	Note  string
}

// WebhookStats counts webhook deliveries of org by HTTP status.
func (s *Store) WebhookStats(ctx context.Context, org string) ([]Count, error) {
	var rows []struct {
		Status uint16    `ch:"status"`
		N      uint64    `ch:"deliveries"`
		Last   time.Time `ch:"last_at"`
		Note   string    `ch:"last_reason"`
	}
	if err := s.conn.Select(ctx, &rows, queries.WebhookStats, org); err != nil {
		return nil, fmt.Errorf("reading webhook deliveries of org %s: %w", org, err)
	}
	var out []Count
	for _, r := range rows {
		out = append(out, Count{Label: fmt.Sprintf("HTTP %d", r.Status), N: r.N, Last: r.Last, Note: r.Note})
	}
	return out, nil
}

// DeadLetterStats counts dead letters of org by reason.
func (s *Store) DeadLetterStats(ctx context.Context, org string) ([]Count, error) {
	var rows []struct {
		Label string `ch:"reason"`
		N     uint64 `ch:"records"`
	}
	if err := s.conn.Select(ctx, &rows, queries.DeadLetterStats, org); err != nil {
		return nil, fmt.Errorf("reading dead letters of org %s: %w", org, err)
	}
	var out []Count
	for _, r := range rows {
		out = append(out, Count{Label: r.Label, N: r.N})
	}
	return out, nil
}

// TranscriptStats counts transcript outcomes of org by status, with the
// latest reason.
func (s *Store) TranscriptStats(ctx context.Context, org string) ([]Count, error) {
	var rows []struct {
		Label string    `ch:"status"`
		N     uint64    `ch:"events"`
		Last  time.Time `ch:"last_at"`
		Note  string    `ch:"last_reason"`
	}
	if err := s.conn.Select(ctx, &rows, queries.TranscriptStats, org); err != nil {
		return nil, fmt.Errorf("reading transcript events of org %s: %w", org, err)
	}
	var out []Count
	for _, r := range rows {
		out = append(out, Count(r))
	}
	return out, nil
}
