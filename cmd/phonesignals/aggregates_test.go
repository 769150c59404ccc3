package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// receive runs `webhooks serve --transform=false` while post delivers
// webhooks to its URL, then stops it: the deliveries are on the raw topic
// and nothing is loaded yet.
func (e *cliEnv) receive(t *testing.T, post func(url string)) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		app := newApp()
		app.ExitErrHandler = func(*cli.Context, error) {}
		done <- app.RunContext(ctx, []string{"phonesignals", "--clickhouse", e.srv.Addr(), "--database", e.db, "--data-dir", e.dataDir,
			"--log-level", "warn", "webhooks", "serve", "--listen", addr, "--transform=false"})
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhooks serve never listened on %s", addr)
		}
	}
	post("http://" + addr + "/")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("webhooks serve: %v", err)
	}
}

// webhookOrg adds Aircall org acme, connected with webhook token token
// and an API nobody answers: its calls come by webhook only.
func (e *cliEnv) webhookOrg(t *testing.T, dir, token string) {
	t.Helper()
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	e.ok(t, "org", "connect", "--org", "acme", "--api-id", "id", "--api-token-file", writeFile(t, dir, "tok", "tok"),
		"--webhook-token-file", writeFile(t, dir, "wh", token), "--api-url", "http://127.0.0.1:1/v1", "--no-verify")
}

// postCall delivers a call.ended webhook for call id by user, started at
// start, with the event timestamp ts.
func postCall(t *testing.T, url, token string, id, user int, start time.Time, ts int64) {
	t.Helper()
	data := fmt.Sprintf(`{"id": %d, "direction": "inbound", "status": "done", "started_at": %d, "answered_at": %d, "ended_at": %d,
		"duration": 60, "user": {"id": %d}, "comments": [], "tags": []}`, id, start.Unix(), start.Unix()+5, start.Unix()+65, user)
	body := fmt.Sprintf(`{"resource": "call", "event": "call.ended", "timestamp": %d, "token": %q, "data": %s}`, ts, token, data)
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook for call %d: HTTP %d", id, resp.StatusCode)
	}
}

// TestCLIClockStepBack is the sequence through the CLI: a webhook
// for call 1 (user 1) and `run --until-idle`; the same call, now user 2,
// and `run --until-idle` in a process whose clock is 30 s behind. With the
// aggregates versioned by the clock, that run refreshed nothing and review
// said E1 1 call, E2 0, for good. `aggregates verify` agrees once exact.
func TestCLIClockStepBack(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()
	const token = "webhook-secret-clock"
	e.webhookOrg(t, dir, token)
	e.ok(t, "employees", "import", "--org", "acme", writeFile(t, dir, "roster.csv", rosterCSV(t, []fixture.Employee{
		{ID: "E1", Name: "One", Email: "one@acme.test", Cohort: "a", ProviderUserID: "1"},
		{ID: "E2", Name: "Two", Email: "two@acme.test", Cohort: "a", ProviderUserID: "2"}})))
	e.ok(t, "cycles", "add", "--org", "acme", "--cycle", "day", "--start", "2026-09-01", "--end", "2026-09-02")
	start := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)

	e.receive(t, func(url string) { postCall(t, url, token, 1, 1, start, start.Add(time.Hour).Unix()) })
	e.ok(t, "run", "--until-idle")
	e.receive(t, func(url string) { postCall(t, url, token, 1, 2, start, start.Add(2*time.Hour).Unix()) })
	loaderClock = func() time.Time { return time.Now().Add(-30 * time.Second) }
	t.Cleanup(func() { loaderClock = time.Now })
	e.ok(t, "run", "--until-idle")
	loaderClock = time.Now

	for emp, want := range map[string]float64{"E1": 0, "E2": 1} {
		var got map[string]any
		out := e.ok(t, "review", "--org", "acme", "--employee", emp, "--cycle", "day", "--format", "json")
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("review %s: %v\n%s", emp, err, out)
		}
		if got["total_calls"] != want {
			t.Fatalf("review says %s made %v calls, want %v (the call moved to user 2):\n%s", emp, got["total_calls"], want, out)
		}
	}
	if out := e.ok(t, "aggregates", "verify", "--org", "acme"); !strings.Contains(out, "org acme: exact") {
		t.Fatalf("aggregates verify:\n%s", out)
	}
}

// TestCLIAggregatesVerifyRebuild: verify exits 1 and names the key a hand
// edit broke, with the fix; rebuild repairs it; verify is clean again.
func TestCLIAggregatesVerifyRebuild(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()
	const token = "webhook-secret-verify"
	e.webhookOrg(t, dir, token)
	start := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)
	e.receive(t, func(url string) {
		for i := 0; i < 5; i++ {
			postCall(t, url, token, 100+i, 1+i%2, start.Add(time.Duration(i)*26*time.Hour), start.Add(240*time.Hour).Unix())
		}
	})
	e.ok(t, "run", "--until-idle")
	if out := e.ok(t, "aggregates", "verify"); !strings.Contains(out, "org acme: exact (0 days pending") {
		t.Fatalf("verify after the load:\n%s", out)
	}
	e.query(t, "INSERT INTO "+e.db+".user_day_metrics (org, day, provider, user_id, calls, inbound_calls, outbound_calls, duration_sum, "+
		"after_hours_calls, escalated_calls, resolved_calls, version) SELECT 'acme', toDate('2026-09-02'), 'aircall', '2', 7, 7, 0, 0, 0, 0, 0, toUInt64('18000000000000000000')")
	out, err := e.fail(t, "aggregates", "verify", "--org", "acme", "--format", "json")
	var ec cli.ExitCoder
	if !errors.As(err, &ec) || ec.ExitCode() != 1 || !strings.Contains(err.Error(), "phonesignals aggregates rebuild --org acme") {
		t.Fatalf("verify of a broken key: %v, want exit 1 naming the rebuild", err)
	}
	var reps []struct {
		Exact bool `json:"exact"`
		Diffs []struct {
			Day    string `json:"day"`
			UserID string `json:"user_id"`
			Stored struct {
				Calls uint64 `json:"calls"`
			} `json:"stored"`
			Raw struct {
				Calls uint64 `json:"calls"`
			} `json:"raw_signals"`
		} `json:"diffs"`
	}
	if err := json.Unmarshal([]byte(out), &reps); err != nil || len(reps) != 1 || reps[0].Exact || len(reps[0].Diffs) != 1 {
		t.Fatalf("verify JSON %v:\n%s", err, out)
	}
	if d := reps[0].Diffs[0]; d.Day != "2026-09-02" || d.UserID != "2" || d.Stored.Calls != 7 || d.Raw.Calls != 1 {
		t.Fatalf("verify names %+v, want 2026-09-02 user 2 stored 7, raw_signals 1", d)
	}
	// doctor verifies the org's recent days too.
	if out, _ := e.run(t, "doctor", "--org", "acme", "--offline"); !strings.Contains(out, "1 per-day aggregate keys of the last 31 days differ from raw_signals") ||
		!strings.Contains(out, "phonesignals aggregates rebuild --org acme") {
		t.Fatalf("doctor on a broken key:\n%s", out)
	}
	if out := e.ok(t, "aggregates", "rebuild", "--org", "acme", "--from", "2026-09-01", "--to", "2026-10-01"); !strings.Contains(out, "org acme: recomputed 5 days") {
		t.Fatalf("rebuild:\n%s", out)
	}
	if out := e.ok(t, "aggregates", "verify", "--org", "acme"); !strings.Contains(out, "org acme: exact") {
		t.Fatalf("verify after the rebuild:\n%s", out)
	}
	if out, _ := e.run(t, "doctor", "--org", "acme", "--offline"); !strings.Contains(out, "the per-day aggregates of the last 31 days of data match raw_signals") {
		t.Fatalf("doctor after the rebuild:\n%s", out)
	}
	if _, err := e.fail(t, "aggregates", "verify", "--from", "2026-13-01"); !strings.Contains(err.Error(), "--from \"2026-13-01\" is not a day") {
		t.Fatalf("a bad --from: %v", err)
	}
}
