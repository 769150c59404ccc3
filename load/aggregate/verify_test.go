package aggregate_test

import (
	"bytes"
	"context"
	"fmt"
	"github.com/phonesignals/phonesignals/load/aggregate"
	"github.com/phonesignals/phonesignals/load/aggregate/aggregatetest"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestVerifyAndRebuild corrupts user_day_metrics in the ways a bug or a
// hand edit would (a key with wrong numbers under a version above every
// refresh, a key deleted), checks that Verify names exactly those keys,
// and that Rebuild repairs them while a loader keeps streaming edits,
// idempotently.
func TestVerifyAndRebuild(t *testing.T) {
	ctx := context.Background()
	st := aggregatetest.MigratedStore(ctx, t)
	ld := newLoader(t, st, time.Now, 0)
	rng := rand.New(rand.NewPCG(21, 22))
	if err := ld.Write(ctx, aggregatetest.Record(t, versionsOf("acme", 400, rng))); err != nil {
		t.Fatal(err)
	}
	if err := ld.Write(ctx, aggregatetest.Record(t, versionsOf("globex", 100, rng))); err != nil {
		t.Fatal(err)
	}
	agg := ld.Aggregates()
	if err := agg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	for _, org := range []string{"acme", "globex"} {
		rep, err := agg.Verify(ctx, org, aggregate.Range{})
		if err != nil || len(rep.Diffs) != 0 || rep.Dirty != 0 {
			t.Fatalf("%s after a refresh: %+v, %v; want clean", org, rep, err)
		}
	}
	// A row far above every version, with wrong numbers, and a key's rows
	// gone (an ALTER DELETE by hand).
	var day time.Time
	var user string
	if err := st.Conn().QueryRow(ctx, `SELECT day, user_id FROM user_day_metrics WHERE org = 'acme' AND calls > 0 ORDER BY day, user_id LIMIT 1`).Scan(&day, &user); err != nil {
		t.Fatal(err)
	}
	const insert = `INSERT INTO user_day_metrics (org, day, provider, user_id, calls, inbound_calls, outbound_calls, duration_sum,
		after_hours_calls, escalated_calls, resolved_calls, version) SELECT 'acme', toDate('%s'), 'aircall', '%s', %d, 0, 0, 0, 0, 0, 0, toUInt64(%d)`
	for _, row := range []struct {
		day           time.Time
		user          string
		calls, vesion uint64
	}{{day, user, 999, 18000000000000000000}, {day.AddDate(0, 0, 1), "ghost", 5, 1}} {
		if err := st.Conn().Exec(ctx, fmt.Sprintf(insert, row.day.Format(time.DateOnly), row.user, row.calls, row.vesion)); err != nil {
			t.Fatal(err)
		}
	}
	// A key whose seed numbers are right and whose talk time is not
	// (migration 013's sums are compared too).
	var talkDay time.Time
	var talkUser string
	if err := st.Conn().QueryRow(ctx, `SELECT day, user_id FROM user_day_metrics WHERE org = 'acme' AND calls > 0 ORDER BY day DESC, user_id LIMIT 1`).Scan(&talkDay, &talkUser); err != nil {
		t.Fatal(err)
	}
	if err := st.Conn().Exec(ctx, `INSERT INTO user_day_metrics (org, day, provider, user_id, calls, inbound_calls, outbound_calls, duration_sum,
		after_hours_calls, escalated_calls, resolved_calls, answered_calls, missed_calls, voicemail_calls, talk_sum, answer_calls, answer_sum, version)
		SELECT org, day, provider, user_id, argMax(calls, version), argMax(inbound_calls, version), argMax(outbound_calls, version), argMax(duration_sum, version),
			argMax(after_hours_calls, version), argMax(escalated_calls, version), argMax(resolved_calls, version), argMax(answered_calls, version),
			argMax(missed_calls, version), argMax(voicemail_calls, version), argMax(talk_sum, version) + 7, argMax(answer_calls, version), argMax(answer_sum, version),
			toUInt64(18000000000000000000)
		FROM user_day_metrics WHERE org = 'acme' AND day = toDate(?) AND user_id = ? GROUP BY org, day, provider, user_id`, talkDay.Format(time.DateOnly), talkUser); err != nil {
		t.Fatal(err)
	}
	rep, err := agg.Verify(ctx, "acme", aggregate.Range{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Diffs) != 3 || rep.Diffs[0].UserID != user || rep.Diffs[0].Stored.Calls != 999 || rep.Diffs[1].UserID != "ghost" || rep.Diffs[1].Recomputed.Calls != 0 {
		t.Fatalf("verify found %+v, want the 999-call key, the ghost key and the talk-time key", rep.Diffs)
	}
	if d := rep.Diffs[2]; d.UserID != talkUser || d.Stored.TalkSum != d.Recomputed.TalkSum+7 || d.Stored.Calls != d.Recomputed.Calls {
		t.Fatalf("verify found %+v, want the key whose talk_sum is 7 above its calls'", d)
	}
	// A range that leaves the corrupted days out finds nothing.
	if !talkDay.After(day.AddDate(0, 0, 2)) {
		t.Fatalf("the talk-time key (%s) is not after the other two", talkDay)
	}
	if rep, err := agg.Verify(ctx, "acme", aggregate.Range{From: day.AddDate(0, 0, 2), To: talkDay}); err != nil || len(rep.Diffs) != 0 {
		t.Fatalf("verify from %s: %+v, %v", day.AddDate(0, 0, 2).Format(time.DateOnly), rep.Diffs, err)
	}
	if rep, err := agg.Verify(ctx, "globex", aggregate.Range{}); err != nil || len(rep.Diffs) != 0 {
		t.Fatalf("verify of the other org: %+v, %v", rep.Diffs, err)
	}

	// Rebuild while another loader streams edits of the same org.
	stream := newLoader(t, st, skewed(-7*time.Second), 0)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		edits := rand.New(rand.NewPCG(23, 24))
		for i := 0; i < 5; i++ {
			calls := versionsOf("acme", 400, edits)
			for j := range calls {
				calls[j].Version += uint64(100 * (i + 1))
			}
			if err := stream.Write(ctx, aggregatetest.Record(t, calls)); err != nil {
				t.Error(err)
			}
		}
	}()
	for i := 0; i < 2; i++ { // idempotent: the second changes no number
		n, err := agg.Rebuild(ctx, "acme", aggregate.Range{})
		if err != nil || n < 10 {
			t.Fatalf("rebuild %d: %d days, %v", i+1, n, err)
		}
	}
	wg.Wait()
	if err := stream.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := agg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	checkExact(ctx, t, st, "after the rebuilds")
	if rep, err := agg.Verify(ctx, "acme", aggregate.Range{}); err != nil || len(rep.Diffs) != 0 || rep.Dirty != 0 {
		t.Fatalf("verify after the rebuilds: %+v, %v", rep, err)
	}
}

// TestRefreshLogsAtDebug: a pass that recomputes days says so at debug
// level, with the keys and its time.
func TestRefreshLogsAtDebug(t *testing.T) {
	ctx := context.Background()
	st := aggregatetest.MigratedStore(ctx, t)
	ld := newLoader(t, st, time.Now, 0)
	var buf bytes.Buffer
	aggregate.SetLogger(ld.Aggregates(), slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err := ld.Write(ctx, aggregatetest.Record(t, versionsOf("acme", 50, rand.New(rand.NewPCG(1, 2))))); err != nil {
		t.Fatal(err)
	}
	if ld.Aggregates().OldestDirty() != 0 {
		t.Fatal("the age of the oldest dirty day counts before the refresher saw one")
	}
	if err := ld.Aggregates().Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "level=DEBUG") || !strings.Contains(out, "refreshed user_day_metrics") || !strings.Contains(out, "keys=") || !strings.Contains(out, "elapsed=") {
		t.Fatalf("the pass logged %q", out)
	}
}
