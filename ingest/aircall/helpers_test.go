package aircall

import (
	"context"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

const (
	testAPIID    = "api-id-123"
	testAPIToken = "api-token-456"
)

// vclock is a virtual clock shared by the fake and the client: the client
// sleeps by advancing it, so minutes of rate-limit pacing take no time.
type vclock struct {
	mu    sync.Mutex
	t     time.Time
	slept time.Duration
	// onSleep, if set, runs after each sleep (tests use it to heal faults).
	onSleep func(d time.Duration)
}

func newVClock(t time.Time) *vclock { return &vclock{t: t} }

func (c *vclock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *vclock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *vclock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if d > 0 {
		c.t = c.t.Add(d)
		c.slept += d
	}
	hook := c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook(d)
	}
	return ctx.Err()
}

// testEnv is a fixture org served by a fake over real HTTP.
type testEnv struct {
	org   *fixture.Org
	fake  *aircalltest.Fake
	srv   *httptest.Server
	clock *vclock
}

// newEnv generates spec's org and serves it; the virtual clock starts a
// week after the org's last day unless fo.Now is set, and fo gets the test
// credentials unless it has some.
func newEnv(t testing.TB, spec fixture.Spec, fo aircalltest.FakeOptions) *testEnv {
	t.Helper()
	org := fixture.Generate(spec)
	clock := newVClock(org.End.Add(7 * 24 * time.Hour))
	if fo.Now == nil {
		fo.Now = clock.Now
	}
	if fo.APIID == "" {
		fo.APIID, fo.APIToken = testAPIID, testAPIToken
	}
	fake := aircalltest.NewFake(org, fo)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return &testEnv{org: org, fake: fake, srv: srv, clock: clock}
}

// client returns a client of the env's org on the virtual clock; cfg's
// zero fields are filled for the fake.
func (e *testEnv) client(t testing.TB, cfg Config) *Client {
	t.Helper()
	if cfg.BaseURL == "" {
		cfg.BaseURL = e.srv.URL + "/v1"
	}
	if cfg.APIID == "" {
		cfg.APIID, cfg.APIToken = testAPIID, testAPIToken
	}
	if cfg.Now == nil {
		cfg.Now = e.clock.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = e.clock.Sleep
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = e.srv.Client()
	}
	c, err := New(e.org.Name, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// callsIn returns the ids of the org's calls started in w.
func callsIn(org *fixture.Org, w ingest.Window) map[string]fixture.Call {
	out := map[string]fixture.Call{}
	for _, c := range org.Calls {
		if !c.StartedAt.Before(w.From) && c.StartedAt.Before(w.To) {
			out[decimal(c.ID)] = c
		}
	}
	return out
}

func decimal(id int64) string { return strconv.FormatInt(id, 10) }

// idCounts counts published records per call id.
func idCounts(calls []model.RawCall) map[string]int {
	out := map[string]int{}
	for _, c := range calls {
		out[c.CallID]++
	}
	return out
}

// diffIDs reports ids in want missing from got and ids in got not in want.
func diffIDs[V any, W any](want map[string]V, got map[string]W) (missing, extra []string) {
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
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}

// seedStatus is the seed's status of a finished fixture call.
func seedStatus(c fixture.Call) string {
	switch c.Outcome {
	case "voicemail":
		return "voicemail"
	case "missed":
		return "missed"
	}
	return "done"
}

// funcSink adapts a function to ingest.Sink.
type funcSink func(ctx context.Context, calls []model.RawCall) error

func (f funcSink) Publish(ctx context.Context, calls []model.RawCall) error { return f(ctx, calls) }

// MemDeliveryLog is an in-memory DeliveryLog for tests.
type MemDeliveryLog struct {
	mu sync.Mutex
	d  []Delivery
}

// RecordDelivery implements DeliveryLog.
func (m *MemDeliveryLog) RecordDelivery(_ context.Context, d Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.d = append(m.d, d)
	return nil
}

// Deliveries returns a copy of the deliveries recorded so far.
func (m *MemDeliveryLog) Deliveries() []Delivery {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Delivery(nil), m.d...)
}
