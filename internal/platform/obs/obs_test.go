package obs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/platform/obs/obstest"
)

func startServer(t *testing.T, ready func(context.Context) error) string {
	t.Helper()
	srv, err := NewServer(ServerConfig{Addr: "127.0.0.1:0", Ready: ready, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return "http://" + srv.Addr()
}

func TestServerHealthAndReadiness(t *testing.T) {
	var down atomic.Bool
	base := startServer(t, func(context.Context) error {
		if down.Load() {
			return errors.New("reaching kafka at [k:9092]: connection refused")
		}
		return nil
	})
	ctx := context.Background()
	for _, tc := range []struct {
		down     bool
		path     string
		wantErr  string
		wantBody string
	}{
		{false, "/healthz", "", "ok"},
		{false, "/readyz", "", "ready"},
		{true, "/healthz", "", "ok"}, // alive even when a dependency is down
		{true, "/readyz", "503 Service Unavailable: not ready: reaching kafka", ""},
	} {
		down.Store(tc.down)
		err := Check(ctx, base+tc.path)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("down=%v %s: %v; want error %q", tc.down, tc.path, err, tc.wantErr)
		}
	}
	if err := Check(ctx, "127.0.0.1:9100/readyz"); err == nil || !strings.Contains(err.Error(), "want http://") {
		t.Errorf("Check without a scheme: %v", err)
	}
	if _, err := NewServer(ServerConfig{Addr: "9100"}); err == nil || !strings.Contains(err.Error(), "--metrics-addr") {
		t.Errorf("NewServer(9100): %v; want an error naming --metrics-addr", err)
	}
}

func TestMetricsAfterWork(t *testing.T) {
	base := startServer(t, nil)
	before := obstest.Scrape(t, base+"/metrics")

	// A provider answering 200, 429 and 503, and one that is down.
	var n atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		switch n.Add(1) {
		case 1, 2:
			w.WriteHeader(http.StatusOK)
		case 3:
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer api.Close()
	cl := InstrumentClient("toyprovider", nil, 5*time.Second)
	if InstrumentClient("toyprovider", cl, time.Second).Transport.(providerTransport).base != cl.Transport.(providerTransport).base {
		t.Fatal("instrumenting twice wraps twice (double counts)")
	}
	for range 4 {
		resp, err := cl.Get(api.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	if _, err := cl.Get(dead.URL); err == nil {
		t.Fatal("request to a closed server succeeded")
	}

	TransformBatch(100, 97, 3)
	TransformBatch(10, 10, 0)
	ConsumerLag("g", "t", 42)
	Published("topic-x", 7)
	done := InsertTimer()
	done(nil)
	InsertTimer()(errors.New("boom"))
	ClickHouseRetry("disk_full")
	ClickHouseRetry("disk_full")
	ClickHouseRetry("unavailable")
	ClickHouseDiskFull(true)
	WebhookResponse("toyprovider", 401)
	WebhookResponse("toyprovider", 200)
	WebhookResponse("toyprovider", 200)

	after := obstest.Scrape(t, base+"/metrics")
	delta := func(name string) float64 { return after.Get(name) - before.Get(name) }
	for name, want := range map[string]float64{
		`phonesignals_provider_requests_total{code="200",provider="toyprovider"}`:   2,
		`phonesignals_provider_requests_total{code="429",provider="toyprovider"}`:   1,
		`phonesignals_provider_requests_total{code="503",provider="toyprovider"}`:   1,
		`phonesignals_provider_requests_total{code="error",provider="toyprovider"}`: 1,
		`phonesignals_provider_rate_limited_total{provider="toyprovider"}`:          1,
		`phonesignals_provider_errors_total{provider="toyprovider"}`:                2,
		`phonesignals_transform_records_in_total`:                                   110,
		`phonesignals_transform_rows_out_total`:                                     107,
		`phonesignals_transform_dead_lettered_total`:                                3,
		`phonesignals_transform_batch_records_count`:                                2,
		`phonesignals_transform_batch_records_sum`:                                  110,
		`phonesignals_kafka_published_records_total{topic="topic-x"}`:               7,
		`phonesignals_clickhouse_insert_duration_seconds_count{outcome="ok"}`:       1,
		`phonesignals_clickhouse_insert_duration_seconds_count{outcome="error"}`:    1,
		`phonesignals_clickhouse_retries_total{cause="disk_full"}`:                  2,
		`phonesignals_clickhouse_retries_total{cause="unavailable"}`:                1,
		`phonesignals_webhook_responses_total{provider="toyprovider",status="401"}`: 1,
		`phonesignals_webhook_responses_total{provider="toyprovider",status="200"}`: 2,
	} {
		if got := delta(name); got != want {
			t.Errorf("%s went up by %v, want %v (have %v)", name, got, want, after.Names(strings.SplitN(name, "{", 2)[0]))
		}
	}
	if got := after.Get(`phonesignals_kafka_consumer_lag_records{group="g",topic="t"}`); got != 42 {
		t.Errorf("consumer lag %v, want 42", got)
	}
	if got := after.Get("phonesignals_clickhouse_disk_full"); got != 1 {
		t.Errorf("clickhouse_disk_full %v while the disk is full, want 1", got)
	}
	ClickHouseDiskFull(false)
	if got := obstest.Scrape(t, base+"/metrics").Get("phonesignals_clickhouse_disk_full"); got != 0 {
		t.Errorf("clickhouse_disk_full %v once space is back, want 0", got)
	}
	if after.Get("go_goroutines") == 0 {
		t.Error("no Go runtime metrics")
	}
}

func TestNewLogHandler(t *testing.T) {
	var buf bytes.Buffer
	h, err := NewLogHandler(&buf, "json", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	slog.New(h).Info("transform progress", "rows", 5)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil || m["msg"] != "transform progress" || m["rows"] != float64(5) {
		t.Fatalf("json log line %q: %v", buf.String(), err)
	}
	// Durations, at the top level and in a group, are duration strings as
	// in the text logs, not integer nanoseconds.
	buf.Reset()
	slog.New(h).Info("rate limit", "wait", 641009406*time.Nanosecond, slog.Group("poll", "fill", 2*time.Second))
	m = nil
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("json log line %q: %v", buf.String(), err)
	}
	if poll, _ := m["poll"].(map[string]any); m["wait"] != "641.009406ms" || poll["fill"] != "2s" {
		t.Fatalf("durations in %q: want \"641.009406ms\" and \"2s\"", buf.String())
	}
	buf.Reset()
	h, _ = NewLogHandler(&buf, "text", slog.LevelWarn)
	slog.New(h).Info("hidden")
	slog.New(h).Warn("shown", "k", "v")
	if got := buf.String(); strings.Contains(got, "hidden") || !strings.Contains(got, "msg=shown k=v") {
		t.Fatalf("text log %q", got)
	}
	if _, err := NewLogHandler(&buf, "xml", slog.LevelInfo); err == nil || !strings.Contains(err.Error(), "text or json") {
		t.Fatalf("xml: %v", err)
	}
}
