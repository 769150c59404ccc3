package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// faultyAircall wraps the simulated Aircall: after failAfter call
// listings it answers 401 (a sync stopped mid-cycle), and it serves the
// calls of broken with a direction the decoder refuses (dead letters).
type faultyAircall struct {
	next http.Handler

	mu        sync.Mutex
	listings  int
	failAfter int // 0: never
	broken    map[string]bool
}

func (f *faultyAircall) set(failAfter int, broken map[string]bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listings, f.failAfter, f.broken = 0, failAfter, broken
}

func (f *faultyAircall) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/calls") && !strings.HasSuffix(r.URL.Path, "/calls/search") {
		f.next.ServeHTTP(w, r)
		return
	}
	f.mu.Lock()
	f.listings++
	fail := f.failAfter > 0 && f.listings > f.failAfter
	broken := f.broken
	f.mu.Unlock()
	if fail {
		http.Error(w, `{"error":"Unauthorized","troubleshoot":"the sync is cut off here"}`, http.StatusUnauthorized)
		return
	}
	rec := httptest.NewRecorder()
	f.next.ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if len(broken) > 0 && rec.Code == http.StatusOK {
		body = breakCalls(body, broken)
	}
	for k, v := range rec.Header() {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(rec.Code)
	_, _ = io.Copy(w, bytes.NewReader(body))
}

// breakCalls gives the listed calls of broken an "internal" direction.
func breakCalls(body []byte, broken map[string]bool) []byte {
	var page map[string]json.RawMessage
	if json.Unmarshal(body, &page) != nil {
		return body
	}
	var calls []map[string]json.RawMessage
	if json.Unmarshal(page["calls"], &calls) != nil {
		return body
	}
	for _, c := range calls {
		if broken[strings.Trim(string(c["id"]), `"`)] {
			c["direction"] = json.RawMessage(`"internal"`)
		}
	}
	page["calls"], _ = json.Marshal(calls)
	out, _ := json.Marshal(page)
	return out
}

// coverageJSONOf is the coverage object of a JSON review.
type coverageJSONOf struct {
	Status          string   `json:"status"`
	CompleteThrough *string  `json:"complete_through"`
	WindowsMissing  int      `json:"windows_missing"`
	WindowsFailed   int      `json:"windows_failed"`
	DeadLetterCalls int      `json:"dead_letter_calls"`
	UnmappedCalls   int      `json:"unmapped_calls"`
	UnmappedUsers   int      `json:"unmapped_users"`
	CallsSeen       int      `json:"calls_seen"`
	NewestCall      *string  `json:"newest_call"`
	Webhooks        bool     `json:"webhooks"`
	LastWebhook     *string  `json:"last_webhook"`
	Problems        []string `json:"problems"`
	Fix             string   `json:"fix"`
}

// TestCLIReviewCoverage kills a sync mid-cycle, dead-letters some calls and
// leaves a user unmapped: every review format says so with the right counts
// (text, JSON, CSV), and each clears once fixed.
func TestCLIReviewCoverage(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()
	sep := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	org := fixture.Generate(fixture.Spec{Seed: 23, Org: "acme", Provider: fixture.Aircall, Start: sep, Days: 30, Employees: 6, UnmappedUsers: 1, CallsPerDay: 6})
	fake := aircalltest.NewFake(org, aircalltest.FakeOptions{RateLimitPerMinute: 100000, Now: func() time.Time { return org.End.Add(24 * time.Hour) }})
	faults := &faultyAircall{next: fake}
	api := httptest.NewServer(faults)
	t.Cleanup(api.Close)

	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	e.ok(t, "org", "connect", "--org", "acme", "--api-id", "id", "--api-token-file", writeFile(t, dir, "tok", "token"),
		"--api-url", api.URL+"/v1", "--setting", "rate_limit=100000")
	e.ok(t, "employees", "import", "--org", "acme", writeFile(t, dir, "roster.csv", rosterCSV(t, org.Employees)))
	e.ok(t, "cycles", "add", "--org", "acme", "--cycle", "2026-09", "--start", "2026-09-01", "--end", "2026-10-01")

	unmapped := org.Users[len(org.Employees)].ID
	broken := map[string]bool{}
	for _, c := range org.Calls {
		if c.UserID == org.Employees[0].ProviderUserID && c.StartedAt.Before(sep.AddDate(0, 0, 3)) && len(broken) < 3 {
			broken[strconv.FormatInt(c.ID, 10)] = true
		}
	}
	if len(broken) != 3 {
		t.Fatalf("fixture has %d calls of %s in the first days", len(broken), org.Employees[0].ID)
	}
	// count is the fixture's calls started in [sep, through) that pass keep.
	count := func(through time.Time, keep func(fixture.Call) bool) int {
		n := 0
		for _, c := range org.CallsIn(sep, through) {
			if keep(c) {
				n++
			}
		}
		return n
	}
	ofUnmapped := func(c fixture.Call) bool { return c.UserID == unmapped }
	isBroken := func(c fixture.Call) bool { return broken[strconv.FormatInt(c.ID, 10)] }

	// 1. The sync is cut off after 10 listings, with 3 calls undecodable.
	faults.set(10, broken)
	_, err := e.fail(t, "sync", "--org", "acme", "--cycle", "2026-09")
	mustContain(t, "the cut-off sync", err.Error(), "401")
	e.ok(t, "run", "--until-idle")
	cov, text := reviewCoverage(t, e)
	if cov.CompleteThrough == nil {
		t.Fatalf("after a cut-off sync nothing is complete: %+v", cov)
	}
	through, err := time.Parse(time.RFC3339, *cov.CompleteThrough)
	if err != nil || !through.After(sep) || !through.Before(sep.AddDate(0, 0, 20)) {
		t.Fatalf("complete_through %v after 10 of 30 daily windows", *cov.CompleteThrough)
	}
	checkCoverage(t, "cut-off sync", cov, coverageJSONOf{Status: "incomplete", WindowsMissing: 1, WindowsFailed: 1,
		DeadLetterCalls: count(through, isBroken), UnmappedCalls: count(through, ofUnmapped), UnmappedUsers: 1,
		Fix: "phonesignals sync --org acme --cycle 2026-09"})
	mustContain(t, "review text of a cut-off sync", text,
		"status:                       incomplete\n",
		"incomplete: "+*cov.CompleteThrough+" to 2026-10-01T00:00:00Z missing (sync failed: ",
		"; fix: phonesignals sync --org acme --cycle 2026-09\n",
		fmt.Sprintf("dead_letter_calls:%22d\n", count(through, isBroken)),
		"calls were dead-lettered and are not counted; fix: phonesignals dlq list --org acme",
		"provider users mapped to no employee are not counted; fix: map them with phonesignals employees import --org acme")

	// 2. The sync resumes and finishes: complete, the dead letters stay.
	faults.set(0, broken)
	e.ok(t, "sync", "--org", "acme", "--cycle", "2026-09")
	e.ok(t, "run", "--until-idle")
	cov, text = reviewCoverage(t, e)
	end := sep.AddDate(0, 1, 0)
	all := func(fixture.Call) bool { return true }
	checkCoverage(t, "finished sync", cov, coverageJSONOf{Status: "complete", DeadLetterCalls: 3,
		UnmappedCalls: count(end, ofUnmapped), UnmappedUsers: 1, CallsSeen: count(end, all) - 3})
	if strings.Contains(text, "incomplete") || !strings.Contains(text, "complete_through:   2026-10-01T00:00:00Z\n") {
		t.Errorf("review text of a finished sync:\n%s", text)
	}

	// 3. The provider serves the calls right again: they load, and no
	// dead letter is left.
	faults.set(0, nil)
	e.ok(t, "sync", "--org", "acme", "--cycle", "2026-09", "--restart")
	e.ok(t, "run", "--until-idle")
	cov, _ = reviewCoverage(t, e)
	checkCoverage(t, "calls fixed", cov, coverageJSONOf{Status: "complete", UnmappedCalls: count(end, ofUnmapped), UnmappedUsers: 1, CallsSeen: count(end, all)})

	// 4. The unmapped user is mapped: nothing left to say.
	roster := append(append([]fixture.Employee(nil), org.Employees...), fixture.Employee{ID: "E900", Name: "Una", Cohort: org.Employees[0].Cohort, ProviderUserID: unmapped})
	e.ok(t, "employees", "import", "--org", "acme", writeFile(t, dir, "roster2.csv", rosterCSV(t, roster)))
	cov, text = reviewCoverage(t, e)
	checkCoverage(t, "user mapped", cov, coverageJSONOf{Status: "complete", CallsSeen: count(end, all)})
	if len(cov.Problems) != 0 || strings.Contains(text, "fix:") {
		t.Errorf("a complete cycle still names problems: %q\n%s", cov.Problems, text)
	}
	csvOut := e.ok(t, "review", "--org", "acme", "--cycle", "2026-09", "--format", "csv")
	lines := strings.Split(strings.TrimSpace(csvOut), "\n")
	// The coverage columns, last_webhook empty (this org has no webhooks);
	// the talk-time columns follow them.
	if !strings.Contains(lines[0], ",coverage_status,complete_through,windows_missing,windows_failed,dead_letter_calls,unmapped_calls,newest_call,last_webhook,") ||
		!regexp.MustCompile(`,complete,2026-10-01T00:00:00Z,0,0,0,0,2026-09-[0-9T:]+Z,,`).MatchString(lines[1]) {
		t.Errorf("review csv:\n%s", csvOut)
	}
}

// reviewCoverage is the coverage of E001's JSON review of 2026-09 and the
// text review (after the seed's blocks).
func reviewCoverage(t *testing.T, e *cliEnv) (coverageJSONOf, string) {
	t.Helper()
	out := e.ok(t, "review", "--org", "acme", "--employee", "E001", "--cycle", "2026-09", "--format", "json")
	var r struct {
		Coverage coverageJSONOf `json:"coverage"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("review json: %v\n%s", err, out)
	}
	text := e.ok(t, "review", "--org", "acme", "--employee", "E001", "--cycle", "2026-09")
	_, cov, ok := strings.Cut(text, "\n[COVERAGE]\n")
	if !ok || !strings.HasPrefix(text, "[PHONE DATA]\n") {
		t.Fatalf("review text has no [COVERAGE] block after the seed's:\n%s", text)
	}
	return r.Coverage, cov
}

// checkCoverage compares the counts (CallsSeen only when want has some).
func checkCoverage(t *testing.T, step string, got, want coverageJSONOf) {
	t.Helper()
	if want.CallsSeen == 0 {
		want.CallsSeen = got.CallsSeen
	}
	g := fmt.Sprintf("%s missing %d failed %d dead %d unmapped %d/%d seen %d fix %q webhooks %v %v",
		got.Status, got.WindowsMissing, got.WindowsFailed, got.DeadLetterCalls, got.UnmappedCalls, got.UnmappedUsers, got.CallsSeen, got.Fix, got.Webhooks, got.LastWebhook)
	w := fmt.Sprintf("%s missing %d failed %d dead %d unmapped %d/%d seen %d fix %q webhooks false <nil>",
		want.Status, want.WindowsMissing, want.WindowsFailed, want.DeadLetterCalls, want.UnmappedCalls, want.UnmappedUsers, want.CallsSeen, want.Fix)
	if g != w {
		t.Errorf("%s: coverage\n got  %s\n want %s", step, g, w)
	}
	if got.NewestCall == nil {
		t.Errorf("%s: no newest call", step)
	}
}
