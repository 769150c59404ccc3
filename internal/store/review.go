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
	EmployeeID      string
	Name            string
	Cohort          string
	TotalCalls      uint64
	InboundCalls    uint64
	OutboundCalls   uint64
	AvgDurationSec  uint64
	AfterHoursCalls uint64
	EscalatedCalls  uint64
	ResolvedCalls   uint64
	// EscalationAvailable is false for RingCentral orgs: escalated_calls
	// is then not a real zero and must be shown as not available.
	EscalationAvailable bool
	Talk
}

// Talk are the talk-time numbers of one employee in one cycle (migration
// 013; the README's definitions table says each in words).
type Talk struct {
	AnsweredCalls  uint64
	MissedCalls    uint64
	VoicemailCalls uint64
	// TalkTimeSec is the total talk time in seconds; AvgTalkSec its mean
	// over AnsweredCalls, rounded half away from zero, 0 with none.
	TalkTimeSec uint64
	AvgTalkSec  uint64
	// AvgAnswerSec is the mean time to answer of the answered inbound
	// calls with an answer time, rounded; AnswerTimeAvailable is false
	// when there is none (always for RingCentral): it is then n/a, never 0.
	AvgAnswerSec        uint64
	AnswerTimeAvailable bool
}

// talkTargets are t's columns in the review queries' order, after the
// seed's: avg_answer_sec is scanned into *ans (NULL when n/a).
func (t *Talk) talkTargets(ans **uint64) []any {
	return []any{&t.AnsweredCalls, &t.MissedCalls, &t.VoicemailCalls, &t.TalkTimeSec, &t.AvgTalkSec, ans}
}

// setAnswer takes the scanned avg_answer_sec.
func (t *Talk) setAnswer(ans *uint64) {
	t.AvgAnswerSec, t.AnswerTimeAvailable = 0, ans != nil
	if ans != nil {
		t.AvgAnswerSec = *ans
	}
}

// Baseline is a cohort's size and exact median total_calls in a cycle,
// and the medians of the talk-time numbers.
type Baseline struct {
	Cohort           string
	Size             uint64
	MedianTotalCalls float64
	TalkMedians
}

// TalkMedians are the exact medians of the talk-time numbers over a
// cohort's employees in a cycle, those with no calls counting as 0 (as
// median_total_calls). Time to answer has none: its n/a employees would
// leave a median over another set of people than cohort_size says.
type TalkMedians struct {
	AnsweredCalls, MissedCalls, VoicemailCalls, TalkTimeSec, AvgTalkSec float64
}

// targets are m's columns in the baseline queries' order.
func (m *TalkMedians) targets() []any {
	return []any{&m.AnsweredCalls, &m.MissedCalls, &m.VoicemailCalls, &m.TalkTimeSec, &m.AvgTalkSec}
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
	rows, err := s.conn.Query(ctx, queries.Review, clickhouse.Named("org", org), clickhouse.Named("cycle", cycle), clickhouse.Named("employee", employee), dirty)
	if err != nil {
		return Metrics{}, fmt.Errorf("reading review of employee %s in cycle %s of org %s: %w", employee, cycle, org, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return Metrics{}, err
		}
		return Metrics{}, fmt.Errorf("employee %q in cycle %q of org %s: %w (check `phonesignals employees import` and `phonesignals cycles add`)", employee, cycle, org, ErrNotFound)
	}
	m := Metrics{EmployeeID: employee}
	var esc uint8
	var ans *uint64
	if err := rows.Scan(append([]any{&m.Name, &m.Cohort, &m.TotalCalls, &m.InboundCalls, &m.OutboundCalls, &m.AvgDurationSec,
		&m.AfterHoursCalls, &m.EscalatedCalls, &m.ResolvedCalls, &esc}, m.talkTargets(&ans)...)...); err != nil {
		return Metrics{}, fmt.Errorf("reading review of employee %s: %w", employee, err)
	}
	m.EscalationAvailable = esc == 1
	m.setAnswer(ans)
	return m, nil
}

// CycleMetrics reads every employee's metrics in a cycle.
func (s *Store) CycleMetrics(ctx context.Context, org, cycle string) ([]Metrics, error) {
	dirty, err := s.dirtyDays(ctx, org)
	if err != nil {
		return nil, err
	}
	rows, err := s.conn.Query(ctx, queries.CycleMetrics, clickhouse.Named("org", org), clickhouse.Named("cycle", cycle), dirty)
	if err != nil {
		return nil, fmt.Errorf("reading metrics of cycle %s of org %s: %w", cycle, org, err)
	}
	defer rows.Close()
	var out []Metrics
	for rows.Next() {
		var m Metrics
		var esc uint8
		var ans *uint64
		if err := rows.Scan(append([]any{&m.EmployeeID, &m.Name, &m.Cohort, &m.TotalCalls, &m.InboundCalls, &m.OutboundCalls, &m.AvgDurationSec,
			&m.AfterHoursCalls, &m.EscalatedCalls, &m.ResolvedCalls, &esc}, m.talkTargets(&ans)...)...); err != nil {
			return nil, err
		}
		m.EscalationAvailable = esc == 1
		m.setAnswer(ans)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Baseline reads a cohort's baseline in a cycle.
func (s *Store) Baseline(ctx context.Context, org, cycle, cohort string) (Baseline, error) {
	b := Baseline{Cohort: cohort}
	dirty, err := s.dirtyDays(ctx, org)
	if err != nil {
		return b, err
	}
	rows, err := s.conn.Query(ctx, queries.Baseline, clickhouse.Named("org", org), clickhouse.Named("cycle", cycle), clickhouse.Named("cohort", cohort), dirty)
	if err != nil {
		return b, fmt.Errorf("reading baseline of cohort %s in cycle %s of org %s: %w", cohort, cycle, org, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return b, fmt.Errorf("reading baseline of cohort %s: %w", cohort, err)
		}
		return b, fmt.Errorf("cohort %q in cycle %q of org %s: %w", cohort, cycle, org, ErrNotFound)
	}
	if err := rows.Scan(append([]any{&b.Size, &b.MedianTotalCalls}, b.TalkMedians.targets()...)...); err != nil {
		return b, err
	}
	return b, nil
}

// CycleBaselines reads every cohort's baseline in a cycle.
func (s *Store) CycleBaselines(ctx context.Context, org, cycle string) ([]Baseline, error) {
	dirty, err := s.dirtyDays(ctx, org)
	if err != nil {
		return nil, err
	}
	rows, err := s.conn.Query(ctx, queries.CycleBaselines, clickhouse.Named("org", org), clickhouse.Named("cycle", cycle), dirty)
	if err != nil {
		return nil, fmt.Errorf("reading baselines of cycle %s of org %s: %w", cycle, org, err)
	}
	defer rows.Close()
	var out []Baseline
	for rows.Next() {
		var b Baseline
		if err := rows.Scan(append([]any{&b.Cohort, &b.Size, &b.MedianTotalCalls}, b.TalkMedians.targets()...)...); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// UserCalls is a provider user's call count.
type UserCalls struct {
	UserID string
	Calls  uint64
}

// UnmappedUsers lists provider users with calls in [from, to) and no
// employee mapping, busiest first ("" is calls with no user).
func (s *Store) UnmappedUsers(ctx context.Context, org string, from, to time.Time) ([]UserCalls, error) {
	rows, err := s.conn.Query(ctx, queries.UnmappedUsers, clickhouse.Named("org", org), clickhouse.Named("from", from.UTC()), clickhouse.Named("to", to.UTC()))
	if err != nil {
		return nil, fmt.Errorf("listing unmapped users of org %s: %w", org, err)
	}
	defer rows.Close()
	var out []UserCalls
	for rows.Next() {
		var u UserCalls
		if err := rows.Scan(&u.UserID, &u.Calls); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
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
	rows, err := s.conn.Query(ctx, queries.WebhookStats, org)
	if err != nil {
		return nil, fmt.Errorf("reading webhook deliveries of org %s: %w", org, err)
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		var st uint16
		var c Count
		if err := rows.Scan(&st, &c.N, &c.Last, &c.Note); err != nil {
			return nil, err
		}
		c.Label = fmt.Sprintf("HTTP %d", st)
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeadLetterStats counts dead letters of org by reason.
func (s *Store) DeadLetterStats(ctx context.Context, org string) ([]Count, error) {
	rows, err := s.conn.Query(ctx, queries.DeadLetterStats, org)
	if err != nil {
		return nil, fmt.Errorf("reading dead letters of org %s: %w", org, err)
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		var c Count
		if err := rows.Scan(&c.Label, &c.N); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// TranscriptStats counts transcript outcomes of org by status, with the
// latest reason.
func (s *Store) TranscriptStats(ctx context.Context, org string) ([]Count, error) {
	rows, err := s.conn.Query(ctx, queries.TranscriptStats, org)
	if err != nil {
		return nil, fmt.Errorf("reading transcript events of org %s: %w", org, err)
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		var c Count
		if err := rows.Scan(&c.Label, &c.N, &c.Last, &c.Note); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
