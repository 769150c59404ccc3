package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/queries"
)

// Coverage statuses.
const (
	// CoverageComplete: every sync window of the cycle finished and every
	// call it published is in ClickHouse (loaded or dead-lettered).
	CoverageComplete = "complete"
	// CoverageInProgress: the cycle has not ended; it is complete up to
	// the end of the last sync, and only the time since is not synced yet.
	CoverageInProgress = "in_progress"
	// CoverageIncomplete: part of the cycle was never synced, or a sync
	// failed or was killed there, or published calls are not loaded.
	CoverageIncomplete = "incomplete"
	// CoverageExpired: the cycle starts before the org's retention cutoff:
	// its older calls were (or will be) deleted.
	CoverageExpired = "expired"
)

// Gap is a stretch of a cycle no sync window has finished.
type Gap struct {
	From, To time.Time
	// Cause is "not synced", "sync failed: ERROR" or "sync did not
	// finish (killed, or still running)".
	Cause string
}

// FailedRun is a sync run over a cycle that ended in an error or never
// recorded its end, and left part of the cycle missing.
type FailedRun struct {
	ID      string
	Started time.Time
	Window  model.Window
	Status  string
	Error   string
}

// Coverage says how complete an org's data is for one cycle: what a
// manager must know before trusting the cycle's numbers.
type Coverage struct {
	Org, Cycle string
	Start, End time.Time
	// AsOf is when it was computed: a cycle that has not ended is covered
	// up to now at most.
	AsOf   time.Time
	Status string
	// CompleteThrough is the time up to which every sync window of the
	// cycle from its start has finished and had its calls loaded; zero
	// when none has.
	CompleteThrough time.Time
	// Missing are the stretches of the cycle up to AsOf no sync finished.
	Missing []Gap
	// FailedRuns are the failed or unfinished syncs over Missing.
	FailedRuns []FailedRun
	// UnloadedWindows are finished windows whose published calls are not
	// all in ClickHouse yet (UnloadedCalls of them).
	UnloadedWindows int
	UnloadedCalls   uint64
	// DeadLetterCalls are calls of the cycle the transform refused and
	// that are still not loaded.
	DeadLetterCalls uint64
	// UnmappedCalls are the cycle's calls of UnmappedUsers provider users
	// no employee is mapped to (calls with no user are not counted).
	UnmappedCalls uint64
	UnmappedUsers int
	// CallsSeen counts the cycle's calls in ClickHouse; NewestCall is the
	// start of the latest one (zero when none).
	CallsSeen  uint64
	NewestCall time.Time
	// Webhooks says the org receives webhooks (it has a webhook token);
	// LastWebhook is the org's last delivery accepted (zero when none).
	Webhooks    bool
	LastWebhook time.Time
	// RetentionCutoff is the org's retention cutoff at AsOf (zero: calls
	// are kept forever).
	RetentionCutoff time.Time
	// WorkingHours are the after-hours rules in effect during the cycle,
	// in order (model.Schedule.During): what its after_hours_calls used.
	WorkingHours []string
}

// Complete reports whether the whole cycle is covered.
func (c Coverage) Complete() bool { return c.Status == CoverageComplete }

// SyncFix is the command that fetches the cycle's missing windows.
func (c Coverage) SyncFix() string {
	return fmt.Sprintf("phonesignals sync --org %s --cycle %s", c.Org, c.Cycle)
}

// syncedWindow is a finished window and how many of its calls are missing.
type syncedWindow struct {
	model.Window
	missing uint64
}

// Coverage computes the coverage of cycle cy of org o at now.
func (s *Store) Coverage(ctx context.Context, o Org, cy Cycle, now time.Time) (Coverage, error) {
	now = now.UTC().Truncate(time.Second)
	c := Coverage{Org: o.Name, Cycle: cy.ID, Start: cy.Start.UTC(), End: cy.End.UTC(), AsOf: now, Webhooks: o.WebhookToken != ""}
	c.RetentionCutoff = PrivacyOf(o).Retention.Cutoff(now)
	args := []any{clickhouse.Named("org", o.Name), clickhouse.Named("from", c.Start), clickhouse.Named("to", c.End)}
	windows, err := s.coverageWindows(ctx, args)
	if err != nil {
		return c, fmt.Errorf("reading the sync windows of cycle %s of org %s: %w", cy.ID, o.Name, err)
	}
	runs, err := s.coverageRuns(ctx, args)
	if err != nil {
		return c, fmt.Errorf("reading the sync runs of cycle %s of org %s: %w", cy.ID, o.Name, err)
	}
	if err := s.conn.QueryRow(ctx, queries.CoverageCounts, args...).Scan(&c.DeadLetterCalls, &c.CallsSeen, &c.NewestCall, &c.LastWebhook); err != nil {
		return c, fmt.Errorf("reading the coverage of cycle %s of org %s: %w", cy.ID, o.Name, err)
	}
	c.NewestCall, c.LastWebhook = zeroEpoch(c.NewestCall), zeroEpoch(c.LastWebhook)
	if !c.Webhooks {
		c.LastWebhook = time.Time{}
	}
	users, err := s.UnmappedUsers(ctx, o.Name, c.Start, c.End)
	if err != nil {
		return c, err
	}
	for _, u := range users {
		if u.UserID != "" {
			c.UnmappedUsers++
			c.UnmappedCalls += u.Calls
		}
	}
	sched, err := s.Hours(ctx, o.Name)
	if err != nil {
		return c, err
	}
	for _, w := range sched.During(c.Start, c.End) {
		c.WorkingHours = append(c.WorkingHours, w.String())
	}
	c.fill(windows, runs)
	return c, nil
}

// zeroEpoch turns the 1970-01-01 an empty max() answers into a zero time.
func zeroEpoch(t time.Time) time.Time {
	if t.Unix() <= 0 {
		return time.Time{}
	}
	return t.UTC()
}

func (s *Store) coverageWindows(ctx context.Context, args []any) ([]syncedWindow, error) {
	var rows []windowRow
	if err := s.conn.Select(ctx, &rows, queries.CoverageWindows, args...); err != nil {
		return nil, err
	}
	var out []syncedWindow
	for _, r := range rows {
		out = append(out, syncedWindow{Window: model.Window{From: r.From.UTC(), To: r.To.UTC()}, missing: r.Missing})
	}
	return out, nil
}

func (s *Store) coverageRuns(ctx context.Context, args []any) ([]FailedRun, error) {
	var rows []runRow
	if err := s.conn.Select(ctx, &rows, queries.CoverageRuns, args...); err != nil {
		return nil, err
	}
	var out []FailedRun
	for _, r := range rows {
		out = append(out, FailedRun{ID: r.ID, Started: r.Started, Window: model.Window{From: r.From.UTC(), To: r.To.UTC()}, Status: r.Status, Error: r.Error})
	}
	return out, nil
}

// fill derives complete-through, the gaps, their causes and the status
// from the finished windows (sorted by start) and the failed runs.
func (c *Coverage) fill(windows []syncedWindow, runs []FailedRun) {
	target := c.End
	if c.AsOf.Before(target) {
		target = c.AsOf
	}
	through := c.Start
	var finished []model.Window
	for _, w := range windows {
		if w.missing > 0 {
			c.UnloadedWindows++
			c.UnloadedCalls += w.missing
		} else if !w.From.After(through) && w.To.After(through) {
			through = w.To
		}
		finished = append(finished, w.Window)
	}
	if through.After(c.End) {
		through = c.End
	}
	if through.After(c.Start) {
		c.CompleteThrough = through
	}
	c.Missing = gaps(c.Start, target, finished)
	c.FailedRuns, c.Missing = blame(c.Missing, runs)
	c.Status = c.status(through)
}

// gaps are the stretches of [from, to) no window covers.
func gaps(from, to time.Time, windows []model.Window) []Gap {
	sort.Slice(windows, func(i, j int) bool { return windows[i].From.Before(windows[j].From) })
	var out []Gap
	cursor := from
	for _, w := range windows {
		if !cursor.Before(to) {
			break
		}
		if w.From.After(cursor) {
			end := w.From
			if end.After(to) {
				end = to
			}
			out = append(out, Gap{From: cursor, To: end, Cause: "not synced"})
		}
		if w.To.After(cursor) {
			cursor = w.To
		}
	}
	if cursor.Before(to) {
		out = append(out, Gap{From: cursor, To: to, Cause: "not synced"})
	}
	return out
}

// blame keeps the runs whose window overlaps a gap and names the latest
// such run as the gap's cause.
func blame(missing []Gap, runs []FailedRun) ([]FailedRun, []Gap) {
	var kept []FailedRun
	for _, r := range runs {
		hit := false
		for i := range missing {
			g := &missing[i]
			if r.Window.From.Before(g.To) && r.Window.To.After(g.From) {
				hit = true
				g.Cause = "sync did not finish: killed, or still running"
				if r.Status != "running" {
					g.Cause = "sync failed: " + r.Error
				}
			}
		}
		if hit {
			kept = append(kept, r)
		}
	}
	return kept, missing
}

func (c *Coverage) status(through time.Time) string {
	switch {
	case !c.RetentionCutoff.IsZero() && c.Start.Before(c.RetentionCutoff):
		return CoverageExpired
	case !through.Before(c.End) && c.UnloadedWindows == 0:
		return CoverageComplete
	case c.AsOf.Before(c.End) && c.UnloadedWindows == 0 && len(c.FailedRuns) == 0 &&
		(len(c.Missing) == 0 || len(c.Missing) == 1 && c.Missing[0].From.Equal(through)):
		return CoverageInProgress
	}
	return CoverageIncomplete
}
