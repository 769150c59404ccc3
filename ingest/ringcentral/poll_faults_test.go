package ringcentral

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/ingesttest"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// A call-log page over the 32 MiB response limit splits its window until
// the pages fit, publishing every call once; a page that cannot shrink
// fails naming the limit and the window (issue 19: it failed as
// "unexpected end of JSON input").
func TestSyncSplitsPagesOverTheResponseLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("moves about 100 MB over loopback")
	}
	org := testOrg(t, 6, 0, 7)
	// A window of 90 to 120 calls: its first page of 100 is over 32 MiB.
	from := org.Start
	to := from
	for len(callsStarted(org, from, to)) < 90 {
		to = to.Add(10 * time.Minute)
	}
	want := callsStarted(org, from, to)

	t.Run("split until pages fit", func(t *testing.T) {
		fo := fast
		fo.PadRecordBytes = 400_000
		e := newEnv(t, org, fo, Config{Mode: ModeAccount, PerPage: 100})
		sink := &ingesttest.MemSink{}
		cp := &ingesttest.MemCheckpoints{}
		req := ingest.SyncRequest{Org: org.Name, Window: ingest.Window{From: from, To: to}, Job: "j"}
		res, err := e.client.Sync(context.Background(), req, sink, cp, nil)
		if err != nil {
			t.Fatalf("Sync: %v", err)
		}
		assertSameIDs(t, idSet(t, sink.Snapshot(), false), want)
		if res.Calls != len(want) || cp.Len() != 1 {
			t.Errorf("Calls %d (want %d), %d windows checkpointed (want 1)", res.Calls, len(want), cp.Len())
		}
	})

	t.Run("one record over the limit", func(t *testing.T) {
		fo := fast
		fo.PadRecordBytes = MaxResponseBytes + 1
		e := newEnv(t, org, fo, Config{Mode: ModeAccount})
		start := org.Calls[0].StartedAt.Truncate(time.Second)
		cp := &ingesttest.MemCheckpoints{}
		req := ingest.SyncRequest{Org: org.Name, Window: ingest.Window{From: start, To: start.Add(2 * time.Second)}, Job: "j"}
		_, err := e.client.Sync(context.Background(), req, &ingesttest.MemSink{}, cp, nil)
		if !errors.Is(err, ErrResponseTooLarge) {
			t.Fatalf("Sync = %v, want ErrResponseTooLarge", err)
		}
		second := ingest.Window{From: start, To: start.Add(time.Second)}
		for _, s := range []string{"32 MiB", second.String(), "cannot be split further"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error lacks %q: %v", s, err)
			}
		}
		if cp.Len() != 0 {
			t.Errorf("%d windows checkpointed, want none", cp.Len())
		}
	})
}

// A navigation.nextPage pointing at its own page stops the sync at once,
// naming the window, with nothing checkpointed and every call published
// so far kept.
func TestSyncStopsOnNextPageLoop(t *testing.T) {
	org := testOrg(t, 6, 0, 7)
	// The first day with 3 pages of calls, and the day after.
	day := org.Start
	for len(callsStarted(org, day, day.Add(24*time.Hour))) < 60 {
		if day = day.Add(24 * time.Hour); !day.Before(org.End) {
			t.Fatal("no day of the fixture has 3 pages of calls")
		}
	}
	fo := fast
	fo.LoopPage = 2
	e := newEnv(t, org, fo, Config{Mode: ModeAccount, PerPage: 20, WindowSize: 24 * time.Hour})
	sink := &ingesttest.MemSink{}
	cp := &ingesttest.MemCheckpoints{}
	req := ingest.SyncRequest{Org: org.Name, Window: ingest.Window{From: day, To: day.Add(48 * time.Hour)}, Job: "j"}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := e.client.Sync(ctx, req, sink, cp, nil)
	if !errors.Is(err, ErrNoProgress) {
		t.Fatalf("Sync = %v, want ErrNoProgress", err)
	}
	first := ingest.Window{From: day, To: day.Add(24 * time.Hour)}
	for _, s := range []string{first.String(), "page 2", "unfinished"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q: %v", s, err)
		}
	}
	if n := len(e.log.take()); n != 2 {
		t.Errorf("%d call-log requests, want 2", n)
	}
	if cp.Len() != 0 {
		t.Errorf("%d windows checkpointed, want none", cp.Len())
	}
	// Pages 1 and 2 were published (less the records the half-open window
	// leaves out).
	if got := len(idSet(t, sink.Snapshot(), false)); got <= 20 || got > 40 {
		t.Errorf("%d calls published, want those of pages 1 and 2", got)
	}
}

// callsStarted returns the org's calls started in [from, to), by id.
func callsStarted(org *fixture.Org, from, to time.Time) map[string]fixture.Call {
	out := map[string]fixture.Call{}
	for _, c := range org.Calls {
		if !c.StartedAt.Before(from) && c.StartedAt.Before(to) {
			out[c.StrID()] = c
		}
	}
	return out
}
