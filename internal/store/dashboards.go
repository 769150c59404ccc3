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
	CycleID string
	Cohort  string
	Size    uint64
	// TotalCalls .. ResolvedCalls are the medians, named after the metric.
	TotalCalls, InboundCalls, OutboundCalls, AvgDurationSec, AfterHoursCalls, EscalatedCalls, ResolvedCalls float64
	// EscalationAvailable is false for RingCentral orgs: EscalatedCalls
	// is then no real median and must show as not available.
	EscalationAvailable bool
	// Talk are the medians of the talk-time numbers (none of time to
	// answer: see TalkMedians).
	Talk TalkMedians
}

// CohortMedians reads the medians of every cohort in every cycle of org,
// by cycle then cohort.
func (s *Store) CohortMedians(ctx context.Context, org string) ([]CohortMedians, error) {
	dirty, err := s.dirtyDays(ctx, org)
	if err != nil {
		return nil, err
	}
	rows, err := s.conn.Query(ctx, queries.CohortMedians, clickhouse.Named("org", org), dirty)
	if err != nil {
		return nil, fmt.Errorf("reading cohort medians of org %s: %w", org, err)
	}
	defer rows.Close()
	var out []CohortMedians
	for rows.Next() {
		var m CohortMedians
		var avail uint8
		if err := rows.Scan(&m.CycleID, &m.Cohort, &m.Size, &m.TotalCalls, &m.InboundCalls, &m.OutboundCalls,
			&m.AvgDurationSec, &m.AfterHoursCalls, &m.EscalatedCalls, &m.ResolvedCalls, &avail,
			&m.Talk.AnsweredCalls, &m.Talk.MissedCalls, &m.Talk.VoicemailCalls, &m.Talk.TalkTimeSec, &m.Talk.AvgTalkSec); err != nil {
			return nil, fmt.Errorf("reading cohort medians of org %s: %w", org, err)
		}
		m.EscalationAvailable = avail == 1
		out = append(out, m)
	}
	return out, rows.Err()
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
	rows, err := s.conn.Query(ctx, queries.EmployeeTrend, clickhouse.Named("org", org), clickhouse.Named("employee", employee), dirty)
	if err != nil {
		return nil, fmt.Errorf("reading the trend of employee %s of org %s: %w", employee, org, err)
	}
	defer rows.Close()
	var out []CycleMetrics
	for rows.Next() {
		c := CycleMetrics{Metrics: Metrics{EmployeeID: employee}}
		var esc uint8
		var ans *uint64
		m := &c.Metrics
		if err := rows.Scan(append([]any{&c.Cycle.ID, &c.Cycle.Start, &c.Cycle.End, &m.Name, &m.Cohort, &m.TotalCalls, &m.InboundCalls,
			&m.OutboundCalls, &m.AvgDurationSec, &m.AfterHoursCalls, &m.EscalatedCalls, &m.ResolvedCalls, &esc}, m.talkTargets(&ans)...)...); err != nil {
			return nil, fmt.Errorf("reading the trend of employee %s of org %s: %w", employee, org, err)
		}
		m.EscalationAvailable = esc == 1
		m.setAnswer(ans)
		out = append(out, c)
	}
	return out, rows.Err()
}

// WeekCalls is the number of calls of one week, direction and outcome.
type WeekCalls struct {
	// Week is the Monday 00:00 UTC the week starts on.
	Week      time.Time
	Direction string
	// Outcome is the provider's call status (answered, missed, voicemail, ...).
	Outcome string
	Calls   uint64
}

// CallsWeekly counts calls started in [from, to) per week, direction and
// outcome: of the employee (through the provider user mapped to them
// now), or of the whole org when employee is "".
func (s *Store) CallsWeekly(ctx context.Context, org, employee string, from, to time.Time) ([]WeekCalls, error) {
	rows, err := s.conn.Query(ctx, queries.CallsWeekly, clickhouse.Named("org", org), clickhouse.Named("from", from.UTC()), clickhouse.Named("to", to.UTC()), clickhouse.Named("employee", employee))
	if err != nil {
		return nil, fmt.Errorf("counting weekly calls of org %s: %w", org, err)
	}
	defer rows.Close()
	var out []WeekCalls
	for rows.Next() {
		var w WeekCalls
		if err := rows.Scan(&w.Week, &w.Direction, &w.Outcome, &w.Calls); err != nil {
			return nil, fmt.Errorf("counting weekly calls of org %s: %w", org, err)
		}
		w.Week = w.Week.UTC()
		out = append(out, w)
	}
	return out, rows.Err()
}

// EmployeeCount is a count for one employee of the roster.
type EmployeeCount struct {
	EmployeeID string
	Name       string
	Cohort     string
	N          uint64
}

// EscalatedByEmployee counts the escalated calls started in [from, to) of
// every employee of org (0 for those with none). Escalation is only
// detected for Aircall orgs; callers must not show RingCentral's zeros.
func (s *Store) EscalatedByEmployee(ctx context.Context, org string, from, to time.Time) ([]EmployeeCount, error) {
	rows, err := s.conn.Query(ctx, queries.EscalatedByEmployee, clickhouse.Named("org", org), clickhouse.Named("from", from.UTC()), clickhouse.Named("to", to.UTC()))
	if err != nil {
		return nil, fmt.Errorf("counting escalated calls per employee of org %s: %w", org, err)
	}
	defer rows.Close()
	var out []EmployeeCount
	for rows.Next() {
		var c EmployeeCount
		if err := rows.Scan(&c.EmployeeID, &c.Name, &c.Cohort, &c.N); err != nil {
			return nil, fmt.Errorf("counting escalated calls per employee of org %s: %w", org, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
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
	rows, err := s.conn.Query(ctx, queries.DeadLettersWindow, org, from.UTC(), to.UTC())
	if err != nil {
		return nil, fmt.Errorf("reading dead letters of org %s: %w", org, err)
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		var c Count
		if err := rows.Scan(&c.Label, &c.N, &c.Last); err != nil {
			return nil, fmt.Errorf("reading dead letters of org %s: %w", org, err)
		}
		c.Last = c.Last.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}
