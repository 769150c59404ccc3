package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/ingest/ringcentral/ringcentraltest"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver/chservertest"
	"github.com/phonesignals/phonesignals/internal/review"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"github.com/phonesignals/phonesignals/queries"
)

// testMasterKey is a fixed 32-byte key, so runs are reproducible.
var testMasterKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x5a}, 32))

// cliEnv runs the real CLI in-process against the shared ClickHouse 18.16
// test server, a database of the test's own and the embedded Kafka broker
// under a data dir of the test's own.
type cliEnv struct {
	srv     *chserver.Server
	db      string
	dataDir string
	// stdout accumulates everything every command printed, to check that
	// no secret is ever printed.
	stdout strings.Builder
	// providers, when set, replaces the registry the CLI is built with.
	providers *ingest.Registry
	// global, when set, follows the global flags (the last --clickhouse wins).
	global []string
}

func newCLIEnv(t *testing.T) *cliEnv {
	t.Helper()
	srv := chservertest.Shared(t)
	t.Setenv("PHONESIGNALS_MASTER_KEY", testMasterKey)
	// Flags win over the environment, but keep a developer's settings out.
	for _, k := range []string{"PHONESIGNALS_CLICKHOUSE", "PHONESIGNALS_DATABASE", "PHONESIGNALS_BROKERS", "PHONESIGNALS_DATA_DIR", "PHONESIGNALS_MASTER_KEY_FILE", "PHONESIGNALS_LOG_LEVEL"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	return &cliEnv{srv: srv, db: chservertest.Database(t, srv), dataDir: t.TempDir()}
}

// run runs `phonesignals --clickhouse ... ARGS` and returns its stdout and
// error (exit codes come back as cli.ExitCoder errors; nothing exits).
func (e *cliEnv) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	app := newApp()
	if e.providers != nil {
		app = newAppWith(e.providers)
	}
	// The default handler calls os.Exit for cli.Exit errors (doctor's 2).
	app.ExitErrHandler = func(*cli.Context, error) {}
	full := append(append([]string{"phonesignals", "--clickhouse", e.srv.Addr(), "--database", e.db, "--data-dir", e.dataDir, "--log-level", "warn"}, e.global...), args...)
	var err error
	// runApp, as main does: flags after arguments and the exit codes too.
	out := captureStdout(t, func() { err = runApp(ctx, app, full) })
	e.stdout.WriteString(out)
	return out, err
}

// ok runs a command that must succeed.
func (e *cliEnv) ok(t *testing.T, args ...string) string {
	t.Helper()
	out, err := e.run(t, args...)
	if err != nil {
		t.Fatalf("phonesignals %s: %v\nstdout:\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// fail runs a command that must fail and returns its error text.
func (e *cliEnv) fail(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := e.run(t, args...)
	if err == nil {
		t.Fatalf("phonesignals %s succeeded, want an error\nstdout:\n%s", strings.Join(args, " "), out)
	}
	return out, err
}

// store opens the test's database directly, to check what commands wrote.
func (e *cliEnv) store(t *testing.T) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Config{Addr: e.srv.Addr(), Database: e.db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// query runs raw SQL over HTTP.
func (e *cliEnv) query(t *testing.T, sql string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := e.srv.Query(ctx, sql)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertNoSecret checks that no secret was printed on stdout and that none
// is stored in clear in any table of the test's database.
func (e *cliEnv) assertNoSecret(t *testing.T, secrets ...string) {
	t.Helper()
	tables := strings.Fields(e.query(t, "SELECT name FROM system.tables WHERE database = '"+e.db+"' AND engine NOT LIKE '%View'"))
	if len(tables) < 5 {
		t.Fatalf("only tables %v in %s", tables, e.db)
	}
	dump := map[string]string{}
	for _, tb := range tables {
		dump[tb] = e.query(t, "SELECT * FROM "+e.db+"."+tb+" FORMAT TabSeparated")
	}
	for _, sec := range secrets {
		if strings.Contains(e.stdout.String(), sec) {
			t.Errorf("secret %q was printed on stdout", sec)
		}
		for tb, d := range dump {
			if strings.Contains(d, sec) {
				t.Errorf("secret %q is in table %s in clear", sec, tb)
			}
		}
	}
}

var stdoutMu sync.Mutex

// captureStdout runs fn with os.Stdout redirected to a pipe and returns
// what it wrote. os.Stdout is restored even if fn stops the test.
func captureStdout(t *testing.T, fn func()) string {
	t.Helper()
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	orig := os.Stdout
	restored := false
	restore := func() {
		if !restored {
			restored = true
			os.Stdout = orig
			w.Close()
		}
	}
	t.Cleanup(restore)
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(&buf, r)
		r.Close()
		close(done)
	}()
	os.Stdout = w
	func() {
		defer restore()
		fn()
	}()
	<-done
	return buf.String()
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func rosterCSV(t *testing.T, emps []fixture.Employee) string {
	t.Helper()
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(store.EmployeesHeader)
	for _, e := range emps {
		_ = w.Write([]string{e.ID, e.Name, e.Email, e.Cohort, e.ProviderUserID})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func mustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s lacks %q:\n%s", what, sub, s)
		}
	}
}

func TestCLIMigrateTwice(t *testing.T) {
	e := newCLIEnv(t)
	migs, err := queries.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var vs []string
	for _, m := range migs {
		vs = append(vs, strconv.Itoa(m.Version))
	}
	last := vs[len(vs)-1]
	first := e.ok(t, "migrate")
	if !regexp.MustCompile(`^applied migrations \[` + strings.Join(vs, " ") + `\] to ` + e.db + ` on 127\.0\.0\.1:\d+; schema version ` + last + `\n$`).MatchString(first) {
		t.Fatalf("first migrate printed %q", first)
	}
	second := e.ok(t, "migrate")
	if want := fmt.Sprintf("schema of %s on %s is up to date (version %s)\n", e.db, e.srv.Addr(), last); second != want {
		t.Fatalf("second migrate printed %q, want %q", second, want)
	}
	if got, want := strings.TrimSpace(e.query(t, "SELECT count(), uniqExact(version) FROM "+e.db+".schema_migrations")), fmt.Sprintf("%d\t%d", len(vs), len(vs)); got != want {
		t.Fatalf("schema_migrations count, versions = %s, want %s", got, want)
	}
}

func TestCLIAdmin(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()

	// Commands on an org that does not exist name the fix.
	_, err := e.fail(t, "org", "connect", "--org", "acme", "--api-id", "x")
	mustContain(t, "connect on a missing org", err.Error(), "not found", "org add --org acme")

	if out := e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall"); out != "org acme added with provider aircall\n" {
		t.Fatalf("org add printed %q", out)
	}
	if out := e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall"); out != "org acme already exists with provider aircall\n" {
		t.Fatalf("org add again printed %q", out)
	}
	_, err = e.fail(t, "org", "add", "--org", "acme", "--provider", "ringcentral")
	mustContain(t, "org add with the other provider", err.Error(), `org "acme" already uses aircall`, "one phone provider")
	_, err = e.fail(t, "org", "add", "--org", "initech", "--provider", "teams")
	mustContain(t, "org add with an unknown provider", err.Error(), `provider "teams"`, "aircall or ringcentral")
	_, err = e.fail(t, "org", "add", "--provider", "aircall")
	mustContain(t, "org add without --org", err.Error(), "org")

	// Connect: the token comes from a file, is sealed, and shows nowhere.
	const token = "tok-9f3c1e7d5b-SECRET-aircall-token"
	tokenFile := writeFile(t, dir, "token", token+"\n")
	out := e.ok(t, "org", "connect", "--org", "acme", "--api-id", "aircall-id-1", "--api-token-file", tokenFile, "--api-url", "http://127.0.0.1:9/v1", "--setting", "rate_limit=120", "--no-verify")
	if out != "org acme connected to aircall (credentials not verified, stored encrypted, API http://127.0.0.1:9/v1)\n" {
		t.Fatalf("org connect printed %q", out)
	}
	raw := e.query(t, "SELECT * FROM "+e.db+".orgs FORMAT TabSeparated")
	if strings.Contains(raw, token) || strings.Contains(raw, "SECRET") {
		t.Fatalf("the API token is in the orgs table in clear:\n%s", raw)
	}
	if strings.Contains(raw, "aircall-id-1") {
		t.Errorf("the API ID is in the orgs table in clear:\n%s", raw)
	}
	st := e.store(t)
	ctx := context.Background()
	o, err := st.GetOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if o.Credentials == "" || o.APIURL != "http://127.0.0.1:9/v1" || o.Settings["rate_limit"] != "120" {
		t.Fatalf("org after connect: %+v", o)
	}

	// RingCentral flags on an Aircall org are refused, each named.
	secretFile := writeFile(t, dir, "secret", "rc-secret")
	_, err = e.fail(t, "org", "connect", "--org", "acme", "--client-id", "cid", "--client-secret-file", secretFile, "--jwt-file", secretFile)
	mustContain(t, "RingCentral flags on an Aircall org", err.Error(),
		"--client-id is a RingCentral flag; org acme uses Aircall",
		"--client-secret-file is a RingCentral flag",
		"--jwt-file is a RingCentral flag")
	// An empty token file and a bad setting are refused too.
	empty := writeFile(t, dir, "empty", "\n")
	_, err = e.fail(t, "org", "connect", "--org", "acme", "--api-token-file", empty, "--setting", "novalue")
	mustContain(t, "empty token file", err.Error(), "--api-token-file "+empty+" is empty", `--setting "novalue": want KEY=VALUE`)
	_, err = e.fail(t, "org", "connect", "--org", "acme", "--transcripts", "maybe")
	mustContain(t, "bad --transcripts", err.Error(), `--transcripts "maybe": want on or off`)
	// A refused connect changed nothing.
	o2, err := st.GetOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if o2.Credentials != o.Credentials || o2.Settings["rate_limit"] != "120" {
		t.Fatalf("refused connect changed the org: %+v", o2)
	}
	// Without the master key nothing can be sealed.
	t.Setenv("PHONESIGNALS_MASTER_KEY", "")
	_, err = e.fail(t, "org", "connect", "--org", "acme", "--api-id", "x")
	mustContain(t, "connect without a master key", err.Error(), "PHONESIGNALS_MASTER_KEY")
	t.Setenv("PHONESIGNALS_MASTER_KEY", testMasterKey)

	if out := e.ok(t, "org", "list"); out != "ORG   PROVIDER  CONNECTED\nacme  aircall   connected\n" {
		t.Fatalf("org list printed %q", out)
	}

	// A roster with bad rows: every bad line listed, nothing imported.
	bad := filepath.Join("..", "..", "testdata", "cli", "employees_bad.csv")
	_, err = e.fail(t, "employees", "import", "--org", "acme", bad)
	mustContain(t, "bad roster", err.Error(),
		"employees_bad.csv", "3 bad rows, nothing imported",
		"line 3: provider_user_id 100001 already mapped on line 2",
		`line 4: email "chloe@@acme" is not an address`,
		"line 5: 6 fields, want 5")
	if emps, err := st.Employees(ctx, "acme"); err != nil || len(emps) != 0 {
		t.Fatalf("after a rejected import the roster is %+v (%v), want empty", emps, err)
	}
	_, err = e.fail(t, "employees", "import", "--org", "acme")
	mustContain(t, "import without a file", err.Error(), "want exactly one FILE.csv")
	_, err = e.fail(t, "employees", "import", "--org", "acme", filepath.Join(dir, "missing.csv"))
	mustContain(t, "import of a missing file", err.Error(), "opening employees file", "missing.csv")

	good := writeFile(t, dir, "roster.csv", "\ufeffemployee_id,name,email,cohort,provider_user_id\n"+
		"E001,Ada Lovelace,ada@acme.example,support,100001\n"+
		"E002,Ben Okafor,ben@acme.example,sdr,100008\n"+
		"E003,Chloé Dubois,,support,\n")
	_, err = e.fail(t, "employees", "import", "--org", "globex", good)
	mustContain(t, "import into a missing org", err.Error(), "org add --org globex")
	if out := e.ok(t, "employees", "import", "--org", "acme", good); out != "imported 3 employees into org acme (sdr=1, support=2)\n" {
		t.Fatalf("import printed %q", out)
	}
	// `employees list` prints the roster in the import format.
	if out := e.ok(t, "employees", "list", "--org", "acme"); out != "employee_id,name,email,cohort,provider_user_id\n"+
		"E001,Ada Lovelace,ada@acme.example,support,100001\nE002,Ben Okafor,ben@acme.example,sdr,100008\nE003,Chloé Dubois,,support,\n" {
		t.Fatalf("employees list printed %q", out)
	}
	emps, err := st.Employees(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Employee{
		{ID: "E001", Name: "Ada Lovelace", Email: "ada@acme.example", Cohort: "support", ProviderUserID: "100001"},
		{ID: "E002", Name: "Ben Okafor", Email: "ben@acme.example", Cohort: "sdr", ProviderUserID: "100008"},
		{ID: "E003", Name: "Chloé Dubois", Cohort: "support"},
	}
	if fmt.Sprint(emps) != fmt.Sprint(want) {
		t.Fatalf("roster:\n got %+v\nwant %+v", emps, want)
	}

	// Cycles.
	for _, tt := range []struct {
		start, end string
		want       []string
	}{
		{"2026-08-01", "2026-08-01", []string{"--end 2026-08-01 must be after --start 2026-08-01"}},
		{"2026-09-01", "2026-08-01", []string{"--end 2026-08-01 must be after --start 2026-09-01"}},
		{"2026-8-1", "2026-09-01", []string{`--start "2026-8-1": want YYYY-MM-DD`}},
	} {
		_, err := e.fail(t, "cycles", "add", "--org", "acme", "--cycle", "bad", "--start", tt.start, "--end", tt.end)
		mustContain(t, "cycles add "+tt.start+" "+tt.end, err.Error(), tt.want...)
	}
	if cs, _ := st.Cycles(ctx, "acme"); len(cs) != 0 {
		t.Fatalf("refused cycles were saved: %+v", cs)
	}
	if out := e.ok(t, "cycles", "add", "--org", "acme", "--cycle", "2026-08", "--start", "2026-08-01", "--end", "2026-09-01"); out != "cycle 2026-08 of org acme: 2026-08-01 to 2026-09-01 (end exclusive, UTC)\n" {
		t.Fatalf("cycles add printed %q", out)
	}
	e.ok(t, "cycles", "add", "--org", "acme", "--cycle", "2026-07", "--start", "2026-07-01", "--end", "2026-08-01")
	if out := e.ok(t, "cycles", "list", "--org", "acme"); out != "CYCLE    START       END\n2026-07  2026-07-01  2026-08-01\n2026-08  2026-08-01  2026-09-01\n" {
		t.Fatalf("cycles list printed %q", out)
	}
	_, err = e.fail(t, "cycles", "add", "--org", "globex", "--cycle", "2026-08", "--start", "2026-08-01", "--end", "2026-09-01")
	mustContain(t, "cycles add on a missing org", err.Error(), "org add --org globex")

	// Review of things that do not exist names the fix.
	_, err = e.fail(t, "review", "--org", "acme", "--employee", "E001", "--cycle", "2027-01")
	mustContain(t, "review of a missing cycle", err.Error(), "cycles add --org acme --cycle 2027-01")
	_, err = e.fail(t, "review", "--org", "acme", "--employee", "E001", "--cycle", "2026-08", "--format", "yaml")
	mustContain(t, "review --format yaml", err.Error(), `--format "yaml": want text, json or csv`)

	// sync checks its window flags before touching anything.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--from", "2026-08-01"}, "--from and --to go together"},
		{[]string{"--from", "2026-09-01", "--to", "2026-08-01"}, "--to 2026-08-01 must be after --from 2026-09-01"},
		{[]string{"--from", "yesterday", "--to", "2026-08-01"}, `--from "yesterday": want RFC 3339`},
		{[]string{"--cycle", "2026-08", "--since-days", "7"}, "give only one of --cycle, --from/--to and --since-days"},
		{[]string{"--since-days", "0"}, "--since-days 0: want a positive number of days"},
	} {
		_, err := e.fail(t, append([]string{"sync", "--org", "acme"}, tt.args...)...)
		mustContain(t, "sync "+strings.Join(tt.args, " "), err.Error(), tt.want)
	}

	e.assertNoSecret(t, token, "aircall-id-1")
}

// reviewText is the block the seed shows, built here independently of
// internal/review: every `name:` line is 25 characters, value right-aligned.
func reviewText(m fixture.Metrics, escalation bool, b fixture.Baseline) string {
	var s strings.Builder
	line := func(name, v string) { fmt.Fprintf(&s, "%s:%*s\n", name, 24-len(name), v) }
	s.WriteString("[PHONE DATA]\n")
	line("total_calls", strconv.Itoa(m.TotalCalls))
	line("inbound_calls", strconv.Itoa(m.InboundCalls))
	line("outbound_calls", strconv.Itoa(m.OutboundCalls))
	line("avg_duration_sec", strconv.Itoa(m.AvgDurationSec))
	line("after_hours_calls", strconv.Itoa(m.AfterHoursCalls))
	if escalation {
		line("escalated_calls", strconv.Itoa(m.EscalatedCalls))
	} else {
		line("escalated_calls", "n/a")
	}
	line("resolved_calls", strconv.Itoa(m.ResolvedCalls))
	s.WriteString("\n[BASELINES]\n")
	line("cohort", b.Cohort)
	line("cohort_size", strconv.Itoa(b.Size))
	line("median_total_calls", medianText(b))
	return s.String()
}

// reviewJSON is the JSON review, decoded strictly.
type reviewJSON struct {
	Org                 string   `json:"org"`
	EmployeeID          string   `json:"employee_id"`
	CycleID             string   `json:"cycle_id"`
	TotalCalls          int      `json:"total_calls"`
	InboundCalls        int      `json:"inbound_calls"`
	OutboundCalls       int      `json:"outbound_calls"`
	AvgDurationSec      int      `json:"avg_duration_sec"`
	AfterHoursCalls     int      `json:"after_hours_calls"`
	EscalatedCalls      *int     `json:"escalated_calls"`
	EscalationAvailable bool     `json:"escalation_available"`
	ResolvedCalls       int      `json:"resolved_calls"`
	Cohort              string   `json:"cohort"`
	CohortSize          int      `json:"cohort_size"`
	MedianTotalCalls    *float64 `json:"median_total_calls"`
}

var reviewJSONKeys = []string{"org", "employee_id", "cycle_id", "total_calls", "inbound_calls", "outbound_calls",
	"avg_duration_sec", "after_hours_calls", "escalated_calls", "escalation_available", "resolved_calls",
	"cohort", "cohort_size", "median_total_calls"}

// checkReviews runs `review` for employees of org in cycle and compares
// the text (for textFor) and JSON (for every employee) with fixture.Truth.
func checkReviews(t *testing.T, e *cliEnv, org *fixture.Org, cy fixture.Cycle, textFor []string) {
	t.Helper()
	want, wantBase := org.Truth(cy.Start, cy.End)
	escalation := org.Provider == fixture.Aircall
	textSet := map[string]bool{}
	for _, id := range textFor {
		textSet[id] = true
	}
	exps := map[string]string{}
	for _, emp := range org.Employees {
		m, b := want[emp.ID], wantBase[emp.Cohort]
		if textSet[emp.ID] {
			out := e.ok(t, "review", "--org", org.Name, "--employee", emp.ID, "--cycle", cy.ID)
			// The seed's blocks exactly, then the [COVERAGE] block.
			if exp := reviewText(m, escalation, b); !strings.HasPrefix(out, exp+"\n[COVERAGE]\n") {
				t.Errorf("review %s %s text:\n%s\nwant:\n%s", emp.ID, cy.ID, out, exp)
			}
			seedPart, _, _ := strings.Cut(out, "\n[COVERAGE]\n")
			for _, l := range strings.Split(seedPart, "\n") {
				if strings.Contains(l, ":") && len(l) != review.Width {
					t.Errorf("review line %q is %d wide, want %d", l, len(l), review.Width)
				}
			}
		}
		out := e.ok(t, "review", "--org", org.Name, "--employee", emp.ID, "--cycle", cy.ID, "--format", "json")
		var got reviewJSON
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("review %s --format json: %v\n%s", emp.ID, err, out)
		}
		// Every key is present (a missing number would decode as 0).
		var keys map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &keys); err != nil {
			t.Fatal(err)
		}
		for _, k := range reviewJSONKeys {
			if _, ok := keys[k]; !ok {
				t.Errorf("review %s --format json has no %q:\n%s", emp.ID, k, out)
			}
		}
		exp := reviewJSON{
			Org: org.Name, EmployeeID: emp.ID, CycleID: cy.ID,
			TotalCalls: m.TotalCalls, InboundCalls: m.InboundCalls, OutboundCalls: m.OutboundCalls,
			AvgDurationSec: m.AvgDurationSec, AfterHoursCalls: m.AfterHoursCalls, ResolvedCalls: m.ResolvedCalls,
			EscalationAvailable: escalation, Cohort: b.Cohort, CohortSize: b.Size,
		}
		if escalation {
			n := m.EscalatedCalls
			exp.EscalatedCalls = &n
		}
		exp.MedianTotalCalls = wantMedian(b)
		if g, w := jsonString(t, got), jsonString(t, exp); g != w {
			t.Errorf("review %s %s json:\n got %s\nwant %s", emp.ID, cy.ID, g, w)
		}
		exps[emp.ID] = jsonString(t, exp)
	}
	// Without --employee: every employee at once, the same numbers.
	var all []reviewJSON
	if err := json.Unmarshal([]byte(e.ok(t, "review", "--org", org.Name, "--cycle", cy.ID, "--format", "json")), &all); err != nil {
		t.Fatal(err)
	}
	if len(all) != len(org.Employees) {
		t.Fatalf("review of cycle %s lists %d employees, want %d", cy.ID, len(all), len(org.Employees))
	}
	for _, got := range all {
		if g, w := jsonString(t, got), exps[got.EmployeeID]; g != w {
			t.Errorf("review of cycle %s, employee %s:\n got %s\nwant %s", cy.ID, got.EmployeeID, g, w)
		}
	}
	csvOut := e.ok(t, "review", "--org", org.Name, "--cycle", cy.ID, "--format", "csv")
	if n := strings.Count(csvOut, "\n"); n != len(org.Employees)+1 {
		t.Errorf("review csv has %d lines, want a header and %d rows", n, len(org.Employees))
	}
	if e.global == nil { // its --print half runs clickhouse-client on e.srv
		checkQueryCommand(t, e, org, cy, all)
	}
}

// checkQueryCommand: `query cycle_metrics` run by phonesignals, and its
// --print output run as written by clickhouse-client, give the review's
// numbers of every employee.
func checkQueryCommand(t *testing.T, e *cliEnv, org *fixture.Org, cy fixture.Cycle, reviews []reviewJSON) {
	t.Helper()
	want := map[string]string{}
	for _, r := range reviews {
		want[r.EmployeeID] = fmt.Sprintf("%d %d %d %d", r.TotalCalls, r.InboundCalls, r.AfterHoursCalls, r.ResolvedCalls)
		if r.EscalatedCalls != nil {
			want[r.EmployeeID] += fmt.Sprintf(" escalated %d", *r.EscalatedCalls)
		}
	}
	got := func(source, out string) {
		t.Helper()
		dec := json.NewDecoder(strings.NewReader(out))
		dec.UseNumber()
		var rows []map[string]any
		if strings.HasPrefix(strings.TrimSpace(out), "[") {
			if err := dec.Decode(&rows); err != nil {
				t.Fatalf("%s: %v\n%s", source, err, out)
			}
		} else {
			for dec.More() {
				var r map[string]any
				if err := dec.Decode(&r); err != nil {
					t.Fatalf("%s: %v\n%s", source, err, out)
				}
				rows = append(rows, r)
			}
		}
		if len(rows) != len(want) {
			t.Errorf("%s: %d rows, want %d", source, len(rows), len(want))
		}
		for _, r := range rows {
			id := fmt.Sprint(r["employee_id"])
			line := fmt.Sprintf("%v %v %v %v", r["total_calls"], r["inbound_calls"], r["after_hours_calls"], r["resolved_calls"])
			switch {
			case fmt.Sprint(r["escalation_available"]) == "1":
				line += fmt.Sprintf(" escalated %v", r["escalated_calls"])
			case r["escalated_calls"] != nil && !strings.HasPrefix(source, "clickhouse-client"):
				t.Errorf("%s, employee %s: escalated_calls %v where escalation is n/a, want null", source, id, r["escalated_calls"])
			}
			if line != want[id] {
				t.Errorf("%s, employee %s: %s, review says %s", source, id, line, want[id])
			}
		}
	}
	args := []string{"query", "cycle_metrics", "--org", org.Name, "--cycle", cy.ID}
	got("query cycle_metrics", e.ok(t, append(args, "--format", "json")...))
	sql := e.ok(t, append(args, "--print")...)
	for _, l := range strings.Split(sql, "\n") {
		if code, _, _ := strings.Cut(l, "--"); strings.ContainsAny(code, "@{") {
			t.Fatalf("query --print left a parameter or marker in %q:\n%s", l, sql)
		}
	}
	cmd := exec.Command("clickhouse-client", "--port", strconv.Itoa(e.srv.TCPPort()), "-d", e.db, "--format", "JSONEachRow")
	cmd.Stdin = strings.NewReader(sql)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("clickhouse-client running query --print: %v\n%s", err, out)
	}
	got("clickhouse-client < query --print", string(out))
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// reviewSnapshot is every JSON review of org, to compare before and after.
func reviewSnapshot(t *testing.T, e *cliEnv, org *fixture.Org) string {
	t.Helper()
	var s strings.Builder
	for _, cy := range org.Cycles {
		for _, emp := range org.Employees {
			s.WriteString(withoutCoverage(t, e.ok(t, "review", "--org", org.Name, "--employee", emp.ID, "--cycle", cy.ID, "--format", "json")))
		}
	}
	return s.String()
}

var (
	syncedRe = regexp.MustCompile(`synced org (\S+) (\S+): (\d+) calls published in (\d+) requests, (\d+) windows \((\d+) already done\)`)
	loadedRe = regexp.MustCompile(`^loaded (\d+) rows from (\d+) raw records in (\d+) batches \((\d+) dead-lettered\) in \S+\n$`)
)

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCLIAircallFlow(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()
	org := fixture.Generate(fixture.Spec{Seed: 7, Org: "acme", Provider: fixture.Aircall, Employees: 8, Days: 40})
	now := org.End.Add(24 * time.Hour)
	const apiID, token = "acme-api-id", "acme-token-4b1d9e2f-do-not-print"
	fake := aircalltest.NewFake(org, aircalltest.FakeOptions{APIID: apiID, APIToken: token, RateLimitPerMinute: 100000,
		Now: func() time.Time { return now }})
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)

	e.ok(t, "migrate")
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	tokenFile := writeFile(t, dir, "token", token)
	e.ok(t, "org", "connect", "--org", "acme", "--api-id", apiID, "--api-token-file", tokenFile,
		"--api-url", api.URL+"/v1", "--setting", "rate_limit=100000")
	roster := writeFile(t, dir, "roster.csv", rosterCSV(t, org.Employees))
	e.ok(t, "employees", "import", "--org", "acme", roster)
	if len(org.Cycles) != 2 {
		t.Fatalf("fixture has %d cycles, want 2", len(org.Cycles))
	}
	for _, cy := range org.Cycles {
		e.ok(t, "cycles", "add", "--org", "acme", "--cycle", cy.ID, "--start", cy.Start.Format(time.DateOnly), "--end", cy.End.Format(time.DateOnly))
	}

	from, to := org.Start.Format(time.DateOnly), org.End.Format(time.DateOnly)
	_, err := e.fail(t, "sync", "--org", "acme", "--cycle", "2030-01")
	mustContain(t, "sync of a missing cycle", err.Error(), "cycles add --org acme --cycle 2030-01")
	out := e.ok(t, "sync", "--org", "acme", "--from", from, "--to", to)
	m := syncedRe.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("sync printed %q", out)
	}
	inWindow := len(org.CallsIn(org.Start, org.End))
	if published := atoi(t, m[3]); published != inWindow {
		t.Errorf("sync published %d calls, the fixture has %d in the window", published, inWindow)
	}
	if m[6] != "0" {
		t.Errorf("first sync skipped %s windows", m[6])
	}
	mustContain(t, "sync output", out, "provider users have calls but no employee mapping")

	out = e.ok(t, "run", "--until-idle")
	lm := loadedRe.FindStringSubmatch(out)
	if lm == nil {
		t.Fatalf("run printed %q", out)
	}
	if atoi(t, lm[1]) != inWindow || atoi(t, lm[2]) != inWindow || lm[4] != "0" {
		t.Errorf("run loaded %s rows from %s records (%s dead-lettered), want %d, %d, 0", lm[1], lm[2], lm[4], inWindow, inWindow)
	}

	// The numbers compared below are not trivially zero. The last employee
	// is one of the fixture's idle ones (only a few edge-of-day calls).
	truth, _ := org.Truth(org.Cycles[0].Start, org.Cycles[0].End)
	if truth["E001"].TotalCalls == 0 || truth["E001"].EscalatedCalls == 0 || truth["E001"].AfterHoursCalls == 0 {
		t.Fatalf("fixture no longer has a busy E001 with escalations: %+v", truth)
	}
	checkReviews(t, e, org, org.Cycles[0], []string{"E001", org.Employees[len(org.Employees)-1].ID})
	checkReviews(t, e, org, org.Cycles[1], []string{"E001"})
	before := reviewSnapshot(t, e, org)
	_, err = e.fail(t, "review", "--org", "acme", "--employee", "E999", "--cycle", org.Cycles[0].ID)
	mustContain(t, "review of a missing employee", err.Error(), `employee "E999"`, "employees import")

	// The same window again: every base window is checkpointed, nothing is
	// fetched again.
	out = e.ok(t, "sync", "--org", "acme", "--from", from, "--to", to)
	if m2 := syncedRe.FindStringSubmatch(out); m2 == nil || m2[3] != "0" || m2[6] != m[5] {
		t.Fatalf("sync of a finished window printed %q, want 0 calls and all %s windows already done", out, m[5])
	}
	// --restart publishes every call again: duplicates that must count once.
	out = e.ok(t, "sync", "--org", "acme", "--from", from, "--to", to, "--restart")
	if m3 := syncedRe.FindStringSubmatch(out); m3 == nil || atoi(t, m3[3]) != inWindow {
		t.Fatalf("sync --restart printed %q, want %d calls", out, inWindow)
	}
	out = e.ok(t, "run", "--until-idle")
	if lm := loadedRe.FindStringSubmatch(out); lm == nil || atoi(t, lm[2]) != inWindow {
		t.Fatalf("second run printed %q, want %d records", out, inWindow)
	}
	// And once more with nothing new: run is idle at once.
	out = e.ok(t, "run", "--until-idle")
	if lm := loadedRe.FindStringSubmatch(out); lm == nil || lm[2] != "0" {
		t.Fatalf("idle run printed %q, want 0 records", out)
	}
	if after := reviewSnapshot(t, e, org); after != before {
		t.Fatalf("reviews changed after loading duplicates:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	st := e.store(t)
	ctx := context.Background()
	cc, err := st.OrgCalls(ctx, "acme", org.Start, org.End)
	if err != nil {
		t.Fatal(err)
	}
	if int(cc.Calls) != inWindow {
		t.Errorf("calls_current has %d calls, want %d", cc.Calls, inWindow)
	}

	// Doctor with good credentials.
	out, err = e.run(t, "doctor", "--org", "acme")
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	t.Logf("doctor:\n%s", out)
	perUser := map[string]int{}
	for _, c := range org.Calls {
		perUser[c.UserID]++
	}
	unmapped := append([]fixture.User(nil), org.Users[len(org.Employees):]...) // busiest first, then by id
	sort.Slice(unmapped, func(i, j int) bool {
		a, b := perUser[unmapped[i].ID], perUser[unmapped[j].ID]
		return a > b || a == b && unmapped[i].ID < unmapped[j].ID
	})
	var listed []string
	for _, u := range unmapped {
		listed = append(listed, fmt.Sprintf("%s (%d calls)", u.ID, perUser[u.ID]))
	}
	mustContain(t, "doctor", out,
		fmt.Sprintf("  WARN  %d Aircall users have calls but no employee mapping: [%s]", len(unmapped), strings.Join(listed, " ")),
		fmt.Sprintf("  ok    %d calls have no user", perUser[""]))
	mustContain(t, "doctor", out,
		"doctor: org acme (aircall)",
		"  ok    aircall accepted the stored credentials ("+api.URL+"/v1)",
		"  ok    8 employees, 8 mapped to their Aircall user id",
		"  ok    cycle "+org.Cycles[0].ID,
		"  ok    last sync ",
		"doctor: no problems")

	// A wrong token: doctor fails with the hint, sync fails naming the org.
	wrong := writeFile(t, dir, "wrong", "the-api-key-from-the-ui")
	e.ok(t, "org", "connect", "--org", "acme", "--api-token-file", wrong, "--no-verify")
	out, err = e.run(t, "doctor", "--org", "acme")
	if err == nil {
		t.Fatalf("doctor with a wrong token succeeded:\n%s", out)
	}
	var ec cli.ExitCoder
	if !errors.As(err, &ec) || ec.ExitCode() != 2 {
		t.Errorf("doctor error %v: want exit code 2", err)
	}
	t.Logf("doctor with a wrong token:\n%s", out)
	mustContain(t, "doctor with a wrong token", out,
		"  FAIL  aircall rejected the credentials (HTTP 401)",
		"the token is not the API key shown in the Aircall UI")
	_, err = e.fail(t, "sync", "--org", "acme", "--from", from, "--to", to, "--restart")
	t.Logf("sync with a wrong token: %v", err)
	mustContain(t, "sync with a wrong token", err.Error(), "syncing org acme", `org "acme"`, "401")
	last, ok, err := st.LastRun(ctx, "acme")
	if err != nil || !ok || last.Status != "auth_error" {
		t.Fatalf("last run after a refused sync: %+v ok=%v err=%v", last, ok, err)
	}
	out, _ = e.run(t, "doctor", "--org", "acme", "--offline")
	mustContain(t, "doctor --offline after a refused sync", out, "FAIL  the last sync was refused")
	out = e.ok(t, "sync", "status", "--org", "acme")
	mustContain(t, "sync status after a refused sync", out, "auth_error", "the token is not the API key shown in the Aircall UI", "backfill windows finished")

	e.assertNoSecret(t, token, "the-api-key-from-the-ui", apiID)
}

func TestCLIRingCentralFlow(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()
	org := fixture.Generate(fixture.Spec{Seed: 11, Org: "globex", Provider: fixture.RingCentral, Employees: 6, Days: 35,
		UnmappedUsers: 1, CallsPerDay: 10, Cohorts: []string{"sdr", "support"}})
	now := org.End.Add(24 * time.Hour)
	const clientID, clientSecret, jwt = "globex-client", "globex-secret-77aa", "eyJhbGciOi.globex.jwt-credential"
	fake := ringcentraltest.NewFake(org, ringcentraltest.FakeOptions{ClientID: clientID, ClientSecret: clientSecret, JWT: jwt,
		HeavyLimit: 100000, HeavyWindow: time.Minute, AuthLimit: 1000, Now: func() time.Time { return now }})
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)

	e.ok(t, "org", "add", "--org", "globex", "--provider", "ringcentral")
	secretFile := writeFile(t, dir, "secret", clientSecret)
	jwtFile := writeFile(t, dir, "jwt", jwt)
	// Aircall flags on a RingCentral org are refused.
	tok := writeFile(t, dir, "tok", "x")
	_, err := e.fail(t, "org", "connect", "--org", "globex", "--api-id", "x", "--api-token-file", tok)
	mustContain(t, "Aircall flags on a RingCentral org", err.Error(),
		"--api-id is an Aircall flag; org globex uses RingCentral", "--api-token-file is an Aircall flag")
	_, err = e.fail(t, "org", "connect", "--org", "globex", "--client-id", clientID)
	mustContain(t, "incomplete RingCentral credentials", err.Error(), "RingCentral needs --client-id, --client-secret-file and --jwt-file")
	out := e.ok(t, "org", "connect", "--org", "globex", "--client-id", clientID, "--client-secret-file", secretFile, "--jwt-file", jwtFile,
		"--api-url", api.URL, "--setting", "heavy_limit=100000", "--setting", "heavy_window=1m", "--setting", "auth_limit=1000")
	if out != "org globex connected to ringcentral (credentials verified and stored encrypted, API "+api.URL+")\n" {
		t.Fatalf("org connect printed %q", out)
	}
	roster := writeFile(t, dir, "roster.csv", rosterCSV(t, org.Employees))
	e.ok(t, "employees", "import", "--org", "globex", roster)
	for _, cy := range org.Cycles {
		e.ok(t, "cycles", "add", "--org", "globex", "--cycle", cy.ID, "--start", cy.Start.Format(time.DateOnly), "--end", cy.End.Format(time.DateOnly))
	}

	out = e.ok(t, "sync", "--org", "globex", "--cycle", org.Cycles[0].ID)
	if syncedRe.FindStringSubmatch(out) == nil {
		t.Fatalf("sync printed %q", out)
	}
	e.ok(t, "sync", "--org", "globex", "--from", org.Cycles[1].Start.Format(time.DateOnly), "--to", org.End.Format(time.DateOnly))
	out = e.ok(t, "run", "--until-idle")
	if lm := loadedRe.FindStringSubmatch(out); lm == nil || lm[4] != "0" {
		t.Fatalf("run printed %q", out)
	}

	out = e.ok(t, "review", "--org", "globex", "--employee", "E001", "--cycle", org.Cycles[0].ID)
	mustContain(t, "RingCentral review", out, "\nescalated_calls:      n/a\n")
	checkReviews(t, e, org, org.Cycles[0], []string{"E001", "E002"})
	checkReviews(t, e, org, org.Cycles[1], []string{"E001"})
	out = e.ok(t, "review", "--org", "globex", "--employee", "E001", "--cycle", org.Cycles[0].ID, "--format", "json")
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &raw); err != nil {
		t.Fatal(err)
	}
	if v, ok := raw["escalated_calls"]; !ok || string(v) != "null" {
		t.Fatalf("escalated_calls = %s (present %v), want null", v, ok)
	}

	out, err = e.run(t, "doctor", "--org", "globex")
	if err != nil {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	mustContain(t, "doctor", out, "  ok    ringcentral accepted the stored credentials", "escalated_calls is not available for RingCentral")

	// The seed's troubleshooting cases, for real: a wrong account id, then
	// a rejected JWT.
	e.ok(t, "org", "connect", "--org", "globex", "--account-id", "400000001", "--no-verify")
	out, err = e.run(t, "doctor", "--org", "globex")
	if err == nil {
		t.Fatalf("doctor passed with a wrong account id:\n%s", out)
	}
	mustContain(t, "doctor with a wrong account id", out, "FAIL  RingCentral does not know account \"400000001\"", "--account-id")
	e.ok(t, "org", "connect", "--org", "globex", "--account-id", "~", "--jwt-file", writeFile(t, dir, "badjwt", "expired.jwt.value"), "--no-verify")
	out, err = e.run(t, "doctor", "--org", "globex")
	if err == nil {
		t.Fatalf("doctor passed with a rejected JWT:\n%s", out)
	}
	mustContain(t, "doctor with a rejected JWT", out, "FAIL  ringcentral rejected the credentials", "JWT")
	_, err = e.fail(t, "sync", "--org", "globex", "--cycle", org.Cycles[0].ID, "--restart")
	mustContain(t, "sync with a rejected JWT", err.Error(), "globex")
	out = e.ok(t, "sync", "status", "--org", "globex")
	mustContain(t, "sync status with a rejected JWT", out, "auth_error")

	e.assertNoSecret(t, clientSecret, jwt)
}
