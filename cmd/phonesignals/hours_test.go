package main

import (
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// TestCLIOrgSetHours: bad rules are refused naming the rule; a rule set
// from a past day re-rates the calls stored from then on, and review
// counts after hours by it.
func TestCLIOrgSetHours(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()
	const token = "webhook-secret-hours"
	e.webhookOrg(t, dir, token)
	e.ok(t, "employees", "import", "--org", "acme", writeFile(t, dir, "roster.csv", rosterCSV(t, []fixture.Employee{
		{ID: "E1", Name: "One", Email: "one@acme.test", Cohort: "a", ProviderUserID: "1"}})))
	e.ok(t, "cycles", "add", "--org", "acme", "--cycle", "2026-09", "--start", "2026-09-01", "--end", "2026-10-01")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--timezone", "Mars/Base", "--hours", "08:00-18:00", "--days", "Mon-Fri"}, `time zone "Mars/Base" is not an IANA time zone name`},
		{[]string{"--timezone", "UTC", "--hours", "08:00-12:00,11:00-14:00", "--days", "Mon-Fri"}, "08:00-12:00 and 11:00-14:00 overlap"},
		{[]string{"--timezone", "UTC", "--hours", "08:00-18:00"}, "--days is required"},
		{[]string{"--seed", "--timezone", "UTC"}, "--seed returns to the seed's rule"},
		{[]string{"--timezone", "UTC", "--hours", "08:00-18:00", "--days", "Mon-Fri", "--from", "2026-02-30"}, `--from "2026-02-30" is not a day`},
	} {
		_, err := e.fail(t, append([]string{"org", "set", "--org", "acme"}, tc.args...)...)
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("org set %v: %v, want %q", tc.args, err, tc.want)
		}
	}
	// Tue 2026-09-01 at 19:00, 09:00 and 10:00 UTC: 12:00, 02:00 and 03:00
	// in Los Angeles. By UTC's rule one is after hours, by LA's two.
	noon := time.Date(2026, 9, 1, 19, 0, 0, 0, time.UTC)
	night := time.Date(2026, 9, 1, 9, 0, 0, 0, time.UTC)
	e.receive(t, func(url string) {
		postCall(t, url, token, 1, 1, noon, noon.Add(time.Hour).Unix())
		postCall(t, url, token, 2, 1, night, noon.Add(time.Hour).Unix())
		postCall(t, url, token, 3, 1, night.Add(time.Hour), noon.Add(time.Hour).Unix())
	})
	e.ok(t, "run", "--until-idle")
	afterHours := func() string {
		out := e.ok(t, "review", "--org", "acme", "--employee", "E1", "--cycle", "2026-09", "--format", "json")
		i := strings.Index(out, `"after_hours_calls": `)
		return strings.TrimRight(strings.SplitN(out[i+len(`"after_hours_calls": `):], "\n", 2)[0], ",")
	}
	if got := afterHours(); got != "1" {
		t.Fatalf("by the seed's rule %s calls after hours, want 1 (19:00 UTC)", got)
	}
	pickup := rulePickup
	rulePickup = 0
	t.Cleanup(func() { rulePickup = pickup })
	out := e.ok(t, "org", "set", "--org", "acme", "--timezone", "America/Los_Angeles", "--hours", "08:00-18:00", "--days", "Mon-Fri", "--from", "2026-08-01")
	if !strings.Contains(out, "after hours is outside 08:00-18:00 Mon-Fri, America/Los_Angeles for calls from 2026-08-01 00:00 PDT") || !strings.Contains(out, "re-rated; recomputed") {
		t.Fatalf("org set:\n%s", out)
	}
	if got := afterHours(); got != "2" {
		t.Fatalf("by Los Angeles hours %s calls after hours, want 2 (02:00 and 03:00 PDT)", got)
	}
	// The review says which rule the cycle used.
	text := e.ok(t, "review", "--org", "acme", "--employee", "E1", "--cycle", "2026-09")
	if !strings.Contains(text, "08:00-18:00 Mon-Fri, America/Los_Angeles") || !strings.Contains(text, "working_hours:") {
		t.Fatalf("review does not name the cycle's working hours:\n%s", text)
	}
	js := e.ok(t, "review", "--org", "acme", "--employee", "E1", "--cycle", "2026-09", "--format", "json")
	if !strings.Contains(js, `"working_hours": [`) || !strings.Contains(js, `"08:00-18:00 Mon-Fri, America/Los_Angeles"`) {
		t.Fatalf("review JSON does not name the cycle's working hours:\n%s", js)
	}
	e.ok(t, "org", "set", "--org", "acme", "--timezone", "Europe/Paris", "--hours", "09:00-17:00", "--days", "every", "--from", "2026-09-15")
	if text := e.ok(t, "review", "--org", "acme", "--employee", "E1", "--cycle", "2026-09"); !strings.Contains(text, "08:00-18:00 Mon-Fri, America/Los_Angeles; then 09:00-17:00 every day, Europe/Paris") {
		t.Fatalf("review of a cycle with two rules:\n%s", text)
	}
	if out := e.ok(t, "aggregates", "verify", "--org", "acme"); !strings.Contains(out, "org acme: exact") {
		t.Fatalf("verify after the re-rating:\n%s", out)
	}
}
