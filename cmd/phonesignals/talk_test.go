package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// TestCLIReviewTalkTime checks the talk-time numbers through the binary:
// the seed's text block stays as it was, `--extended` adds the talk-time
// lines after the seed's lines of each block, and JSON and CSV carry them,
// every number equal to the independent computation (fixture.Truth).
func TestCLIReviewTalkTime(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()
	org := fixture.Generate(fixture.Spec{Seed: 5, Org: "acme", Provider: fixture.Aircall, Employees: 9, UnmappedUsers: 1, Days: 30, CallsPerDay: 6})
	now := org.End.Add(24 * time.Hour)
	fake := aircalltest.NewFake(org, aircalltest.FakeOptions{APIID: "id", APIToken: "tok", RateLimitPerMinute: 100000, Now: func() time.Time { return now }})
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	e.ok(t, "migrate")
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	e.ok(t, "org", "connect", "--org", "acme", "--api-id", "id", "--api-token-file", writeFile(t, dir, "token", "tok"),
		"--api-url", api.URL+"/v1", "--setting", "rate_limit=100000")
	e.ok(t, "employees", "import", "--org", "acme", writeFile(t, dir, "roster.csv", rosterCSV(t, org.Employees)))
	cy := org.Cycles[0]
	e.ok(t, "cycles", "add", "--org", "acme", "--cycle", cy.ID, "--start", cy.Start.Format(time.DateOnly), "--end", cy.End.Format(time.DateOnly))
	e.ok(t, "sync", "--org", "acme", "--from", org.Start.Format(time.DateOnly), "--to", org.End.Format(time.DateOnly))
	e.ok(t, "run", "--until-idle")

	want, base := org.Truth(cy.Start, cy.End)
	emp := org.Employees[0]
	m, b := want[emp.ID], base[emp.Cohort]
	if m.AnsweredCalls == 0 || m.TalkTimeSec == 0 || !m.AnswerTimeAvailable || wantMedian(b) == nil {
		t.Fatalf("fixture too thin: %+v", m)
	}
	plain := e.ok(t, "review", "--org", "acme", "--employee", emp.ID, "--cycle", cy.ID)
	if !strings.HasPrefix(plain, reviewText(m, true, b)+"\n[COVERAGE]\n") || strings.Contains(plain, "answered_calls") {
		t.Errorf("review without --extended is not the seed's block:\n%s", plain)
	}
	ext := e.ok(t, "review", "--org", "acme", "--employee", emp.ID, "--cycle", cy.ID, "--extended")
	phone := fmt.Sprintf("resolved_calls:%*d\n", 24-len("resolved_calls"), m.ResolvedCalls)
	for _, l := range []struct {
		name, value string
	}{{"answered_calls", strconv.Itoa(m.AnsweredCalls)}, {"missed_calls", strconv.Itoa(m.MissedCalls)},
		{"voicemail_calls", strconv.Itoa(m.VoicemailCalls)}, {"talk_time_sec", strconv.Itoa(m.TalkTimeSec)},
		{"avg_talk_sec", strconv.Itoa(m.AvgTalkSec)}, {"avg_answer_sec", strconv.Itoa(m.AvgAnswerSec)}} {
		phone += seedLine(l.name, l.value)
	}
	med := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	baseLines := fmt.Sprintf("median_total_calls:%*s\n", 24-len("median_total_calls"), medianText(b))
	for _, l := range [][2]string{{"median_answered_calls", med(b.MedianAnsweredCalls)}, {"median_missed_calls", med(b.MedianMissedCalls)},
		{"median_voicemail_calls", med(b.MedianVoicemailCalls)}, {"median_talk_time_sec", med(b.MedianTalkTimeSec)}, {"median_avg_talk_sec", med(b.MedianAvgTalkSec)}} {
		baseLines += seedLine(l[0], l[1])
	}
	if !strings.Contains(ext, phone+"\n[BASELINES]\n") || !strings.Contains(ext, baseLines+"\n[COVERAGE]\n") {
		t.Errorf("review --extended:\n%s\nwant the lines\n%s\nand\n%s", ext, phone, baseLines)
	}

	var j map[string]any
	if err := json.Unmarshal([]byte(e.ok(t, "review", "--org", "acme", "--employee", emp.ID, "--cycle", cy.ID, "--format", "json")), &j); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"answered_calls": float64(m.AnsweredCalls), "missed_calls": float64(m.MissedCalls),
		"voicemail_calls": float64(m.VoicemailCalls), "talk_time_sec": float64(m.TalkTimeSec), "avg_talk_sec": float64(m.AvgTalkSec),
		"avg_answer_sec": float64(m.AvgAnswerSec), "answer_time_available": true, "median_answered_calls": b.MedianAnsweredCalls,
		"median_talk_time_sec": b.MedianTalkTimeSec, "median_avg_talk_sec": b.MedianAvgTalkSec} {
		if j[k] != v {
			t.Errorf("review --format json: %s = %v, want %v", k, j[k], v)
		}
	}

	rows, err := csv.NewReader(strings.NewReader(e.ok(t, "review", "--org", "acme", "--cycle", cy.ID, "--format", "csv"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "talk_time_sec")
	idCol := slices.Index(rows[0], "employee_id")
	if col < 0 || len(rows) != len(org.Employees)+1 {
		t.Fatalf("review --format csv: header %q, %d rows", rows[0], len(rows))
	}
	for _, r := range rows[1:] {
		if r[col] != strconv.Itoa(want[r[idCol]].TalkTimeSec) {
			t.Errorf("csv %s talk_time_sec %s, want %d", r[idCol], r[col], want[r[idCol]].TalkTimeSec)
		}
	}
}

// seedLine is a `name:` line with the value right-aligned to column 25,
// one blank at least.
func seedLine(name, value string) string {
	return name + ":" + strings.Repeat(" ", max(1, 24-len(name)-len(value))) + value + "\n"
}
