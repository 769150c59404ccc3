package aircall

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/ingest/ingesttest"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// A listing whose next page brings nothing new (issue 19: a next_page_link
// pointing back to its own page made sync page for ever) stops the sync
// with an error naming the window, leaves that window unfinished, and
// keeps every call published before.
func TestSyncStopsOnPagingWithoutProgress(t *testing.T) {
	for _, tt := range []struct {
		name string
		fo   aircalltest.FakeOptions
		page string // the page named in the error
		want string
	}{
		{"next_page_link points back to its page", aircalltest.FakeOptions{LoopPage: 3}, "page 3 ", "next_page_link is the same as page 2's"},
		{"later pages repeat a page's calls", aircalltest.FakeOptions{RepeatPage: 3}, "page 4 ", "lists only the 50 calls earlier pages listed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, fixture.Spec{Days: 7, Employees: 20}, tt.fo)
			// The first weekday with 5 pages of calls, and the day after.
			day := e.org.Start
			for len(callsIn(e.org, ingest.Window{From: day, To: day.Add(24 * time.Hour)})) < 5*MaxPerPage {
				if day = day.Add(24 * time.Hour); !day.Before(e.org.End) {
					t.Fatal("no day of the fixture has 5 pages of calls")
				}
			}
			w := ingest.Window{From: day, To: day.Add(48 * time.Hour)}
			first := ingest.Window{From: day, To: day.Add(24 * time.Hour)}
			c := e.client(t, Config{})
			sink := &ingesttest.MemSink{}
			cp := &ingesttest.MemCheckpoints{}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			_, err := c.Sync(ctx, ingest.SyncRequest{Org: e.org.Name, Window: w, Job: "backfill"}, sink, cp, nil)
			if !errors.Is(err, ErrNoProgress) {
				t.Fatalf("Sync = %v, want ErrNoProgress", err)
			}
			for _, s := range []string{first.String(), tt.want, tt.page, "unfinished"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error lacks %q: %v", s, err)
				}
			}
			if cp.Len() != 0 {
				t.Errorf("%d windows checkpointed as done, want none (the first one looped)", cp.Len())
			}
			if st := e.fake.Stats(); st.Requests > 4 {
				t.Errorf("the fake answered %d requests, want at most 4 (stop at the first page without progress)", st.Requests)
			}
			// Nothing already published is lost: pages 1 to 3 are in the sink.
			want := callsIn(e.org, first)
			got := idCounts(sink.Snapshot())
			if len(got) != 3*MaxPerPage {
				t.Errorf("%d distinct calls published, want the %d of pages 1 to 3", len(got), 3*MaxPerPage)
			}
			if _, extra := diffIDs(want, got); len(extra) > 0 {
				t.Errorf("published calls outside the first window: %v", head(extra))
			}
		})
	}
}

// A page over the 32 MiB response limit (issue 19: a 40 MB page failed as
// "unexpected end of JSON input") splits its window like a window over
// the 10k cap; a page that cannot shrink names the limit and the window.
func TestSyncSplitsPagesOverTheResponseLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("moves about 100 MB over loopback")
	}
	org := fixture.Generate(fixture.Spec{Days: 1})
	// A window of 60 to 90 calls: its first page of 50 is about 35 MB.
	from := org.Start
	to := from
	for len(callsIn(org, ingest.Window{From: from, To: to})) < 60 {
		to = to.Add(10 * time.Minute)
	}
	w := ingest.Window{From: from, To: to}
	want := callsIn(org, w)

	t.Run("split until pages fit", func(t *testing.T) {
		e := newEnv(t, fixture.Spec{Days: 1}, aircalltest.FakeOptions{PadCallBytes: 700_000})
		c := e.client(t, Config{})
		sink := &ingesttest.MemSink{}
		cp := &ingesttest.MemCheckpoints{}
		res, err := c.Sync(context.Background(), ingest.SyncRequest{Org: e.org.Name, Window: w, Job: "j"}, sink, cp, nil)
		if err != nil {
			t.Fatalf("Sync: %v", err)
		}
		got := idCounts(sink.Snapshot())
		missing, extra := diffIDs(want, got)
		if len(missing) > 0 || len(extra) > 0 {
			t.Fatalf("%d calls missing (%v), %d extra (%v)", len(missing), head(missing), len(extra), head(extra))
		}
		for id, n := range got {
			if n != 1 {
				t.Errorf("call %s published %d times", id, n)
			}
		}
		if res.Calls != len(want) || cp.Len() != 1 {
			t.Errorf("Calls %d (want %d), %d windows checkpointed (want 1)", res.Calls, len(want), cp.Len())
		}
	})

	t.Run("one call over the limit", func(t *testing.T) {
		e := newEnv(t, fixture.Spec{Days: 1}, aircalltest.FakeOptions{PadCallBytes: MaxResponseBytes + 1})
		start := e.org.Calls[0].StartedAt.Truncate(time.Second)
		one := ingest.Window{From: start, To: start.Add(2 * time.Second)}
		c := e.client(t, Config{})
		cp := &ingesttest.MemCheckpoints{}
		_, err := c.Sync(context.Background(), ingest.SyncRequest{Org: e.org.Name, Window: one, Job: "j"}, &ingesttest.MemSink{}, cp, nil)
		if !errors.Is(err, ErrResponseTooLarge) && (err == nil || !strings.Contains(err.Error(), "32 MiB")) {
			t.Fatalf("Sync = %v, want an error naming the 32 MiB limit", err)
		}
		second := ingest.Window{From: start, To: start.Add(time.Second)}
		for _, s := range []string{"32 MiB", second.String(), "cannot be split further"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error lacks %q: %v", s, err)
			}
		}
		if strings.Contains(err.Error(), "unexpected end of JSON input") {
			t.Errorf("error still reports a cut answer: %v", err)
		}
		if cp.Len() != 0 {
			t.Errorf("%d windows checkpointed, want none", cp.Len())
		}
	})
}
