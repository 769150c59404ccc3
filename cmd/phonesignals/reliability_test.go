package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/internal/fixture"
	"github.com/phonesignals/phonesignals/internal/model"
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
	a.org = fixture.Generate(fixture.Spec{Seed: 11, Org: "acme", Provider: model.ProviderAircall, Employees: employees, Days: days})
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
