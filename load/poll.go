package load

import (
	"context"
	"fmt"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/load/aggregate"
	"github.com/phonesignals/phonesignals/transform"
)

var _ transform.Writer = (*Loader)(nil)

// Poll is the load of one transform poll: its record batches go into
// raw_signals in one INSERT (few large inserts are what ClickHouse
// prefers: each writes a part per month partition, which it then merges),
// and the (org, day) keys the poll makes stale are marked dirty in
// user_day_metrics before the consumer commits the poll's offsets.
//
// The stale days are the days of the poll's own rows, known here, plus the
// days holding an earlier version of one of its calls (a call moved to
// another day leaves its old day stale), which takes a lookup in
// raw_signals. BeginPoll starts that lookup with the call keys of the
// Kafka records, so the server runs it while the transform decodes the
// poll; on 18.16 it costs about as much as the insert. Looking up before
// the insert is exact because every version of a call is on one Kafka
// partition (the record key is the call), which one consumer at a time
// loads in offset order: a version not yet in raw_signals at the lookup is
// either in this poll (its day is noted from the rows) or in a later one
// (which marks its own days and looks up this poll's). A consumer fenced
// by a rebalance may still write its poll, but the poll's offsets are not
// committed, so the partition's new owner loads it again and marks the
// same days.
type Poll struct {
	l     *Loader
	calls []model.CallKey

	cancel context.CancelFunc
	done   chan struct{}
	prior  []model.DayKey // what the lookup found; valid after done
	err    error          // the lookup's failure; valid after done

	mu  sync.Mutex
	own map[model.DayKey]struct{}
}

// BeginPoll starts loading a poll whose records name calls: the lookup of
// the days their earlier versions are on starts in the background. Write,
// Finish and Close follow, from one goroutine. Duplicates are allowed (the
// lookup names large groups by their id range anyway, so removing them
// would cost more than it saves); calls must stay unchanged until Close.
// It makes *Loader the transform's Writer.
func (l *Loader) BeginPoll(ctx context.Context, calls []model.CallKey) transform.PollLoad {
	p := &Poll{l: l, calls: calls, own: map[model.DayKey]struct{}{}, done: make(chan struct{})}
	if l.agg == nil || len(p.calls) == 0 {
		p.cancel = func() {}
		close(p.done)
		return p
	}
	lctx, cancel := context.WithCancel(ctx)
	p.cancel = cancel
	go func() {
		defer close(p.done)
		p.prior, p.err = l.agg.Lookup(lctx, p.calls)
	}()
	return p
}

// Write inserts recs, all of one schema, in one INSERT and notes the days
// of their rows. Calling it again after a failure inserts them again:
// versioned reads count each call once.
func (p *Poll) Write(ctx context.Context, recs []arrow.Record) error {
	if err := p.l.insert(ctx, recs); err != nil {
		return err
	}
	if p.l.agg == nil {
		return nil
	}
	for _, rec := range recs {
		if err := p.noteDays(rec); err != nil {
			return err
		}
	}
	return nil
}

// noteDays adds the (org, UTC day) of every row of rec to the poll's own
// days.
func (p *Poll) noteDays(rec arrow.Record) error {
	org, err := stringColumn(rec, "org")
	if err != nil {
		return err
	}
	idx := rec.Schema().FieldIndices("started_at")
	if len(idx) != 1 {
		return errNoColumn("started_at")
	}
	started, ok := rec.Column(idx[0]).(*array.Timestamp)
	if !ok {
		return errColumnType("started_at", rec.Column(idx[0]).DataType(), "timestamp")
	}
	unit := started.DataType().(*arrow.TimestampType).Unit
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := 0; i < org.Len(); i++ {
		p.own[model.DayKey{Org: org.Value(i), Day: model.DayOf(started.Value(i).ToTime(unit))}] = struct{}{}
	}
	return nil
}

// Finish waits for the lookup and marks the poll's stale days dirty, so
// reads take them from raw_signals until the refresher recomputes them.
// Should the lookup have failed, it runs again here, after the insert,
// which finds the same days and the poll's own. Retry on failure: marking
// twice is harmless.
func (p *Poll) Finish(ctx context.Context) error {
	if p.l.agg == nil {
		return nil
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	if p.err != nil {
		p.prior, p.err = p.l.agg.Lookup(ctx, p.calls)
		if p.err != nil {
			return p.err
		}
	}
	p.mu.Lock()
	days := append([]model.DayKey(nil), p.prior...)
	for d := range p.own {
		days = append(days, d)
	}
	p.mu.Unlock()
	return p.l.agg.MarkDays(ctx, model.SortDayKeys(days))
}

// Close stops the lookup if it still runs and waits for it.
func (p *Poll) Close() {
	p.cancel()
	<-p.done
}

// CallKeys returns the distinct (org, provider, call_id) keys of rec.
func CallKeys(rec arrow.Record) ([]model.CallKey, error) {
	var cols [3]*array.String
	for i, name := range []string{"org", "provider", "call_id"} {
		c, err := stringColumn(rec, name)
		if err != nil {
			return nil, err
		}
		cols[i] = c
	}
	out := make([]model.CallKey, 0, cols[0].Len())
	for i := 0; i < cols[0].Len(); i++ {
		out = append(out, model.CallKey{Org: cols[0].Value(i), Provider: cols[1].Value(i), CallID: cols[2].Value(i)})
	}
	return aggregate.DistinctCalls(out), nil
}

// stringColumn returns rec's utf8 column name.
func stringColumn(rec arrow.Record, name string) (*array.String, error) {
	idx := rec.Schema().FieldIndices(name)
	if len(idx) != 1 {
		return nil, errNoColumn(name)
	}
	c, ok := rec.Column(idx[0]).(*array.String)
	if !ok {
		return nil, errColumnType(name, rec.Column(idx[0]).DataType(), "utf8")
	}
	return c, nil
}

func errNoColumn(name string) error {
	return fmt.Errorf("load: the record has no %s column; user_day_metrics cannot be kept", name)
}

func errColumnType(name string, got arrow.DataType, want string) error {
	return fmt.Errorf("load: column %s is %s, want %s", name, got, want)
}
