package aggregate_test

import (
	"context"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"math/rand/v2"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/model/modeltest"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/load"
	"github.com/phonesignals/phonesignals/load/aggregate"
	"github.com/phonesignals/phonesignals/load/aggregate/aggregatetest"
	"github.com/phonesignals/phonesignals/queries"
)

// skewed is a clock off the real one by d.
func skewed(d time.Duration) func() time.Time {
	return func() time.Time { return time.Now().Add(d) }
}

// newLoader returns a Loader on st with clock now and no background
// refresher unless every > 0; Close runs at cleanup.
func newLoader(t *testing.T, st *store.Store, now func() time.Time, every time.Duration) *load.Loader {
	t.Helper()
	if every == 0 {
		every = -1
	}
	ld, err := load.New(load.Config{Conn: st.Conn(), Now: now, RefreshEvery: every})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ld.Close(context.Background()) })
	return ld
}

// dirtyCount is how many (org, day) keys user_day_metrics is behind on.
func dirtyCount(ctx context.Context, t *testing.T, st *store.Store) uint64 {
	t.Helper()
	var n uint64
	if err := st.Conn().QueryRow(ctx, "SELECT count() FROM ("+queries.DirtyDays+")").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkExact fails unless no day is dirty and user_day_metrics holds
// exactly the per-day numbers of the current versions in raw_signals.
func checkExact(ctx context.Context, t *testing.T, st *store.Store, when string) {
	t.Helper()
	if n := dirtyCount(ctx, t, st); n != 0 {
		t.Fatalf("%s: %d days still dirty", when, n)
	}
	got, want := aggregatetest.DayTable(ctx, t, st.Conn(), aggregatetest.FromAggregates), aggregatetest.DayTable(ctx, t, st.Conn(), aggregatetest.FromRaw)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: user_day_metrics differs from raw_signals:\n  aggregates %q\n  raw        %q", when, got, want)
	}
}

// checkReviewExact compares the review numbers of the one-day cycle day
// (employees E1..E4 mapped to users 1..4) with the current versions in
// raw_signals: the review reads clean days from user_day_metrics and dirty
// ones from raw_signals, so it is exact at every moment.
func checkReviewExact(ctx context.Context, t *testing.T, st *store.Store, when string) {
	t.Helper()
	ms, err := st.CycleMetrics(ctx, "acme", "day")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{}
	rows, err := st.Conn().Query(ctx, `SELECT user_id, count() FROM calls_current
		WHERE org = 'acme' AND deleted = 0 AND toDate(started_at) = '2026-09-01' GROUP BY user_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		var n uint64
		if err := rows.Scan(&u, &n); err != nil {
			t.Fatal(err)
		}
		want["E"+u] = n
	}
	for _, m := range ms {
		if m.TotalCalls != want[m.EmployeeID] {
			t.Fatalf("%s: review says %s made %d calls, raw_signals %d", when, m.EmployeeID, m.TotalCalls, want[m.EmployeeID])
		}
	}
}

// dayOrg maps E1..E4 to users 1..4 and adds the one-day cycle "day"
// (2026-09-01).
func dayOrg(ctx context.Context, t *testing.T, st *store.Store) {
	t.Helper()
	var emps []store.Employee
	for i := 1; i <= 4; i++ {
		n := strconv.Itoa(i)
		emps = append(emps, store.Employee{ID: "E" + n, Name: "Emp " + n, Email: "e" + n + "@acme.test", Cohort: "a", ProviderUserID: n})
	}
	if err := st.ImportEmployees(ctx, "acme", emps); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	if err := st.AddCycle(ctx, "acme", store.Cycle{ID: "day", Start: day, End: day.AddDate(0, 0, 1)}); err != nil {
		t.Fatal(err)
	}
}

// callOn is version v of call id, by user on 2026-09-01.
func callOn(id, user string, v uint64) modeltest.Call {
	return modeltest.Call{Org: "acme", Provider: fixture.Aircall, CallID: id, UserID: user,
		StartedAt: time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC), Direction: "inbound", DurationSec: 60,
		Status: "done", ProviderStatus: "done", Connected: true, Completed: true, EscalationAvailable: true,
		Version: v, Source: model.SourceWebhook}
}

// TestAggregatesClockStepBack is the deterministic sequence: a
// call loaded and refreshed, then its next version (another user) loaded
// and refreshed by a loader whose clock is 30 s behind. Versioned by the
// clock, that loader's mark sorted below the first refresh, so the day
// stayed clean with the call counted for its old user, for good.
func TestAggregatesClockStepBack(t *testing.T) {
	ctx := context.Background()
	st := aggregatetest.MigratedStore(ctx, t)
	dayOrg(ctx, t, st)
	first := newLoader(t, st, time.Now, 0)
	if err := first.Write(ctx, aggregatetest.Record(t, []modeltest.Call{callOn("1", "1", 10)})); err != nil {
		t.Fatal(err)
	}
	if err := first.Aggregates().Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	checkExact(ctx, t, st, "after the first refresh")
	behind := newLoader(t, st, skewed(-30*time.Second), 0)
	if err := behind.Write(ctx, aggregatetest.Record(t, []modeltest.Call{callOn("1", "2", 11)})); err != nil {
		t.Fatal(err)
	}
	checkReviewExact(ctx, t, st, "before the second refresh")
	if err := behind.Aggregates().Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if s := behind.Aggregates().Stats(); s.Refreshes != 1 {
		t.Fatalf("the loader 30 s behind made %d refreshes, want 1: its mark sorted below the earlier refresh", s.Refreshes)
	}
	checkExact(ctx, t, st, "after the refresh 30 s behind")
	checkReviewExact(ctx, t, st, "after the refresh 30 s behind")
}

// TestAggregatesSkewedLoaders streams edits through two loaders whose
// clocks are 5 s ahead and 5 s behind, each with its background refresher,
// as two `run` members of one consumer group: each call is loaded by one
// loader at a time, in version order, and half of the calls move to the
// other loader midway (a rebalance). Once idle, every number is exact.
func TestAggregatesSkewedLoaders(t *testing.T) {
	ctx := context.Background()
	st := aggregatetest.MigratedStore(ctx, t)
	dayOrg(ctx, t, st)
	loaders := []*load.Loader{newLoader(t, st, skewed(5*time.Second), 50*time.Millisecond), newLoader(t, st, skewed(-5*time.Second), 50*time.Millisecond)}
	const calls, rounds = 40, 30
	rng := rand.New(rand.NewPCG(11, 12))
	// versions[r][i] is call i's version of round r: another user, and now
	// and then another day.
	versions := make([][]modeltest.Call, rounds)
	for r := range versions {
		for i := 0; i < calls; i++ {
			c := callOn(strconv.Itoa(i), strconv.Itoa(1+rng.IntN(4)), uint64(10+r))
			if rng.IntN(5) == 0 {
				c.StartedAt = c.StartedAt.AddDate(0, 0, 1)
			}
			versions[r] = append(versions[r], c)
		}
	}
	owner := func(i, r int) int { // the loader that loads call i in round r
		if r >= rounds/2 && i%2 == 0 {
			return 1 - i%2
		}
		return i % 2
	}
	for r := 0; r < rounds; r++ {
		var wg sync.WaitGroup
		for l := range loaders {
			var batch []modeltest.Call
			for i := 0; i < calls; i++ {
				if owner(i, r) == l {
					batch = append(batch, versions[r][i])
				}
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := loaders[l].Write(ctx, aggregatetest.Record(t, batch)); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if r%5 == 4 {
			checkReviewExact(ctx, t, st, "while streaming, round "+strconv.Itoa(r))
		}
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
	}
	for _, ld := range loaders {
		if err := ld.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	checkExact(ctx, t, st, "once idle")
	checkReviewExact(ctx, t, st, "once idle")
}

// TestRefreshInterleaving orders a refresh, a new batch and a review by
// the refresher's hook: a loader whose clock is 5 s ahead has read
// raw_signals and written its rows when another loader loads the call's
// next version; then the first marks its days refreshed. The day must
// stay dirty (the refresh did not read that batch), the review must count
// the new version throughout, and the day ends clean only once its
// aggregate holds it.
func TestRefreshInterleaving(t *testing.T) {
	ctx := context.Background()
	st := aggregatetest.MigratedStore(ctx, t)
	dayOrg(ctx, t, st)
	ahead, other := newLoader(t, st, skewed(5*time.Second), 0), newLoader(t, st, time.Now, 0)
	if err := other.Write(ctx, aggregatetest.Record(t, []modeltest.Call{callOn("1", "1", 10)})); err != nil {
		t.Fatal(err)
	}
	aggregate.SetBeforeRefreshedMark(ahead.Aggregates(), func() {
		if err := other.Write(ctx, aggregatetest.Record(t, []modeltest.Call{callOn("1", "3", 11)})); err != nil {
			t.Error(err)
		}
		checkReviewExact(ctx, t, st, "after the batch, before the refreshed mark")
	})
	if err := ahead.Aggregates().Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	aggregate.SetBeforeRefreshedMark(ahead.Aggregates(), nil)
	if n := dirtyCount(ctx, t, st); n != 1 {
		t.Fatalf("%d days dirty after a refresh that missed a batch, want 1", n)
	}
	checkReviewExact(ctx, t, st, "after the refresh that missed the batch")
	if err := other.Aggregates().Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	checkExact(ctx, t, st, "after the next refresh")
	checkReviewExact(ctx, t, st, "after the next refresh")
}
