package aggregate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/queries"
)

// DayNumbers are the per-day numbers of one (org, day, provider, user)
// key of user_day_metrics: the seed's seven and the six talk-time sums
// (migration 013).
type DayNumbers struct {
	Calls       uint64 `json:"calls"`
	Inbound     uint64 `json:"inbound_calls"`
	Outbound    uint64 `json:"outbound_calls"`
	DurationSum uint64 `json:"duration_sum"`
	AfterHours  uint64 `json:"after_hours_calls"`
	Escalated   uint64 `json:"escalated_calls"`
	Resolved    uint64 `json:"resolved_calls"`
	Answered    uint64 `json:"answered_calls"`
	Missed      uint64 `json:"missed_calls"`
	Voicemail   uint64 `json:"voicemail_calls"`
	TalkSum     uint64 `json:"talk_sum"`
	AnswerCalls uint64 `json:"answer_calls"`
	AnswerSum   uint64 `json:"answer_sum"`
}

// scanTargets are n's fields in verify_days.sql's column order.
func (n *DayNumbers) scanTargets() []any {
	return []any{&n.Calls, &n.Inbound, &n.Outbound, &n.DurationSum, &n.AfterHours, &n.Escalated, &n.Resolved,
		&n.Answered, &n.Missed, &n.Voicemail, &n.TalkSum, &n.AnswerCalls, &n.AnswerSum}
}

// DayDiff is a key whose stored numbers differ from the ones recomputed
// from the current versions in raw_signals.
type DayDiff struct {
	Org, Provider, UserID string
	Day                   time.Time
	Stored, Recomputed    DayNumbers
}

// VerifyReport is what Verify found for one org.
type VerifyReport struct {
	Org string
	// Diffs are the keys of clean days whose numbers are wrong: a review
	// reads them as they are, so each one is a wrong review number.
	Diffs []DayDiff
	// Dirty is how many days were pending a refresh and not compared
	// (reads take them from raw_signals until then).
	Dirty int
}

// Range is a span of UTC days [From, To); zero values mean unbounded.
type Range struct {
	From, To time.Time
}

// lastDay is the end of an unbounded Range: ClickHouse 18.16 reads a
// bound 2106-01-01 (model.MaxStoreTime) as the zero date.
var lastDay = model.MaxStoreTime.AddDate(0, 0, -1)

func (r Range) bounds() (from, to time.Time) {
	from, to = model.MinStoreTime, lastDay
	if !r.From.IsZero() {
		from = model.DayOf(r.From)
	}
	if !r.To.IsZero() && r.To.Before(lastDay) {
		to = model.DayOf(r.To)
	}
	return from, to
}

// recheckAfter is how long Verify waits before comparing differing keys
// again: a poll whose rows are in raw_signals but whose days are not marked
// yet differs for the milliseconds between its insert and its marks.
const recheckAfter = time.Second

// Verify recomputes org's per-day numbers in r from raw_signals and
// returns every key of a clean day that differs from user_day_metrics.
// It changes nothing, and is safe while loaders stream: a key differs
// only if it differs twice, recheckAfter apart, with the same numbers, on
// a day clean both times.
func (a *Maintainer) Verify(ctx context.Context, org string, r Range) (VerifyReport, error) {
	first, dirty, err := a.diffs(ctx, org, r)
	if err != nil || len(first) == 0 {
		return VerifyReport{Org: org, Diffs: first, Dirty: dirty}, err
	}
	select {
	case <-ctx.Done():
		return VerifyReport{}, ctx.Err()
	case <-time.After(recheckAfter):
	}
	again, dirty, err := a.diffs(ctx, org, r)
	if err != nil {
		return VerifyReport{}, err
	}
	seen := make(map[DayDiff]bool, len(first))
	for _, d := range first {
		seen[d] = true
	}
	rep := VerifyReport{Org: org, Dirty: dirty}
	for _, d := range again {
		if seen[d] {
			rep.Diffs = append(rep.Diffs, d)
		}
	}
	return rep, nil
}

// VerifyRecent verifies org's last days of data: the days day-1 before
// its newest aggregated day up to now.
func (a *Maintainer) VerifyRecent(ctx context.Context, org string, days int) (VerifyReport, error) {
	var last time.Time
	if err := a.conn.QueryRow(ctx, queries.OrgLastDay, clickhouse.Named("org", org)).Scan(&last); err != nil {
		return VerifyReport{}, fmt.Errorf("reading the newest aggregated day of org %s: %w", org, err)
	}
	return a.Verify(ctx, org, Range{From: model.DayOf(last).AddDate(0, 0, 1-days)})
}

// diffs is one comparison: the differing keys of days clean before and
// after it, and how many days were dirty.
func (a *Maintainer) diffs(ctx context.Context, org string, r Range) ([]DayDiff, int, error) {
	before, err := a.dirtyDaysOf(ctx, org)
	if err != nil {
		return nil, 0, err
	}
	from, to := r.bounds()
	rows, err := a.conn.Query(ctx, queries.VerifyDays, clickhouse.Named("org", org), clickhouse.Named("from", from), clickhouse.Named("to", to))
	if err != nil {
		return nil, 0, fmt.Errorf("recomputing the per-day numbers of org %s from raw_signals: %w", org, err)
	}
	defer rows.Close()
	// A loop, not conn.Select: a row is two DayNumbers by column position.
	var all []DayDiff
	for rows.Next() {
		d := DayDiff{Org: org}
		s, c := &d.Stored, &d.Recomputed
		dest := append(append([]any{&d.Day, &d.Provider, &d.UserID}, s.scanTargets()...), c.scanTargets()...)
		if err := rows.Scan(dest...); err != nil {
			return nil, 0, fmt.Errorf("reading the per-day differences of org %s: %w", org, err)
		}
		d.Day = model.DayOf(d.Day)
		all = append(all, d)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("reading the per-day differences of org %s: %w", org, err)
	}
	after, err := a.dirtyDaysOf(ctx, org)
	if err != nil {
		return nil, 0, err
	}
	var out []DayDiff
	for _, d := range all {
		if !before[d.Day] && !after[d.Day] {
			out = append(out, d)
		}
	}
	for d := range after {
		before[d] = true
	}
	return out, len(before), nil
}

// dirtyDaysOf returns org's dirty days.
func (a *Maintainer) dirtyDaysOf(ctx context.Context, org string) (map[time.Time]bool, error) {
	var list string
	if err := a.conn.QueryRow(ctx, queries.DirtyDaysOfOrg, clickhouse.Named("org", org)).Scan(&list); err != nil {
		return nil, fmt.Errorf("reading the days of org %s not aggregated yet: %w", org, err)
	}
	out := map[time.Time]bool{}
	for _, s := range strings.Split(list, ",") {
		if s == "" {
			continue
		}
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return nil, fmt.Errorf("reading the dirty days of org %s: day %q: %w", org, s, err)
		}
		out[d] = true
	}
	return out, nil
}

// Rebuild recomputes every day of org in r that raw_signals or
// user_day_metrics holds, and returns how many. It goes through the same
// marks and refresh as a stream's polls, so it is idempotent and safe while
// loaders stream. It first records each day's newest row version as a
// reservation, so its refresh sorts above every row already there,
// whatever wrote it.
func (a *Maintainer) Rebuild(ctx context.Context, org string, r Range) (int, error) {
	from, to := r.bounds()
	var rows []struct {
		Org     string    `ch:"org"`
		Day     time.Time `ch:"day"`
		Version uint64    `ch:"version"`
	}
	if err := a.conn.Select(ctx, &rows, queries.OrgDaysIn, clickhouse.Named("org", org), clickhouse.Named("from", from), clickhouse.Named("to", to)); err != nil {
		return 0, fmt.Errorf("listing the days of org %s to rebuild: %w", org, err)
	}
	if len(rows) == 0 {
		return 0, nil
	}
	days, versions := make([]model.DayKey, len(rows)), make([]uint64, len(rows))
	for i, r := range rows {
		days[i], versions[i] = model.DayKey{Org: r.Org, Day: model.DayOf(r.Day)}, r.Version
	}
	if err := a.reserveRows(ctx, days, versions); err != nil {
		return 0, err
	}
	if err := a.MarkDays(ctx, days); err != nil {
		return 0, err
	}
	return len(days), a.Refresh(ctx)
}

// reserveRows writes a 'refreshing' mark of versions[i] for days[i].
func (a *Maintainer) reserveRows(ctx context.Context, days []model.DayKey, versions []uint64) error {
	batch, err := a.conn.PrepareBatch(ctx, queries.MarkDays)
	if err != nil {
		return fmt.Errorf("preparing the rebuild's reservations of %d days: %w", len(days), err)
	}
	for i, d := range days {
		if err := batch.Append(d.Org, d.Day, "refreshing", versions[i]); err != nil {
			_ = batch.Abort()
			return fmt.Errorf("appending a reservation: %w", err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("writing the rebuild's reservations of %d days of org %s: %w", len(days), days[0].Org, err)
	}
	return nil
}
