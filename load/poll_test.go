package load

import (
	"context"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/model/modeltest"
	"github.com/phonesignals/phonesignals/load/aggregate/aggregatetest"
)

// TestPollMarksMovedDays loads calls, refreshes the aggregates, then loads
// a poll (two record batches, one insert) holding new versions that move
// half of the calls to another day, and new calls: the days the calls left
// must be marked dirty as well as the poll's own days, whether the
// lookup ran while the poll decoded or failed and ran again after the
// insert, and the aggregates must then equal raw_signals.
func TestPollMarksMovedDays(t *testing.T) {
	for _, tc := range []struct {
		name         string
		cancelLookup bool
	}{
		{"lookup while decoding", false},
		{"lookup failed, run again after the insert", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st := aggregatetest.MigratedStore(ctx, t)
			ld, err := New(Config{Conn: st.Conn(), RefreshEvery: -1})
			if err != nil {
				t.Fatal(err)
			}
			day1 := time.Date(2026, 9, 3, 10, 0, 0, 0, time.UTC)
			day2 := day1.Add(48 * time.Hour)
			var first, moved, fresh []modeltest.Call
			for i := 0; i < 300; i++ {
				c := modeltest.Call{Org: "acme", Provider: fixture.Aircall, CallID: strconv.Itoa(5000 + i), UserID: "u" + strconv.Itoa(i%7),
					StartedAt: day1.Add(time.Duration(i) * time.Minute), Direction: "inbound", DurationSec: 60, Status: "done",
					Connected: true, Completed: true, Version: 1, Source: model.SourcePoll}
				first = append(first, c)
				if i%2 == 0 {
					c.StartedAt, c.Version = day2, 2
					moved = append(moved, c)
				}
				c.CallID, c.StartedAt, c.Version = strconv.Itoa(9000+i), day2.Add(24*time.Hour), 1
				fresh = append(fresh, c)
			}
			if err := ld.Write(ctx, aggregatetest.Record(t, first)); err != nil {
				t.Fatal(err)
			}
			if err := ld.Aggregates().Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			recs := []arrow.Record{aggregatetest.Record(t, moved), aggregatetest.Record(t, fresh)}
			var keys []model.CallKey
			for _, rec := range recs {
				k, err := CallKeys(rec)
				if err != nil {
					t.Fatal(err)
				}
				keys = append(keys, k...)
			}
			lookupCtx := ctx
			if tc.cancelLookup {
				c, cancel := context.WithCancel(ctx)
				cancel()
				lookupCtx = c
			}
			p := ld.BeginPoll(lookupCtx, keys)
			t.Cleanup(p.Close)
			if err := p.Write(ctx, recs); err != nil {
				t.Fatal(err)
			}
			if err := p.Finish(ctx); err != nil {
				t.Fatal(err)
			}
			dirty := aggregatetest.DirtyDays(ctx, t, st.Conn())
			want := []model.DayKey{{Org: "acme", Day: model.DayOf(day1)}, {Org: "acme", Day: model.DayOf(day2)},
				{Org: "acme", Day: model.DayOf(day2.Add(24 * time.Hour))}}
			if !reflect.DeepEqual(model.SortDayKeys(dirty), want) {
				t.Fatalf("dirty days %v, want %v", dirty, want)
			}
			if err := ld.Aggregates().Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			agg, raw := aggregatetest.DayTable(ctx, t, st.Conn(), aggregatetest.FromAggregates), aggregatetest.DayTable(ctx, t, st.Conn(), aggregatetest.FromRaw)
			if len(raw) == 0 || !reflect.DeepEqual(agg, raw) {
				t.Fatalf("user_day_metrics:\n%v\nraw_signals:\n%v", agg, raw)
			}
		})
	}
}
