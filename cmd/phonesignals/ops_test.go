package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/platform/obs"
	"github.com/phonesignals/phonesignals/internal/platform/obs/obstest"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serve starts a long-running command with --metrics-addr and returns the
// metrics base URL once /healthz answers, and a stop that cancels it and
// checks it exited cleanly.
func (e *cliEnv) serve(t *testing.T, args ...string) (base string, stop func()) {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		app := newApp()
		app.ExitErrHandler = func(*cli.Context, error) {}
		full := append([]string{"phonesignals", "--clickhouse", e.srv.Addr(), "--database", e.db, "--data-dir", e.dataDir,
			"--log-level", "warn", "--metrics-addr", addr}, args...)
		done <- app.RunContext(ctx, full)
	}()
	base = "http://" + addr
	deadline := time.Now().Add(time.Minute)
	for obs.Check(context.Background(), base+"/healthz") != nil {
		select {
		case err := <-done:
			t.Fatalf("%v exited before serving /healthz: %v", args, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v never served /healthz on %s", args, addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%v: %v", args, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("%v did not stop", args)
		}
	}
	t.Cleanup(stop)
	return base, stop
}

// waitMetric scrapes until cond holds for the sample's increase since
// before, or fails after a minute naming what it saw.
func waitMetric(t *testing.T, url string, before obstest.Samples, name string, cond func(float64) bool) obstest.Samples {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		s := obstest.Scrape(t, url)
		d := s.Get(name) - before.Get(name)
		if cond(d) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s went up by %v; samples: %v", name, d, s.Names(strings.SplitN(name, "{", 2)[0]))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestCLIOpsEndpoints does real work through sync --follow, run and
// webhooks serve, each with --metrics-addr, and scrapes what they report.
func TestCLIOpsEndpoints(t *testing.T) {
	e := newCLIEnv(t)
	kc, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	brokers := strings.Join(kc.ListenAddrs(), ",")
	dir := t.TempDir()
	org := fixture.Generate(fixture.Spec{Seed: 11, Org: "acme", Provider: fixture.Aircall, Employees: 4, Days: 10})
	now := org.End.Add(24 * time.Hour)
	fake := aircalltest.NewFake(org, aircalltest.FakeOptions{APIID: "id", APIToken: "tok", RateLimitPerMinute: 100000,
		Now: func() time.Time { return now }})
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	e.ok(t, "org", "connect", "--org", "acme", "--api-id", "id", "--api-token-file", writeFile(t, dir, "tok", "tok"),
		"--webhook-token-file", writeFile(t, dir, "wh", "wh-token"), "--api-url", api.URL+"/v1", "--setting", "rate_limit=100000")
	inWindow := float64(len(org.CallsIn(org.Start, org.End)))
	if inWindow == 0 {
		t.Fatal("fixture has no calls")
	}
	raw := `{topic="` + bus.TopicRaw + `"}`

	// run first, so its endpoint gives the baseline before any work.
	runBase, stopRun := e.serve(t, "--brokers", brokers, "run")
	before := obstest.Scrape(t, runBase+"/metrics")

	// sync --follow: provider requests and published records. The follow
	// re-reads the last day at once, so more than the window is published.
	syncBase, stopSync := e.serve(t, "--brokers", brokers, "sync", "--org", "acme",
		"--from", org.Start.Format(time.DateOnly), "--to", org.End.Format(time.DateOnly), "--follow", "--every", "1h")
	s := waitMetric(t, syncBase+"/metrics", before, "phonesignals_kafka_published_records_total"+raw, func(d float64) bool { return d >= inWindow })
	if d := s.Get(`phonesignals_provider_requests_total{code="200",provider="aircall"}`) - before.Get(`phonesignals_provider_requests_total{code="200",provider="aircall"}`); d == 0 {
		t.Errorf("no aircall requests counted: %v", s.Names("phonesignals_provider"))
	}
	e.ok(t, "healthcheck", syncBase+"/readyz")
	// Wait for the follow's first poll to be published too.
	var published float64
	for prev := -1.0; ; time.Sleep(time.Second) {
		published = obstest.Scrape(t, syncBase+"/metrics").Get("phonesignals_kafka_published_records_total"+raw) - before.Get("phonesignals_kafka_published_records_total"+raw)
		if published == prev {
			break
		}
		prev = published
	}

	// run: every published record in and out, batches, insert latency,
	// lag down to 0.
	s = waitMetric(t, runBase+"/metrics", before, "phonesignals_transform_records_in_total", func(d float64) bool { return d >= published })
	for name, want := range map[string]float64{
		"phonesignals_transform_records_in_total":    published,
		"phonesignals_transform_rows_out_total":      published,
		"phonesignals_transform_dead_lettered_total": 0,
	} {
		if d := s.Get(name) - before.Get(name); d != want {
			t.Errorf("%s went up by %v, want %v", name, d, want)
		}
	}
	for _, name := range []string{"phonesignals_transform_batch_records_count", `phonesignals_clickhouse_insert_duration_seconds_count{outcome="ok"}`} {
		if d := s.Get(name) - before.Get(name); d < 1 {
			t.Errorf("%s went up by %v, want at least one batch", name, d)
		}
	}
	lag := `phonesignals_kafka_consumer_lag_records{group="` + bus.GroupTransform + `",topic="` + bus.TopicRaw + `"}`
	deadline := time.Now().Add(time.Minute)
	for {
		s = obstest.Scrape(t, runBase+"/metrics")
		if v, ok := s[lag]; ok && v == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer lag never reached 0: %v = %v", lag, s[lag])
		}
		time.Sleep(500 * time.Millisecond)
	}
	e.ok(t, "healthcheck", runBase+"/readyz")
	stopRun()
	stopSync()

	// webhooks serve: answers by status.
	addr := freeAddr(t)
	whBase, stopWH := e.serve(t, "--brokers", brokers, "webhooks", "serve", "--listen", addr, "--transform=false")
	before = obstest.Scrape(t, whBase+"/metrics")
	for _, tok := range []string{"nope", "nope", "wh-token"} {
		resp, err := http.Post("http://"+addr+"/", "application/json", strings.NewReader(
			`{"resource":"call","event":"call.created","timestamp":1754000000,"token":"`+tok+`","data":{"id":1,"direction":"inbound","started_at":1754000000}}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	s = obstest.Scrape(t, whBase+"/metrics")
	if d := s.Get(`phonesignals_webhook_responses_total{provider="aircall",status="401"}`) - before.Get(`phonesignals_webhook_responses_total{provider="aircall",status="401"}`); d != 2 {
		t.Errorf("401 answers went up by %v, want 2: %v", d, s.Names("phonesignals_webhook"))
	}
	if d := s.Get(`phonesignals_webhook_responses_total{provider="aircall",status="200"}`) - before.Get(`phonesignals_webhook_responses_total{provider="aircall",status="200"}`); d != 1 {
		t.Errorf("200 answers went up by %v, want 1: %v", d, s.Names("phonesignals_webhook"))
	}
	// Kafka gone: alive but not ready, and the health check says why.
	kc.Close()
	if err := obs.Check(context.Background(), whBase+"/healthz"); err != nil {
		t.Errorf("/healthz with Kafka down: %v; want 200 (the process is alive)", err)
	}
	_, err = e.fail(t, "healthcheck", whBase+"/readyz")
	mustContain(t, "healthcheck with Kafka down", err.Error(), "503", "kafka")
	stopWH()
	_, err = e.fail(t, "healthcheck", whBase+"/readyz")
	mustContain(t, "healthcheck of a stopped server", err.Error(), "connection refused")
}

// TestCLILogFormat: --log-format json makes every log line a JSON object
// (for log collectors); an unknown format names the choices.
func TestCLILogFormat(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer ok.Close()
	saved, savedLog := os.Stderr, slog.Default()
	defer func() { os.Stderr = saved; slog.SetDefault(savedLog) }()
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	os.Stderr = f
	app := newApp()
	app.ExitErrHandler = func(*cli.Context, error) {}
	if err := app.Run([]string{"phonesignals", "--log-format", "json", "healthcheck", ok.URL}); err != nil {
		t.Fatal(err)
	}
	slog.Info("transform progress", "rows", 3)
	os.Stderr = saved
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	if err := json.Unmarshal(b, &line); err != nil || line["msg"] != "transform progress" || line["level"] != "INFO" {
		t.Fatalf("stderr %q is not one JSON log line: %v", b, err)
	}
	err = newApp().Run([]string{"phonesignals", "--log-format", "xml", "healthcheck", ok.URL})
	if err == nil || !strings.Contains(err.Error(), "--log-format \"xml\": want text or json") {
		t.Fatalf("--log-format xml: %v", err)
	}
}

// TestCLISyncLogFormatJSON: with --log-format json a sync's stderr is all
// JSON: its progress comes as "sync progress" records with the figures as
// numbers, and durations are duration strings, never integer nanoseconds.
func TestCLISyncLogFormatJSON(t *testing.T) {
	e := newCLIEnv(t)
	org := fixture.Generate(fixture.Spec{Seed: 3, Org: "acme", Provider: fixture.Aircall, Employees: 3, Days: 5})
	now := org.End.Add(24 * time.Hour)
	fake := aircalltest.NewFake(org, aircalltest.FakeOptions{APIID: "id", APIToken: "tok", RateLimitPerMinute: 100000,
		Now: func() time.Time { return now }})
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	e.ok(t, "migrate")
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	e.ok(t, "org", "connect", "--org", "acme", "--api-id", "id", "--api-token-file", writeFile(t, t.TempDir(), "token", "tok"),
		"--api-url", api.URL+"/v1", "--setting", "rate_limit=100000")

	saved, savedLog := os.Stderr, slog.Default()
	defer func() { os.Stderr = saved; slog.SetDefault(savedLog) }()
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	os.Stderr = f
	out := e.ok(t, "--log-level", "info", "--log-format", "json", "sync", "--org", "acme",
		"--from", org.Start.Format(time.DateOnly), "--to", org.End.Format(time.DateOnly))
	os.Stderr, _ = saved, f.Close()
	slog.SetDefault(savedLog)
	if !syncedRe.MatchString(out) {
		t.Fatalf("sync printed %q", out)
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	progressed := 0
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("stderr line %d is not JSON: %q (%v)", i+1, line, err)
		}
		for _, k := range []string{"elapsed", "eta", "wait", "waiting_for_rate_limit"} {
			if v, ok := m[k]; ok {
				if _, err := time.ParseDuration(fmt.Sprint(v)); err != nil {
					t.Errorf("stderr line %d: %s = %v, want a duration string: %s", i+1, k, v, line)
				}
			}
		}
		if m["msg"] == "sync progress" {
			progressed++
			if _, ok := m["calls"].(float64); !ok {
				t.Errorf("progress record without a numeric calls: %s", line)
			}
		}
	}
	if progressed == 0 {
		t.Fatalf("no sync progress record on stderr:\n%s", b)
	}
}

// TestPrintErrorJSON: the error a command ends with is a JSON record too
// when the logs are JSON.
func TestPrintErrorJSON(t *testing.T) {
	savedLog := slog.Default()
	defer slog.SetDefault(savedLog)
	var buf strings.Builder
	h, err := obs.NewLogHandler(&buf, "json", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	slog.SetDefault(slog.New(h))
	printError(errors.New("org \"x\" not found"), exitFailed)
	var m map[string]any
	if err := json.Unmarshal([]byte(buf.String()), &m); err != nil || m["level"] != "ERROR" || m["err"] != `org "x" not found` || m["exit_code"] != float64(exitFailed) {
		t.Fatalf("printError wrote %q (%v)", buf.String(), err)
	}
}
