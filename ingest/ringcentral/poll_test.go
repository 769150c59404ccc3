package ringcentral

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/ingesttest"
	"github.com/phonesignals/phonesignals/ingest/ringcentral/ringcentraltest"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/model/modeltest"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// fast is a fake rate limit no test reaches unless it means to.
var fast = ringcentraltest.FakeOptions{HeavyLimit: 100000, HeavyWindow: time.Second, AuthLimit: 1000, AuthWindow: time.Second}

func TestBackfill(t *testing.T) {
	t.Parallel()
	// 90 days, 6 employees (2 idle) and 2 unmapped extensions.
	org := testOrg(t, 6, 2, 90)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"extension mode, 50 per page", Config{PerPage: 50}},
		{"extension mode, defaults", Config{}},
		{"account mode, 100 per page", Config{Mode: ModeAccount, PerPage: 100}},
		{"account mode, 1-day windows, real account id", Config{Mode: ModeAccount, WindowSize: 24 * time.Hour, AccountID: "400123456"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, org, fast, tt.cfg)
			sink := &ingesttest.MemSink{}
			res, err := e.client.Sync(context.Background(), e.request(org, "backfill"), sink, &ingesttest.MemCheckpoints{}, nil)
			if err != nil {
				t.Fatalf("Sync: %v", err)
			}
			account := tt.cfg.Mode == ModeAccount
			var exts map[string]bool
			if !account {
				exts = mapped(org)
			}
			want := wantCalls(org, exts)
			got := idSet(t, sink.Snapshot(), false)
			assertSameIDs(t, got, want)
			if res.Calls != len(want) {
				t.Errorf("SyncResult.Calls = %d, want %d", res.Calls, len(want))
			}

			perUser := map[string]int{}
			deleted := 0
			for id, raw := range got {
				fc := want[id]
				perUser[fc.UserID]++
				if raw.Org != org.Name || raw.Provider != Name || raw.Source != model.SourcePoll || raw.ObservedAt.IsZero() {
					t.Fatalf("raw call envelope %+v", raw)
				}
				wantHint := fc.UserID
				if account {
					wantHint = "" // the body's extension.id is authoritative
				}
				if raw.UserHint != wantHint {
					t.Fatalf("call %s UserHint = %q, want %q", id, raw.UserHint, wantHint)
				}
				c, err := modeltest.Decode(Decode, raw)
				if err != nil {
					t.Fatalf("Decode(%s): %v", id, err)
				}
				if c.UserID != fc.UserID || c.Deleted != fc.Deleted {
					t.Fatalf("call %s decoded user %q deleted %v, fixture %q %v", id, c.UserID, c.Deleted, fc.UserID, fc.Deleted)
				}
				if c.Deleted {
					deleted++
				}
			}
			if deleted == 0 {
				t.Errorf("no deleted records published; the fixture has some and showDeleted is on")
			}
			for u, n := range perUser {
				if res.PerUser[u] != n {
					t.Errorf("PerUser[%s] = %d, want %d", u, res.PerUser[u], n)
				}
			}
			if account {
				unmappedSeen := 0
				for u := range res.PerUser {
					if !mapped(org)[u] {
						unmappedSeen++
					}
				}
				if unmappedSeen != 2 {
					t.Errorf("account mode saw %d unmapped extensions, want 2 (PerUser %v)", unmappedSeen, res.PerUser)
				}
			}

			reqs := e.log.take()
			pages := 0
			for _, u := range reqs {
				q := u.Query()
				if q.Get("type") != "Voice" || q.Get("view") != "Detailed" || q.Has("direction") || q.Get("showDeleted") != "true" {
					t.Fatalf("call-log query %s: want type=Voice, view=Detailed, showDeleted=true and no direction", u.RawQuery)
				}
				if q.Get("page") != "1" {
					pages++
				}
				if account == strings.Contains(u.Path, "/extension/") {
					t.Fatalf("mode %q requested %s", tt.cfg.Mode, u.Path)
				}
			}
			if res.Requests < len(reqs) {
				t.Errorf("SyncResult.Requests = %d, fewer than the %d call-log requests served", res.Requests, len(reqs))
			}
			if tt.cfg.PerPage != 0 && pages == 0 {
				t.Errorf("no request past page 1; the test means to exercise paging")
			}
		})
	}
}

func TestPenaltyNotExtended(t *testing.T) {
	t.Parallel()
	org := testOrg(t, 2, 1, 28) // 2 mapped extensions x 4 weekly windows
	tests := []struct {
		name         string
		fake         ringcentraltest.FakeOptions
		wantThrottle bool
	}{
		// Headers give the true limit on the first answer: no 429 at all.
		{"paced from headers", ringcentraltest.FakeOptions{}, false},
		// Without headers the client finds out by one 429, then paces.
		{"no rate headers", ringcentraltest.FakeOptions{NoRateHeaders: true}, true},
		{"no rate headers nor Retry-After", ringcentraltest.FakeOptions{NoRateHeaders: true, OmitRetryAfter: true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fo := tt.fake
			fo.HeavyLimit, fo.HeavyWindow, fo.Penalty = 3, time.Second, time.Second
			e := newEnv(t, org, fo, Config{HeavyLimit: 10, DefaultRetryAfter: time.Second})
			var maxWait atomic.Int64
			p := ingest.ProgressFunc(func(s ingest.Status) {
				if int64(s.Waiting) > maxWait.Load() {
					maxWait.Store(int64(s.Waiting))
				}
			})
			sink := &ingesttest.MemSink{}
			if _, err := e.client.Sync(context.Background(), e.request(org, ""), sink, nil, p); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			assertSameIDs(t, idSet(t, sink.Snapshot(), false), wantCalls(org, mapped(org)))
			st := e.fake.Stats()
			if st.PenaltyRestarts != 0 {
				t.Errorf("client sent %d requests during a penalty", st.PenaltyRestarts)
			}
			switch {
			case !tt.wantThrottle && st.TooMany != 0:
				t.Errorf("got %d 429s although the headers announced the limit", st.TooMany)
			case tt.wantThrottle && st.TooMany == 0:
				t.Errorf("no 429: the test meant to provoke one")
			case st.TooMany > 1:
				t.Errorf("got %d 429s; after the first the client should pace at the learned limit", st.TooMany)
			}
			if maxWait.Load() == 0 {
				t.Errorf("progress never reported a rate-limit wait")
			}
		})
	}
}

func TestTokenExpiryMidBackfill(t *testing.T) {
	t.Parallel()
	org := testOrg(t, 3, 1, 42)
	tests := []struct {
		name   string
		fake   ringcentraltest.FakeOptions
		revoke bool // revoke every token after the first publish
	}{
		// expires_in rounds 300ms up to 1s, so the fake's 401s and the
		// client's early renewal both happen.
		{"short TTL", ringcentraltest.FakeOptions{TokenTTL: 300 * time.Millisecond, HeavyLimit: 6, HeavyWindow: 200 * time.Millisecond}, false},
		{"revoked", ringcentraltest.FakeOptions{HeavyLimit: 1000, HeavyWindow: time.Second}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fo := tt.fake
			// Few auth requests per short window: the client must pace them.
			fo.AuthLimit, fo.AuthWindow = 2, 500*time.Millisecond
			e := newEnv(t, org, fo, Config{PerPage: 40})
			sink := &revokingSink{fake: e.fake, revoke: tt.revoke}
			if _, err := e.client.Sync(context.Background(), e.request(org, ""), sink, nil, nil); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			assertSameIDs(t, idSet(t, sink.Snapshot(), false), wantCalls(org, mapped(org)))
			st := e.fake.Stats()
			if st.TokensIssued < 2 || st.Unauthorized == 0 {
				t.Errorf("tokens issued %d, 401s %d: the backfill did not outlive a token", st.TokensIssued, st.Unauthorized)
			}
			if st.TooMany != 0 {
				t.Errorf("%d 429s: auth requests were not paced", st.TooMany)
			}
		})
	}
}

type revokingSink struct {
	ingesttest.MemSink
	fake   *ringcentraltest.Fake
	revoke bool
	once   sync.Once
}

func (s *revokingSink) Publish(ctx context.Context, calls []model.RawCall) error {
	if s.revoke {
		s.once.Do(s.fake.ExpireTokens)
	}
	return s.MemSink.Publish(ctx, calls)
}

// killSink simulates a backfill killed at its n-th publish.
type killSink struct {
	ingesttest.MemSink
	n      int
	cancel context.CancelFunc // nil: fail the publish instead
	calls  atomic.Int64
}

func (s *killSink) Publish(ctx context.Context, calls []model.RawCall) error {
	if int(s.calls.Add(1)) == s.n {
		if s.cancel == nil {
			return errors.New("kafka: broker not available")
		}
		s.cancel()
	}
	return s.MemSink.Publish(ctx, calls)
}

func TestKillAndResume(t *testing.T) {
	t.Parallel()
	org := testOrg(t, 3, 1, 42) // 3 extensions x 6 weekly windows
	tests := []struct {
		name   string
		cancel bool
		killAt int
	}{
		{"publish fails", false, 7},
		{"process killed", true, 7},
		{"killed on first publish", true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, org, fast, Config{PerPage: 60})
			cp := &ingesttest.MemCheckpoints{}
			req := e.request(org, "backfill-2026-q3")

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			first := &killSink{n: tt.killAt}
			if tt.cancel {
				first.cancel = cancel
			}
			if _, err := e.client.Sync(ctx, req, first, cp, nil); err == nil {
				t.Fatal("first Sync succeeded; it should have been killed")
			}
			run1 := windowsFetched(e.log.take())

			second := &ingesttest.MemSink{}
			res, err := e.client.Sync(context.Background(), req, second, cp, nil)
			if err != nil {
				t.Fatalf("resumed Sync: %v", err)
			}
			run2 := windowsFetched(e.log.take())

			union := append(first.Snapshot(), second.Snapshot()...)
			assertSameIDs(t, idSet(t, union, true), wantCalls(org, mapped(org)))
			refetched := 0
			for w := range run2 {
				if run1[w] {
					refetched++
				}
			}
			if refetched > 1 {
				t.Errorf("resume re-fetched %d windows, want at most the one in flight", refetched)
			}
			total := 3 * 6
			if res.Windows+res.SkippedWindows != total || res.Windows != len(run2) {
				t.Errorf("resume: %d windows fetched + %d skipped, want %d in all and %d fetched", res.Windows, res.SkippedWindows, total, len(run2))
			}
			if cp.Len() != total {
				t.Errorf("%d windows checkpointed, want %d", cp.Len(), total)
			}
			// A third run has nothing left to do.
			res3, err := e.client.Sync(context.Background(), req, &ingesttest.MemSink{}, cp, nil)
			if err != nil || res3.Windows != 0 || res3.Requests != 0 {
				t.Errorf("third run fetched %d windows with %d requests (err %v), want none", res3.Windows, res3.Requests, err)
			}
		})
	}
}

// windowsFetched names the (stream, window) units the requests read.
func windowsFetched(reqs []url.URL) map[string]bool {
	out := map[string]bool{}
	for _, u := range reqs {
		// Next-page URIs name the real account id where the first page
		// said "~": key by what follows the account.
		_, stream, _ := strings.Cut(u.Path, "/extension/")
		out[stream+"|"+u.Query().Get("dateFrom")] = true
	}
	return out
}

func TestCredentialAndAccountErrors(t *testing.T) {
	t.Parallel()
	org := testOrg(t, 2, 1, 7)
	tests := []struct {
		name       string
		cfg        Config
		userIDs    []string
		wantStatus int    // for *ingest.AuthError; 0: not an auth error
		wantIn     string // substring of the hint or error
		wantIs     error
	}{
		{name: "bad JWT", cfg: Config{JWT: "expired-jwt"}, wantStatus: 400, wantIn: "JWT was rejected"},
		{name: "bad client secret", cfg: Config{ClientSecret: "wrong"}, wantStatus: 401, wantIn: "client ID or client secret"},
		{name: "bad client id", cfg: Config{ClientID: "wrong"}, wantStatus: 401, wantIn: "client ID or client secret"},
		{name: "wrong account id", cfg: Config{AccountID: "123"}, wantIn: "--account-id", wantIs: ErrAccountNotFound},
		{name: "wrong account id, account mode", cfg: Config{AccountID: "123", Mode: ModeAccount}, wantIn: "--account-id", wantIs: ErrAccountNotFound},
		{name: "unknown extension", userIDs: []string{"999"}, wantIn: "extension id mapping", wantIs: ErrExtensionNotFound},
	}
	hints := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, org, fast, tt.cfg)
			req := e.request(org, "")
			if tt.userIDs != nil {
				req.UserIDs = tt.userIDs
			}
			_, err := e.client.Sync(context.Background(), req, &ingesttest.MemSink{}, nil, nil)
			if err == nil {
				t.Fatal("Sync succeeded")
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("error %q does not mention %q", err, tt.wantIn)
			}
			var ae *ingest.AuthError
			if tt.wantStatus != 0 {
				if !errors.As(err, &ae) {
					t.Fatalf("error %v is not an *ingest.AuthError", err)
				}
				if ae.Status != tt.wantStatus || ae.Org != org.Name || ae.Provider != Name {
					t.Errorf("AuthError %+v, want status %d for org %s", ae, tt.wantStatus, org.Name)
				}
				hints[tt.name] = ae.Hint
				if e.fake.Stats().AuthRequests != 1 {
					t.Errorf("%d token requests, want 1: rejected credentials are not retried", e.fake.Stats().AuthRequests)
				}
				return
			}
			if ingest.IsAuth(err) {
				t.Errorf("error %v is an auth error", err)
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
		})
	}
	if hints["bad JWT"] == hints["bad client secret"] {
		t.Errorf("bad JWT and bad secret share the hint %q", hints["bad JWT"])
	}
}

func TestFollow(t *testing.T) {
	t.Parallel()
	org := testOrg(t, 2, 1, 14)
	tests := []struct {
		name string
		fake ringcentraltest.FakeOptions
		cfg  Config
		// from is where Follow starts, relative to org.End.
		from time.Duration
		// breakToken makes the next ISync fail for its token.
		breakToken func(e *env, ext string)
	}{
		{
			name: "token rejected", from: -3 * 24 * time.Hour,
			breakToken: func(e *env, _ string) { e.fake.RejectSyncTokens() },
		},
		{
			name: "too many changes", fake: ringcentraltest.FakeOptions{SyncMaxChanges: 2}, from: -3 * 24 * time.Hour,
			breakToken: func(e *env, ext string) {
				for i := range 3 {
					e.fake.AddCall(newCall(*e.now.Load(), int64(9_100_000_000+i), ext))
				}
			},
		},
		{
			name: "account mode", cfg: Config{Mode: ModeAccount}, from: -3 * 24 * time.Hour,
			breakToken: func(e *env, _ string) { e.fake.RejectSyncTokens() },
		},
		{
			// A small recordCount makes FSync return a truncated set;
			// the older calls come from the call log.
			name: "FSync truncated", cfg: Config{SyncRecordCount: 20}, from: -14 * 24 * time.Hour,
			fake:       ringcentraltest.FakeOptions{SyncTokenTTL: time.Hour},
			breakToken: func(e *env, _ string) { e.setNow(e.now.Load().Add(2 * time.Hour)) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fo := tt.fake
			fo.HeavyLimit, fo.HeavyWindow, fo.AuthLimit, fo.AuthWindow = fast.HeavyLimit, fast.HeavyWindow, fast.AuthLimit, fast.AuthWindow
			e := newEnv(t, org, fo, tt.cfg)
			req := e.request(org, "")
			req.Window = ingest.Window{From: org.End.Add(tt.from)}
			ext := req.UserIDs[0]
			account := tt.cfg.Mode == ModeAccount
			hint := ext
			if account {
				hint = "" // account records name their extension
			}
			sink := &ingesttest.MemSink{}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- e.client.Follow(ctx, req, sink, 20*time.Millisecond) }()
			t.Cleanup(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Follow returned %v after ctx ended, want nil", err)
				}
			})
			has := func(pred func(model.RawCall) bool) func() bool {
				return func() bool {
					for _, c := range sink.Snapshot() {
						if pred(c) {
							return true
						}
					}
					return false
				}
			}
			hasID := func(id string) func() bool {
				return has(func(c model.RawCall) bool { return c.CallID == id })
			}

			// The first full sync brings every live call since From.
			want := map[string]bool{}
			for _, c := range org.Calls {
				if (account || mapped(org)[c.UserID]) && !c.Deleted && !c.StartedAt.Before(req.Window.From) {
					want[c.StrID()] = true
				}
			}
			waitFor(t, "the full sync", func() bool {
				got := idSet(t, sink.Snapshot(), true)
				for id := range want {
					if _, ok := got[id]; !ok {
						return false
					}
				}
				return true
			})
			gapFilled := false
			for _, u := range e.log.take() {
				gapFilled = gapFilled || strings.HasSuffix(u.Path, "/call-log")
			}
			if truncated := tt.cfg.SyncRecordCount != 0; gapFilled != truncated {
				t.Errorf("read the call log after FSync: %v, want %v (FSync truncated: %v)", gapFilled, truncated, truncated)
			}

			// ISync: a new call, and an old call deleted since.
			now := *e.now.Load()
			added := newCall(now.Add(time.Minute), 9_000_000_001, ext)
			e.fake.AddCall(added)
			var victim fixture.Call
			for _, c := range org.Calls {
				if c.UserID == ext && !c.Deleted && !c.StartedAt.Before(req.Window.From) {
					victim = c
				}
			}
			e.fake.UpdateCall(victim.StrID(), func(c *fixture.Call) { c.Deleted = true })
			e.setNow(now.Add(10 * time.Minute))
			waitFor(t, "the new call", hasID(added.StrID()))
			waitFor(t, "the deletion", has(func(c model.RawCall) bool {
				d, err := modeltest.Decode(Decode, c)
				return err == nil && c.CallID == victim.StrID() && d.Deleted && c.UserHint == hint && d.UserID == ext
			}))
			if n := e.fake.Stats().SyncTokensRejected; n != 0 {
				t.Fatalf("%d sync tokens rejected before the test broke one", n)
			}

			// A rejected token falls back to FSync, and Follow goes on.
			tt.breakToken(e, ext)
			later := newCall(e.now.Load().Add(time.Minute), 9_000_000_002, ext)
			e.fake.AddCall(later)
			e.setNow(e.now.Load().Add(10 * time.Minute))
			waitFor(t, "the call after the token broke", hasID(later.StrID()))
			waitFor(t, "a rejected sync token", func() bool { return e.fake.Stats().SyncTokensRejected > 0 })
		})
	}
}

func newCall(at time.Time, id int64, ext string) fixture.Call {
	ans := at.Add(5 * time.Second)
	return fixture.Call{
		ID: id, UserID: ext, Direction: "inbound", StartedAt: at, AnsweredAt: &ans,
		EndedAt: at.Add(65 * time.Second), Duration: 65, Outcome: "answered", Digits: "+14155550199",
	}
}

func TestFollowStopsOnAuthError(t *testing.T) {
	t.Parallel()
	org := testOrg(t, 2, 1, 7)
	e := newEnv(t, org, fast, Config{JWT: "revoked"})
	req := e.request(org, "")
	err := e.client.Follow(context.Background(), req, &ingesttest.MemSink{}, time.Millisecond)
	if !ingest.IsAuth(err) {
		t.Fatalf("Follow = %v, want an auth error", err)
	}
}

func TestSyncRequestChecks(t *testing.T) {
	t.Parallel()
	org := testOrg(t, 2, 1, 7)
	e := newEnv(t, org, fast, Config{})
	tests := []struct {
		name   string
		mutate func(*ingest.SyncRequest)
		want   string
	}{
		{"other org", func(r *ingest.SyncRequest) { r.Org = "globex" }, `asked to sync org "globex"`},
		{"inverted window", func(r *ingest.SyncRequest) { r.Window.From, r.Window.To = r.Window.To, r.Window.From }, "empty or inverted"},
		{"bad extension id", func(r *ingest.SyncRequest) { r.UserIDs = []string{"12/../34"} }, "not an extension id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := e.request(org, "")
			tt.mutate(&req)
			_, err := e.client.Sync(context.Background(), req, &ingesttest.MemSink{}, nil, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Sync = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	t.Run("no mapped extensions", func(t *testing.T) {
		req := e.request(org, "")
		req.UserIDs = nil
		res, err := e.client.Sync(context.Background(), req, &ingesttest.MemSink{}, nil, nil)
		if err != nil || res.Calls != 0 || res.Requests != 0 {
			t.Fatalf("Sync = %+v, %v; want nothing fetched and no error", res, err)
		}
	})
}

// BenchmarkBackfillHeavyRate measures how close a backfill runs to the
// Heavy limit: limit_ratio is requests achieved per window over the limit
// (1 is ideal; above 1 would mean 429s), and penalties counts 429s after
// the first (0 is the goal: the client starts at the default limit of 10
// and must adopt the fake's 5 from the headers).
func BenchmarkBackfillHeavyRate(b *testing.B) {
	org := testOrg(b, 4, 1, 56)
	const limit, window = 5, 200 * time.Millisecond
	var ratio, penalties float64
	for b.Loop() {
		// A fresh fake each time: its rate window must start empty.
		e := newEnv(b, org, ringcentraltest.FakeOptions{HeavyLimit: limit, HeavyWindow: window, Penalty: time.Second, AuthLimit: 100, AuthWindow: time.Second},
			Config{HeavyLimit: 10, HeavyWindow: window, PerPage: 100})
		if _, err := e.client.Sync(context.Background(), e.request(org, ""), &ingesttest.MemSink{}, nil, nil); err != nil {
			b.Fatalf("Sync: %v", err)
		}
		st := e.fake.Stats()
		times := e.log.arrivals()
		n := len(times)
		span := times[n-1].Sub(times[0])
		// Use of the limit over whole windows from the first request: the
		// requests that arrived in the first k windows, against k*limit.
		// (Counting the last request's partial window would charge a whole
		// window for one request.)
		k := int(span / window)
		if k == 0 {
			b.Fatalf("the backfill took %s, less than one %s window: nothing to measure", span, window)
		}
		inWindows := 0
		for _, at := range times {
			if at.Before(times[0].Add(time.Duration(k) * window)) {
				inWindows++
			}
		}
		ratio += float64(inWindows) / float64(k*limit)
		penalties += float64(max(st.TooMany-1, 0))
		e.srv.Close()
	}
	b.ReportMetric(ratio/float64(b.N), "limit_ratio")
	b.ReportMetric(penalties/float64(b.N), "penalties")
}
