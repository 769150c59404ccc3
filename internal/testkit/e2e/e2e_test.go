// Package e2e runs the real pipeline end to end: simulated providers over
// HTTP, the embedded Kafka broker (kfake, real protocol), the transform
// consumer group, and a real ClickHouse 18.16 server; then it compares
// every review number with an independent computation over the fixture.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/ingest/ingesttest"
	"github.com/phonesignals/phonesignals/ingest/providers"
	"github.com/phonesignals/phonesignals/ingest/ringcentral"
	"github.com/phonesignals/phonesignals/ingest/ringcentral/ringcentraltest"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver/chservertest"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"github.com/phonesignals/phonesignals/load"
	"github.com/phonesignals/phonesignals/transform"
)

// rig is one test's pipeline: a ClickHouse database, a broker and a key.
type rig struct {
	t   testing.TB
	st  *store.Store
	bus bus.Config
	box *secret.Box
	pub *bus.Publisher
}

func newRig(t testing.TB) *rig {
	t.Helper()
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
	emb, err := bus.StartEmbedded("", 0)
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
	pub, err := bus.NewPublisher(emb.Config(), box, bus.TopicRaw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	return &rig{t: t, st: st, bus: emb.Config(), box: box, pub: pub}
}

// configure registers the org, its roster and its cycles.
func (r *rig) configure(o *fixture.Org) {
	r.t.Helper()
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
}

func (r *rig) consumer(w transform.Writer, maxBatch int) *transform.Consumer {
	r.t.Helper()
	c, err := transform.New(transform.Config{Bus: r.bus, Box: r.box, Decoders: providers.Registry().Decoders(), Writer: w,
		DeadLetters: r.st, MaxBatch: maxBatch, SessionTimeout: 2 * time.Second})
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

func (r *rig) loader() *load.Loader {
	ld, err := load.New(load.Config{Conn: r.st.Conn()})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { _ = ld.Close(context.Background()) })
	return ld
}

// drain runs a fresh consumer until everything published is loaded.
func (r *rig) drain() transform.Stats {
	r.t.Helper()
	c := r.consumer(r.loader(), 2000)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.RunUntilIdle(ctx); err != nil {
		r.t.Fatalf("transform: %v", err)
	}
	return c.Stats()
}

// verify compares every metric of every employee and cycle, and every
// cohort baseline, with fixture.Truth.
func (r *rig) verify(o *fixture.Org) {
	r.t.Helper()
	r.verifyWith(o, nil)
}

// verifyWith is verify with after hours decided by afterHours (nil: the
// seed's rule), as fixture.TruthWith.
func (r *rig) verifyWith(o *fixture.Org, afterHours func(time.Time) bool) {
	r.t.Helper()
	ctx := context.Background()
	for _, cy := range o.Cycles {
		want, wantBase := o.TruthWith(cy.Start, cy.End, afterHours)
		got, err := r.st.CycleMetrics(ctx, o.Name, cy.ID)
		if err != nil {
			r.t.Fatal(err)
		}
		if len(got) != len(want) {
			r.t.Fatalf("cycle %s: %d employees in ClickHouse, want %d", cy.ID, len(got), len(want))
		}
		nonzero := 0
		talked := talkSeen{}
		for _, m := range got {
			w := want[m.EmployeeID]
			gotv := [7]uint64{m.TotalCalls, m.InboundCalls, m.OutboundCalls, m.AvgDurationSec, m.AfterHoursCalls, m.EscalatedCalls, m.ResolvedCalls}
			wantv := [7]uint64{uint64(w.TotalCalls), uint64(w.InboundCalls), uint64(w.OutboundCalls), uint64(w.AvgDurationSec),
				uint64(w.AfterHoursCalls), uint64(w.EscalatedCalls), uint64(w.ResolvedCalls)}
			if gotv != wantv {
				r.t.Errorf("cycle %s employee %s: got %v, want %v (total, in, out, avg, after, esc, res)", cy.ID, m.EmployeeID, gotv, wantv)
			}
			if m.EscalationAvailable != (o.Provider == fixture.Aircall) {
				r.t.Errorf("employee %s: escalation_available %v for %s", m.EmployeeID, m.EscalationAvailable, o.Provider)
			}
			if g, x := gotTalk(m), wantTalk(w); g != x {
				r.t.Errorf("cycle %s employee %s: talk %v, want %v (answered, missed, voicemail, talk, avg talk, avg answer, answer available)", cy.ID, m.EmployeeID, g, x)
			}
			if m.TotalCalls > 0 {
				nonzero++
			}
			talked.add(m)
		}
		if nonzero < len(got)/2 {
			r.t.Fatalf("cycle %s: only %d of %d employees have calls; the fixture is too thin to prove anything", cy.ID, nonzero, len(got))
		}
		talked.check(r.t, o, cy.ID)
		bs, err := r.st.CycleBaselines(ctx, o.Name, cy.ID)
		if err != nil {
			r.t.Fatal(err)
		}
		if len(bs) != len(wantBase) {
			r.t.Fatalf("cycle %s: %d cohorts, want %d", cy.ID, len(bs), len(wantBase))
		}
		for _, b := range bs {
			w := wantBase[b.Cohort]
			if b.Size != uint64(w.Size) || b.MedianTotalCalls != w.MedianTotalCall {
				r.t.Errorf("cycle %s cohort %s: size %d median %v, want %d %v", cy.ID, b.Cohort, b.Size, b.MedianTotalCalls, w.Size, w.MedianTotalCall)
			}
			if g, x := gotTalkMedians(b), wantTalkMedians(w); g != x {
				r.t.Errorf("cycle %s cohort %s: talk medians %v, want %v (answered, missed, voicemail, talk, avg talk)", cy.ID, b.Cohort, g, x)
			}
		}
	}
}

// clock is a settable time source shared by a fake provider and its client,
// so observation times are consistent as they are in production.
type clock struct{ ns atomic.Int64 }

func (c *clock) set(t time.Time)                   { c.ns.Store(t.UnixNano()) }
func (c *clock) now() time.Time                    { return time.Unix(0, c.ns.Load()).UTC() }
func newClock(t time.Time) *clock                  { c := &clock{}; c.set(t); return c }
func noSleep(context.Context, time.Duration) error { return nil }

// failAfter is a sink that dies after n calls, like a killed backfill.
type failAfter struct {
	inner ingest.Sink
	mu    sync.Mutex
	left  int
}

var errKilled = errors.New("killed")

func (f *failAfter) Publish(ctx context.Context, calls []model.RawCall) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.left <= 0 {
		return errKilled
	}
	f.left -= len(calls)
	return f.inner.Publish(ctx, calls)
}

// crashingWriter loads polls like the real loader but, after n polls,
// loads one more and then fails as if the process died before the Kafka
// commit: that poll is in ClickHouse and will be delivered again.
type crashingWriter struct {
	inner  transform.Writer
	n      int
	cancel context.CancelFunc
}

func (w *crashingWriter) BeginPoll(ctx context.Context, calls []model.CallKey) transform.PollLoad {
	return crashingPoll{w.inner.BeginPoll(ctx, calls), w}
}

type crashingPoll struct {
	transform.PollLoad
	w *crashingWriter
}

func (p crashingPoll) Finish(ctx context.Context) error {
	if err := p.PollLoad.Finish(ctx); err != nil {
		return err
	}
	if p.w.n--; p.w.n < 0 {
		p.w.cancel()
		return errKilled
	}
	return nil
}

func TestAircallPipeline(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	o := fixture.Generate(fixture.Spec{Seed: 11, Org: "acme", Employees: 10, UnmappedUsers: 2, Days: 61, CallsPerDay: 5})
	r.configure(o)

	clk := newClock(o.Start.AddDate(0, 0, 35).Add(13 * time.Hour))
	fake := aircalltest.NewFake(o, aircalltest.FakeOptions{APIID: "id", APIToken: "tok", RateLimitPerMinute: 1_000_000, Now: clk.now})
	hs := httptest.NewServer(fake)
	t.Cleanup(hs.Close)
	client, err := aircall.New(o.Name, aircall.Config{BaseURL: hs.URL + "/v1", APIID: "id", APIToken: "tok",
		RateLimitPerMinute: 1_000_000, MaxResults: 500, Now: clk.now, Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	cp := r.st.Checkpoints(o.Name)

	// 1. A backfill up to "now" killed midway, then resumed from its
	// checkpoints. Calls that end before now but get notes later are seen
	// in their early state here.
	early := ingest.Window{From: o.Start, To: clk.now().Truncate(time.Hour)}
	req := ingest.SyncRequest{Org: o.Name, Window: early, Job: "early"}
	if _, err := client.Sync(ctx, req, &failAfter{inner: r.pub, left: 700}, cp, ingest.NoProgress); !errors.Is(err, errKilled) {
		t.Fatalf("killed sync returned %v", err)
	}
	res, err := client.Sync(ctx, req, r.pub, cp, ingest.NoProgress)
	if err != nil {
		t.Fatal(err)
	}
	if res.SkippedWindows == 0 {
		t.Fatal("resumed sync skipped no finished window")
	}

	// 2. Webhooks for the last weeks, duplicated and out of order, through
	// the real webhook server into Kafka.
	clk.set(o.End.Add(24 * time.Hour))
	deliveries := nopDeliveries{}
	ws, err := aircall.NewWebhookServer(aircall.WebhookConfig{Listen: "127.0.0.1:0",
		Orgs: aircall.StaticOrgs{{Org: o.Name, Token: "whtoken"}}, Sink: r.pub, TranscriptSink: &ingesttest.MemSink{}, Deliveries: deliveries})
	if err != nil {
		t.Fatal(err)
	}
	whs := httptest.NewServer(ws.Handler())
	t.Cleanup(whs.Close)
	rep, err := fake.SendWebhooks(ctx, whs.URL, "whtoken", aircalltest.SendOptions{From: o.End.AddDate(0, 0, -20), To: o.End, Duplicates: 0.3, Shuffle: true, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Acked != rep.Deliveries || rep.Deliveries <= rep.Events {
		t.Fatalf("webhooks: %+v", rep)
	}

	// A record nobody can decode: it must be dead-lettered, not stop the
	// pipeline and not vanish.
	if err := r.pub.Publish(ctx, []model.RawCall{{Org: o.Name, Provider: fixture.Aircall, CallID: "999", Source: model.SourcePoll,
		ObservedAt: clk.now(), Body: []byte(`{"id": 999, "direction": "sideways", "started_at": null}`)}}); err != nil {
		t.Fatal(err)
	}

	// 3. The transform crashes after loading a poll but before committing
	// it; a new member picks up and the poll is loaded twice.
	cctx, cancel := context.WithCancel(ctx)
	c1 := r.consumer(&crashingWriter{inner: r.loader(), n: 0, cancel: cancel}, 300)
	if err := c1.RunUntilIdle(cctx); err == nil {
		t.Fatal("crashing consumer finished cleanly")
	}
	c1.Close()
	cancel()

	// 4. A full re-sync after everything ended: every call again, final.
	if _, err := client.Sync(ctx, ingest.SyncRequest{Org: o.Name, Window: ingest.Window{From: o.Start, To: o.End}, Job: "final"}, r.pub, cp, ingest.NoProgress); err != nil {
		t.Fatal(err)
	}
	st := r.drain()
	if st.DeadLetters != 1 {
		t.Fatalf("dead letters: %d, want 1", st.DeadLetters)
	}
	r.verify(o)

	// Duplicates really reached ClickHouse, and still count once.
	var rows uint64
	if err := r.st.Conn().QueryRow(ctx, "SELECT count() FROM raw_signals WHERE org = ?", o.Name).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows <= uint64(len(o.Calls)) {
		t.Fatalf("raw_signals has %d rows for %d calls: the test delivered no duplicates", rows, len(o.Calls))
	}
	dl, err := r.st.DeadLetterStats(ctx, o.Name)
	if err != nil || len(dl) != 1 || dl[0].N != 1 {
		t.Fatalf("dead letter stats %v %v", dl, err)
	}
	// The dead-letter topic holds the record exactly once, committed with
	// the offsets in one transaction, whatever batch the crash aborted.
	dead := readTopic(t, r.bus, bus.TopicDead)
	if len(dead) != 1 || bus.Header(dead[0], bus.HeaderCallID) != "999" || !strings.Contains(bus.Header(dead[0], bus.HeaderReason), "started_at is missing") {
		t.Fatalf("dead-letter topic: %d records (%v)", len(dead), dead)
	}

	// Privacy: notes and tags never reach ClickHouse, and the raw topic
	// holds them only sealed.
	phrases := []string{"ESCALATED to tier 2", "Customer wants the manager", "Issue resolved on the call", "Refund request", "Billing question"}
	for _, p := range phrases {
		var n uint64
		if err := r.st.Conn().QueryRow(ctx, "SELECT count() FROM raw_signals WHERE positionCaseInsensitive(concat(payload, status, event), ?) > 0", p).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d raw_signals rows contain note text %q", n, p)
		}
	}
	assertSealed(t, r.bus, phrases)
}

// readTopic reads every committed record of topic.
func readTopic(t *testing.T, cfg bus.Config, topic string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append(cfg.Opts(), kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// Transaction markers take offsets too, so read until the topic is
	// quiet rather than to a count: up to 30s for the first record, then
	// until a poll of 2s brings nothing.
	var out []*kgo.Record
	wait := 30 * time.Second
	for {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		fs := cl.PollFetches(ctx)
		cancel()
		n := len(out)
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
		if len(out) == n {
			return out
		}
		wait = 2 * time.Second
	}
}

// assertSealed reads the raw topic with a plain client and checks no
// record value shows any of the phrases.
func assertSealed(t *testing.T, cfg bus.Config, phrases []string) {
	t.Helper()
	cl, err := kgo.NewClient(append(cfg.Opts(), kgo.ConsumeTopics(bus.TopicRaw), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, bus.TopicRaw)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total == 0 {
		t.Fatal("the raw topic is empty")
	}
	// The raw topic is not transactional: its end offsets count records.
	var seen int64
	for seen < total {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d raw records", seen, total)
		}
		fs.EachRecord(func(rec *kgo.Record) {
			seen++
			for _, p := range phrases {
				if bytes.Contains(bytes.ToLower(rec.Value), bytes.ToLower([]byte(p))) {
					t.Errorf("raw topic record %d/%d holds %q in plain text", rec.Partition, rec.Offset, p)
				}
			}
		})
	}
}

func TestRingCentralPipeline(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	o := fixture.Generate(fixture.Spec{Seed: 12, Org: "globex", Provider: fixture.RingCentral, Employees: 8, UnmappedUsers: 2, Days: 61, CallsPerDay: 5})
	r.configure(o)
	clk := newClock(o.End.Add(24 * time.Hour))
	fake := ringcentraltest.NewFake(o, ringcentraltest.FakeOptions{ClientID: "cid", ClientSecret: "sec", JWT: "jwt",
		HeavyLimit: 1_000_000, HeavyWindow: time.Minute, AuthLimit: 1000, TokenTTL: 2 * time.Second, Now: time.Now})
	hs := httptest.NewServer(fake)
	t.Cleanup(hs.Close)
	var users []string
	for _, e := range o.Employees {
		users = append(users, e.ProviderUserID)
	}
	for i, mode := range []string{ringcentral.ModeExtension, ringcentral.ModeAccount} {
		client, err := ringcentral.New(o.Name, ringcentral.Config{BaseURL: hs.URL, ClientID: "cid", ClientSecret: "sec", JWT: "jwt",
			Mode: mode, HeavyLimit: 1_000_000, AuthLimit: 1000, WindowSize: 10 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			fake.ExpireTokens()
		}
		if _, err := client.Sync(ctx, ingest.SyncRequest{Org: o.Name, Window: ingest.Window{From: o.Start, To: o.End}, UserIDs: users, Job: mode},
			r.pub, r.st.Checkpoints(o.Name), ingest.NoProgress); err != nil {
			t.Fatalf("%s sync: %v", mode, err)
		}
	}
	_ = clk
	r.drain()
	r.verify(o)
	// Unmapped extensions are visible (account mode loads them).
	un, err := r.st.UnmappedUsers(ctx, o.Name, o.Start, o.End)
	if err != nil {
		t.Fatal(err)
	}
	if len(un) != 2 {
		t.Fatalf("unmapped extensions %v, want the 2 unmapped users", un)
	}
	if fmt.Sprint(fake.Stats().PenaltyRestarts) != "0" {
		t.Fatalf("penalty restarts: %d", fake.Stats().PenaltyRestarts)
	}
}

// nopDeliveries is an aircall.DeliveryLog that records nothing: these tests
// check what reached Kafka, not the delivery log.
type nopDeliveries struct{}

func (nopDeliveries) RecordDelivery(context.Context, aircall.Delivery) error { return nil }
