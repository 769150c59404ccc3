package ringcentral

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// testOrg generates a small RingCentral org; the fixture leaves the last
// two employees idle when there are more than four.
func testOrg(t testing.TB, employees, unmapped, days int) *fixture.Org {
	t.Helper()
	return fixture.Generate(fixture.Spec{
		Provider: Name, Employees: employees, UnmappedUsers: unmapped, Days: days,
	})
}

// env is a fake RingCentral behind httptest and a client pointed at it.
type env struct {
	fake   *ringcentraltest.Fake
	srv    *httptest.Server
	client *Client
	now    *atomic.Pointer[time.Time] // the fake's data clock
	log    *requestLog
}

// requestLog remembers the call-log requests the fake received.
type requestLog struct {
	mu    sync.Mutex
	reqs  []url.URL
	times []time.Time // arrival of every request ever logged
}

func (l *requestLog) add(u url.URL) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, u)
	l.times = append(l.times, time.Now())
}

// arrivals returns when each call-log request arrived.
func (l *requestLog) arrivals() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.times...)
}

// take returns the requests logged since the last take.
func (l *requestLog) take() []url.URL {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.reqs
	l.reqs = nil
	return r
}

// newEnv serves org with fopts (data clock at org.End unless fopts.Now is
// set) and builds a client from cfg, filling credentials, BaseURL and rate
// limits from the fake so tests state only what they vary.
func newEnv(t testing.TB, org *fixture.Org, fopts ringcentraltest.FakeOptions, cfg Config) *env {
	t.Helper()
	e := &env{now: &atomic.Pointer[time.Time]{}, log: &requestLog{}}
	end := org.End
	e.now.Store(&end)
	if fopts.Now == nil {
		fopts.Now = func() time.Time { return *e.now.Load() }
	}
	e.fake = ringcentraltest.NewFake(org, fopts)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/call-log") {
			e.log.add(*r.URL)
		}
		e.fake.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	fo := e.fake.Options()
	cfg.BaseURL = e.srv.URL
	if cfg.ClientID == "" {
		cfg.ClientID = fo.ClientID
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = fo.ClientSecret
	}
	if cfg.JWT == "" {
		cfg.JWT = fo.JWT
	}
	if cfg.HeavyLimit == 0 {
		cfg.HeavyLimit = fo.HeavyLimit
	}
	if cfg.HeavyWindow == 0 {
		cfg.HeavyWindow = fo.HeavyWindow
	}
	if cfg.AuthLimit == 0 {
		cfg.AuthLimit = fo.AuthLimit
	}
	if cfg.AuthWindow == 0 {
		cfg.AuthWindow = fo.AuthWindow
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	c, err := New(org.Name, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.client = c
	return e
}

// setNow moves the fake's data clock.
func (e *env) setNow(t time.Time) { e.now.Store(&t) }

// request asks for the whole org with every mapped extension.
func (e *env) request(org *fixture.Org, job string) ingest.SyncRequest {
	req := ingest.SyncRequest{Org: org.Name, Window: ingest.Window{From: org.Start, To: org.End}, Job: job}
	for _, emp := range org.Employees {
		req.UserIDs = append(req.UserIDs, emp.ProviderUserID)
	}
	return req
}

// sync runs a Sync that must succeed and returns what it published.
func (e *env) sync(t testing.TB, req ingest.SyncRequest, cp ingest.Checkpoints) *ingesttest.MemSink {
	t.Helper()
	sink := &ingesttest.MemSink{}
	if _, err := e.client.Sync(context.Background(), req, sink, cp, nil); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return sink
}

// wantCalls is the fixture's calls of the given extensions (all when nil),
// deleted ones included because the backfill publishes them too.
func wantCalls(org *fixture.Org, exts map[string]bool) map[string]fixture.Call {
	out := map[string]fixture.Call{}
	for _, c := range org.Calls {
		if exts == nil || exts[c.UserID] {
			out[c.StrID()] = c
		}
	}
	return out
}

func mapped(org *fixture.Org) map[string]bool {
	m := map[string]bool{}
	for _, e := range org.Employees {
		m[e.ProviderUserID] = true
	}
	return m
}

// idSet reports published ids and fails on duplicates: windows are
// half-open, so even calls on window edges are published once.
func idSet(t testing.TB, calls []model.RawCall, allowDup bool) map[string]model.RawCall {
	t.Helper()
	out := map[string]model.RawCall{}
	for _, c := range calls {
		if _, dup := out[c.CallID]; dup && !allowDup {
			t.Fatalf("call %s published twice", c.CallID)
		}
		out[c.CallID] = c
	}
	return out
}

func assertSameIDs(t testing.TB, got map[string]model.RawCall, want map[string]fixture.Call) {
	t.Helper()
	var missing, extra []string
	for id := range want {
		if _, ok := got[id]; !ok {
			missing = append(missing, id)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			extra = append(extra, id)
		}
	}
	if len(missing)+len(extra) > 0 {
		t.Fatalf("published %d calls, want %d: %d missing (e.g. %v), %d extra (e.g. %v)",
			len(got), len(want), len(missing), first(missing), len(extra), first(extra))
	}
}

func first(s []string) []string { return s[:min(len(s), 3)] }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
