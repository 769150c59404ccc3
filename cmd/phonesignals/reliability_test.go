package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// aircallOrg is an Aircall org "acme" set up through the CLI against the
// fake API: connected, roster imported, cycles added.
type aircallOrg struct {
	org  *fixture.Org
	fake *aircalltest.Fake
	api  *httptest.Server
	dir  string
}

// setupAircall sets up org acme; wrap, when not nil, wraps the fake API's
// handler (to hold or break requests).
func setupAircall(t *testing.T, e *cliEnv, employees, days int, wrap func(http.Handler) http.Handler) *aircallOrg {
	t.Helper()
	a := &aircallOrg{dir: t.TempDir()}
	a.org = fixture.Generate(fixture.Spec{Seed: 11, Org: "acme", Provider: fixture.Aircall, Employees: employees, Days: days})
	now := a.org.End.Add(24 * time.Hour)
	a.fake = aircalltest.NewFake(a.org, aircalltest.FakeOptions{APIID: "id", APIToken: "tok", RateLimitPerMinute: 100000,
		Now: func() time.Time { return now }})
	var h http.Handler = a.fake
	if wrap != nil {
		h = wrap(h)
	}
	a.api = httptest.NewServer(h)
	t.Cleanup(a.api.Close)
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	e.ok(t, "org", "connect", "--org", "acme", "--api-id", "id", "--api-token-file", writeFile(t, a.dir, "tok", "tok"),
		"--api-url", a.api.URL+"/v1", "--setting", "rate_limit=100000")
	e.ok(t, "employees", "import", "--org", "acme", writeFile(t, a.dir, "roster.csv", rosterCSV(t, a.org.Employees)))
	for _, cy := range a.org.Cycles {
		e.ok(t, "cycles", "add", "--org", "acme", "--cycle", cy.ID, "--start", cy.Start.Format(time.DateOnly), "--end", cy.End.Format(time.DateOnly))
	}
	return a
}

func (a *aircallOrg) syncArgs() []string {
	return []string{"sync", "--org", "acme", "--from", a.org.Start.Format(time.DateOnly), "--to", a.org.End.Format(time.DateOnly)}
}

// runUncaptured runs a command without capturing stdout, for commands that
// run concurrently with captured ones.
func (e *cliEnv) runUncaptured(ctx context.Context, args ...string) error {
	app := newApp()
	app.ExitErrHandler = func(*cli.Context, error) {}
	full := append([]string{"phonesignals", "--clickhouse", e.srv.Addr(), "--database", e.db, "--data-dir", e.dataDir, "--log-level", "error"}, args...)
	return app.RunContext(ctx, full)
}

// Two syncs of one org at once: the second exits at once with a message
// naming the running one, instead of spending the API quota twice.
func TestCLISyncLockPerOrg(t *testing.T) {
	e := newCLIEnv(t)
	hold := make(chan struct{})
	var once sync.Once
	entered := make(chan struct{})
	a := setupAircall(t, e, 3, 5, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/calls") {
				once.Do(func() { close(entered) })
				<-hold
			}
			h.ServeHTTP(w, r)
		})
	})
	first := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		first <- e.runUncaptured(ctx, a.syncArgs()...)
	}()
	select {
	case <-entered:
	case err := <-first:
		t.Fatalf("first sync ended before fetching calls: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("first sync never fetched calls")
	}
	_, err := e.fail(t, a.syncArgs()...)
	mustContain(t, "second sync", err.Error(), "another sync of org acme is running", "wait for it to finish")
	// Another org is not blocked by acme's lock.
	_, err = e.fail(t, "sync", "--org", "other", "--since-days", "1")
	if strings.Contains(err.Error(), "another sync") {
		t.Fatalf("sync of another org: %v", err)
	}
	close(hold)
	if err := <-first; err != nil {
		t.Fatalf("first sync: %v", err)
	}
	// Once the first is done, the lock is free again.
	e.ok(t, a.syncArgs()...)
}

// A second file mapping E001's provider user to E999 is refused naming the
// row and the holder; --move moves it explicitly.
func TestCLIEmployeesImportMappingConflict(t *testing.T) {
	e := newCLIEnv(t)
	dir := t.TempDir()
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	e.ok(t, "employees", "import", "--org", "acme", writeFile(t, dir, "a.csv", "employee_id,name,email,cohort,provider_user_id\nE001,Ada,,support,100001\n"))
	second := writeFile(t, dir, "b.csv", "employee_id,name,email,cohort,provider_user_id\nE999,Zed,,support,100001\n")
	_, err := e.fail(t, "employees", "import", "--org", "acme", second)
	mustContain(t, "conflicting import", err.Error(), "line 2: employee E999 maps provider_user_id 100001, already mapped to employee E001 (Ada)", "nothing imported", "--move")
	out := e.ok(t, "employees", "import", "--org", "acme", "--move", second)
	mustContain(t, "import --move", out, "moved provider user 100001 from employee E001 to E999")
	out = e.ok(t, "employees", "list", "--org", "acme")
	mustContain(t, "roster after the move", out, "E001,Ada,,support,\n", "E999,Zed,,support,100001\n")
}

// A wrong master key stops every command that opens sealed data with exit
// code 2 and a message naming the fix, before anything is consumed: the
// right key then loads every call (issue 8, item 1).
func TestCLIWrongMasterKey(t *testing.T) {
	e := newCLIEnv(t)
	a := setupAircall(t, e, 4, 35, nil)
	e.ok(t, a.syncArgs()...)
	other := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x42}, 32))
	t.Setenv("PHONESIGNALS_MASTER_KEY", other)
	for _, args := range [][]string{{"run", "--until-idle"}, a.syncArgs(), {"org", "connect", "--org", "acme", "--setting", "rate_limit=60"}} {
		_, err := e.fail(t, args...)
		var ec cli.ExitCoder
		if !errors.As(err, &ec) || ec.ExitCode() != 2 {
			t.Errorf("%v with a wrong key: %v, want exit code 2", args, err)
		}
		mustContain(t, strings.Join(args, " ")+" with a wrong key", err.Error(), "master key is not the one this database was set up with", "PHONESIGNALS_MASTER_KEY")
	}
	out, _ := e.run(t, "doctor", "--org", "acme")
	mustContain(t, "doctor with a wrong key", out, "master key is not the one this database was set up with")

	// A database from before key checks: the first key checked must open
	// the stored credentials.
	e.query(t, "TRUNCATE TABLE "+e.db+".key_checks")
	_, err := e.fail(t, "run", "--until-idle")
	mustContain(t, "first use of a wrong key", err.Error(), "the stored credentials of org acme do not open with it")
	if n := strings.TrimSpace(e.query(t, "SELECT count() FROM "+e.db+".key_checks")); n != "0" {
		t.Fatalf("a refused key stored %s key checks", n)
	}

	t.Setenv("PHONESIGNALS_MASTER_KEY", testMasterKey)
	out = e.ok(t, "run", "--until-idle")
	lm := loadedRe.FindStringSubmatch(out)
	if lm == nil || lm[4] != "0" || atoi(t, lm[2]) < len(a.org.CallsIn(a.org.Start, a.org.End)) {
		t.Fatalf("run with the right key printed %q, want every call and no dead letter", out)
	}
	checkReviews(t, e, a.org, a.org.Cycles[0], []string{"E001"})
}

// dlq list and dlq replay through the CLI: the dead letter is listed with
// its reason, replayed once, and a second replay publishes nothing.
func TestCLIDeadLetterCommands(t *testing.T) {
	e := newCLIEnv(t)
	e.ok(t, "org", "add", "--org", "acme", "--provider", "aircall")
	out := e.ok(t, "dlq", "list")
	mustContain(t, "dlq list of nothing", out, "no dead letters")
	// A record of a call the store cannot hold, published as sync would.
	ctx := context.Background()
	sh, err := bus.OpenShared(ctx, e.dataDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureTopics(ctx, sh.Config); err != nil {
		t.Fatal(err)
	}
	key, _ := secret.ParseKey(testMasterKey)
	box, _ := secret.New(key)
	pub, err := bus.NewPublisher(sh.Config, box, bus.TopicRaw)
	if err != nil {
		t.Fatal(err)
	}
	err = pub.Publish(ctx, []model.RawCall{{Org: "acme", Provider: fixture.Aircall, CallID: "7", Source: model.SourcePoll,
		ObservedAt: time.Now(), Body: []byte(`{"id": 7, "direction": "inbound", "status": "done", "started_at": 9999999999}`)}})
	pub.Close()
	sh.Close()
	if err != nil {
		t.Fatal(err)
	}
	e.ok(t, "run", "--until-idle")
	out = e.ok(t, "dlq", "list", "--org", "acme", "--reason", "STARTED_AT")
	mustContain(t, "dlq list", out, "acme", "aircall", "7", "phonesignals.calls.raw/", "started_at 2286-11-20T17:46:39Z", "1 dead letters, 1 not replayed")
	// JSON: the same letter, with its fields named and replayed_at null.
	var letters []map[string]any
	if err := json.Unmarshal([]byte(e.ok(t, "dlq", "list", "--org", "acme", "--format", "json")), &letters); err != nil || len(letters) != 1 ||
		letters[0]["call_id"] != "7" || letters[0]["org"] != "acme" || letters[0]["replayed_at"] != nil || !strings.Contains(fmt.Sprint(letters[0]["reason"]), "started_at") {
		t.Fatalf("dlq list --format json: %v, %v; want the one letter of call 7, not replayed", letters, err)
	}
	out = e.ok(t, "dlq", "list", "--reason", "no such reason")
	mustContain(t, "dlq list --reason", out, "no dead letters")
	_, err = e.fail(t, "dlq", "replay", "--since", "yesterday")
	mustContain(t, "dlq replay --since yesterday", err.Error(), "--since \"yesterday\"", "24h")
	out = e.ok(t, "dlq", "replay", "--org", "acme", "--since", "1h")
	mustContain(t, "first replay", out, "replayed 1 dead letters (0 already replayed)")
	e.ok(t, "run", "--until-idle")
	out = e.ok(t, "dlq", "replay")
	mustContain(t, "second replay", out, "replayed 0 dead letters (1 already replayed)")
	out = e.ok(t, "dlq", "list", "--org", "acme")
	mustContain(t, "dlq list after replays", out, "2 dead letters, 0 not replayed")
}

// Synced windows whose calls were lost with the Kafka data before `run`
// loaded them are reported by doctor and fetched again by the next sync
// (issue 8, item 4: a wiped broker data dir used to leave the reviews at
// zero for good, the windows "already done").
func TestCLISyncResumesByWhatIsLoaded(t *testing.T) {
	e := newCLIEnv(t)
	a := setupAircall(t, e, 4, 35, nil)
	inWindow := len(a.org.CallsIn(a.org.Start, a.org.End))
	out := e.ok(t, a.syncArgs()...)
	m := syncedRe.FindStringSubmatch(out)
	if m == nil || atoi(t, m[3]) != inWindow {
		t.Fatalf("first sync printed %q, want %d calls", out, inWindow)
	}
	if err := os.RemoveAll(filepath.Join(e.dataDir, "kafka")); err != nil {
		t.Fatal(err)
	}
	out = e.ok(t, "run", "--until-idle")
	mustContain(t, "run after the Kafka data was lost", out, fmt.Sprintf("ERROR org acme: %d calls of", inWindow), "never reached ClickHouse", "phonesignals sync --org acme")
	out, _ = e.run(t, "doctor", "--org", "acme", "--offline")
	mustContain(t, "doctor after the Kafka data was lost", out,
		"calls that never reached ClickHouse", fmt.Sprintf("have %d calls", inWindow), "phonesignals sync --org acme fetches those windows again")

	out = e.ok(t, a.syncArgs()...)
	m2 := syncedRe.FindStringSubmatch(out)
	if m2 == nil || atoi(t, m2[3]) != inWindow {
		t.Fatalf("sync after the Kafka data was lost printed %q, want all %d calls fetched again", out, inWindow)
	}
	mustContain(t, "sync after the loss", out, "windows finished earlier were fetched again", fmt.Sprintf("%d of their calls never reached ClickHouse", inWindow))
	out = e.ok(t, "run", "--until-idle")
	if lm := loadedRe.FindStringSubmatch(out); lm == nil || atoi(t, lm[2]) != inWindow {
		t.Fatalf("run printed %q, want %d records", out, inWindow)
	}
	checkReviews(t, e, a.org, a.org.Cycles[0], []string{"E001"})
	// Loaded now: the next sync skips every window, and doctor is quiet.
	out = e.ok(t, a.syncArgs()...)
	if m3 := syncedRe.FindStringSubmatch(out); m3 == nil || m3[3] != "0" || m3[6] != m2[5] {
		t.Fatalf("sync after loading printed %q, want 0 calls and all %s windows already done", out, m2[5])
	}
	out, _ = e.run(t, "doctor", "--org", "acme", "--offline")
	if strings.Contains(out, "never reached ClickHouse") {
		t.Fatalf("doctor still reports missing calls:\n%s", out)
	}
}
