package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/phonesignals/phonesignals/queries"
)

// RetentionOptions tune ApplyRetention.
type RetentionOptions struct {
	// DryRun counts what would go and changes nothing.
	DryRun bool
	// Now is the clock the cutoff is taken from. Default time.Now.
	Now func() time.Time
	// Wait bounds each wait for the mutations. Default 10 minutes.
	Wait time.Duration
}

// ErrNoRetention is returned by ApplyRetention for an org that keeps its
// calls forever.
var ErrNoRetention = fmt.Errorf("no retention set")

// retentionTables are the tables whose rows name an expired call by id
// (dead_letters is handled with its own cutoff on `at`).
var retentionTables = []string{"call_transcripts", "transcript_events", "sync_window_calls", "dead_letter_replays"}

// ApplyRetention deletes org's calls older than its retention (`org
// privacy --retention`): every version of each call whose current version
// started before the cutoff (the start of a UTC day), every older version
// started before it, their transcripts, window and replay records, the dead
// letters recorded before it, and the per-day aggregates of the days before
// it (the days kept are unchanged: their aggregates never counted those
// calls). ClickHouse 18.16 has no TTL, so this is a mutation a schedule
// runs (`phonesignals retention apply --every 24h`, or cron); it is
// recorded in the erasures log.
func (s *Store) ApplyRetention(ctx context.Context, org string, opt RetentionOptions) (ErasureReport, error) {
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	rep := ErasureReport{Org: org, Kind: ErasureRetention, DryRun: opt.DryRun, RequestedAt: now().UTC()}
	o, err := s.GetOrg(ctx, org)
	if err != nil {
		return rep, err
	}
	p := PrivacyOf(o)
	if p.Retention.IsZero() {
		return rep, fmt.Errorf("org %s: %w: it keeps its calls forever (set one with `phonesignals org privacy --org %s --retention 24mo`)", org, ErrNoRetention, org)
	}
	rep.Reference = "retention " + p.Retention.String()
	rep.Cutoff = p.Retention.Cutoff(rep.RequestedAt)
	if err := s.retentionPlan(ctx, &rep); err != nil {
		return rep, err
	}
	if opt.DryRun || rep.TotalRows() == 0 {
		return rep, nil
	}
	rep.ID = strconv.FormatInt(now().UnixNano(), 10)
	e := eraser{s: s, org: org, id: rep.ID, wait: opt.Wait}
	if err := e.expire(ctx, rep.Cutoff); err != nil {
		return rep, err
	}
	rep.FinishedAt = now().UTC()
	return rep, s.logErasure(ctx, rep)
}

// retentionPlan counts what goes (retention_plan.sql).
func (s *Store) retentionPlan(ctx context.Context, rep *ErasureReport) error {
	names := append([]string{"raw_signals", "user_day_metrics", "user_day_dirty"}, retentionTables...)
	names = append(names, "dead_letters")
	counts := make([]uint64, len(names))
	dest := []any{&rep.Calls}
	for i := range counts {
		dest = append(dest, &counts[i])
	}
	if err := s.conn.QueryRow(ctx, queries.RetentionPlan, clickhouse.Named("org", rep.Org), clickhouse.Named("cutoff", rep.Cutoff)).Scan(dest...); err != nil {
		return fmt.Errorf("counting what retention removes from org %s: %w", rep.Org, err)
	}
	rep.Rows = map[string]uint64{}
	for i, n := range names {
		if counts[i] > 0 {
			rep.Rows[n] = counts[i]
		}
	}
	return nil
}

// expire runs a retention's mutations: the rows naming expired calls
// first, then the calls, then the aggregates of the days before cutoff,
// then the staging.
func (e eraser) expire(ctx context.Context, cutoff time.Time) error {
	at := clickhouse.Named("cutoff", cutoff)
	if err := e.exec(ctx, queries.StageExpiredCalls, "", "", at); err != nil {
		return err
	}
	for _, t := range retentionTables {
		if err := e.exec(ctx, queries.DeleteStagedCalls, t, ""); err != nil {
			return err
		}
	}
	if err := e.exec(ctx, queries.DeleteExpiredDeadLetters, "dead_letters", "", at); err != nil {
		return err
	}
	if err := e.settle(ctx); err != nil {
		return err
	}
	if err := e.exec(ctx, queries.DeleteExpiredRows, "raw_signals", "", at); err != nil {
		return err
	}
	for _, t := range []string{"user_day_metrics", "user_day_dirty"} {
		if err := e.exec(ctx, queries.DeleteExpiredDays, t, "", at); err != nil {
			return err
		}
	}
	if err := e.settle(ctx); err != nil {
		return err
	}
	if err := e.exec(ctx, queries.ClearStaged, "erasure_items", ""); err != nil {
		return err
	}
	return e.settle(ctx)
}
