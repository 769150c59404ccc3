package store

import (
	"fmt"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
)

func day(d int) time.Time { return time.Date(2026, 9, d, 0, 0, 0, 0, time.UTC) }

// coverageOrg is org acme with cycle 2026-09 and employee E001 on user
// 100001, on a fresh database.
func coverageOrg(t *testing.T) testStore {
	t.Helper()
	ts := newTestStore(t)
	ctx := testCtx(t)
	if _, err := ts.AddOrg(ctx, "acme", fixture.Aircall); err != nil {
		t.Fatal(err)
	}
	// Another org's windows and calls must never count for acme.
	if _, err := ts.AddOrg(ctx, "globex", fixture.Aircall); err != nil {
		t.Fatal(err)
	}
	if err := ts.AddCycle(ctx, "acme", Cycle{ID: "2026-09", Start: day(1), End: day(1).AddDate(0, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := ts.ImportEmployees(ctx, "acme", []Employee{{ID: "E001", Name: "Ada", Cohort: "support", ProviderUserID: "100001"}}); err != nil {
		t.Fatal(err)
	}
	return ts
}

// window records a finished sync window of org with its published calls.
func (ts testStore) window(t *testing.T, org string, from, to time.Time, calls ...string) {
	t.Helper()
	cp := ts.Checkpoints(org)
	w := model.Window{From: from, To: to}
	if err := cp.RecordWindowCalls(testCtx(t), "aircall:"+from.Format(time.RFC3339), w, calls); err != nil {
		t.Fatal(err)
	}
	if err := cp.MarkDone(testCtx(t), "aircall:"+from.Format(time.RFC3339), w, len(calls)); err != nil {
		t.Fatal(err)
	}
}

// load stores calls (id@user@day) of org in raw_signals.
func (ts testStore) load(t *testing.T, org string, calls ...string) {
	t.Helper()
	var vals []string
	for _, c := range calls {
		p := strings.Split(c, "@")
		vals = append(vals, fmt.Sprintf("('%s', 'aircall', '%s', '%s', '2026-09-%s 10:00:00', 'inbound', 60, 1)", org, p[0], p[1], p[2]))
	}
	ts.query(t, "INSERT INTO "+ts.db+".raw_signals (org, provider, call_id, user_id, started_at, direction, duration_sec, version) VALUES "+strings.Join(vals, ", "))
}

func (ts testStore) run(t *testing.T, org, id, status, msg string, from, to time.Time) {
	t.Helper()
	r := Run{ID: id, Org: org, Provider: fixture.Aircall, Started: day(20), Window: model.Window{From: from, To: to}, Status: status, Error: msg}
	if status != "running" {
		r.Finished = day(20).Add(time.Minute)
	}
	if err := ts.RecordRun(testCtx(t), r); err != nil {
		t.Fatal(err)
	}
}

// TestCoverage walks one cycle through a killed sync, calls published but
// not loaded, dead letters and an unmapped user, each fixed in turn: every
// step's coverage has the right counts, and each problem clears once fixed.
func TestCoverage(t *testing.T) {
	ts := coverageOrg(t)
	ctx := testCtx(t)
	oct5 := day(1).AddDate(0, 1, 4)
	steps := []struct {
		name string
		do   func()
		now  time.Time
		want string // status through missing(causes) failed unloaded/calls dead unmapped/users seen
	}{
		{"nothing synced", func() {}, oct5,
			"incomplete - [09-01..10-01 not synced] 0 0/0 0 0/0 0"},
		{"sync killed after two windows", func() {
			ts.run(t, "acme", "r1", "running", "", day(1), day(1).AddDate(0, 1, 0))
			ts.window(t, "acme", day(1), day(8), "c1", "c2")
			ts.window(t, "acme", day(8), day(15), "c3")
			ts.load(t, "acme", "c1@100001@02", "c2@100001@03", "c3@100001@09")
			ts.window(t, "globex", day(15), day(1).AddDate(0, 1, 0))
		}, oct5, "incomplete 09-15 [09-15..10-01 sync did not finish: killed, or still running] 1 0/0 0 0/0 3"},
		{"resumed: a window published, not loaded", func() {
			ts.window(t, "acme", day(15), day(22), "c4", "c5", "c6")
			ts.load(t, "acme", "c4@100001@16")
		}, oct5, "incomplete 09-15 [09-22..10-01 sync did not finish: killed, or still running] 1 1/2 0 0/0 4"},
		{"one of them dead-lettered", func() {
			if err := ts.RecordDeadLetters(ctx, []model.DeadLetter{{Org: "acme", Provider: "aircall", CallID: "c5", Topic: "phonesignals.calls.dead", Offset: 7, Reason: "decode: bad"}}); err != nil {
				t.Fatal(err)
			}
		}, oct5, "incomplete 09-15 [09-22..10-01 sync did not finish: killed, or still running] 1 1/1 1 0/0 4"},
		{"sync finished, unmapped user", func() {
			ts.load(t, "acme", "c6@100009@17", "c7@100009@25", "c8@@26")
			ts.window(t, "acme", day(22), day(1).AddDate(0, 1, 0), "c7", "c8")
			ts.run(t, "acme", "r1", "error", "aircall: 401", day(1), day(1).AddDate(0, 1, 0))
			ts.run(t, "acme", "r2", "ok", "", day(22), day(1).AddDate(0, 1, 0))
		}, oct5, "complete 10-01 [] 0 0/0 1 2/1 7"},
		{"dead letter replayed and loaded", func() { ts.load(t, "acme", "c5@100001@18") }, oct5,
			"complete 10-01 [] 0 0/0 0 2/1 8"},
		{"unmapped user mapped", func() {
			if err := ts.ImportEmployees(ctx, "acme", []Employee{{ID: "E002", Name: "Ben", Cohort: "support", ProviderUserID: "100009"}}); err != nil {
				t.Fatal(err)
			}
		}, oct5, "complete 10-01 [] 0 0/0 0 0/0 8"},
	}
	cy, err := ts.GetCycle(ctx, "acme", "2026-09")
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range steps {
		st.do()
		o, err := ts.GetOrg(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		c, err := ts.Coverage(ctx, o, cy, st.now)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := coverageSummary(c); got != st.want {
			t.Errorf("%s: coverage\n got  %s\n want %s", st.name, got, st.want)
		}
	}
}

func md(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("01-02")
}

func coverageSummary(c Coverage) string {
	var gaps []string
	for _, g := range c.Missing {
		gaps = append(gaps, md(g.From)+".."+md(g.To)+" "+g.Cause)
	}
	return fmt.Sprintf("%s %s [%s] %d %d/%d %d %d/%d %d", c.Status, md(c.CompleteThrough), strings.Join(gaps, "; "), len(c.FailedRuns),
		c.UnloadedWindows, c.UnloadedCalls, c.DeadLetterCalls, c.UnmappedCalls, c.UnmappedUsers, c.CallsSeen)
}

// TestCoverageOpenCycle: a cycle that has not ended is in progress while
// only the time since the last sync is missing, and incomplete with a hole
// before that.
func TestCoverageOpenCycle(t *testing.T) {
	ts := coverageOrg(t)
	ctx := testCtx(t)
	cy, err := ts.GetCycle(ctx, "acme", "2026-09")
	if err != nil {
		t.Fatal(err)
	}
	o, err := ts.GetOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	ts.window(t, "acme", day(1), day(5))
	ts.window(t, "acme", day(5), day(10).Add(9*time.Hour))
	for _, tt := range []struct {
		name string
		do   func()
		want string
	}{
		{"synced up to 09:00 today", func() {}, "in_progress 09-10 [09-10..09-10 not synced] 0 0/0 0 0/0 0"},
		{"a hole before", func() {
			ts.query(t, "ALTER TABLE "+ts.db+".sync_windows DELETE WHERE window_to = '2026-09-05 00:00:00'")
		},
			"incomplete - [09-01..09-05 not synced; 09-10..09-10 not synced] 0 0/0 0 0/0 0"},
	} {
		tt.do()
		waitFor(t, func() bool { return ts.query(t, "SELECT count() FROM system.mutations WHERE is_done = 0") == "0" })
		c, err := ts.Coverage(ctx, o, cy, day(10).Add(12*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if got := coverageSummary(c); got != tt.want {
			t.Errorf("%s: coverage\n got  %s\n want %s", tt.name, got, tt.want)
		}
	}
}

// TestCoverageWebhooksAndRetention: the org's last accepted webhook shows
// for an org with a webhook token (never another org's, never a refused one), and a cycle older than the org's
// retention is expired.
func TestCoverageWebhooksAndRetention(t *testing.T) {
	ts := coverageOrg(t)
	ctx := testCtx(t)
	ts.query(t, "INSERT INTO "+ts.db+".webhook_deliveries (org, event, status, reason, at) VALUES "+
		"('acme', 'call.ended', 200, '', '2026-09-20 08:00:00'), ('acme', 'call.ended', 401, 'bad token', '2026-09-25 08:00:00'), "+
		"('acme', 'call.ended', 200, '', '2026-10-02 08:00:00'), ('globex', 'call.ended', 200, '', '2026-09-28 08:00:00')")
	cy, err := ts.GetCycle(ctx, "acme", "2026-09")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		token     string
		retention string
		now       time.Time
		webhook   string
		status    string
	}{
		{"no webhook token", "", "", day(1).AddDate(0, 1, 4), "-", CoverageIncomplete},
		{"webhooks", "sealed-token", "", day(1).AddDate(0, 1, 4), "10-02", CoverageIncomplete},
		{"retention keeps the cycle", "sealed-token", "2mo", day(1).AddDate(0, 1, 4), "10-02", CoverageIncomplete},
		{"retention cut into it", "sealed-token", "1mo", day(1).AddDate(0, 1, 4), "10-02", CoverageExpired},
	} {
		o, err := ts.GetOrg(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		o.WebhookToken, o.Settings = tt.token, map[string]string{SettingRetention: tt.retention}
		c, err := ts.Coverage(ctx, o, cy, tt.now)
		if err != nil {
			t.Fatal(err)
		}
		if c.Webhooks != (tt.token != "") || md(c.LastWebhook) != tt.webhook || c.Status != tt.status {
			t.Errorf("%s: webhooks %v last %s status %s, want last %s status %s", tt.name, c.Webhooks, md(c.LastWebhook), c.Status, tt.webhook, tt.status)
		}
	}
}
