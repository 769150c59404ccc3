package e2e

import (
	"context"
	"fmt"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/ingest/ingesttest"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/obs"
)

// Hostile webhook times (issue 8, item 5): a timestamp far in the future
// is clamped to the receive time, so a later poll still wins; started_at
// values DateTime cannot hold are dead-lettered with the reason instead of
// wrapping to another year.
func TestWebhookTimesBoundedAndNeverWrapped(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	received := time.Date(2026, 9, 10, 12, 0, 0, 0, time.UTC)
	ws, err := aircall.NewWebhookServer(aircall.WebhookConfig{
		Orgs: aircall.StaticOrgs{{Org: "acme", Token: "whtoken"}}, Sink: r.pub, TranscriptSink: &ingesttest.MemSink{},
		Deliveries: nopDeliveries{}, Now: func() time.Time { return received }})
	if err != nil {
		t.Fatal(err)
	}
	whs := httptest.NewServer(ws.Handler())
	t.Cleanup(whs.Close)
	post := func(ts int64, id, startedAt string, duration int, user int) {
		t.Helper()
		data := fmt.Sprintf(`{"id": %s, "direction": "inbound", "status": "done", "started_at": %s, "answered_at": 1788000005,
			"ended_at": 1788001023, "duration": %d, "user": {"id": %d}, "comments": [], "tags": []}`, id, startedAt, duration, user)
		body := fmt.Sprintf(`{"resource": "call", "event": "call.ended", "timestamp": %d, "token": "whtoken", "data": %s}`, ts, data)
		resp, err := http.Post(whs.URL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("webhook for call %s: HTTP %d", id, resp.StatusCode)
		}
	}
	// One hostile event 10 years ahead, then the true state from a poll a
	// minute after the event was received.
	post(received.AddDate(10, 0, 0).Unix(), "1", "1788000000", 9999, 200002)
	if n := ws.ClampedTimestamps(); n != 1 {
		t.Fatalf("%d clamped timestamps counted, want 1", n)
	}
	if n := clampedMetric(t); n < 1 {
		t.Fatalf("phonesignals_webhook_timestamps_clamped_total is %v, want at least 1", n)
	}
	poll := []byte(`{"id": 1, "direction": "inbound", "status": "done", "started_at": 1788000000, "answered_at": 1788000005,
		"ended_at": 1788001023, "duration": 1018, "user": {"id": 100001}, "comments": [], "tags": []}`)
	if err := r.pub.Publish(ctx, []model.RawCall{{Org: "acme", Provider: fixture.Aircall, CallID: "1", Source: model.SourcePoll,
		ObservedAt: received.Add(time.Minute), Body: poll}}); err != nil {
		t.Fatal(err)
	}
	// started_at values that wrap in a UInt32 DateTime.
	for i, v := range []string{"9999999999", "-100", "4294967296"} {
		post(received.Unix(), fmt.Sprint(10+i), v, 60, 100001)
	}
	st := r.drain()
	if st.DeadLetters != 3 {
		t.Errorf("%d dead letters, want the 3 out-of-range started_at", st.DeadLetters)
	}
	var dur uint32
	var user string
	if err := r.st.Conn().QueryRow(ctx, "SELECT duration_sec, user_id FROM calls_current WHERE org = 'acme' AND call_id = '1'").Scan(&dur, &user); err != nil {
		t.Fatal(err)
	}
	if dur != 1018 || user != "100001" {
		t.Errorf("call 1 is duration %d user %s, want the later poll's 1018 and 100001 (the future-dated webhook pinned its version)", dur, user)
	}
	var stored uint64
	if err := r.st.Conn().QueryRow(ctx, "SELECT count() FROM raw_signals WHERE org = 'acme' AND call_id IN ('10', '11', '12')").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 0 {
		t.Errorf("%d rows with out-of-range started_at were stored (wrapped)", stored)
	}
	rows, err := r.st.Conn().Query(ctx, "SELECT call_id, reason FROM dead_letters WHERE org = 'acme' ORDER BY call_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, reason string
		if err := rows.Scan(&id, &reason); err != nil {
			t.Fatal(err)
		}
		n++
		if !strings.Contains(reason, "started_at") || !strings.Contains(reason, "outside what ClickHouse DateTime holds") {
			t.Errorf("dead letter of call %s: reason %q does not name started_at and the range", id, reason)
		}
	}
	if n != 3 {
		t.Errorf("%d dead_letters rows, want 3", n)
	}
}

// clampedMetric reads phonesignals_webhook_timestamps_clamped_total for
// Aircall from the process's registry, as /metrics serves it.
func clampedMetric(t *testing.T) float64 {
	t.Helper()
	mfs, err := obs.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "phonesignals_webhook_timestamps_clamped_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "provider" && l.GetValue() == fixture.Aircall {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
