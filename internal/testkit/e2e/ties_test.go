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
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/load/aggregate"
)

// TestTiedVersionsAfterMerge sends two webhooks for call 7 with the same
// timestamp and state: user 1 on 09-01, then user 2 on 09-02. Their
// decoded versions are equal; the record offsets break the tie, so the
// later delivery wins in argMax, in ReplacingMergeTree's merge and in the
// aggregates alike. Before that, argMax kept the first row and a merge the
// last one: after OPTIMIZE FINAL raw_signals held user 2 while the
// aggregates still counted the call for user 1 on 09-01.
func TestTiedVersionsAfterMerge(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if _, err := r.st.AddOrg(ctx, "acme", fixture.Aircall); err != nil {
		t.Fatal(err)
	}
	if err := r.st.ImportEmployees(ctx, "acme", []store.Employee{
		{ID: "E1", Name: "One", Email: "one@acme.test", Cohort: "a", ProviderUserID: "1"},
		{ID: "E2", Name: "Two", Email: "two@acme.test", Cohort: "a", ProviderUserID: "2"}}); err != nil {
		t.Fatal(err)
	}
	sep := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	if err := r.st.AddCycle(ctx, "acme", store.Cycle{ID: "2026-09", Start: sep, End: sep.AddDate(0, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	ws, err := aircall.NewWebhookServer(aircall.WebhookConfig{
		Orgs: aircall.StaticOrgs{{Org: "acme", Token: "whtoken"}}, Sink: r.pub, TranscriptSink: &ingesttest.MemSink{},
		Deliveries: nopDeliveries{}, Now: func() time.Time { return sep.AddDate(0, 0, 5) }})
	if err != nil {
		t.Fatal(err)
	}
	whs := httptest.NewServer(ws.Handler())
	t.Cleanup(whs.Close)
	ts := sep.AddDate(0, 0, 2).Unix()
	for _, v := range []struct {
		event string
		start time.Time
		user  int
	}{{"call.ended", sep.Add(10 * time.Hour), 1}, {"call.tagged", sep.Add(34 * time.Hour), 2}} {
		data := fmt.Sprintf(`{"id": 7, "direction": "inbound", "status": "done", "started_at": %d, "answered_at": %d,
			"ended_at": %d, "duration": 60, "user": {"id": %d}, "comments": [], "tags": []}`,
			v.start.Unix(), v.start.Unix()+5, v.start.Unix()+65, v.user)
		body := fmt.Sprintf(`{"resource": "call", "event": %q, "timestamp": %d, "token": "whtoken", "data": %s}`, v.event, ts, data)
		resp, err := http.Post(whs.URL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: HTTP %d", v.event, resp.StatusCode)
		}
	}
	r.drain()
	agg, err := aggregate.New(r.st.Conn(), nil)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		if err := agg.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		ms, err := r.st.CycleMetrics(ctx, "acme", "2026-09")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]uint64{}
		for _, m := range ms {
			got[m.EmployeeID] = m.TotalCalls
		}
		if got["E1"] != 0 || got["E2"] != 1 {
			t.Fatalf("%s: review says E1 %d calls, E2 %d; want 0 and 1 (the later delivery, user 2, wins)", when, got["E1"], got["E2"])
		}
		// The aggregates agree with the current version, day by day.
		var days string
		if err := r.st.Conn().QueryRow(ctx, `SELECT arrayStringConcat(groupArray(concat(toString(day), ':', user_id, '=', toString(c))), ',') FROM (
			SELECT day, user_id, argMax(calls, version) AS c FROM user_day_metrics WHERE org = 'acme'
			GROUP BY day, provider, user_id HAVING c > 0 ORDER BY day, user_id)`).Scan(&days); err != nil {
			t.Fatal(err)
		}
		if days != "2026-09-02:2=1" {
			t.Fatalf("%s: user_day_metrics holds %q, want 2026-09-02:2=1", when, days)
		}
	}
	check("after the load")
	if err := r.st.Conn().Exec(ctx, "OPTIMIZE TABLE raw_signals FINAL"); err != nil {
		t.Fatal(err)
	}
	var user string
	if err := r.st.Conn().QueryRow(ctx, "SELECT user_id FROM raw_signals WHERE org = 'acme' AND call_id = '7'").Scan(&user); err != nil {
		t.Fatal(err)
	}
	if user != "2" {
		t.Fatalf("after OPTIMIZE FINAL raw_signals keeps user %s, want 2", user)
	}
	check("after OPTIMIZE FINAL")
}
