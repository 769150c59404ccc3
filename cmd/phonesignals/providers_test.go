package main

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/providers"
	"github.com/phonesignals/phonesignals/ingest/providers/toytest"
	"github.com/phonesignals/phonesignals/transform"
)

// A third provider is its own package (toytest) plus one registry line:
// the CLI, the transform and doctor work with it unchanged.
func TestCLIThirdProvider(t *testing.T) {
	reg, err := ingest.NewRegistry(append(providers.List(), toytest.Provider)...)
	if err != nil {
		t.Fatal(err)
	}
	e := newCLIEnv(t)
	e.providers = reg
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339, s); return v }
	api := &toytest.Server{Token: "toy-secret-token", Calls: []toytest.Call{
		{ID: "t1", Agent: "a1", Start: at("2026-08-03T09:00:00Z"), Seconds: 100, Direction: "inbound", Answered: true},
		{ID: "t2", Agent: "a1", Start: at("2026-08-03T19:00:00Z"), Seconds: 50, Direction: "outbound", Note: "a complaint about billing"},
		{ID: "t3", Agent: "a1", Start: at("2026-08-04T10:00:00Z"), Seconds: 31, Direction: "inbound", Note: "issue fixed"},
		{ID: "t4", Agent: "a2", Start: at("2026-08-05T07:00:00Z"), Seconds: 200, Direction: "inbound", Answered: true},
		{ID: "t5", Agent: "a9", Start: at("2026-08-06T12:00:00Z"), Seconds: 10, Direction: "outbound"},
		{ID: "t6", Agent: "a1", Start: at("2026-07-31T12:00:00Z"), Seconds: 10, Direction: "outbound"},
	}}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	dir := t.TempDir()

	e.ok(t, "org", "add", "--org", "initech", "--provider", "toy")
	_, err = e.fail(t, "org", "connect", "--org", "initech", "--api-id", "x")
	mustContain(t, "Aircall flag on a toy org", err.Error(), "--api-id is an Aircall flag; org initech uses Toy",
		"Toy needs --toy-token-file (Toy → Settings → Token)")
	e.ok(t, "org", "connect", "--org", "initech", "--toy-token-file", writeFile(t, dir, "token", api.Token), "--api-url", srv.URL)
	e.ok(t, "employees", "import", "--org", "initech", writeFile(t, dir, "roster.csv",
		"employee_id,name,email,cohort,provider_user_id\nE1,Ann,ann@initech.test,support,a1\nE2,Bob,bob@initech.test,support,a2\n"))
	e.ok(t, "cycles", "add", "--org", "initech", "--cycle", "2026-08", "--start", "2026-08-01", "--end", "2026-09-01")
	e.ok(t, "sync", "--org", "initech", "--from", "2026-08-01", "--to", "2026-09-01")
	e.ok(t, "run", "--until-idle")

	// The expected numbers, computed from the served calls with the rules.
	for _, emp := range []struct{ id, agent string }{{"E1", "a1"}, {"E2", "a2"}} {
		var want struct{ total, in, out, dur, after, esc, res uint64 }
		for _, c := range api.Calls {
			if c.Agent != emp.agent || c.Start.Month() != time.August {
				continue
			}
			want.total++
			if c.Direction == "inbound" {
				want.in++
			} else {
				want.out++
			}
			want.dur += uint64(c.Seconds)
			notes := []string{c.Note}
			if h := c.Start.UTC().Hour(); h < 8 || h >= 18 { // after hours: before 08:00 or from 18:00 UTC
				want.after++
			}
			if containsAnyFold(notes, transform.EscalationKeywords) {
				want.esc++
			}
			if c.Answered || containsAnyFold(notes, transform.ResolutionKeywords) {
				want.res++
			}
		}
		var got map[string]any
		out := e.ok(t, "review", "--org", "initech", "--employee", emp.id, "--cycle", "2026-08", "--format", "json")
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("review %s: %v\n%s", emp.id, err, out)
		}
		avg := (2*want.dur + want.total) / (2 * want.total)
		wantMap := map[string]uint64{"total_calls": want.total, "inbound_calls": want.in, "outbound_calls": want.out,
			"avg_duration_sec": avg, "after_hours_calls": want.after, "escalated_calls": want.esc, "resolved_calls": want.res}
		for k, v := range wantMap {
			if g := fmt.Sprint(got[k]); g != fmt.Sprint(v) {
				t.Errorf("review %s: %s = %s, want %d\n%s", emp.id, k, g, v, out)
			}
		}
	}

	out, err := e.run(t, "doctor", "--org", "initech")
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	mustContain(t, "doctor", out, "toy accepted the stored credentials", "2 employees, 2 mapped to their Toy agent id",
		"1 Toy agents have calls but no employee mapping: [a9 (1 calls)]")
	e.assertNoSecret(t, api.Token)
}

func containsAnyFold(texts, keywords []string) bool {
	for _, t := range texts {
		for _, k := range keywords {
			if strings.Contains(strings.ToLower(t), k) {
				return true
			}
		}
	}
	return false
}
