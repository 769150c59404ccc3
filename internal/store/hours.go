package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/queries"
)

// SetHours records the org's working-hours rule from the instant from on
// (a new version; earlier rules stay for the calls before it). withdrawn
// returns the org to the seed's rule from then.
func (s *Store) SetHours(ctx context.Context, org string, from time.Time, w model.WorkingHours, withdrawn bool) error {
	var del uint8
	if withdrawn {
		del = 1
		w = model.SeedHours
	}
	err := s.insert(ctx, queries.InsertOrgHours,
		[]any{org, from.UTC(), w.Zone, w.HoursText(), w.DaysText(), del, time.Now().UTC(), version()})
	if err != nil {
		return fmt.Errorf("saving the working hours of org %s: %w", org, err)
	}
	return nil
}

// Hours reads the org's working-hours rules (empty: the seed's rule).
func (s *Store) Hours(ctx context.Context, org string) (model.Schedule, error) {
	var rows []struct {
		From      time.Time `ch:"effective_from"`
		Zone      string    `ch:"timezone"`
		Hours     string    `ch:"hours"`
		Days      string    `ch:"days"`
		Withdrawn uint8     `ch:"withdrawn"`
		// SetAt is unused; Select wants a field for every column.
		SetAt time.Time `ch:"set_at"`
	}
	if err := s.conn.Select(ctx, &rows, queries.OrgHours, clickhouse.Named("org", org)); err != nil {
		return nil, fmt.Errorf("reading the working hours of org %s: %w", org, err)
	}
	var out model.Schedule
	for _, r := range rows {
		v := model.HoursVersion{From: r.From, Withdrawn: r.Withdrawn == 1}
		var err error
		if v.Hours, err = model.ParseWorkingHours(r.Zone, r.Hours, r.Days); err != nil {
			return nil, fmt.Errorf("the stored working hours of org %s from %s: %w", org, v.From.Format(time.RFC3339), err)
		}
		out = append(out, v)
	}
	return out, nil
}

// HoursCacheTTL is how long HoursCache keeps an org's rules: a rule
// taking effect at least this long after it was set rates every call from
// its first instant (org set waits it out for rules taking effect in the
// past before re-rating the stored calls).
const HoursCacheTTL = 5 * time.Second

// HoursCache holds the working-hours rules of the orgs a transform sees,
// read from ClickHouse at most every HoursCacheTTL per org.
type HoursCache struct {
	st *Store

	mu    sync.RWMutex
	rules map[string]cachedHours
}

type cachedHours struct {
	s    model.Schedule
	read time.Time
}

// NewHoursCache returns an empty cache on st.
func (s *Store) NewHoursCache() *HoursCache {
	return &HoursCache{st: s, rules: map[string]cachedHours{}}
}

// Prepare reads the rules of every org of orgs not read within the TTL.
// On failure the last rules known stay (an org never read fails).
func (c *HoursCache) Prepare(ctx context.Context, orgs []string) error {
	for _, org := range orgs {
		c.mu.RLock()
		cur, ok := c.rules[org]
		c.mu.RUnlock()
		if ok && time.Since(cur.read) < HoursCacheTTL {
			continue
		}
		s, err := c.st.Hours(ctx, org)
		if err != nil {
			if ok {
				continue
			}
			return err
		}
		c.mu.Lock()
		c.rules[org] = cachedHours{s: s, read: time.Now()}
		c.mu.Unlock()
	}
	return nil
}

// Schedule returns org's rules as last read (nil: the seed's rule).
func (c *HoursCache) Schedule(org string) model.Schedule {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rules[org].s
}

// RerateAfterHours sets the after-hours flag of org's stored calls that
// started in [from, to) by w, and waits for the mutation to finish. The
// per-day aggregates of those days are then stale: the caller rebuilds
// them (aggregate.Maintainer.Rebuild).
func (s *Store) RerateAfterHours(ctx context.Context, org string, from, to time.Time, w model.WorkingHours) error {
	ivs := w.BusinessIntervals(from, to)
	starts, ends := make([]int64, len(ivs)), make([]int64, len(ivs))
	for i, iv := range ivs {
		starts[i], ends[i] = iv.Start, iv.End
	}
	sql := queries.RenderIntervals(queries.RerateAfterHours, starts, ends)
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_query_size": len(sql) + 1<<16}))
	if err := s.conn.Exec(ctx, sql, clickhouse.Named("org", org), clickhouse.Named("from", from.UTC()), clickhouse.Named("to", to.UTC())); err != nil {
		return fmt.Errorf("re-rating the after-hours flag of org %s's calls from %s: %w", org, from.Format(time.RFC3339), err)
	}
	for {
		var pending uint64
		if err := s.conn.QueryRow(ctx, queries.MutationsPending).Scan(&pending); err != nil {
			return fmt.Errorf("waiting for the re-rating of org %s: %w", org, err)
		}
		if pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the re-rating of org %s (system.mutations): %w", org, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
