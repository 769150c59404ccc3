package freshness

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
)

// TestFreshness: a short steady stream (20 webhooks/s for 8 s, and 10
// calls/s at each of an Aircall and a RingCentral fake, polled by serve's
// sync role) through serve reaches raw_signals,
// the review and the Grafana plugin within the transform's bound (MaxWait 1 s
// plus a load, with room for a busy machine), while it lasts.
func TestFreshness(t *testing.T) {
	if testing.Short() || os.Getenv(chserver.EnvSkip) == "1" {
		t.Skip("needs clickhouse-server 18.16; make bench-freshness runs the full stream")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run(ctx, Config{Rate: 20, Duration: 8 * time.Second, Dir: t.TempDir(), Out: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	// Generous for a shared 2-core machine; the stream used to wait for
	// its own end (p99 = its length).
	const bound = 4 * time.Second
	if res.ToRow.P99 > bound || res.ToReview.P99 > bound || res.ToGrafana.P99 > bound {
		t.Errorf("2xx -> raw_signals %s, 2xx -> review %s, 2xx -> Grafana %s; want p99 within %s", res.ToRow, res.ToReview, res.ToGrafana, bound)
	}
	if len(res.Polled) != 2 {
		t.Errorf("%d polled legs, want Aircall and RingCentral", len(res.Polled))
	}
	for _, l := range res.Polled {
		if l.ToRow.P99 > bound || l.ToReview.P99 > bound || l.ToGrafana.P99 > bound {
			t.Errorf("%s: poll -> raw_signals %s, poll -> review %s, poll -> Grafana %s; want p99 within %s", l.Provider, l.ToRow, l.ToReview, l.ToGrafana, bound)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// BenchmarkFreshness is `make bench-freshness`: FRESHNESS_RATE webhooks a
// second (default 20) and FRESHNESS_POLL_RATE polled calls a second
// (default 10, polled every FRESHNESS_POLL_EVERY, default 1s) for
// FRESHNESS_DURATION (default 30s), reading every FRESHNESS_EVERY
// (default 50ms), once whatever
// -benchtime says; it reports the p50 and p99 in milliseconds.
func BenchmarkFreshness(b *testing.B) {
	rate, _ := strconv.Atoi(os.Getenv("FRESHNESS_RATE"))
	d, _ := time.ParseDuration(os.Getenv("FRESHNESS_DURATION"))
	wait, _ := time.ParseDuration(os.Getenv("FRESHNESS_MAX_WAIT"))
	pollRate, _ := strconv.Atoi(os.Getenv("FRESHNESS_POLL_RATE"))
	pollEvery, _ := time.ParseDuration(os.Getenv("FRESHNESS_POLL_EVERY"))
	every, _ := time.ParseDuration(os.Getenv("FRESHNESS_EVERY"))
	for b.Loop() {
		res, err := Run(context.Background(), Config{Rate: rate, Duration: d, MaxWait: wait, PollRate: pollRate, PollEvery: pollEvery, Every: every})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.ToRow.P50.Milliseconds()), "row_p50_ms")
		b.ReportMetric(float64(res.ToRow.P99.Milliseconds()), "row_p99_ms")
		b.ReportMetric(float64(res.ToReview.P50.Milliseconds()), "review_p50_ms")
		b.ReportMetric(float64(res.ToReview.P99.Milliseconds()), "review_p99_ms")
		b.ReportMetric(float64(res.ToGrafana.P50.Milliseconds()), "grafana_p50_ms")
		b.ReportMetric(float64(res.ToGrafana.P99.Milliseconds()), "grafana_p99_ms")
		for _, l := range res.Polled {
			b.ReportMetric(float64(l.ToReview.P50.Milliseconds()), "poll_"+l.Provider+"_review_p50_ms")
			b.ReportMetric(float64(l.ToReview.P99.Milliseconds()), "poll_"+l.Provider+"_review_p99_ms")
			b.ReportMetric(float64(l.ToGrafana.P50.Milliseconds()), "poll_"+l.Provider+"_grafana_p50_ms")
			b.ReportMetric(float64(l.ToGrafana.P99.Milliseconds()), "poll_"+l.Provider+"_grafana_p99_ms")
		}
	}
}
