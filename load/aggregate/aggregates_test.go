package aggregate_test

import (
	"context"
	"fmt"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/model/modeltest"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/load"
	"github.com/phonesignals/phonesignals/load/aggregate"
	"github.com/phonesignals/phonesignals/load/aggregate/aggregatetest"
	"github.com/phonesignals/phonesignals/queries"
)

// versionsOf generates calls of org around the August/September month
// boundary, each with one to three versions: later versions move the call
// to another user, to another day (36 hours, across the month partition
// now and then), flip its direction, or delete it.
func versionsOf(org string, n int, rng *rand.Rand) []modeltest.Call {
	base := time.Date(2026, 8, 25, 0, 0, 0, 0, time.UTC)
	var out []modeltest.Call
	for i := 0; i < n; i++ {
		c := modeltest.Call{
			Org: org, Provider: fixture.Aircall, CallID: strconv.Itoa(100000 + i),
			UserID:    "u" + strconv.Itoa(rng.IntN(10)),
			StartedAt: base.Add(time.Duration(rng.IntN(12*24*3600)) * time.Second),
			Direction: []string{"inbound", "outbound"}[rng.IntN(2)], DurationSec: uint32(rng.IntN(900)),
			Status: "done", ProviderStatus: "done", Connected: rng.IntN(3) > 0, Completed: true,
			EscalationAvailable: true, Version: 10, Source: model.SourcePoll,
		}
		if rng.IntN(5) == 0 {
			c.UserID = ""
		}
		if rng.IntN(4) == 0 {
			c.Notes = []string{"customer asked for a refund"}
		}
		out = append(out, c)
		for v := 1; v < 1+rng.IntN(3); v++ {
			c.Version += uint64(1 + rng.IntN(5))
			switch rng.IntN(4) {
			case 0:
				c.UserID = "u" + strconv.Itoa(rng.IntN(10))
			case 1:
				c.StartedAt = c.StartedAt.Add(36 * time.Hour)
			case 2:
				c.Direction, c.DurationSec = "outbound", c.DurationSec+60
			case 3:
				c.Deleted = !c.Deleted
			}
			out = append(out, c)
		}
	}
	return out
}

// TestAggregatesExact loads versions of calls of two orgs in shuffled
// batches (later versions before earlier ones, moves across days, users
// and month partitions, deletions), loads one batch twice and one after a
// simulated crash that left only its September partition inserted, then
// checks user_day_metrics against the current versions in raw_signals,
// and the review numbers of a mid-day cycle, with the mapping and the
// cycle added after the calls and an employee removed, against the same
// numbers computed from raw_signals. It runs with each refresh form forced
// (a few days' calls, all of the org's calls) and with the refresher's
// choice.
func TestAggregatesExact(t *testing.T) {
	for _, form := range []aggregate.RefreshForm{aggregate.FormAuto, aggregate.FormDays, aggregate.FormOrg} {
		t.Run(form.String(), func(t *testing.T) { checkAggregatesExact(t, form) })
	}
}

func checkAggregatesExact(t *testing.T, form aggregate.RefreshForm) {
	ctx := context.Background()
	st := aggregatetest.MigratedStore(ctx, t)
	ld, err := load.New(load.Config{Conn: st.Conn(), RefreshEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	aggregate.SetForm(ld.Aggregates(), form)
	rng := rand.New(rand.NewPCG(3, 4))
	all := append(versionsOf("acme", 1500, rng), versionsOf("globex", 300, rng)...)
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })

	const size = 400
	for b := 0; b*size < len(all); b++ {
		if b%3 == 2 {
			// The background refresher's pass between batches.
			if err := ld.Aggregates().Refresh(ctx); err != nil {
				t.Fatal(err)
			}
		}
		batch := all[b*size : min((b+1)*size, len(all))]
		rec := aggregatetest.Record(t, batch)
		switch b {
		case 1:
			// A crash after ClickHouse applied the September block of the
			// insert only: no refresh ran and the offsets were not
			// committed, so the whole batch comes again.
			var sep []modeltest.Call
			for _, c := range batch {
				if c.StartedAt.Month() == time.September {
					sep = append(sep, c)
				}
			}
			crashed := aggregatetest.Record(t, sep)
			keys, err := load.CallKeys(crashed)
			if err != nil {
				t.Fatal(err)
			}
			p := ld.BeginPoll(ctx, keys)
			err = p.Write(ctx, []arrow.Record{crashed}) // and no Finish: no marks
			p.Close()
			if err != nil {
				t.Fatal(err)
			}
		case 2:
			// Loaded twice: the transaction aborted after the write.
			if err := ld.Write(ctx, rec); err != nil {
				t.Fatal(err)
			}
		}
		if err := ld.Write(ctx, rec); err != nil {
			t.Fatalf("batch %d: %v", b, err)
		}
	}
	// Before the last refresh, the days of the last batches are dirty and
	// the reviews read them from raw_signals.
	checkReview(ctx, t, st, "before the refresh")
	if err := ld.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if s := ld.Aggregates().Stats(); s.Refreshes == 0 || s.Keys == 0 || s.Marked == 0 {
		t.Fatalf("no refresh ran: %+v", s)
	}
	var dirty uint64
	if err := st.Conn().QueryRow(ctx, "SELECT count() FROM ("+queries.DirtyDays+")").Scan(&dirty); err != nil || dirty != 0 {
		t.Fatalf("%d days still dirty after Close (%v)", dirty, err)
	}

	got, want := aggregatetest.DayTable(ctx, t, st.Conn(), aggregatetest.FromAggregates), aggregatetest.DayTable(ctx, t, st.Conn(), aggregatetest.FromRaw)
	if len(want) < 50 {
		t.Fatalf("only %d (org, day, user) keys: the test data is too thin", len(want))
	}
	if !reflect.DeepEqual(got, want) {
		for i := 0; i < min(len(got), len(want)); i++ {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("user_day_metrics differs from raw_signals at row %d of %d/%d:\n  got  %q\n  want %q", i, len(got), len(want), got[i], want[i])
			}
		}
		t.Fatalf("user_day_metrics has %d keys with calls, raw_signals %d", len(got), len(want))
	}
	checkReview(ctx, t, st, "after the refresh")
}

// checkReview maps employees and adds a mid-day cycle after the calls
// were loaded, removes one employee, and compares CycleMetrics with the
// same numbers computed from calls_current.
func checkReview(ctx context.Context, t *testing.T, st *store.Store, when string) {
	t.Helper()
	var emps []store.Employee
	for i := 0; i < 8; i++ {
		emps = append(emps, store.Employee{ID: fmt.Sprintf("E%d", i), Name: fmt.Sprintf("Emp %d", i), Email: fmt.Sprintf("e%d@acme.test", i),
			Cohort: []string{"a", "b"}[i%2], ProviderUserID: "u" + strconv.Itoa(i)})
	}
	cy := store.Cycle{ID: "mid", Start: time.Date(2026, 8, 27, 13, 30, 0, 0, time.UTC), End: time.Date(2026, 9, 3, 7, 15, 0, 0, time.UTC)}
	if when == "before the refresh" {
		if err := st.ImportEmployees(ctx, "acme", emps); err != nil {
			t.Fatal(err)
		}
		if err := st.RemoveEmployees(ctx, "acme", []string{"E3"}); err != nil {
			t.Fatal(err)
		}
		if err := st.AddCycle(ctx, "acme", cy); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := st.CycleMetrics(ctx, "acme", cy.ID)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := st.Conn().Query(ctx, `SELECT user_id, count(), countIf(direction = 'inbound'), countIf(escalated = 1), countIf(resolved = 1), sum(toUInt64(duration_sec))
		FROM calls_current WHERE org = 'acme' AND deleted = 0 AND started_at >= ? AND started_at < ? GROUP BY user_id`, cy.Start, cy.End)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	want := map[string][5]uint64{}
	for rows.Next() {
		var u string
		var n [5]uint64
		if err := rows.Scan(&u, &n[0], &n[1], &n[2], &n[3], &n[4]); err != nil {
			t.Fatal(err)
		}
		want[u] = n
	}
	if len(ms) != 7 {
		t.Fatalf("%d employees in the review, want 7 (E3 removed)", len(ms))
	}
	for _, m := range ms {
		w := want["u"+m.EmployeeID[1:]]
		avg := uint64(0)
		if w[0] > 0 {
			avg = (2*w[4] + w[0]) / (2 * w[0])
		}
		got := [5]uint64{m.TotalCalls, m.InboundCalls, m.EscalatedCalls, m.ResolvedCalls, m.AvgDurationSec}
		if exp := [5]uint64{w[0], w[1], w[2], w[3], avg}; got != exp || w[0] == 0 {
			t.Errorf("%s: employee %s (total, inbound, escalated, resolved, avg duration) = %v, want %v (non-zero)", when, m.EmployeeID, got, exp)
		}
	}
}

// TestBackgroundRefresh checks that the loader's refresher catches up on
// its own once batches pause, and that Close leaves nothing dirty.
func TestBackgroundRefresh(t *testing.T) {
	ctx := context.Background()
	st := aggregatetest.MigratedStore(ctx, t)
	ld, err := load.New(load.Config{Conn: st.Conn()})
	if err != nil {
		t.Fatal(err)
	}
	dirty := func() uint64 {
		var n uint64
		if err := st.Conn().QueryRow(ctx, "SELECT count() FROM ("+queries.DirtyDays+")").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := ld.Write(ctx, aggregatetest.Record(t, versionsOf("acme", 200, rand.New(rand.NewPCG(5, 6))))); err != nil {
		t.Fatal(err)
	}
	if dirty() == 0 {
		t.Fatal("a written batch left no day dirty")
	}
	for deadline := time.Now().Add(30 * time.Second); dirty() > 0; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d days still dirty 30s after the last batch; the background refresher did not run", dirty())
		}
	}
	if err := ld.Write(ctx, aggregatetest.Record(t, versionsOf("globex", 50, rand.New(rand.NewPCG(7, 8))))); err != nil {
		t.Fatal(err)
	}
	if err := ld.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := dirty(); n != 0 {
		t.Fatalf("%d days dirty after Close", n)
	}
}

// TestMarkLargeBatch marks a batch as large as the transform makes
// (--max-batch 20000): the lookup must fit ClickHouse's query and AST
// limits (18.16 refused 20,000 call tuples: "AST is too big").
func TestMarkLargeBatch(t *testing.T) {
	ctx := context.Background()
	st := aggregatetest.MigratedStore(ctx, t)
	agg, err := aggregate.New(st.Conn(), nil)
	if err != nil {
		t.Fatal(err)
	}
	calls := make([]model.CallKey, 25000)
	for i := range calls {
		calls[i] = model.CallKey{Org: fmt.Sprintf("org%d", i%20), Provider: fixture.Aircall, CallID: strconv.Itoa(1_000_000_000 + i)}
	}
	if err := agg.Mark(ctx, calls); err != nil {
		t.Fatal(err)
	}
}
