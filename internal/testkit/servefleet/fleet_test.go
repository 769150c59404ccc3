//go:build linux

package servefleet

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/ingest/ringcentral/ringcentraltest"
	"github.com/phonesignals/phonesignals/internal/app/orgs"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver/chservertest"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// EnvOrgs sets how many orgs the fleet test follows, 3 of them faulty
// (default 8, the short run `make test` does; `make serve-fleet` runs 20).
// With -short the test is skipped.
const EnvOrgs = "PHONESIGNALS_SERVEFLEET_ORGS"

// defaultOrgs is the fleet of `make test`: 5 healthy orgs of both kinds
// and the 3 faulty ones, about 40 s.
const defaultOrgs = 8

// EnvLogs, when set, is a directory that keeps the replicas' logs after
// the test (by default they go to a temporary directory).
const EnvLogs = "PHONESIGNALS_SERVEFLEET_LOGS"

// Bounds the test states and checks.
const (
	// sessionTimeout is the replicas' --session-timeout: a killed
	// replica's orgs move after about this.
	sessionTimeout = 3 * time.Second
	// currentWithin bounds how long a new call or an edit of a healthy
	// org takes to reach raw_signals through serve: a round every second
	// (deep rounds every 5 s for edits), the transform's 1 s max wait, and
	// a killed replica's session timeout when it owned the org.
	currentWithin = 20 * time.Second
	// maxOverlap is the longest two replicas may both send requests for
	// one org: none is expected on a kill (the dead replica sends
	// nothing) nor on a cooperative handover.
	maxOverlap = time.Second
)

// reqLog is every request the fakes received: org, replica (from the
// User-Agent) and arrival time.
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

// since lists, per org, the replicas that sent it a request after t.
func (l *reqLog) since(t time.Time) map[string]map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]map[string]bool{}
	for _, r := range l.reqs {
		if r.at.After(t) {
			if out[r.org] == nil {
				out[r.org] = map[string]bool{}
			}
			out[r.org][r.replica] = true
		}
	}
	return out
}

// overlap is, per org, the longest time two replicas were both sending it
// requests: each replica's requests of an org form spans (requests less
// than gap apart; a followed org sends one at least every round, back-off
// included), and spans of different replicas are intersected.
func (l *reqLog) overlap(gap time.Duration) map[string]time.Duration {
	l.mu.Lock()
	sorted := append([]logged(nil), l.reqs...)
	l.mu.Unlock()
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].at.Before(sorted[j].at) })
	type span struct{ from, to time.Time }
	spans := map[string]map[string][]span{}
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
						begin, end := x.from, x.to
						if y.from.After(begin) {
							begin = y.from
						}
						if y.to.Before(end) {
							end = y.to
						}
						out[org] = max(out[org], end.Sub(begin))
					}
				}
			}
		}
	}
	return out
}

type rig struct {
	t       *testing.T
	st      *store.Store
	addr    string
	db      string
	emb     *bus.Embedded
	key     string
	box     *secret.Box
	log     *reqLog
	healthy []*fixture.Org
	rc      map[string]*ringcentraltest.Fake
	bin     string
}

func newRig(t *testing.T) *rig {
	if os.Getenv(chserver.EnvSkip) == "1" {
		t.Skip(chserver.EnvSkip + "=1: this test runs the local ClickHouse server")
	}
	ctx := context.Background()
	srv := chservertest.Shared(t)
	r := &rig{t: t, addr: srv.Addr(), db: chservertest.Database(t, srv), log: &reqLog{}, rc: map[string]*ringcentraltest.Fake{}}
	var err error
	if r.st, err = store.Open(ctx, store.Config{Addr: r.addr, Database: r.db}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.st.Close() })
	if _, err := r.st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if r.emb, err = bus.StartEmbeddedBrokers(3); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.emb.Close)
	if err := bus.EnsureTopics(ctx, r.emb.Config()); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	r.key = base64.StdEncoding.EncodeToString(key)
	if r.box, err = secret.New(key); err != nil {
		t.Fatal(err)
	}
	r.bin = filepath.Join(t.TempDir(), "phonesignals")
	if out, err := exec.Command("go", "build", "-o", r.bin, "../../../cmd/phonesignals").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return r
}

// start is the first day of every org's calls: nine whole days before
// today, so a 12-day backfill covers them and every call has ended.
func start() time.Time { return time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -9) }

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

// addAircall adds an Aircall org; fault is "", "401", "hang" or "429".
func (r *rig) addAircall(name string, seed int64, fault string) {
	o := fixture.Generate(fixture.Spec{Seed: seed, Org: name, Employees: 4, UnmappedUsers: 1, Days: 9, CallsPerDay: 2, Start: start()})
	limit := 1_000_000
	if fault == "429" {
		limit = 1
	}
	var h http.Handler = aircalltest.NewFake(o, aircalltest.FakeOptions{APIID: "id", APIToken: "tok", RateLimitPerMinute: limit})
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
		r.healthy = append(r.healthy, o)
	}
}

func (r *rig) addRingCentral(name string, seed int64) {
	o := fixture.Generate(fixture.Spec{Seed: seed, Org: name, Provider: fixture.RingCentral, Employees: 4, UnmappedUsers: 1, Days: 9, CallsPerDay: 2, Start: start()})
	fake := ringcentraltest.NewFake(o, ringcentraltest.FakeOptions{ClientID: "cid", ClientSecret: "sec", JWT: "jwt", HeavyLimit: 1_000_000, AuthLimit: 1000})
	hs := httptest.NewServer(r.log.wrap(name, fake))
	r.t.Cleanup(hs.Close)
	r.connect(o, hs.URL, map[string]string{"client_id": "cid", "client_secret": "sec", "jwt": "jwt"},
		map[string]string{"mode": "account", "heavy_limit": "100000", "auth_limit": "1000"})
	r.healthy = append(r.healthy, o)
	r.rc[name] = fake
}

// replica is one `phonesignals serve` process.
type replica struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  string
}

func (r *rig) command(args ...string) *exec.Cmd {
	cmd := exec.Command(r.bin, append([]string{"--clickhouse", r.addr, "--database", r.db, "--brokers", strings.Join(r.emb.Addrs(), ","),
		"--data-dir", filepath.Join(r.t.TempDir(), "data"), "--log-level", "info"}, args...)...)
	env := []string{"PHONESIGNALS_MASTER_KEY=" + r.key}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PHONESIGNALS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	// Its own process group, so SIGKILL hits the replica and not the
	// test; killed with the test binary, so a timed-out test leaves none.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

func (r *rig) start(name string) *replica {
	r.t.Helper()
	dir := os.Getenv(EnvLogs)
	if dir == "" {
		dir = r.t.TempDir()
	}
	rep := &replica{name: name, done: make(chan struct{}), log: filepath.Join(dir, fmt.Sprintf("%s-%d.log", name, time.Now().UnixNano())),
		cmd: r.command("serve", "--roles", "sync,transform", "--replica", name, "--every", "1s", "--reread", "240h", "--reread-every", "5s",
			"--refresh-every", "2s", "--backfill-days", "12", "--session-timeout", sessionTimeout.String(), "--request-timeout", "2s",
			"--round-timeout", "8s", "--max-backoff", "3s")}
	f, err := os.Create(rep.log)
	if err != nil {
		r.t.Fatal(err)
	}
	rep.cmd.Stdout, rep.cmd.Stderr = f, f
	if err := rep.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	go func() { rep.err = rep.cmd.Wait(); f.Close(); close(rep.done) }()
	r.t.Cleanup(rep.kill)
	return rep
}

func (rep *replica) kill() {
	select {
	case <-rep.done:
		return
	default:
	}
	_ = syscall.Kill(-rep.cmd.Process.Pid, syscall.SIGKILL)
	<-rep.done
}

// stop sends SIGTERM and waits for the exit, at most 30 s (the bound the
// README states). It returns the exit status too: serve exits 1 when its
// own 28 s bound cut the stop short (a group rebalance that did not
// answer in time), which still committed nothing unloaded.
func (rep *replica) stop() (exit error, err error) {
	_ = rep.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-rep.done:
		return rep.err, nil
	case <-time.After(30 * time.Second):
		rep.kill()
		return nil, fmt.Errorf("replica %s did not exit within 30 s of SIGTERM\n%s", rep.name, rep.tail())
	}
}

func (rep *replica) tail() string {
	b, _ := os.ReadFile(rep.log)
	l := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(l[max(0, len(l)-20):], "\n")
}

func orgCount(t *testing.T) int {
	if testing.Short() {
		t.Skip("-short: three serve processes for about 40 s; `make serve-fleet` runs 20 orgs")
	}
	v := os.Getenv(EnvOrgs)
	if v == "" {
		return defaultOrgs
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 5 {
		t.Fatalf("%s=%q: want a number of orgs, at least 5 (3 are faulty)", EnvOrgs, v)
	}
	return n
}
