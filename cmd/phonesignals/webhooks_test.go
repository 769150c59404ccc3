package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// TestCLIWebhooksServe runs `webhooks serve` in-process (embedded broker,
// so it also transforms and loads) and has the fake Aircall deliver a
// week of call events, duplicated and shuffled, with transcripts.
func TestCLIWebhooksServe(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()
	org := fixture.Generate(fixture.Spec{Seed: 9, Org: "acme", Provider: fixture.Aircall, Employees: 6, Days: 14})
	now := org.End.Add(24 * time.Hour)
	fake := aircalltest.NewFake(org, aircalltest.FakeOptions{APIID: "id", APIToken: "tok", RateLimitPerMinute: 100000, AIAddOn: true,
		Now: func() time.Time { return now }})
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)

	const whToken = "webhook-secret-7c1e"
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	e.ok(t, "org", "connect", "--org", "acme", "--api-id", "id", "--api-token-file", writeFile(t, dir, "tok", "tok"),
		"--webhook-token-file", writeFile(t, dir, "wh", whToken), "--transcripts", "on", "--api-url", api.URL+"/v1")
	e.ok(t, "employees", "import", "--org", "acme", writeFile(t, dir, "roster.csv", rosterCSV(t, org.Employees)))
	from, to := org.Start.AddDate(0, 0, 2), org.Start.AddDate(0, 0, 9)
	e.ok(t, "cycles", "add", "--org", "acme", "--cycle", "wk", "--start", from.Format(time.DateOnly), "--end", to.Format(time.DateOnly))

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
			"--log-level", "warn", "webhooks", "serve", "--listen", addr})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("webhooks serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Logf("goroutines:\n%s", buf[:n])
			t.Error("webhooks serve did not stop")
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhooks serve never listened on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// A delivery with an unknown token is refused and publishes nothing.
	resp, err := http.Post("http://"+addr+"/", "application/json", strings.NewReader(`{"resource":"call","event":"call.created","timestamp":1,"token":"nope","data":{"id":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown token: HTTP %d", resp.StatusCode)
	}

	rep, err := fake.SendWebhooks(context.Background(), "http://"+addr+"/", whToken, aircalltest.SendOptions{From: from, To: to,
		Transcripts: true, Duplicates: 0.25, Shuffle: true, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Acked != rep.Deliveries || rep.Deliveries <= rep.Events {
		t.Fatalf("deliveries: %+v", rep)
	}
	calls := org.CallsIn(from, to)
	wantTranscripts := 0
	for _, c := range calls {
		if c.Outcome != "missed" {
			wantTranscripts++
		}
	}
	count := func(sql string) int {
		n, err := strconv.Atoi(strings.TrimSpace(e.query(t, sql)))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	const wait = 3 * time.Minute // generous: -race makes this 10 times slower
	deadline = time.Now().Add(wait)
	for {
		loaded := count("SELECT uniqExact(call_id) FROM " + e.db + ".raw_signals WHERE org = 'acme'")
		saved := count("SELECT uniqExact(call_id) FROM " + e.db + ".call_transcripts WHERE org = 'acme'")
		// Deliveries are recorded in batches each second: wait for them too.
		recorded := count("SELECT count() FROM " + e.db + ".webhook_deliveries WHERE org = 'acme'")
		if loaded == len(calls) && saved == wantTranscripts && recorded == rep.Deliveries {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %d of %d calls loaded, %d of %d transcripts saved, %d of %d deliveries recorded",
				wait, loaded, len(calls), saved, wantTranscripts, recorded, rep.Deliveries)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// Utterances are stored apart from raw_signals, which holds no text.
	if n := count("SELECT count() FROM " + e.db + ".raw_signals WHERE payload LIKE '%utterance%'"); n != 0 {
		t.Fatalf("%d raw_signals rows mention utterances", n)
	}

	want, base := org.Truth(from, to)
	for _, emp := range org.Employees[:3] {
		out := e.ok(t, "review", "--org", "acme", "--employee", emp.ID, "--cycle", "wk", "--format", "json")
		var got map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		w := want[emp.ID]
		for k, v := range map[string]int{"total_calls": w.TotalCalls, "inbound_calls": w.InboundCalls, "outbound_calls": w.OutboundCalls,
			"avg_duration_sec": w.AvgDurationSec, "after_hours_calls": w.AfterHoursCalls, "escalated_calls": w.EscalatedCalls, "resolved_calls": w.ResolvedCalls} {
			if got[k] != float64(v) {
				t.Errorf("%s %s = %v, want %d", emp.ID, k, got[k], v)
			}
		}
		if med := wantMedian(base[emp.Cohort]); (med == nil) != (got["median_total_calls"] == nil) || med != nil && got["median_total_calls"] != *med {
			t.Errorf("%s median %v, want %v", emp.ID, got["median_total_calls"], base[emp.Cohort].MedianTotalCall)
		}
	}
	doc := e.ok(t, "doctor", "--org", "acme", "--offline")
	mustContain(t, "doctor", doc, "webhooks: "+strconv.Itoa(rep.Deliveries)+" delivered", "transcripts: ")
	e.assertNoSecret(t, whToken)
}
