package aggregate

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"golang.org/x/sync/errgroup"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/queries"
)

// refreshForm is how one refresh statement finds the calls it recomputes.
type refreshForm int

const (
	// formAuto chooses per org (chooseForm).
	formAuto refreshForm = iota
	// formDays reads only the calls with a version on the dirty days
	// (queries.RefreshDays): a set of those calls, then their versions.
	formDays
	// formOrg groups all of the org's calls and keeps those now on a dirty
	// day (queries.RefreshOrg): no set to build, and one statement however
	// many days are dirty.
	formOrg
)

func (f refreshForm) String() string {
	return [...]string{"auto", "days", "org"}[f]
}

const (
	// fewDirtyDays: an org with at most this many dirty days is refreshed
	// by days without asking how many days it has. A stream dirties the
	// last few days; the whole-org form wins only for an org whose history
	// is hardly longer, which is small.
	fewDirtyDays = 7
	// orgFormPercent: from this share of an org's days dirty, the whole-org
	// form is cheaper. Measured on 18.16, one thread: an org of 50k calls
	// over 89 days broke even at 30 to 45 dirty days (call ids random over
	// the days), one of 400k calls over a year at about half of its days
	// (ids growing with time, so the sort key narrows the days form's read).
	orgFormPercent = 40
)

// chooseForm picks the cheaper form for an org with dirty days dirty and
// clean other days in user_day_metrics.
func chooseForm(dirty, clean int) refreshForm {
	if dirty <= fewDirtyDays {
		return formDays
	}
	if dirty*100 >= orgFormPercent*(dirty+clean) {
		return formOrg
	}
	return formDays
}

// refreshStmt is one statement of a refresh pass: days of one org.
type refreshStmt struct {
	org  string
	days []time.Time
	form refreshForm
}

// Refresh recomputes every dirty day, from raw_signals, and marks it
// refreshed. Safe to call concurrently with Mark and with other loaders.
func (a *Maintainer) Refresh(ctx context.Context) error {
	a.refreshMu.Lock()
	defer a.refreshMu.Unlock()
	start := time.Now()
	rows, err := a.conn.Query(ctx, queries.DirtyDays)
	if err != nil {
		return fmt.Errorf("reading the days user_day_metrics is behind on: %w", err)
	}
	dirty, err := scanDayKeys(rows)
	if err != nil || len(dirty) == 0 {
		a.noteDirty(dirty, err == nil)
		return err
	}
	a.noteDirty(dirty, false)
	stmts, err := a.plan(ctx, dirty)
	if err != nil {
		return err
	}
	// Reserve the version before reading raw_signals: a batch marked
	// after this sees it and sorts above it (nextVersion).
	v, err := a.nextVersion(ctx, dirty)
	if err != nil {
		return err
	}
	if err := a.insertMarks(ctx, dirty, "refreshing", v); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(refreshWorkers)
	for _, s := range stmts {
		g.Go(func() error { return a.recompute(gctx, s, v) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if h := a.hooks.beforeRefreshedMark; h != nil {
		h()
	}
	if err := a.insertMarks(ctx, dirty, "refreshed", v); err != nil {
		return err
	}
	a.noteRefreshed(dirty)
	elapsed := time.Since(start)
	a.mu.Lock()
	a.stats.Refreshes++
	a.stats.Keys += len(dirty)
	a.stats.RefreshElapsed += elapsed
	a.mu.Unlock()
	a.log.Debug("refreshed user_day_metrics", "keys", len(dirty), "orgs", len(firstOfEachOrg(dirty)),
		"statements", len(stmts), "version", v, "elapsed", elapsed.Round(time.Millisecond).String())
	return nil
}

// noteDirty records when the refresher first saw each of dirty (the age
// gauge's start); reset forgets every day first (none is dirty any more).
func (a *Maintainer) noteDirty(dirty []model.DayKey, reset bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if reset {
		clear(a.dirtySince)
	}
	now := a.now()
	for _, k := range dirty {
		if _, ok := a.dirtySince[k]; !ok {
			a.dirtySince[k] = now
		}
	}
}

// noteRefreshed forgets days a pass recomputed.
func (a *Maintainer) noteRefreshed(days []model.DayKey) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, k := range days {
		delete(a.dirtySince, k)
	}
}

// OldestDirty is how long ago the refresher first saw the oldest day it
// has not recomputed yet (0: none), by the Maintainer's clock.
func (a *Maintainer) OldestDirty() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	var oldest time.Duration
	now := a.now()
	for _, at := range a.dirtySince {
		oldest = max(oldest, now.Sub(at))
	}
	return oldest
}

// refreshWorkers is how many refresh statements run at once: one org's
// statement groups that org's calls, mostly on one server thread, so two
// orgs at a time keep two cores busy.
const refreshWorkers = 2

// plan turns the dirty keys (sorted by org) into statements of one org
// each, in the form chooseForm picks; only orgs with more than a few dirty
// days cost a look-up (one statement for all of them).
func (a *Maintainer) plan(ctx context.Context, dirty []model.DayKey) ([]refreshStmt, error) {
	orgs := orgChunks(dirty, len(dirty))
	var clean map[string]int
	if a.form == formAuto {
		var ask []model.DayKey
		for _, c := range orgs {
			if len(c) > fewDirtyDays {
				ask = append(ask, c...)
			}
		}
		var err error
		if clean, err = a.cleanDays(ctx, ask); err != nil {
			return nil, err
		}
	}
	var out []refreshStmt
	for _, c := range orgs {
		form := a.form
		if form == formAuto {
			form = chooseForm(len(c), clean[c[0].Org])
		}
		size := maxKeysPerStatement
		if form == formOrg {
			size = len(c) // a statement per chunk would group all calls again
		}
		for _, part := range orgChunks(c, size) {
			s := refreshStmt{org: part[0].Org, form: form}
			for _, k := range part {
				s.days = append(s.days, k.Day)
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// cleanDays returns, per org of keys, how many days user_day_metrics holds
// besides the org's keys; orgs with none are missing. It asks for at most
// maxOrgsPerLookup orgs a statement.
func (a *Maintainer) cleanDays(ctx context.Context, keys []model.DayKey) (map[string]int, error) {
	dirty := make(map[model.DayKey]bool, len(keys))
	for _, k := range keys {
		dirty[k] = true
	}
	orgs := orgChunks(keys, len(keys))
	out := map[string]int{}
	for len(orgs) > 0 {
		var ask []model.DayKey // one key per org: RenderDayKeys lists the orgs
		for _, c := range orgs[:min(len(orgs), maxOrgsPerLookup)] {
			ask = append(ask, c[0])
		}
		sql, _, _ := queries.RenderDayKeys(queries.OrgDays, ask)
		rows, err := a.conn.Query(ctx, sql)
		if err != nil {
			return nil, fmt.Errorf("reading the aggregated days of %d orgs (first %s): %w", len(ask), ask[0].Org, err)
		}
		known, err := scanDayKeys(rows)
		if err != nil {
			return nil, err
		}
		for _, k := range known {
			if !dirty[k] {
				out[k.Org]++
			}
		}
		orgs = orgs[len(ask):]
	}
	return out, nil
}

// maxOrgsPerLookup bounds the org list of one OrgDays statement.
const maxOrgsPerLookup = 1000

// recompute recomputes s's days under version v.
func (a *Maintainer) recompute(ctx context.Context, s refreshStmt, v uint64) error {
	stmt := queries.RefreshDays
	if s.form == formOrg {
		stmt = queries.RefreshOrg
	}
	sql, from, to := queries.RenderDays(stmt, s.days)
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_query_size": len(sql) + 1<<16}))
	err := a.conn.Exec(ctx, sql, clickhouse.Named("org", s.org), clickhouse.Named("version", v),
		clickhouse.Named("from", from), clickhouse.Named("to", to))
	if err != nil {
		return fmt.Errorf("recomputing user_day_metrics of %d days of org %s from %s (%s form): %w",
			len(s.days), s.org, from.Format(time.DateOnly), s.form, err)
	}
	return nil
}

// orgChunks splits keys (sorted by org) into runs of one org each, of at
// most max keys: a statement then reads only its org's part of raw_signals
// (the sort key's prefix) and holds that org's calls only.
func orgChunks(keys []model.DayKey, max int) [][]model.DayKey {
	var out [][]model.DayKey
	start := 0
	for i := 1; i <= len(keys); i++ {
		if i == len(keys) || i-start == max || keys[i].Org != keys[start].Org {
			out = append(out, keys[start:i])
			start = i
		}
	}
	return out
}
