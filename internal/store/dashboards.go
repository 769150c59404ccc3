package store

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/phonesignals/phonesignals/queries"
)

// The reads behind the Grafana data source's dashboards and alert rules.
// Every one is scoped to one org.

// CohortMedians are the exact medians of each review number over a
// cohort's employees in one cycle (employees with no calls count as 0).
type CohortMedians struct {
	CycleID string `ch:"cycle_id"`
	Cohort  string `ch:"cohort"`
	Size    uint64 `ch:"cohort_size"`
	// TotalCalls .. ResolvedCalls are the medians, named after the metric.
	TotalCalls      float64 `ch:"median_total_calls"`
	InboundCalls    float64 `ch:"median_inbound_calls"`
	OutboundCalls   float64 `ch:"median_outbound_calls"`
	AvgDurationSec  float64 `ch:"median_avg_duration_sec"`
	AfterHoursCalls float64 `ch:"median_after_hours_calls"`
	EscalatedCalls  float64 `ch:"median_escalated_calls"`
	ResolvedCalls   float64 `ch:"median_resolved_calls"`
	// EscalationAvailable is false for RingCentral orgs: EscalatedCalls
	// is then no real median and must show as not available.
	EscalationAvailable bool `ch:"-"`
	// Talk are the medians of the talk-time numbers (none of time to
	// answer: see TalkMedians).
	Talk TalkMedians `ch:"-"`
}

// cohortMediansRow is a row of the cohort medians query: the columns
// CohortMedians holds in another form (a flag, a nested struct) are
// selected here and converted by medians.
type cohortMediansRow struct {
	CohortMedians
	Escalation uint8 `ch:"escalation_available"`
	TalkMedians
}

// medians is r with escalation_available and the talk medians taken in.
func (r cohortMediansRow) medians() CohortMedians {
	m := r.CohortMedians
	m.EscalationAvailable = r.Escalation == 1
	m.Talk = r.TalkMedians
	return m
}

// CohortMedians reads the medians of every cohort in every cycle of org,
// by cycle then cohort.
func (s *Store) CohortMedians(ctx context.Context, org string) ([]CohortMedians, error) {
	dirty, err := s.dirtyDays(ctx, org)
	if err != nil {
		return nil, err
	}
	var rows []cohortMediansRow
	if err := s.conn.Select(ctx, &rows, queries.CohortMedians, clickhouse.Named("org", org), dirty); err != nil {
		return nil, fmt.Errorf("reading cohort medians of org %s: %w", org, err)
	}
	var out []CohortMedians
	for _, r := range rows {
		out = append(out, r.medians())
	}
	return out, nil
}

// CycleMetrics are one employee's numbers in one cycle, with the cycle.
type CycleMetrics struct {
	Cycle Cycle
	Metrics
}

// EmployeeTrend reads one employee's numbers in every cycle of org,
// oldest first; empty when the employee is not on the roster.
func (s *Store) EmployeeTrend(ctx context.Context, org, employee string) ([]CycleMetrics, error) {
	dirty, err := s.dirtyDays(ctx, org)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		Cycle
		metricsRow
	}
	if err := s.conn.Select(ctx, &rows, queries.EmployeeTrend, clickhouse.Named("org", org), clickhouse.Named("employee", employee), dirty); err != nil {
		return nil, fmt.Errorf("reading the trend of employee %s of org %s: %w", employee, org, err)
	}
	var out []CycleMetrics
	for _, r := range rows {
		c := CycleMetrics{Cycle: r.Cycle, Metrics: r.metrics()}
		c.EmployeeID = employee
		out = append(out, c)
	}
	return out, nil
}

// WeekCalls is the number of calls of one week, direction and outcome.
type WeekCalls struct {
	// Week is the Monday 00:00 UTC the week starts on.
	Week      time.Time `ch:"week"`
	Direction string    `ch:"direction"`
	// Outcome is the provider's call status (answered, missed, voicemail, ...).
	Outcome string `ch:"outcome"`
	Calls   uint64 `ch:"calls"`
}

// CallsWeekly counts calls started in [from, to) per week, direction and
// outcome: of the employee (through the provider user mapped to them
// now), or of the whole org when employee is "".
func (s *Store) CallsWeekly(ctx context.Context, org, employee string, from, to time.Time) ([]WeekCalls, error) {
	var out []WeekCalls
	if err := s.conn.Select(ctx, &out, queries.CallsWeekly, clickhouse.Named("org", org), clickhouse.Named("from", from.UTC()), clickhouse.Named("to", to.UTC()), clickhouse.Named("employee", employee)); err != nil {
		return nil, fmt.Errorf("counting weekly calls of org %s: %w", org, err)
	}
	for i := range out {
		out[i].Week = out[i].Week.UTC()
	}
	return out, nil
}

// EmployeeCount is a count for one employee of the roster.
type EmployeeCount struct {
	EmployeeID string `ch:"employee_id"`
	Name       string `ch:"name"`
	Cohort     string `ch:"cohort"`
	N          uint64 `ch:"escalated_calls"`
}

// EscalatedByEmployee counts the escalated calls started in [from, to) of
// every employee of org (0 for those with none). Escalation is only
// detected for Aircall orgs; callers must not show RingCentral's zeros.
func (s *Store) EscalatedByEmployee(ctx context.Context, org string, from, to time.Time) ([]EmployeeCount, error) {
	var out []EmployeeCount
	if err := s.conn.Select(ctx, &out, queries.EscalatedByEmployee, clickhouse.Named("org", org), clickhouse.Named("from", from.UTC()), clickhouse.Named("to", to.UTC())); err != nil {
		return nil, fmt.Errorf("counting escalated calls per employee of org %s: %w", org, err)
	}
	return out, nil
}

// LastSuccessfulSync returns how many sync runs of org finished with
// status ok, and when the latest of them finished (zero when none did).
func (s *Store) LastSuccessfulSync(ctx context.Context, org string) (runs uint64, last time.Time, err error) {
	if err := s.conn.QueryRow(ctx, queries.SyncLastSuccess, org).Scan(&runs, &last); err != nil {
		return 0, time.Time{}, fmt.Errorf("reading the last successful sync of org %s: %w", org, err)
	}
	if runs == 0 {
		return 0, time.Time{}, nil
	}
	return runs, last.UTC(), nil
}

// DeadLettersIn counts the dead letters of org recorded in [from, to) by
// reason, most first, with the last time each reason was seen.
func (s *Store) DeadLettersIn(ctx context.Context, org string, from, to time.Time) ([]Count, error) {
	var rows []struct {
		Label string    `ch:"reason"`
		N     uint64    `ch:"records"`
		Last  time.Time `ch:"last_at"`
	}
	if err := s.conn.Select(ctx, &rows, queries.DeadLettersWindow, org, from.UTC(), to.UTC()); err != nil {
		return nil, fmt.Errorf("reading dead letters of org %s: %w", org, err)
	}
	var out []Count
	for _, r := range rows {
		out = append(out, Count{Label: r.Label, N: r.N, Last: r.Last.UTC()})
	}
	return out, nil
}
