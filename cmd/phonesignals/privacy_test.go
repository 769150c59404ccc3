package main

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/internal/review"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// wantMedian is the median a review shows for a cohort under the default
// privacy floor: none (null, n/a) for a cohort smaller than
// store.DefaultMinCohort.
func wantMedian(b fixture.Baseline) *float64 {
	if b.Size < store.DefaultMinCohort {
		return nil
	}
	m := b.MedianTotalCall
	return &m
}

// medianText is the median line's value under the default floor.
func medianText(b fixture.Baseline) string {
	if m := wantMedian(b); m != nil {
		return strconv.FormatFloat(*m, 'f', -1, 64)
	}
	return review.NotAvailable
}

// withoutCoverage is a JSON review without its coverage object, which
// says when it was computed and which syncs ran: the numbers only.
func withoutCoverage(t *testing.T, review string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(review), &m); err != nil {
		t.Fatalf("review JSON: %v\n%s", err, review)
	}
	if _, ok := m["coverage"]; !ok {
		t.Fatalf("review JSON has no coverage:\n%s", review)
	}
	delete(m, "coverage")
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(out) + "\n"
}

// privacyOrg is org acme of fixture org, synced and loaded through the
// CLI, with cycle 2026-09.
func privacyOrg(t *testing.T, e *cliEnv, org *fixture.Org) {
	t.Helper()
	dir := t.TempDir()
	fake := aircalltest.NewFake(org, aircalltest.FakeOptions{RateLimitPerMinute: 100000, Now: func() time.Time { return org.End.Add(24 * time.Hour) }})
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	e.ok(t, "org", "connect", "--org", "acme", "--api-id", "id", "--api-token-file", writeFile(t, dir, "tok", "token"),
		"--api-url", api.URL+"/v1", "--setting", "rate_limit=100000")
	e.ok(t, "employees", "import", "--org", "acme", writeFile(t, dir, "roster.csv", rosterCSV(t, org.Employees)))
	e.ok(t, "cycles", "add", "--org", "acme", "--cycle", "2026-09", "--start", "2026-09-01", "--end", "2026-10-01")
	e.ok(t, "sync", "--org", "acme", "--cycle", "2026-09")
	e.ok(t, "run", "--until-idle")
}

// employeeNumbers are each employee's own numbers in the JSON review of
// the cycle (no cohort or coverage), by employee id.
func employeeNumbers(t *testing.T, e *cliEnv) map[string]string {
	t.Helper()
	var all []map[string]any
	out := e.ok(t, "review", "--org", "acme", "--cycle", "2026-09", "--format", "json")
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatalf("review json: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, r := range all {
		// The cohort's numbers change with its members: every median.
		for k := range r {
			if strings.HasPrefix(k, "median_") || k == "cohort" || k == "cohort_size" || k == "min_cohort" || k == "coverage" {
				delete(r, k)
			}
		}
		b, _ := json.Marshal(r)
		got[r["employee_id"].(string)] = string(b)
	}
	return got
}

// dumpTables is every table of the test database as TabSeparated text,
// merged (OPTIMIZE FINAL) and sorted, so background merges do not show.
func dumpTables(t *testing.T, e *cliEnv) map[string]string {
	t.Helper()
	dump := map[string]string{}
	for _, tb := range strings.Fields(e.query(t, "SELECT name FROM system.tables WHERE database = '"+e.db+"' AND engine LIKE '%MergeTree' ORDER BY name")) {
		e.query(t, "OPTIMIZE TABLE "+e.db+"."+tb+" FINAL")
		lines := strings.Split(e.query(t, "SELECT * FROM "+e.db+"."+tb+" FORMAT TabSeparated"), "\n")
		sort.Strings(lines)
		dump[tb] = strings.Join(lines, "\n")
	}
	return dump
}

// TestCLIEmployeesForget erases an employee: --dry-run says what would go
// and changes nothing; then no table holds the provider user's id or any of
// their calls, the other employees' numbers are unchanged, the cohort is
// recomputed and the aggregates are exact, and the erasure log says what
// and when, never whose.
func TestCLIEmployeesForget(t *testing.T) {
	e := newCLIEnv(t)
	sep := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	org := fixture.Generate(fixture.Spec{Seed: 31, Org: "acme", Provider: fixture.Aircall, Start: sep, Days: 30, Employees: 8, UnmappedUsers: 1,
		CallsPerDay: 5, Cohorts: []string{"support", "sdr"}})
	privacyOrg(t, e, org)
	victim := org.Employees[0]
	user := victim.ProviderUserID
	var calls []string
	for _, c := range org.Calls {
		if c.UserID == user && !c.StartedAt.Before(sep) && c.StartedAt.Before(org.End) {
			calls = append(calls, strconv.FormatInt(c.ID, 10))
		}
	}
	if len(calls) < 10 {
		t.Fatalf("fixture gives %s only %d calls", victim.ID, len(calls))
	}
	// Records that name the user or their calls, as the pipeline writes them.
	e.query(t, fmt.Sprintf("INSERT INTO %s.call_transcripts (org, call_id, idx, speaker, text, fetched_at) VALUES ('acme', '%s', 0, 'agent', 'hello', now()), ('acme', '%s', 1, 'agent', 'bye', now())", e.db, calls[0], calls[0]))
	e.query(t, fmt.Sprintf("INSERT INTO %s.transcript_events (org, call_id, status, reason, at) VALUES ('acme', '%s', 'failed', '404', now())", e.db, calls[1]))
	e.query(t, fmt.Sprintf("INSERT INTO %s.dead_letters (org, provider, call_id, topic, partition, offset, reason, at) VALUES ('acme', 'aircall', '%s', 'dead', 0, 9, 'decode: user %s: bad', now())", e.db, calls[2], user))
	e.query(t, fmt.Sprintf("INSERT INTO %s.dead_letter_replays (org, origin, reason, call_id, replayed_at) VALUES ('acme', 'raw/0/9', 'decode', '%s', now())", e.db, calls[2]))
	e.query(t, fmt.Sprintf("INSERT INTO %s.sync_runs (org, run_id, provider, status, error) VALUES ('acme', 'r-x', 'aircall', 'error', 'user %s: HTTP 500')", e.db, user))

	before := employeeNumbers(t, e)
	dump := dumpTables(t, e)
	if !strings.Contains(dump["raw_signals"], "\t"+user+"\t") {
		t.Fatalf("the user's calls are not loaded")
	}

	out := e.ok(t, "employees", "forget", "--org", "acme", "--employee", victim.ID, "--dry-run")
	mustContain(t, "forget --dry-run", out, "would forget (dry run, nothing changed): employee "+victim.ID+" of org acme: provider user "+user+", "+strconv.Itoa(len(calls))+" calls",
		"raw_signals ", "call_transcripts 2", "transcript_events 1", "dead_letters 1", "dead_letter_replays 1", "user_day_metrics ", "employees 1")
	if after := dumpTables(t, e); fmt.Sprint(after) != fmt.Sprint(dump) {
		t.Fatal("forget --dry-run changed the store")
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--employee", "E999"}, "employees list --org acme"},
		{[]string{"--employee", " "}, "--employee is empty"},
		{[]string{"--employee", victim.ID, "--reference", "erase " + victim.ID}, "names the employee or their provider user"},
	} {
		_, err := e.fail(t, append([]string{"employees", "forget", "--org", "acme"}, tt.args...)...)
		mustContain(t, "forget "+strings.Join(tt.args, " "), err.Error(), tt.want)
	}
	_, err := e.fail(t, "employees", "forget", "--org", "no such org", "--employee", victim.ID)
	mustContain(t, "forget in a bad org", err.Error(), "org")

	out = e.ok(t, "employees", "forget", "--org", "acme", "--employee", victim.ID, "--reference", "DSR-7")
	t.Logf("forget:\n%s", out)
	mustContain(t, "forget", out, "forgot employee "+victim.ID+" of org acme", "logged as erasure ")

	// No table holds the user's id or any of their calls.
	word := regexp.MustCompile(`(^|[^0-9A-Za-z])` + regexp.QuoteMeta(user) + `([^0-9A-Za-z]|$)`)
	isCall := map[string]bool{}
	for _, c := range calls {
		isCall[c] = true
	}
	for tb, d := range dumpTables(t, e) {
		for _, field := range strings.FieldsFunc(d, func(r rune) bool { return r == '\t' || r == '\n' }) {
			if word.MatchString(field) || isCall[field] || field == victim.ID {
				t.Errorf("table %s still holds %q after forget", tb, field)
			}
		}
	}
	// The others' numbers are unchanged; the victim is gone; the aggregates
	// are exact.
	after := employeeNumbers(t, e)
	if _, ok := after[victim.ID]; ok || len(after) != len(before)-1 {
		t.Errorf("after forget the review lists %d employees (victim listed: %v)", len(after), ok)
	}
	for id, nums := range after {
		if before[id] != nums {
			t.Errorf("employee %s's numbers changed:\n before %s\n after  %s", id, before[id], nums)
		}
	}
	_, err = e.fail(t, "review", "--org", "acme", "--employee", victim.ID, "--cycle", "2026-09")
	mustContain(t, "review of a forgotten employee", err.Error(), "not found")
	if out := e.ok(t, "aggregates", "verify", "--org", "acme"); !strings.Contains(out, "org acme: exact") {
		t.Errorf("aggregates verify after forget:\n%s", out)
	}
	checkCohortRecomputed(t, e, org, victim)

	// The log says what and when, never whose.
	out = e.ok(t, "org", "privacy", "--org", "acme")
	t.Logf("org privacy:\n%s", out)
	mustContain(t, "org privacy", out, "min cohort 3", "retention off", "employee", "DSR-7", strconv.Itoa(len(calls)))
	if strings.Contains(out, user) || strings.Contains(out, victim.ID) {
		t.Errorf("the erasure log names whom it erased:\n%s", out)
	}
	_, err = e.fail(t, "employees", "forget", "--org", "acme", "--employee", victim.ID)
	mustContain(t, "forget twice", err.Error(), "not found")
}

// checkCohortRecomputed: the victim's cohort is one smaller, with the
// median of the others' total calls.
func checkCohortRecomputed(t *testing.T, e *cliEnv, org *fixture.Org, victim fixture.Employee) {
	t.Helper()
	rest := *org
	rest.Employees = nil
	for _, emp := range org.Employees {
		if emp.ID != victim.ID {
			rest.Employees = append(rest.Employees, emp)
		}
	}
	_, base := rest.Truth(time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	b := base[victim.Cohort]
	var all []reviewJSON
	if err := json.Unmarshal([]byte(e.ok(t, "review", "--org", "acme", "--cycle", "2026-09", "--format", "json")), &all); err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		if r.Cohort != victim.Cohort {
			continue
		}
		if r.CohortSize != b.Size || jsonString(t, r.MedianTotalCalls) != jsonString(t, wantMedian(b)) {
			t.Errorf("cohort %s after forget: size %d median %s, want %d %s", r.Cohort, r.CohortSize, jsonString(t, r.MedianTotalCalls), b.Size, jsonString(t, wantMedian(b)))
		}
		return
	}
	t.Errorf("no employee of cohort %s left", victim.Cohort)
}

// TestCLIPrivacyFloor: below the org's minimum cohort size the medians are
// n/a with the reason, in text, JSON and CSV; the setting is checked.
func TestCLIPrivacyFloor(t *testing.T) {
	e := newCLIEnv(t)
	sep := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	org := fixture.Generate(fixture.Spec{Seed: 37, Org: "acme", Provider: fixture.Aircall, Start: sep, Days: 30, Employees: 7, UnmappedUsers: 1,
		CallsPerDay: 3, Cohorts: []string{"support", "sdr"}})
	privacyOrg(t, e, org)
	_, base := org.Truth(sep, sep.AddDate(0, 1, 0))
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--min-cohort", "0"}, "--min-cohort 0: want a cohort size from 1"},
		{[]string{"--min-cohort", "5000"}, "--min-cohort 5000"},
		{[]string{"--retention", "24m"}, "months are mo: 24mo"},
		{[]string{"--retention", "0d"}, "must be at least 1d"},
	} {
		_, err := e.fail(t, append([]string{"org", "privacy", "--org", "acme"}, tt.args...)...)
		mustContain(t, "org privacy "+strings.Join(tt.args, " "), err.Error(), tt.want)
	}
	_, err := e.fail(t, "org", "privacy", "--org", "globex", "--min-cohort", "2")
	mustContain(t, "org privacy of a missing org", err.Error(), "org add --org globex")

	for _, floor := range []int{store.DefaultMinCohort, 1, 4, 100} {
		if floor != store.DefaultMinCohort {
			mustContain(t, "org privacy", e.ok(t, "org", "privacy", "--org", "acme", "--min-cohort", strconv.Itoa(floor)), fmt.Sprintf("min cohort %d", floor))
		}
		var all []map[string]any
		if err := json.Unmarshal([]byte(e.ok(t, "review", "--org", "acme", "--cycle", "2026-09", "--format", "json")), &all); err != nil {
			t.Fatal(err)
		}
		csvOut := e.ok(t, "review", "--org", "acme", "--cycle", "2026-09", "--format", "csv")
		for _, r := range all {
			b := base[r["cohort"].(string)]
			below := b.Size < floor
			if (r["median_total_calls"] == nil) != below || (r["median_na_reason"] != "") != below || r["min_cohort"] != float64(floor) {
				t.Errorf("floor %d, cohort %s of %d: median %v reason %q min_cohort %v", floor, b.Cohort, b.Size, r["median_total_calls"], r["median_na_reason"], r["min_cohort"])
			}
			if !below && r["median_total_calls"] != b.MedianTotalCall {
				t.Errorf("floor %d, cohort %s: median %v, want %v", floor, b.Cohort, r["median_total_calls"], b.MedianTotalCall)
			}
			reason := fmt.Sprintf("cohort of %d is below the minimum cohort size of %d", b.Size, floor)
			if below != strings.Contains(csvOut, ","+reason+",") {
				t.Errorf("floor %d: csv reason %q present %v, want %v:\n%s", floor, reason, !below, below, csvOut)
			}
			text := e.ok(t, "review", "--org", "acme", "--cycle", "2026-09", "--employee", r["employee_id"].(string))
			if below != strings.Contains(text, "median_total_calls:   n/a\n") || below != strings.Contains(text, "median_total_calls is n/a: "+reason) {
				t.Errorf("floor %d, cohort %s of %d: text\n%s", floor, b.Cohort, b.Size, text)
			}
		}
		// The view an analyst reads applies the same floor.
		view := e.query(t, "SELECT cohort, cohort_size, min_cohort, ifNull(toString(median_total_calls), 'NULL'), median_na_reason FROM "+e.db+
			".cohort_cycle_baselines_published WHERE org = 'acme' AND cycle_id = '2026-09' ORDER BY cohort FORMAT TabSeparated")
		for _, line := range strings.Split(strings.TrimRight(view, "\n"), "\n") {
			f := strings.Split(line, "\t")
			b := base[f[0]]
			below := b.Size < floor
			if f[1] != strconv.Itoa(b.Size) || f[2] != strconv.Itoa(floor) || (f[3] == "NULL") != below || (f[4] != "") != below {
				t.Errorf("floor %d: cohort_cycle_baselines_published row %q", floor, f)
			}
		}
	}
}

// TestCLIRetention: `org privacy --retention` and `retention apply` delete
// the calls started before the cutoff with their aggregates; --dry-run
// changes nothing; what is left is exact and the old cycle says expired.
func TestCLIRetention(t *testing.T) {
	e := newCLIEnv(t)
	sep := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	org := fixture.Generate(fixture.Spec{Seed: 41, Org: "acme", Provider: fixture.Aircall, Start: sep, Days: 30, Employees: 6, UnmappedUsers: 1,
		CallsPerDay: 4, Cohorts: []string{"support", "sdr"}})
	privacyOrg(t, e, org)
	out := e.ok(t, "retention", "apply")
	mustContain(t, "retention apply with none set", out, "no org has a retention")
	_, err := e.fail(t, "retention", "apply", "--org", "acme")
	mustContain(t, "retention apply of an org without one", err.Error(), "keeps its calls forever", "--retention 24mo")

	// A retention in days whose cutoff is 2026-09-15 00:00 UTC today.
	cutoff := time.Date(2026, 9, 15, 0, 0, 0, 0, time.UTC)
	now := time.Now().UTC()
	days := int(time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).Sub(cutoff).Hours() / 24)
	if days < 1 {
		t.Skipf("the clock says %s: the fixture's September is not in the past", now)
	}
	mustContain(t, "org privacy --retention", e.ok(t, "org", "privacy", "--org", "acme", "--retention", strconv.Itoa(days)+"d"),
		"retention "+strconv.Itoa(days)+"d", "calls started before 2026-09-15 go")
	expired := len(org.CallsIn(sep, cutoff))
	dump := dumpTables(t, e)
	out = e.ok(t, "retention", "apply", "--org", "acme", "--dry-run")
	mustContain(t, "retention apply --dry-run", out, fmt.Sprintf("would delete (dry run, nothing changed): %d calls started before 2026-09-15", expired))
	if fmt.Sprint(dumpTables(t, e)) != fmt.Sprint(dump) {
		t.Fatal("retention apply --dry-run changed the store")
	}
	out = e.ok(t, "retention", "apply")
	t.Logf("retention apply:\n%s", out)
	mustContain(t, "retention apply", out, fmt.Sprintf("deleted %d calls started before 2026-09-15", expired), "logged as erasure")
	if n := strings.TrimSpace(e.query(t, "SELECT count() FROM "+e.db+".raw_signals WHERE started_at < '2026-09-15 00:00:00'")); n != "0" {
		t.Errorf("%s raw_signals rows older than the cutoff are left", n)
	}
	if n := strings.TrimSpace(e.query(t, "SELECT count() FROM "+e.db+".user_day_metrics WHERE day < '2026-09-15'")); n != "0" {
		t.Errorf("%s aggregate rows older than the cutoff are left", n)
	}
	// What is left counts exactly the calls from the cutoff on.
	want, _ := org.Truth(cutoff, sep.AddDate(0, 1, 0))
	for id, nums := range employeeNumbers(t, e) {
		var got struct {
			TotalCalls int `json:"total_calls"`
		}
		_ = json.Unmarshal([]byte(nums), &got)
		if got.TotalCalls != want[id].TotalCalls {
			t.Errorf("after retention %s has %d calls, want %d (those from the cutoff on)", id, got.TotalCalls, want[id].TotalCalls)
		}
	}
	if out := e.ok(t, "aggregates", "verify", "--org", "acme"); !strings.Contains(out, "org acme: exact") {
		t.Errorf("aggregates verify after retention:\n%s", out)
	}
	cov, text := reviewCoverage(t, e)
	if cov.Status != "expired" || !strings.Contains(text, "expired: calls started before 2026-09-15T00:00:00Z are deleted by org acme's retention") {
		t.Errorf("the cycle cut by the retention: %+v\n%s", cov, text)
	}
	// Applied again: nothing left to delete.
	mustContain(t, "retention apply again", e.ok(t, "retention", "apply", "--org", "acme"), "deleted 0 calls")
	mustContain(t, "org privacy", e.ok(t, "org", "privacy", "--org", "acme"), "retention", "2026-09-15", strconv.Itoa(expired))
}
