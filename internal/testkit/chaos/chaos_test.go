//go:build linux

package chaos

import (
	"context"
	"encoding/csv"
	"fmt"
	"math/rand"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// EnvCalls sets the chaos test's size: `make chaos` runs 200000 calls;
// `make test` the default, small enough for a shared CI machine.
const EnvCalls = "PHONESIGNALS_CHAOS_CALLS"

// EnvSeed replays a run: the seed of the kill schedule is logged.
const EnvSeed = "PHONESIGNALS_CHAOS_SEED"

const defaultCalls = 4000

// specFor sizes an Aircall org for about n calls over 90 days (about 64
// working days): at least 12 users, up to 20 calls per user and day.
func specFor(n int) fixture.Spec {
	users := n / (64 * 20)
	if users < 12 {
		users = 12
	}
	perDay := float64(n) / float64(users*64)
	return fixture.Spec{Seed: 808, Org: "acme", Provider: fixture.Aircall, Employees: users - 2, UnmappedUsers: 2,
		Days: 90, CallsPerDay: perDay}
}

// TestChaos: a backfill goes through sync, the broker, run and the local
// ClickHouse while a driver kills one of them with SIGKILL at random
// moments and starts it again. Afterwards every call counts exactly once
// and every review number equals fixture.Truth.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the chaos test runs real processes for a minute")
	}
	want := defaultCalls
	if v := os.Getenv(EnvCalls); v != "" {
		var err error
		if want, err = strconv.Atoi(v); err != nil || want <= 0 {
			t.Fatalf("%s=%q: want a positive number of calls", EnvCalls, v)
		}
	}
	seed := time.Now().UnixNano()
	if v := os.Getenv(EnvSeed); v != "" {
		seed, _ = strconv.ParseInt(v, 10, 64)
	}
	t.Logf("chaos seed %d (%s=%d replays the kill schedule)", seed, EnvSeed, seed)
	rng := rand.New(rand.NewSource(seed))

	o := fixture.Generate(specFor(want))
	t.Logf("%d calls, %d employees, %d cycles", len(o.Calls), len(o.Employees), len(o.Cycles))
	now := o.End.Add(24 * time.Hour)
	fake := aircalltest.NewFake(o, aircalltest.FakeOptions{APIID: "id", APIToken: "tok", RateLimitPerMinute: 1_000_000,
		Now: func() time.Time { return now }})
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)

	n := newNode(t)
	setupOrg(t, n, o, api.URL+"/v1")

	parts := &cluster{n: n}
	parts.broker = n.start("broker")
	n.brokerAddr()
	parts.run = n.start("run")
	parts.sync = n.start(syncArgs(o)...)
	parts.chaos(t, rng)

	// Calm: everything up, then drain what is published.
	if err := parts.run.stop(60 * time.Second); err != nil {
		t.Logf("continuous run on SIGTERM: %v", err)
	}
	if !parts.broker.running() {
		parts.broker = n.start("broker")
	}
	out, err := n.run(10*time.Minute, "run", "--until-idle")
	if err != nil {
		t.Fatalf("run --until-idle after the chaos: %v\n%s", err, out)
	}
	verify(t, n, o)
	_ = parts.broker.stop(10 * time.Second)
}

// cluster is the set of processes the driver kills.
type cluster struct {
	n                  *node
	broker, run, sync  *proc
	kills              map[string]int
	syncRuns, runExits int
}

// chaos kills a random part every 0.3 to 2.5 s and starts it again, until
// a sync finished cleanly after at least 8 kills of every kind in total.
func (c *cluster) chaos(t *testing.T, rng *rand.Rand) {
	t.Helper()
	c.kills = map[string]int{}
	o := syncArgsCache
	deadline := time.Now().Add(15 * time.Minute)
	synced := false
	total := 0
	for !(synced && total >= 8) {
		if time.Now().After(deadline) {
			t.Fatalf("the backfill did not finish within 15 minutes of chaos (kills %v, sync runs %d)\nlast sync:\n%s",
				c.kills, c.syncRuns, tail(c.sync.output(), 30))
		}
		time.Sleep(time.Duration(300+rng.Intn(2200)) * time.Millisecond)
		// Parts that exited by themselves are started again, as a
		// supervisor would; a sync that finished cleanly stays done.
		if !c.sync.running() && !synced {
			if c.sync.err == nil {
				synced = true
				t.Logf("sync finished after %d runs (kills so far %v)", c.syncRuns+1, c.kills)
			} else {
				c.syncRuns++
				c.sync = c.n.start(o...)
			}
		}
		if !c.run.running() {
			c.runExits++
			t.Logf("run exited by itself (%v): %s", c.run.err, lastLine(c.run.output()))
			c.run = c.n.start("run")
		}
		if !c.broker.running() {
			c.broker = c.n.start("broker")
		}
		victims := []string{"broker", "run", "clickhouse"}
		if !synced {
			victims = append(victims, "sync")
		}
		v := victims[rng.Intn(len(victims))]
		c.kills[v]++
		total++
		switch v {
		case "broker":
			c.broker.kill()
			time.Sleep(time.Duration(rng.Intn(1000)) * time.Millisecond)
			c.broker = c.n.start("broker")
		case "run":
			c.run.kill()
			c.run = c.n.start("run")
		case "sync":
			c.sync.kill()
			c.syncRuns++
			c.sync = c.n.start(o...)
		case "clickhouse":
			c.killClickHouse(t, rng)
		}
	}
	t.Logf("chaos over: kills %v, sync runs %d, run exits by itself %d", c.kills, c.syncRuns+1, c.runExits)
}

// killClickHouse kills the local server with SIGKILL and starts it again
// as a person would (`clickhouse start`); commands that need it meanwhile
// may start it themselves.
func (c *cluster) killClickHouse(t *testing.T, rng *rand.Rand) {
	t.Helper()
	pidFile := filepath.Join(c.n.chDir(), "server.json")
	b, err := os.ReadFile(pidFile)
	if err == nil {
		var pid int
		if i := strings.Index(string(b), `"pid":`); i >= 0 {
			fmt.Sscan(strings.TrimLeft(string(b[i+6:]), " "), &pid)
		}
		if pid > 0 {
			_ = killPid(pid)
		}
	}
	time.Sleep(time.Duration(rng.Intn(1500)) * time.Millisecond)
	if out, err := c.n.run(time.Minute, "clickhouse", "start"); err != nil {
		t.Logf("clickhouse start after a kill: %v: %s", err, out)
	}
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

var syncArgsCache []string

func syncArgs(o *fixture.Org) []string {
	syncArgsCache = []string{"sync", "--org", o.Name, "--from", o.Start.Format(time.DateOnly), "--to", o.End.AddDate(0, 0, 1).Format(time.DateOnly)}
	return syncArgsCache
}

// setupOrg configures the org through the CLI: connected to the fake
// API, roster imported, cycles added.
func setupOrg(t *testing.T, n *node, o *fixture.Org, apiURL string) {
	t.Helper()
	dir := t.TempDir()
	tok := filepath.Join(dir, "tok")
	if err := os.WriteFile(tok, []byte("tok"), 0o600); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(store.EmployeesHeader)
	for _, e := range o.Employees {
		_ = w.Write([]string{e.ID, e.Name, e.Email, e.Cohort, e.ProviderUserID})
	}
	w.Flush()
	roster := filepath.Join(dir, "roster.csv")
	if err := os.WriteFile(roster, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	n.ok("org", "add", "--org", o.Name, "--provider", "aircall")
	n.ok("org", "connect", "--org", o.Name, "--api-id", "id", "--api-token-file", tok, "--api-url", apiURL, "--setting", "rate_limit=100000", "--no-verify")
	n.ok("employees", "import", "--org", o.Name, roster)
	for _, cy := range o.Cycles {
		n.ok("cycles", "add", "--org", o.Name, "--cycle", cy.ID, "--start", cy.Start.Format(time.DateOnly), "--end", cy.End.Format(time.DateOnly))
	}
}

// verify: every call once, and every review number and cohort baseline
// equal to fixture.Truth.
func verify(t *testing.T, n *node, o *fixture.Org) {
	t.Helper()
	ctx := context.Background()
	st := n.storeOf()
	var calls uint64
	if err := st.Conn().QueryRow(ctx, "SELECT count() FROM phonesignals.calls_current WHERE org = ?", o.Name).Scan(&calls); err != nil {
		t.Fatal(err)
	}
	if calls != uint64(len(o.Calls)) {
		t.Errorf("calls_current holds %d calls, want the fixture's %d", calls, len(o.Calls))
	}
	checked := 0
	for _, cy := range o.Cycles {
		want, wantBase := o.Truth(cy.Start, cy.End)
		got, err := st.CycleMetrics(ctx, o.Name, cy.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("cycle %s: %d employees, want %d", cy.ID, len(got), len(want))
		}
		for _, m := range got {
			w := want[m.EmployeeID]
			g := [7]uint64{m.TotalCalls, m.InboundCalls, m.OutboundCalls, m.AvgDurationSec, m.AfterHoursCalls, m.EscalatedCalls, m.ResolvedCalls}
			x := [7]uint64{uint64(w.TotalCalls), uint64(w.InboundCalls), uint64(w.OutboundCalls), uint64(w.AvgDurationSec),
				uint64(w.AfterHoursCalls), uint64(w.EscalatedCalls), uint64(w.ResolvedCalls)}
			if g != x {
				t.Errorf("cycle %s employee %s: got %v, want %v (total, in, out, avg, after, esc, res)", cy.ID, m.EmployeeID, g, x)
			}
			checked += 7
		}
		bs, err := st.CycleBaselines(ctx, o.Name, cy.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(bs) != len(wantBase) {
			t.Fatalf("cycle %s: %d cohorts, want %d", cy.ID, len(bs), len(wantBase))
		}
		for _, b := range bs {
			w := wantBase[b.Cohort]
			if b.Size != uint64(w.Size) || b.MedianTotalCalls != w.MedianTotalCall {
				t.Errorf("cycle %s cohort %s: size %d median %v, want %d %v", cy.ID, b.Cohort, b.Size, b.MedianTotalCalls, w.Size, w.MedianTotalCall)
			}
			checked += 2
		}
	}
	// The per-day aggregates the reviews read hold raw_signals exactly,
	// however the kills fell (`aggregates verify` exits 1 otherwise).
	if out, err := n.run(2*time.Minute, "aggregates", "verify", "--org", o.Name); err != nil || !strings.Contains(out, "org "+o.Name+": exact") {
		t.Errorf("aggregates verify after the chaos: %v\n%s", err, out)
	}
	t.Logf("verified %d calls once each and %d review numbers against fixture.Truth", calls, checked)
}
