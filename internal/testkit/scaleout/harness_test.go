package scaleout

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/ingest/ingesttest"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver/chservertest"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"github.com/phonesignals/phonesignals/load/aggregate"
)

// EnvCalls sizes the tests like -scaleout.calls.
const EnvCalls = "PHONESIGNALS_SCALEOUT_CALLS"

var callsFlag = flag.Int("scaleout.calls", 0, "about how many calls each scale-out test streams (default 3000; "+EnvCalls+" too)")

// calls is the size of a test: the flag, the environment, or a default
// small enough for `make test` on 2 cores.
func calls(t *testing.T) int {
	t.Helper()
	if *callsFlag > 0 {
		return *callsFlag
	}
	if v := os.Getenv(EnvCalls); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q: want a positive number of calls", EnvCalls, v)
		}
		return n
	}
	return 3000
}

// storeTarget is where a test's store lives: the address of ClickHouse's
// native port and a database of the test's own, migrated.
type storeTarget struct {
	Addr, Database string
	Store          *store.Store
}

// openStore gives each test its store. The default is a database of its
// own on the local ClickHouse 18.16 server; a cluster run replaces it
// with one that opens the cluster's store (the tests use nothing else of
// the server).
var openStore = func(t *testing.T) storeTarget {
	t.Helper()
	ctx := context.Background()
	srv := chservertest.Shared(t)
	db := chservertest.Database(t, srv)
	st, err := store.Open(ctx, store.Config{Addr: srv.Addr(), Database: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return storeTarget{Addr: srv.Addr(), Database: db, Store: st}
}

// rig is one test's pipeline around a fixture org: the store, a 3-broker
// embedded Kafka, the master key, the simulated Aircall API and the real
// producers (the poller and the webhook server, in this process).
type rig struct {
	t      *testing.T
	o      *fixture.Org
	target storeTarget
	st     *store.Store
	emb    *bus.Embedded
	box    *secret.Box
	key    string // base64, for PHONESIGNALS_MASTER_KEY
	pub    *bus.Publisher
	fake   *aircalltest.Fake
	client *aircall.Client
	now    atomic.Int64 // the fake API's clock, Unix ns
	hook   string       // the webhook server's URL
	// logs tell what the processes a test started were doing, when it fails.
	logs []func() string
}

// specFor sizes an Aircall org for about n calls over 61 days (about 43
// working days), at least 8 users.
func specFor(n int) fixture.Spec {
	users := max(8, n/(43*15))
	return fixture.Spec{Seed: 1515, Org: "acme", Provider: fixture.Aircall, Employees: users - 2, UnmappedUsers: 2,
		Days: 61, CallsPerDay: float64(n) / float64(users*43)}
}

func newRig(t *testing.T, n int) *rig {
	t.Helper()
	ctx := context.Background()
	r := &rig{t: t, o: fixture.Generate(specFor(n)), target: openStore(t)}
	r.st = r.target.Store
	var err error
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
	if r.pub, err = bus.NewPublisher(r.emb.Config(), r.box, bus.TopicRaw); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.pub.Close)
	r.configure()
	r.now.Store(r.o.Start.AddDate(0, 0, 30).Add(13 * time.Hour).UnixNano())
	clock := func() time.Time { return time.Unix(0, r.now.Load()).UTC() }
	r.fake = aircalltest.NewFake(r.o, aircalltest.FakeOptions{APIID: "id", APIToken: "tok", RateLimitPerMinute: 1_000_000, Now: clock})
	api := httptest.NewServer(r.fake)
	t.Cleanup(api.Close)
	if r.client, err = aircall.New(r.o.Name, aircall.Config{BaseURL: api.URL + "/v1", APIID: "id", APIToken: "tok",
		RateLimitPerMinute: 1_000_000, MaxResults: 500, Now: clock, Sleep: func(context.Context, time.Duration) error { return nil }}); err != nil {
		t.Fatal(err)
	}
	ws, err := aircall.NewWebhookServer(aircall.WebhookConfig{Listen: "127.0.0.1:0",
		Orgs: aircall.StaticOrgs{{Org: r.o.Name, Token: "whtoken"}}, Sink: r.pub, TranscriptSink: &ingesttest.MemSink{}, Deliveries: nopDeliveries{}})
	if err != nil {
		t.Fatal(err)
	}
	whs := httptest.NewServer(ws.Handler())
	t.Cleanup(whs.Close)
	r.hook = whs.URL
	return r
}

type nopDeliveries struct{}

func (nopDeliveries) RecordDelivery(context.Context, aircall.Delivery) error { return nil }

// configure registers the org, its roster and its cycles.
func (r *rig) configure() {
	r.t.Helper()
	ctx := context.Background()
	if _, err := r.st.AddOrg(ctx, r.o.Name, r.o.Provider); err != nil {
		r.t.Fatal(err)
	}
	var emps []store.Employee
	for _, e := range r.o.Employees {
		emps = append(emps, store.Employee{ID: e.ID, Name: e.Name, Email: e.Email, Cohort: e.Cohort, ProviderUserID: e.ProviderUserID})
	}
	if err := r.st.ImportEmployees(ctx, r.o.Name, emps); err != nil {
		r.t.Fatal(err)
	}
	for _, c := range r.o.Cycles {
		if err := r.st.AddCycle(ctx, r.o.Name, store.Cycle{ID: c.ID, Start: c.Start, End: c.End}); err != nil {
			r.t.Fatal(err)
		}
	}
}

// The stream is three phases, so every call has versions that must be
// ordered: a backfill up to "now" (calls that get notes later are seen
// in their early state), webhooks for the last weeks (duplicated and out
// of order), and a final sync of everything once it all ended.

// syncEarly backfills up to the fake's "now".
func (r *rig) syncEarly(ctx context.Context) error {
	w := ingest.Window{From: r.o.Start, To: time.Unix(0, r.now.Load()).UTC().Truncate(time.Hour)}
	_, err := r.client.Sync(ctx, ingest.SyncRequest{Org: r.o.Name, Window: w, Job: "early"}, r.pub, r.st.Checkpoints(r.o.Name), ingest.NoProgress)
	return err
}

// webhooks sends the last 20 days' events, after every call ended.
func (r *rig) webhooks(ctx context.Context) error {
	r.now.Store(r.o.End.Add(24 * time.Hour).UnixNano())
	rep, err := r.fake.SendWebhooks(ctx, r.hook, "whtoken", aircalltest.SendOptions{From: r.o.End.AddDate(0, 0, -20), To: r.o.End,
		Duplicates: 0.3, Shuffle: true, Seed: 5})
	if err != nil {
		return err
	}
	if rep.Acked != rep.Deliveries {
		return fmt.Errorf("webhooks: %d of %d deliveries acknowledged", rep.Acked, rep.Deliveries)
	}
	return nil
}

// syncFinal syncs every call again, in its final state.
func (r *rig) syncFinal(ctx context.Context) error {
	_, err := r.client.Sync(ctx, ingest.SyncRequest{Org: r.o.Name, Window: ingest.Window{From: r.o.Start, To: r.o.End}, Job: "final"},
		r.pub, r.st.Checkpoints(r.o.Name), ingest.NoProgress)
	return err
}

// waitIdle waits until the transform group has committed everything
// published.
func (r *rig) waitIdle(d time.Duration, why string) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cl, err := kgo.NewClient(r.emb.Config().Opts()...)
	if err != nil {
		r.t.Fatal(err)
	}
	defer cl.Close()
	for {
		lag, err := bus.Lag(ctx, cl, bus.GroupTransform, bus.TopicRaw)
		if err == nil && lag == 0 {
			return
		}
		select {
		case <-ctx.Done():
			var logs strings.Builder
			for _, l := range r.logs {
				logs.WriteString(l())
			}
			r.t.Fatalf("%s: the group still %d records behind after %s (%v)%s", why, lag, d, err, logs.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// waitExact waits until the review numbers equal fixture.Truth, every
// call counted once: the stream is loaded. The processes' tests wait for
// this rather than for the group's lag: after members are killed, kfake
// has been seen to report a survivor's committed offsets behind the
// records it committed (lag = exactly its last poll's records) while it
// fetched at the end, for minutes.
func (r *rig) waitExact(d time.Duration, why string) {
	r.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if r.exact(ctx) {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	var logs strings.Builder
	for _, l := range r.logs {
		logs.WriteString(l())
	}
	r.t.Fatalf("%s: the review numbers still differ from fixture.Truth after %s%s", why, d, logs.String())
}

// exact reports whether every call is in calls_current once and every
// employee's numbers of every cycle equal fixture.Truth.
func (r *rig) exact(ctx context.Context) bool {
	var n uint64
	if err := r.st.Conn().QueryRow(ctx, "SELECT count() FROM calls_current WHERE org = ?", r.o.Name).Scan(&n); err != nil || n != uint64(len(r.o.Calls)) {
		return false
	}
	for _, cy := range r.o.Cycles {
		want, _ := r.o.Truth(cy.Start, cy.End)
		got, err := r.st.CycleMetrics(ctx, r.o.Name, cy.ID)
		if err != nil || len(got) != len(want) {
			return false
		}
		for _, m := range got {
			w := want[m.EmployeeID]
			if m.TotalCalls != uint64(w.TotalCalls) || m.EscalatedCalls != uint64(w.EscalatedCalls) || m.ResolvedCalls != uint64(w.ResolvedCalls) ||
				m.AfterHoursCalls != uint64(w.AfterHoursCalls) || m.AvgDurationSec != uint64(w.AvgDurationSec) {
				return false
			}
		}
	}
	return true
}

// verify: every call once, every review number and cohort baseline equal
// to fixture.Truth, and the per-day aggregates exact (what `aggregates
// verify` checks).
func (r *rig) verify(when string) {
	r.t.Helper()
	ctx := context.Background()
	var n uint64
	if err := r.st.Conn().QueryRow(ctx, "SELECT count() FROM calls_current WHERE org = ?", r.o.Name).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	if n != uint64(len(r.o.Calls)) {
		r.t.Errorf("%s: calls_current holds %d calls, want the fixture's %d", when, n, len(r.o.Calls))
	}
	checked := 0
	for _, cy := range r.o.Cycles {
		checked += r.verifyCycle(ctx, when, cy)
	}
	agg, err := aggregate.New(r.st.Conn(), time.Now)
	if err != nil {
		r.t.Fatal(err)
	}
	rep, err := agg.Verify(ctx, r.o.Name, aggregate.Range{})
	if err != nil {
		r.t.Fatal(err)
	}
	if len(rep.Diffs) > 0 || rep.Dirty > 0 {
		r.t.Errorf("%s: aggregates verify: %d keys differ from raw_signals, %d days dirty once idle (first: %+v)", when, len(rep.Diffs), rep.Dirty, rep.Diffs[:min(1, len(rep.Diffs))])
	}
	r.t.Logf("%s: %d calls once each, %d review numbers equal to fixture.Truth, aggregates exact", when, n, checked)
}

func (r *rig) verifyCycle(ctx context.Context, when string, cy fixture.Cycle) int {
	want, wantBase := r.o.Truth(cy.Start, cy.End)
	got, err := r.st.CycleMetrics(ctx, r.o.Name, cy.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	if len(got) != len(want) {
		r.t.Fatalf("%s: cycle %s: %d employees, want %d", when, cy.ID, len(got), len(want))
	}
	checked := 0
	for _, m := range got {
		w := want[m.EmployeeID]
		g := [10]uint64{m.TotalCalls, m.InboundCalls, m.OutboundCalls, m.AvgDurationSec, m.AfterHoursCalls, m.EscalatedCalls, m.ResolvedCalls,
			m.AnsweredCalls, m.MissedCalls, m.VoicemailCalls}
		x := [10]uint64{uint64(w.TotalCalls), uint64(w.InboundCalls), uint64(w.OutboundCalls), uint64(w.AvgDurationSec),
			uint64(w.AfterHoursCalls), uint64(w.EscalatedCalls), uint64(w.ResolvedCalls), uint64(w.AnsweredCalls), uint64(w.MissedCalls), uint64(w.VoicemailCalls)}
		if g != x {
			r.t.Errorf("%s: cycle %s employee %s: got %v, want %v (total, in, out, avg, after, esc, res, answered, missed, voicemail)", when, cy.ID, m.EmployeeID, g, x)
		}
		checked += len(g)
	}
	bs, err := r.st.CycleBaselines(ctx, r.o.Name, cy.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	if len(bs) != len(wantBase) {
		r.t.Fatalf("%s: cycle %s: %d cohorts, want %d", when, cy.ID, len(bs), len(wantBase))
	}
	for _, b := range bs {
		w := wantBase[b.Cohort]
		if b.Size != uint64(w.Size) || b.MedianTotalCalls != w.MedianTotalCall {
			r.t.Errorf("%s: cycle %s cohort %s: size %d median %v, want %d %v", when, cy.ID, b.Cohort, b.Size, b.MedianTotalCalls, w.Size, w.MedianTotalCall)
		}
		checked += 2
	}
	return checked
}
