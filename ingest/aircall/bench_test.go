package aircall

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/ingest/ingesttest"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// realClockEnv serves org on the wall clock with a fast limit and a small
// bucket, so the initial burst is negligible and the ratio measures pacing.
func realClockEnv(t testing.TB, days, perMinute int) (*testEnv, func(testing.TB) *Client) {
	t.Helper()
	org := fixture.Generate(fixture.Spec{Days: days})
	// The fake's clock runs at wall speed (the bucket leaks in real time)
	// but after the org's last call, so every call is served.
	epoch := time.Now()
	now := func() time.Time { return org.End.Add(24 * time.Hour).Add(time.Since(epoch)) }
	fake := aircalltest.NewFake(org, aircalltest.FakeOptions{APIID: testAPIID, APIToken: testAPIToken, RateLimitPerMinute: perMinute, Burst: 10, Now: now})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	e := &testEnv{org: org, fake: fake, srv: srv}
	return e, func(t testing.TB) *Client {
		c, err := New(org.Name, Config{BaseURL: srv.URL + "/v1", APIID: testAPIID, APIToken: testAPIToken, RateLimitPerMinute: perMinute, HTTPClient: srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

// On the wall clock the pacer keeps a fast limit busy without 429s.
func TestPacingRealClock(t *testing.T) {
	if testing.Short() {
		t.Skip("wall-clock pacing")
	}
	const perMinute = 3000 // one request per 20ms
	e, client := realClockEnv(t, 5, perMinute)
	start := time.Now()
	res, err := client(t).Sync(context.Background(), ingest.SyncRequest{Window: ingest.Window{From: e.org.Start, To: e.org.End}}, &ingesttest.MemSink{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ratio := float64(res.Requests) / time.Since(start).Minutes() / perMinute
	if st := e.fake.Stats(); st.RateLimited != 0 {
		t.Errorf("%d 429s on the wall clock", st.RateLimited)
	}
	// Lenient: a loaded CI box may delay requests; the pacer never runs
	// ahead of the bucket, so a low ratio here means starved CPU, not a bug.
	if ratio < 0.8 {
		t.Errorf("achieved %.2f of the limit", ratio)
	}
	t.Logf("%d requests at %.3f of %d/min", res.Requests, ratio, perMinute)
}

// BenchmarkBackfillRate backfills against the fake at 6000 requests/min on
// the wall clock and reports the achieved share of the limit and the 429s
// after the first.
func BenchmarkBackfillRate(b *testing.B) {
	const perMinute = 6000
	e, client := realClockEnv(b, 10, perMinute)
	w := ingest.Window{From: e.org.Start, To: e.org.End}
	requests := 0
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		res, err := client(b).Sync(context.Background(), ingest.SyncRequest{Window: w}, &ingesttest.MemSink{}, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		requests += res.Requests
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(requests)/elapsed.Minutes()/perMinute, "limit_ratio")
	b.ReportMetric(float64(max(e.fake.Stats().RateLimited-1, 0)), "429s_after_first")
}

// BenchmarkWebhookAck measures acknowledged webhooks per second over real
// HTTP with a sink that acks at once.
func BenchmarkWebhookAck(b *testing.B) {
	ack := funcSink(func(context.Context, []model.RawCall) error { return nil })
	s, err := NewWebhookServer(WebhookConfig{Orgs: StaticOrgs{{Org: "acme", Token: "tok-acme"}}, Sink: ack})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	b.Cleanup(srv.Close)
	body := envelopeJSON("call.ended", "tok-acme", callData)
	tr := srv.Client().Transport.(*http.Transport)
	tr.MaxIdleConnsPerHost = 64
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := srv.Client().Post(srv.URL, "application/json", strings.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "webhooks/s")
}
