package aggregate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/obs"
	"github.com/phonesignals/phonesignals/queries"
)

// maxKeysPerStatement bounds the (org, day) list of one refresh statement.
const maxKeysPerStatement = 2000

// maxCallsPerStatement bounds the call list of one touched-days lookup; the
// lookup raises max_query_size and max_ast_elements (50,000 by default,
// about 4 per call tuple) to fit it.
const maxCallsPerStatement = 10000

// Stats counts the aggregate work, for benchmarks and logs.
type Stats struct {
	// Marked is the number of batches (polls) whose days were marked
	// dirty, and MarkElapsed the time their marks took to write (in the
	// write path, after the insert). LookupElapsed is the time the lookups
	// of the days their calls were on took, mostly while the transform
	// decoded the poll (load.Poll).
	Marked        int
	MarkElapsed   time.Duration
	LookupElapsed time.Duration
	// Refreshes is the number of refresh passes that recomputed days, Keys
	// the (org, day) keys they recomputed, RefreshElapsed their time (in
	// the background, off the write path).
	Refreshes      int
	Keys           int
	RefreshElapsed time.Duration
}

// Maintainer keeps user_day_metrics exact. In a batch's write path, after
// its rows are in raw_signals and before the consumer commits its offsets,
// Mark records in user_day_dirty every (org, UTC day) holding a version of
// one of the batch's calls: its new days and the days a call left. In the
// background, Refresh recomputes the dirty days from raw_signals as
// absolute rows under a newer version (zero rows for keys that emptied),
// many batches coalesced into one pass per day, then marks them refreshed.
// Reads take dirty days from raw_signals, so the numbers are exact at any
// moment. Both steps are idempotent: a batch delivered again after a crash
// (its insert possibly split into one block per month partition and only
// partly applied) marks and recomputes the same days again, and marks left
// by a crashed loader are refreshed by the next one.
type Maintainer struct {
	conn driver.Conn
	now  func() time.Time
	log  *slog.Logger

	mu         sync.Mutex
	stats      Stats
	lastMark   time.Time
	dirtySince map[model.DayKey]time.Time // by now, for the age gauge

	refreshMu sync.Mutex
	form      refreshForm // formAuto but in tests
	hooks     hooks       // empty but in tests
	stop      chan struct{}
	done      chan struct{}
}

// hooks let tests order a refresh against other loaders' work.
type hooks struct {
	// beforeRefreshedMark runs after a refresh wrote its rows and before
	// it marks their days refreshed.
	beforeRefreshedMark func()
}

// New returns the user_day_metrics maintainer on conn. now
// (default time.Now) only dates what the refresher reports (the age of
// the oldest dirty day): no version depends on a clock (see
// nextVersion). It refreshes nothing on its own until Start.
func New(conn driver.Conn, now func() time.Time) (*Maintainer, error) {
	if conn == nil {
		return nil, errors.New("load: aggregates need a ClickHouse connection (Conn is nil)")
	}
	if now == nil {
		now = time.Now
	}
	return &Maintainer{conn: conn, now: now, log: slog.Default(), dirtySince: map[model.DayKey]time.Time{}}, nil
}

// Stats returns the work so far.
func (a *Maintainer) Stats() Stats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

// nextVersion returns the version of a new mark or refresh of days: one
// above every value user_day_dirty holds for their orgs. The store is the
// one authority every loader shares, so versions never depend on clocks
// agreeing or on a clock never going back: a "loaded" mark taken after a
// batch's insert sees the "refreshing" reservation of every refresh that
// started before it, and so sorts above that refresh (the day stays dirty)
// unless the refresh reserved its version after the mark read, and then
// read raw_signals after the insert. ARCHITECTURE.md has the argument.
// Equal versions (two loaders reading the same maximum) are harmless: the
// comparison that cleans a day is "refreshed >= loaded", which the
// argument covers for ties too.
func (a *Maintainer) nextVersion(ctx context.Context, days []model.DayKey) (uint64, error) {
	sql, _, _ := queries.RenderDayKeys(queries.NextVersion, firstOfEachOrg(days))
	var v uint64
	if err := a.conn.QueryRow(ctx, sql).Scan(&v); err != nil {
		return 0, fmt.Errorf("reading the newest aggregate version of org %s and %d others in user_day_dirty: %w",
			days[0].Org, len(firstOfEachOrg(days))-1, err)
	}
	if v == math.MaxUint64 {
		return 0, fmt.Errorf("user_day_dirty holds the largest version for org %s (or another of %d orgs), so no refresh can sort above it: "+
			"delete that row and the user_day_metrics rows of that version (ALTER TABLE ... DELETE WHERE value/version = %d), then run phonesignals aggregates rebuild",
			days[0].Org, len(firstOfEachOrg(days)), v)
	}
	return v + 1, nil
}

// firstOfEachOrg returns one key of each org of keys (sorted by org):
// RenderDayKeys then lists the orgs alone.
func firstOfEachOrg(keys []model.DayKey) []model.DayKey {
	var out []model.DayKey
	for _, c := range orgChunks(keys, len(keys)) {
		out = append(out, c[0])
	}
	return out
}

// Mark marks dirty every day holding a version of one of calls, which
// must already be in raw_signals: Lookup, then MarkDays.
func (a *Maintainer) Mark(ctx context.Context, calls []model.CallKey) error {
	days, err := a.Lookup(ctx, DistinctCalls(calls))
	if err != nil {
		return err
	}
	return a.MarkDays(ctx, model.SortDayKeys(days))
}

// Lookup returns the (org, day) keys holding a version of one of calls
// (with duplicates). A poll runs it before its insert, while it decodes
// (load.Poll): see there why that is exact.
func (a *Maintainer) Lookup(ctx context.Context, calls []model.CallKey) ([]model.DayKey, error) {
	start := time.Now()
	var days []model.DayKey
	for len(calls) > 0 {
		// One lookup when ranges name the calls: each lookup reads the
		// granules of the whole id range, so splitting a batch into
		// statements only reads the same rows again.
		n := len(calls)
		if queries.ListedCalls(calls) > maxCallsPerStatement {
			n = min(n, maxCallsPerStatement)
		}
		d, err := a.touched(ctx, calls[:n])
		if err != nil {
			return nil, err
		}
		days = append(days, d...)
		calls = calls[n:]
	}
	a.mu.Lock()
	a.stats.LookupElapsed += time.Since(start)
	a.mu.Unlock()
	return days, nil
}

// MarkDays writes "loaded" marks for days (sorted, distinct:
// model.SortDayKeys), after their rows are in raw_signals.
func (a *Maintainer) MarkDays(ctx context.Context, days []model.DayKey) error {
	if len(days) == 0 {
		return nil
	}
	start := time.Now()
	v, err := a.nextVersion(ctx, days)
	if err != nil {
		return err
	}
	if err := a.insertMarks(ctx, days, "loaded", v); err != nil {
		return err
	}
	a.mu.Lock()
	a.stats.Marked++
	a.stats.MarkElapsed += time.Since(start)
	a.lastMark = time.Now()
	a.mu.Unlock()
	return nil
}

func (a *Maintainer) touched(ctx context.Context, calls []model.CallKey) ([]model.DayKey, error) {
	sql := queries.RenderCallKeys(queries.TouchedDays, calls)
	// One thread: the lookup reads a few hundred granules, which more
	// threads only split at a cost, and it runs while the transform
	// decodes, so its latency is hidden but its CPU is not.
	ctx = clickhouse.Context(ctx, clickhouse.WithSettings(clickhouse.Settings{"max_query_size": len(sql) + 1<<16,
		"max_ast_elements": 8*len(calls) + 50000, "max_expanded_ast_elements": 8*len(calls) + 500000, "max_threads": 1}))
	rows, err := a.conn.Query(ctx, sql)
	if err != nil {
		return nil, fmt.Errorf("looking up the days of %d calls (org %s) in raw_signals: %w", len(calls), calls[0].Org, err)
	}
	return scanDayKeys(rows)
}

// scanDayKeys is a loop, not conn.Select: it runs on every poll, where
// Select would reflect on every row.
func scanDayKeys(rows driver.Rows) ([]model.DayKey, error) {
	defer rows.Close()
	var out []model.DayKey
	for rows.Next() {
		var k model.DayKey
		if err := rows.Scan(&k.Org, &k.Day); err != nil {
			return nil, fmt.Errorf("reading (org, day) keys: %w", err)
		}
		k.Day = model.DayOf(k.Day)
		out = append(out, k)
	}
	return out, rows.Err()
}

func (a *Maintainer) insertMarks(ctx context.Context, days []model.DayKey, kind string, value uint64) error {
	if len(days) == 0 {
		return nil
	}
	batch, err := a.conn.PrepareBatch(ctx, queries.MarkDays)
	if err != nil {
		return fmt.Errorf("preparing the %s marks of %d days: %w", kind, len(days), err)
	}
	for _, d := range days {
		if err := batch.Append(d.Org, d.Day, kind, value); err != nil {
			_ = batch.Abort()
			return fmt.Errorf("appending a %s mark: %w", kind, err)
		}
	}
	if err := batch.Send(); err != nil {
		return fmt.Errorf("writing the %s marks of %d days (org %s): %w", kind, len(days), days[0].Org, err)
	}
	return nil
}

// quiet is how long no batch must have been marked before the
// background refresher recomputes: while batches stream in, a pass would
// recompute days the next batches dirty again.
const quiet = 2 * time.Second

// Start recomputes dirty days in the background until Close: once no
// batch was marked for two seconds, and at least every interval while
// batches keep coming. Batches arriving meanwhile only mark their days, so
// one pass serves all of them. A failed pass is retried with back-off
// (reads stay exact meanwhile) until one succeeds.
func (a *Maintainer) Start(interval time.Duration) {
	a.stop, a.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(a.done)
		t := time.NewTicker(quiet / 2)
		defer t.Stop()
		// Catch up at once on days a crashed loader left dirty, before this
		// loader's batches mark theirs: a first pass a tick later would
		// recompute the days the stream just started to dirty again.
		last := time.Now()
		retry := a.backoff(a.refreshOnce(), 0)
		for {
			select {
			case <-a.stop:
				return
			case <-t.C:
			}
			obs.AggregatesOldestDirty(a.OldestDirty().Seconds())
			a.mu.Lock()
			lastMark := a.lastMark
			a.mu.Unlock()
			due := retry > 0 && time.Since(last) >= retry
			if !due && (lastMark.Before(last) || (time.Since(lastMark) < quiet && time.Since(last) < interval)) {
				continue // nothing new, or batches still streaming in
			}
			last = time.Now()
			retry = a.backoff(a.refreshOnce(), retry)
		}
	}()
}

// maxRetry bounds the back-off between failed background passes.
const maxRetry = time.Minute

// backoff returns the wait before the next retry after a pass that failed
// (doubling from one tick up to maxRetry), or 0 after one that succeeded.
func (a *Maintainer) backoff(failed bool, prev time.Duration) time.Duration {
	if !failed {
		return 0
	}
	return min(max(2*prev, quiet/2), maxRetry)
}

// refreshOnce is one background pass and reports whether it failed; a
// failure is logged, as reads take the dirty days from raw_signals
// meanwhile and the pass is retried.
func (a *Maintainer) refreshOnce() (failed bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	err := a.Refresh(ctx)
	obs.AggregatesRefresh(err)
	if err != nil {
		a.log.Warn("refreshing user_day_metrics failed; reads take the dirty days from raw_signals meanwhile, and the refresh is retried",
			"err", err, "oldest_dirty", a.OldestDirty().Round(time.Second).String())
	}
	return err != nil
}

// Close stops the background refresher and refreshes what is still dirty,
// so a `run --until-idle` leaves the aggregates current.
func (a *Maintainer) Close(ctx context.Context) error {
	if a.stop != nil {
		close(a.stop)
		<-a.done
		a.stop = nil
	}
	return a.Refresh(ctx)
}

// DistinctCalls returns calls without duplicates, in their first order.
func DistinctCalls(calls []model.CallKey) []model.CallKey {
	seen := make(map[model.CallKey]struct{}, len(calls))
	out := make([]model.CallKey, 0, len(calls))
	for _, k := range calls {
		if _, ok := seen[k]; !ok {
			seen[k] = struct{}{}
			out = append(out, k)
		}
	}
	return out
}
