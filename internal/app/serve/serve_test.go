package serve_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/ingest/providers"
	"github.com/phonesignals/phonesignals/ingest/ringcentral/ringcentraltest"
	"github.com/phonesignals/phonesignals/internal/app/orgs"
	"github.com/phonesignals/phonesignals/internal/app/serve"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver/chservertest"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"github.com/phonesignals/phonesignals/load"
	"github.com/phonesignals/phonesignals/transform"
)

// reqLog is every request the fake providers received: org, replica (from
// the User-Agent) and arrival time.
type reqLog struct {
	mu   sync.Mutex
	reqs []logged
}

type logged struct {
	org, replica string
	at           time.Time
}

func (l *reqLog) wrap(org string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rep, _ := strings.CutPrefix(r.Header.Get("User-Agent"), "phonesignals serve ")
		l.mu.Lock()
		l.reqs = append(l.reqs, logged{org, rep, time.Now()})
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// overlap is, per org, how long two replicas were both sending it
// requests: each replica's requests of the org are grouped into spans
// (requests less than gap apart; a followed org sends one at least every
// round, back-off included), and the spans of different replicas are
// intersected.
func (l *reqLog) overlap(gap time.Duration) map[string]time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	type span struct{ from, to time.Time }
	spans := map[string]map[string][]span{}
	sorted := append([]logged(nil), l.reqs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].at.Before(sorted[j].at) })
	for _, r := range sorted {
		if spans[r.org] == nil {
			spans[r.org] = map[string][]span{}
		}
		ss := spans[r.org][r.replica]
		if n := len(ss); n > 0 && r.at.Sub(ss[n-1].to) < gap {
			ss[n-1].to = r.at
		} else {
			ss = append(ss, span{r.at, r.at})
		}
		spans[r.org][r.replica] = ss
	}
	out := map[string]time.Duration{}
	for org, byRep := range spans {
		for a, as := range byRep {
			for b, bs := range byRep {
				if a >= b {
					continue
				}
				for _, x := range as {
					for _, y := range bs {
						end, begin := x.to, x.from
						if y.to.Before(end) {
							end = y.to
						}
						if y.from.After(begin) {
							begin = y.from
						}
						if d := end.Sub(begin); d > out[org] {
							out[org] = d
						}
					}
				}
			}
		}
	}
	return out
}

func (l *reqLog) lastFrom(org, replica string) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var t time.Time
	for _, r := range l.reqs {
		if r.org == org && r.replica == replica && r.at.After(t) {
			t = r.at
		}
	}
	return t
}

// cutDialer partitions a replica away from Kafka on Cut: open connections
// are closed and new ones refused, as for a replica killed with -9 or
// behind a dead network, from the group's point of view.
type cutDialer struct {
	mu    sync.Mutex
	cut   bool
	conns []net.Conn
}

func (d *cutDialer) Dial(ctx context.Context, network, host string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cut {
		return nil, errors.New("partitioned away by the test")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, host)
	if err == nil {
		d.conns = append(d.conns, c)
	}
	return c, err
}

func (d *cutDialer) Cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cut = true
	for _, c := range d.conns {
		c.Close()
	}
}

type rig struct {
	t    *testing.T
	st   *store.Store
	bus  bus.Config
	box  *secret.Box
	log  *reqLog
	now  time.Time
	orgs []*fixture.Org
}

func newRig(t *testing.T) *rig {
	ctx := context.Background()
	srv := chservertest.Shared(t)
	st, err := store.Open(ctx, store.Config{Addr: srv.Addr(), Database: chservertest.Database(t, srv)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	emb, err := bus.StartEmbeddedBrokers(3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(emb.Close)
	if err := bus.EnsureTopics(ctx, emb.Config()); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := secret.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, st: st, bus: emb.Config(), box: box, log: &reqLog{}}
}

// connect stores org o with its fake at url and the given credentials.
func (r *rig) connect(o *fixture.Org, url string, cr, settings map[string]string) {
	ctx := context.Background()
	if _, err := r.st.AddOrg(ctx, o.Name, o.Provider); err != nil {
		r.t.Fatal(err)
	}
	var emps []store.Employee
	for _, e := range o.Employees {
		emps = append(emps, store.Employee{ID: e.ID, Name: e.Name, Email: e.Email, Cohort: e.Cohort, ProviderUserID: e.ProviderUserID})
	}
	if err := r.st.ImportEmployees(ctx, o.Name, emps); err != nil {
		r.t.Fatal(err)
	}
	for _, c := range o.Cycles {
		if err := r.st.AddCycle(ctx, o.Name, store.Cycle{ID: c.ID, Start: c.Start, End: c.End}); err != nil {
			r.t.Fatal(err)
		}
	}
	so := store.Org{Name: o.Name, Provider: o.Provider, APIURL: url, Settings: settings}
	if err := orgs.SealCredentials(r.box, &so, cr); err != nil {
		r.t.Fatal(err)
	}
	if err := r.st.SaveOrg(ctx, so); err != nil {
		r.t.Fatal(err)
	}
}

var start = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

// addAircall adds an Aircall org; faults: "", "401", "hang", "429".
func (r *rig) addAircall(name string, seed int64, fault string) *fixture.Org {
	o := fixture.Generate(fixture.Spec{Seed: seed, Org: name, Employees: 4, UnmappedUsers: 1, Days: 10, CallsPerDay: 2, Start: start})
	limit := 1_000_000
	if fault == "429" {
		limit = 1
	}
	fake := aircalltest.NewFake(o, aircalltest.FakeOptions{APIID: "id", APIToken: "tok", RateLimitPerMinute: limit, Now: func() time.Time { return r.now }})
	var h http.Handler = fake
	if fault == "hang" {
		h = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { <-req.Context().Done() })
	}
	hs := httptest.NewServer(r.log.wrap(name, h))
	r.t.Cleanup(hs.Close)
	tok := "tok"
	if fault == "401" {
		tok = "revoked"
	}
	r.connect(o, hs.URL+"/v1", map[string]string{"api_id": "id", "api_token": tok}, map[string]string{"rate_limit": "100000"})
	if fault == "" {
		r.orgs = append(r.orgs, o)
	}
	return o
}

func (r *rig) addRingCentral(name string, seed int64) *fixture.Org {
	o := fixture.Generate(fixture.Spec{Seed: seed, Org: name, Provider: fixture.RingCentral, Employees: 4, UnmappedUsers: 1, Days: 10, CallsPerDay: 2, Start: start})
	fake := ringcentraltest.NewFake(o, ringcentraltest.FakeOptions{ClientID: "cid", ClientSecret: "sec", JWT: "jwt",
		HeavyLimit: 1_000_000, AuthLimit: 1000, Now: func() time.Time { return r.now }})
	hs := httptest.NewServer(r.log.wrap(name, fake))
	r.t.Cleanup(hs.Close)
	r.connect(o, hs.URL, map[string]string{"client_id": "cid", "client_secret": "sec", "jwt": "jwt"},
		map[string]string{"mode": "account", "heavy_limit": "100000", "auth_limit": "1000"})
	r.orgs = append(r.orgs, o)
	return o
}

// replica is one running serve instance.
type replica struct {
	svc    *serve.Service
	cancel context.CancelFunc
	done   chan struct{}
	err    error
	dial   *cutDialer
}

func (r *rig) start(name string) *replica {
	d := &cutDialer{}
	bc := r.bus
	bc.Dial = d.Dial
	svc, err := serve.New(serve.Config{Store: r.st, Registry: providers.Registry(), Box: r.box, Bus: bc, Roles: []string{serve.RoleSync},
		Replica: name, Every: 300 * time.Millisecond, RefreshEvery: time.Second, SessionTimeout: 3 * time.Second,
		RequestTimeout: time.Second, RoundTimeout: 4 * time.Second, MaxBackoff: 2 * time.Second, Grace: 2 * time.Second,
		StatusEvery: time.Second, BackfillDays: 12, Now: func() time.Time { return r.now }})
	if err != nil {
		r.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rep := &replica{svc: svc, cancel: cancel, done: make(chan struct{}), dial: d}
	go func() { defer close(rep.done); rep.err = svc.Run(ctx) }()
	r.t.Cleanup(func() { cancel(); <-rep.done; svc.Close() })
	return rep
}

// owners maps each followed org to the replicas following it.
func owners(reps map[string]*replica) map[string][]string {
	out := map[string][]string{}
	for name, rep := range reps {
		for _, o := range rep.svc.Followed() {
			out[o] = append(out[o], name)
		}
	}
	return out
}

// waitOwned waits until each of names is followed by exactly one of reps.
func waitOwned(t *testing.T, reps map[string]*replica, names []string, within time.Duration) map[string]string {
	deadline := time.Now().Add(within)
	for {
		own := owners(reps)
		ok := true
		got := map[string]string{}
		for _, n := range names {
			if len(own[n]) != 1 {
				ok = false
				break
			}
			got[n] = own[n][0]
		}
		if ok {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s orgs are not each followed by one replica: %v", within, own)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitBackfilled waits until every healthy org's 12 backfill days are
// checkpointed.
func (r *rig) waitBackfilled(within time.Duration) {
	deadline := time.Now().Add(within)
	for _, o := range r.orgs {
		for {
			var n uint64
			if err := r.st.Conn().QueryRow(context.Background(), "SELECT uniqExact(window_from) FROM sync_windows WHERE org = ?", o.Name).Scan(&n); err != nil {
				r.t.Fatal(err)
			}
			if n >= 12 {
				break
			}
			if time.Now().After(deadline) {
				r.t.Fatalf("org %s: %d of 12 backfill days done after %s", o.Name, n, within)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

func TestReplicasShareOrgs(t *testing.T) {
	r := newRig(t)
	r.now = start.AddDate(0, 0, 11).Add(12 * time.Hour)
	r.addAircall("a1", 21, "")
	r.addAircall("a2", 22, "")
	r.addRingCentral("r1", 23)
	r.addRingCentral("r2", 24)
	r.addAircall("bad401", 25, "401")
	r.addAircall("hangs", 26, "hang")
	r.addAircall("throttled", 27, "429")
	all := []string{"a1", "a2", "r1", "r2", "bad401", "hangs", "throttled"}

	reps := map[string]*replica{"A": r.start("A"), "B": r.start("B"), "C": r.start("C")}
	own := waitOwned(t, reps, all, 30*time.Second)
	// Wait for the group to spread the orgs over the replicas.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if own = waitOwned(t, reps, all, 30*time.Second); len(distinct(own)) >= 2 {
			break
		}
	}
	t.Logf("owners: %v", own)
	r.waitBackfilled(60 * time.Second)

	// Partition the replica that owns the most orgs away from Kafka.
	victim := own["a1"]
	var moved []string
	for org, rep := range own {
		if rep == victim {
			moved = append(moved, org)
		}
	}
	cutAt := time.Now()
	reps[victim].dial.Cut()
	alive := map[string]*replica{}
	for n, rep := range reps {
		if n != victim {
			alive[n] = rep
		}
	}
	after := waitOwned(t, alive, all, 30*time.Second)
	failover := time.Since(cutAt)
	t.Logf("replica %s cut off; its orgs %v moved in %s: %v", victim, moved, failover.Round(10*time.Millisecond), after)
	if failover > 15*time.Second {
		t.Errorf("failover took %s, want under 15 s (session timeout 3 s)", failover)
	}
	// The cut-off replica fenced itself: nothing from it after its lease.
	time.Sleep(time.Second)
	for _, org := range moved {
		if last := r.log.lastFrom(org, victim); last.Sub(cutAt) > 3*time.Second {
			t.Errorf("org %s: replica %s still sent requests %s after it was cut off", org, victim, last.Sub(cutAt))
		}
	}
	reps[victim].cancel()
	<-reps[victim].done

	// It comes back; the orgs spread again.
	reps[victim] = r.start(victim)
	deadline := time.Now().Add(30 * time.Second)
	for len(reps[victim].svc.Followed()) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	waitOwned(t, reps, all, 30*time.Second)
	t.Logf("after the restart: %v", owners(reps))

	// Graceful stop of every replica within 30 s.
	stopAt := time.Now()
	for _, rep := range reps {
		rep.cancel()
	}
	for _, rep := range reps {
		<-rep.done
	}
	if d := time.Since(stopAt); d > 30*time.Second {
		t.Errorf("stopping took %s", d)
	}
	t.Logf("stopped 3 replicas in %s", time.Since(stopAt).Round(10*time.Millisecond))

	for org, d := range r.log.overlap(3 * time.Second) {
		t.Logf("org %s: longest overlap %s", org, d)
		if d > time.Second {
			t.Errorf("org %s: two replicas followed it at once for %s", org, d)
		}
	}
	r.checkStatus(all)
	r.drain()
	for _, o := range r.orgs {
		r.verify(o)
	}
}

// checkStatus checks `serve status`'s one read (store.ServeStatuses) names
// an owner and the last error per org.
func (r *rig) checkStatus(all []string) {
	statuses, err := r.st.ServeStatuses(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	byOrg := map[string]store.ServeStatus{}
	for _, s := range statuses {
		byOrg[s.Org] = s
	}
	for _, org := range all {
		got, ok := byOrg[org]
		if !ok || serve.Owner(got.RunID) == "" {
			r.t.Errorf("org %s: no serve status in sync_runs (%+v)", org, got)
			continue
		}
		switch org {
		case "bad401":
			if got.Status != "auth_error" || !strings.Contains(got.Error, "org connect --org bad401") {
				r.t.Errorf("org %s: status %s %q, want auth_error naming the fix", org, got.Status, got.Error)
			}
		case "hangs", "throttled":
			if got.Status != "error" && got.Status != "running" {
				r.t.Errorf("org %s: status %s %q, want error", org, got.Status, got.Error)
			}
		default:
			if got.Status != "ok" {
				r.t.Errorf("org %s: status %s %q, want ok", org, got.Status, got.Error)
			}
		}
		r.t.Logf("org %s: owner %s status %s %.120s", org, serve.Owner(got.RunID), got.Status, got.Error)
	}
}

// drain runs the transform until everything published is loaded.
func (r *rig) drain() {
	ld, err := load.New(load.Config{Conn: r.st.Conn()})
	if err != nil {
		r.t.Fatal(err)
	}
	defer ld.Close(context.Background())
	c, err := transform.New(transform.Config{Bus: r.bus, Box: r.box, Decoders: providers.Registry().Decoders(),
		Writer: ld, DeadLetters: r.st, MaxBatch: 2000, SessionTimeout: 2 * time.Second})
	if err != nil {
		r.t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.RunUntilIdle(ctx); err != nil {
		r.t.Fatal(err)
	}
}

// verify compares every employee's numbers with the fixture's truth.
func (r *rig) verify(o *fixture.Org) {
	ctx := context.Background()
	for _, cy := range o.Cycles {
		want, _ := o.Truth(cy.Start, cy.End)
		got, err := r.st.CycleMetrics(ctx, o.Name, cy.ID)
		if err != nil {
			r.t.Fatal(err)
		}
		if len(got) != len(want) {
			r.t.Fatalf("org %s cycle %s: %d employees, want %d", o.Name, cy.ID, len(got), len(want))
		}
		for _, m := range got {
			w := want[m.EmployeeID]
			g := fmt.Sprint(m.TotalCalls, m.InboundCalls, m.OutboundCalls, m.AvgDurationSec, m.AfterHoursCalls, m.EscalatedCalls, m.ResolvedCalls)
			e := fmt.Sprint(w.TotalCalls, w.InboundCalls, w.OutboundCalls, w.AvgDurationSec, w.AfterHoursCalls, w.EscalatedCalls, w.ResolvedCalls)
			if g != e {
				r.t.Errorf("org %s cycle %s employee %s: got %s, want %s", o.Name, cy.ID, m.EmployeeID, g, e)
			}
		}
	}
}

func distinct(own map[string]string) map[string]bool {
	out := map[string]bool{}
	for _, r := range own {
		out[r] = true
	}
	return out
}

func TestMain(m *testing.M) { os.Exit(m.Run()) }
