package aircall

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/ingest/ingesttest"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/model/modeltest"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// A backfill of more than 25,000 calls in windows far above the 10k cap
// must split them and publish every call exactly once, at the full rate
// limit and without 429s.
func TestBackfillSplitsWindowsOverCap(t *testing.T) {
	e := newEnv(t, fixture.Spec{Days: 46}, aircalltest.FakeOptions{})
	w := ingest.Window{From: e.org.Start, To: e.org.End}
	want := callsIn(e.org, w)
	if len(want) < 25000 {
		t.Fatalf("fixture has %d calls, want at least 25000", len(want))
	}
	c := e.client(t, Config{WindowSize: 128 * 24 * time.Hour})
	if n := len(baseWindows(w, 128*24*time.Hour)); n > 2 {
		t.Fatalf("%d base windows; the test needs windows over the cap", n)
	}
	sink := &ingesttest.MemSink{}
	start := e.clock.Now()
	var last ingest.Status
	var maxWait time.Duration
	progress := ingest.ProgressFunc(func(s ingest.Status) {
		last = s
		maxWait = max(maxWait, s.Waiting)
	})
	res, err := c.Sync(context.Background(), ingest.SyncRequest{Org: e.org.Name, Window: w}, sink, nil, progress)
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	got := idCounts(sink.Snapshot())
	missing, extra := diffIDs(want, got)
	if len(missing) > 0 || len(extra) > 0 {
		t.Fatalf("published set differs: %d missing (e.g. %v), %d extra (e.g. %v)", len(missing), head(missing), len(extra), head(extra))
	}
	for id, n := range got {
		if n != 1 {
			t.Fatalf("call %s published %d times", id, n)
		}
	}
	if res.Calls != len(want) {
		t.Errorf("SyncResult.Calls = %d, want %d", res.Calls, len(want))
	}
	st := e.fake.Stats()
	if st.CapErrors != 0 || st.RateLimited != 0 {
		t.Errorf("fake answered %d cap errors and %d 429s, want none", st.CapErrors, st.RateLimited)
	}
	if res.Requests != st.Requests {
		t.Errorf("SyncResult.Requests = %d, fake saw %d", res.Requests, st.Requests)
	}
	// Pacing: the virtual minutes spent must match the 60/min limit.
	elapsed := e.clock.Now().Sub(start)
	ratio := float64(res.Requests) / elapsed.Minutes() / 60
	if ratio < 0.95 {
		t.Errorf("achieved %.3f of the rate limit (%d requests in %s), want >= 0.95", ratio, res.Requests, elapsed)
	}
	t.Logf("%d calls, %d requests, %s virtual, %.3f of the limit", res.Calls, res.Requests, elapsed, ratio)

	if maxWait <= 0 || last.Waiting != 0 || last.Requests != res.Requests || last.Calls != res.Calls || last.WindowsDone != last.WindowsTotal {
		t.Errorf("progress: max wait %s, last %+v", maxWait, last)
	}

	// PerUser shows calls without a user under "".
	noUser, sum := 0, 0
	for _, fc := range want {
		if fc.UserID == "" {
			noUser++
		}
	}
	for _, n := range res.PerUser {
		sum += n
	}
	if sum != res.Calls || res.PerUser[""] != noUser || noUser == 0 {
		t.Errorf("PerUser sums to %d with %d under \"\", want %d and %d", sum, res.PerUser[""], res.Calls, noUser)
	}
}

func head(s []string) []string { return s[:min(len(s), 5)] }

// Daily windows: calls exactly on midnight and the last second of a day
// land in exactly one window, and every record carries the routing facts.
func TestBackfillDailyWindowsExactlyOnce(t *testing.T) {
	e := newEnv(t, fixture.Spec{Days: 8}, aircalltest.FakeOptions{RateLimitPerMinute: 120})
	w := ingest.Window{From: e.org.Start, To: e.org.End}
	c := e.client(t, Config{})
	sink := &ingesttest.MemSink{}
	var last ingest.Status
	res, err := c.Sync(context.Background(), ingest.SyncRequest{Org: e.org.Name, Window: w}, sink, nil, ingest.ProgressFunc(func(s ingest.Status) { last = s }))
	if err != nil {
		t.Fatal(err)
	}
	want := callsIn(e.org, w)
	got := idCounts(sink.Snapshot())
	if missing, extra := diffIDs(want, got); len(missing)+len(extra) > 0 {
		t.Fatalf("%d missing, %d extra", len(missing), len(extra))
	}
	for id, n := range got {
		if n != 1 {
			t.Fatalf("call %s published %d times", id, n)
		}
	}
	if res.Windows != 8 || last.WindowsDone != 8 || last.WindowsTotal != 8 || last.Calls != res.Calls {
		t.Errorf("windows %d, progress %+v", res.Windows, last)
	}
	for _, rc := range sink.Snapshot() {
		if rc.Org != e.org.Name || rc.Provider != Name || rc.Source != model.SourcePoll || rc.ObservedAt.IsZero() {
			t.Fatalf("bad routing fields: %+v", rc)
		}
		d, err := modeltest.Decode(Decode, rc)
		if err != nil {
			t.Fatalf("published body does not decode: %v", err)
		}
		if d.CallID != rc.CallID || !d.StartedAt.Equal(want[rc.CallID].StartedAt) {
			t.Fatalf("body of %s decodes to %s started %s", rc.CallID, d.CallID, d.StartedAt)
		}
	}
}

// If paging runs into the cap anyway (the client believes in a larger cap
// than the API enforces), the 400 splits the window and no call is lost.
func TestBackfillCapErrorSplitsWithoutLoss(t *testing.T) {
	e := newEnv(t, fixture.Spec{Days: 6}, aircalltest.FakeOptions{MaxResults: 1000, RateLimitPerMinute: 6000})
	w := ingest.Window{From: e.org.Start, To: e.org.End}
	c := e.client(t, Config{MaxResults: 5000, WindowSize: 7 * 24 * time.Hour})
	sink := &ingesttest.MemSink{}
	if _, err := c.Sync(context.Background(), ingest.SyncRequest{Window: w}, sink, nil, nil); err != nil {
		t.Fatal(err)
	}
	if e.fake.Stats().CapErrors == 0 {
		t.Fatal("the fake never answered the cap error; the test does not exercise it")
	}
	want := callsIn(e.org, w)
	got := idCounts(sink.Snapshot())
	if missing, extra := diffIDs(want, got); len(missing)+len(extra) > 0 {
		t.Fatalf("%d missing, %d extra", len(missing), len(extra))
	}
	for id, n := range got {
		if n != 1 {
			t.Fatalf("call %s published %d times after the split", id, n)
		}
	}
}

// Faults the client must ride out: 429 storms before and during the
// backfill, 5xx answers, and the API going away for a while.
func TestBackfillSurvivesFaults(t *testing.T) {
	tests := []struct {
		name   string
		inject func(e *testEnv)
		// during runs after the first publish.
		during func(e *testEnv)
	}{
		{name: "429 storm first", inject: func(e *testEnv) { e.fake.Storm(6) }},
		{name: "429 storm midway", during: func(e *testEnv) { e.fake.Storm(7) }},
		{name: "5xx", during: func(e *testEnv) { e.fake.FailNext(4) }},
		{name: "kill switch", during: func(e *testEnv) {
			e.fake.SetDown(true)
			e.clock.onSleep = func(time.Duration) { e.fake.SetDown(false) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, fixture.Spec{Days: 3}, aircalltest.FakeOptions{})
			w := ingest.Window{From: e.org.Start, To: e.org.End}
			c := e.client(t, Config{})
			if tt.inject != nil {
				tt.inject(e)
			}
			mem := &ingesttest.MemSink{}
			var once sync.Once
			sink := funcSink(func(ctx context.Context, calls []model.RawCall) error {
				if tt.during != nil {
					once.Do(func() { tt.during(e) })
				}
				return mem.Publish(ctx, calls)
			})
			if _, err := c.Sync(context.Background(), ingest.SyncRequest{Window: w}, sink, nil, nil); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			if missing, extra := diffIDs(callsIn(e.org, w), idCounts(mem.Snapshot())); len(missing)+len(extra) > 0 {
				t.Fatalf("%d missing, %d extra", len(missing), len(extra))
			}
			st := e.fake.Stats()
			storm := map[string]int{"429 storm first": 6, "429 storm midway": 7}[tt.name]
			if st.RateLimited != storm {
				t.Errorf("fake answered %d 429s, want only the %d of the storm", st.RateLimited, storm)
			}
		})
	}
}

func TestBackfillGivesUpAfterMaxRetries(t *testing.T) {
	e := newEnv(t, fixture.Spec{Days: 2}, aircalltest.FakeOptions{})
	c := e.client(t, Config{MaxRetries: 3})
	e.fake.Storm(100)
	_, err := c.Sync(context.Background(), ingest.SyncRequest{Window: ingest.Window{From: e.org.Start, To: e.org.End}}, &ingesttest.MemSink{}, nil, nil)
	if err == nil {
		t.Fatal("Sync succeeded through a 100-request storm with 3 retries")
	}
	for _, s := range []string{"fetching aircall calls page 1", "giving up after 4 attempts", "HTTP 429"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
	if got := e.fake.Stats().Requests; got != 4 {
		t.Errorf("fake saw %d requests, want 4", got)
	}
}

func TestBadCredentialsGiveAuthError(t *testing.T) {
	e := newEnv(t, fixture.Spec{Days: 1}, aircalltest.FakeOptions{})
	c := e.client(t, Config{APIID: testAPIID, APIToken: "the-api-key-from-the-ui"})
	_, err := c.Sync(context.Background(), ingest.SyncRequest{Window: ingest.Window{From: e.org.Start, To: e.org.End}}, &ingesttest.MemSink{}, nil, nil)
	var ae *ingest.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an *ingest.AuthError", err)
	}
	if ae.Org != e.org.Name || ae.Provider != "aircall" || ae.Status != 401 || ae.Hint != AuthHint {
		t.Errorf("AuthError = %+v", ae)
	}
	if !strings.Contains(ae.Hint, "phonesignals org connect") || !strings.Contains(ae.Hint, "not the API key") {
		t.Errorf("hint %q does not guide the operator", ae.Hint)
	}
	if got := e.fake.Stats().Requests; got != 1 {
		t.Errorf("a 401 was retried: %d requests", got)
	}
}

// Killing a backfill and rerunning it with the same checkpoints and job
// loads every call and re-fetches at most one window.
func TestBackfillKillAndResume(t *testing.T) {
	tests := []struct {
		name string
		// kill stops the first run after the publish number n.
		kill func(cancel context.CancelFunc, sink *ingesttest.MemSink)
	}{
		{"context cancelled", func(cancel context.CancelFunc, _ *ingesttest.MemSink) { cancel() }},
		{"sink fails", func(_ context.CancelFunc, sink *ingesttest.MemSink) {
			sink.Fail = errors.New("kafka: broker unavailable")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, fixture.Spec{Days: 10}, aircalltest.FakeOptions{RateLimitPerMinute: 600})
			w := ingest.Window{From: e.org.Start, To: e.org.End}
			cp := &ingesttest.MemCheckpoints{}
			req := ingest.SyncRequest{Org: e.org.Name, Window: w, Job: "backfill-acme"}
			perWindow := map[int64]int{}
			for _, c := range e.org.Calls {
				perWindow[c.StartedAt.Unix()/86400]++
			}
			maxWindow := 0
			for _, n := range perWindow {
				maxWindow = max(maxWindow, n)
			}

			// Run 1: killed in the middle of the fifth day's window.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			first := &ingesttest.MemSink{}
			publishes := 0
			killAt := 4*17 + 7 // about 17 pages a weekday: in the middle of the fifth window
			sink1 := funcSink(func(ctx context.Context, calls []model.RawCall) error {
				if err := first.Publish(ctx, calls); err != nil {
					return err
				}
				publishes++
				if publishes == killAt {
					tt.kill(cancel, first)
				}
				return nil
			})
			c1 := e.client(t, Config{})
			_, err := c1.Sync(ctx, req, sink1, cp, nil)
			if err == nil {
				t.Fatal("first run was not interrupted")
			}
			done := cp.Len()
			if done == 0 || done >= 10 {
				t.Fatalf("%d windows done after the kill; the test wants a mid-run kill", done)
			}

			// Run 2: a new process (new client), same checkpoints and job.
			second := &ingesttest.MemSink{}
			c2 := e.client(t, Config{})
			res, err := c2.Sync(context.Background(), req, second, cp, nil)
			if err != nil {
				t.Fatalf("resumed run: %v", err)
			}
			if res.SkippedWindows != done {
				t.Errorf("resumed run skipped %d windows, want %d", res.SkippedWindows, done)
			}
			ids1, ids2 := idCounts(first.Snapshot()), idCounts(second.Snapshot())
			union := map[string]int{}
			refetched := 0
			for id := range ids1 {
				union[id]++
			}
			for id := range ids2 {
				union[id]++
				if ids1[id] > 0 {
					refetched++
				}
			}
			if missing, extra := diffIDs(callsIn(e.org, w), union); len(missing)+len(extra) > 0 {
				t.Fatalf("union of runs: %d missing, %d extra", len(missing), len(extra))
			}
			if refetched > maxWindow {
				t.Errorf("resume re-fetched %d calls, more than one window (%d)", refetched, maxWindow)
			}
			t.Logf("run 1: %d calls, %d windows done; run 2: %d calls, %d re-fetched (window max %d)", len(ids1), done, len(ids2), refetched, maxWindow)
		})
	}
}

// Per-user mode lists only the mapped users' calls; calls without a user
// are not listed there, which is why org mode is the default.
func TestPerUserMode(t *testing.T) {
	e := newEnv(t, fixture.Spec{Days: 3}, aircalltest.FakeOptions{RateLimitPerMinute: 600})
	w := ingest.Window{From: e.org.Start, To: e.org.End}
	var users []string
	mapped := map[string]bool{}
	for _, emp := range e.org.Employees[:5] {
		users = append(users, emp.ProviderUserID)
		mapped[emp.ProviderUserID] = true
	}
	want := map[string]fixture.Call{}
	for id, c := range callsIn(e.org, w) {
		if mapped[c.UserID] {
			want[id] = c
		}
	}
	c := e.client(t, Config{Mode: ModePerUser})
	sink := &ingesttest.MemSink{}
	res, err := c.Sync(context.Background(), ingest.SyncRequest{Window: w, UserIDs: users}, sink, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if missing, extra := diffIDs(want, idCounts(sink.Snapshot())); len(missing)+len(extra) > 0 {
		t.Fatalf("%d missing, %d extra", len(missing), len(extra))
	}
	for u, n := range res.PerUser {
		if !mapped[u] || n == 0 {
			t.Errorf("PerUser[%q] = %d", u, n)
		}
	}
	if _, err := c.Sync(context.Background(), ingest.SyncRequest{Window: w}, sink, nil, nil); err == nil || !strings.Contains(err.Error(), "UserIDs") {
		t.Errorf("per-user sync without users: %v", err)
	}
}

// Follow re-reads the overlap each round, so notes and tags added after a
// call ended end up in the highest-version record of the call.
func TestFollowPicksUpLateEdits(t *testing.T) {
	e := newEnv(t, fixture.Spec{Days: 4}, aircalltest.FakeOptions{RateLimitPerMinute: 120})
	t0 := e.org.Start.Add(2*24*time.Hour + 9*time.Hour)
	end := t0.Add(10 * time.Hour)
	e.clock.Set(t0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := e.client(t, Config{Sleep: func(ctx context.Context, d time.Duration) error {
		err := e.clock.Sleep(ctx, d)
		if e.clock.Now().After(end) {
			cancel()
		}
		return err
	}})
	sink := &ingesttest.MemSink{}
	from := t0.Add(-3 * time.Hour)
	if err := c.Follow(ctx, ingest.SyncRequest{Window: ingest.Window{From: from}}, sink, 15*time.Minute); err != nil {
		t.Fatalf("Follow: %v", err)
	}
	latest := map[string]modeltest.Call{}
	for _, rc := range sink.Snapshot() {
		d, err := modeltest.Decode(Decode, rc)
		if err != nil {
			t.Fatal(err)
		}
		if d.Version > latest[d.CallID].Version {
			latest[d.CallID] = d
		}
	}
	checked, late := 0, 0
	// Calls whose final state was reached well before the end.
	for id, fc := range callsIn(e.org, ingest.Window{From: from, To: end.Add(-4 * time.Hour)}) {
		got, ok := latest[id]
		if !ok {
			t.Fatalf("call %s never published", id)
		}
		notes, tags := fc.Notes, fc.Tags
		if got.Status != seedStatus(fc) || !equalStrings(got.Notes, notes) || !equalStrings(got.Tags, tags) || got.UserID != fc.UserID {
			t.Fatalf("call %s: latest record %s notes %q tags %q user %q; want %s %q %q %q", id, got.Status, got.Notes, got.Tags, got.UserID, seedStatus(fc), notes, tags, fc.UserID)
		}
		checked++
		if !fc.LateAt.IsZero() && fc.LateAt.After(t0) {
			late++
		}
	}
	if checked == 0 || late == 0 {
		t.Fatalf("checked %d calls, %d edited late during the follow; the test proves nothing", checked, late)
	}
	t.Logf("checked %d calls, %d of them edited after they ended", checked, late)
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A client configured for 120/min against a company limited to 60 adapts
// from the headers without a single 429.
func TestPacerAdoptsHeaderLimit(t *testing.T) {
	e := newEnv(t, fixture.Spec{Days: 3}, aircalltest.FakeOptions{RateLimitPerMinute: 60})
	c := e.client(t, Config{RateLimitPerMinute: 120})
	if _, err := c.Sync(context.Background(), ingest.SyncRequest{Window: ingest.Window{From: e.org.Start, To: e.org.End}}, &ingesttest.MemSink{}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if st := e.fake.Stats(); st.RateLimited != 0 {
		t.Errorf("%d 429s, want none", st.RateLimited)
	}
}

func TestBaseWindowsAlignToGrid(t *testing.T) {
	day := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		w    ingest.Window
		want int
	}{
		{"whole days", ingest.Window{From: day, To: day.AddDate(0, 0, 3)}, 3},
		{"partial ends", ingest.Window{From: day.Add(5 * time.Hour), To: day.AddDate(0, 0, 2).Add(time.Hour)}, 3},
		{"inside a day", ingest.Window{From: day.Add(time.Hour), To: day.Add(2 * time.Hour)}, 1},
		{"sub-second edges", ingest.Window{From: day.Add(time.Hour + time.Millisecond), To: day.Add(2*time.Hour + time.Millisecond)}, 1},
	}
	for _, tt := range tests {
		got := baseWindows(tt.w, 24*time.Hour)
		if len(got) != tt.want {
			t.Errorf("%s: %d windows %v, want %d", tt.name, len(got), got, tt.want)
		}
		for i := 1; i < len(got); i++ {
			if got[i][0] != got[i-1][1] || got[i][0]%86400 != 0 {
				t.Errorf("%s: windows not contiguous on UTC midnights: %v", tt.name, got)
			}
		}
	}
}

func TestSyncRejectsBadRequests(t *testing.T) {
	e := newEnv(t, fixture.Spec{Days: 1}, aircalltest.FakeOptions{})
	c := e.client(t, Config{})
	w := ingest.Window{From: e.org.Start, To: e.org.End}
	tests := []struct {
		name string
		req  ingest.SyncRequest
		want string
	}{
		{"other org", ingest.SyncRequest{Org: "globex", Window: w}, "credentials of org"},
		{"empty window", ingest.SyncRequest{Window: ingest.Window{From: w.To, To: w.From}}, "empty"},
	}
	for _, tt := range tests {
		_, err := c.Sync(context.Background(), tt.req, &ingesttest.MemSink{}, nil, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}
