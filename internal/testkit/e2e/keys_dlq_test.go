package e2e

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/ingest/providers"
	"github.com/phonesignals/phonesignals/internal/app/dlq"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"github.com/phonesignals/phonesignals/transform"
)

// syncAircall publishes every call of o through the real client and fake.
func (r *rig) syncAircall(o *fixture.Org) {
	r.t.Helper()
	now := o.End.Add(24 * time.Hour)
	clock := func() time.Time { return now }
	fake := aircalltest.NewFake(o, aircalltest.FakeOptions{APIID: "id", APIToken: "tok", RateLimitPerMinute: 1_000_000, Now: clock})
	hs := httptest.NewServer(fake)
	r.t.Cleanup(hs.Close)
	client, err := aircall.New(o.Name, aircall.Config{BaseURL: hs.URL + "/v1", APIID: "id", APIToken: "tok",
		RateLimitPerMinute: 1_000_000, MaxResults: 500, Now: clock, Sleep: noSleep})
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := client.Sync(context.Background(), ingest.SyncRequest{Org: o.Name, Window: ingest.Window{From: o.Start, To: o.End}, Job: "all"},
		r.pub, r.st.Checkpoints(o.Name), ingest.NoProgress); err != nil {
		r.t.Fatal(err)
	}
}

// rawSignalRows counts the rows of org in raw_signals.
func (r *rig) rawSignalRows(org string) uint64 {
	r.t.Helper()
	var n uint64
	if err := r.st.Conn().QueryRow(context.Background(), "SELECT count() FROM raw_signals WHERE org = ?", org).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}

// A transform holding another master key stops at the first record,
// commits nothing and dead-letters nothing: the right key then loads every
// call (issue 8, item 1: the wrong key used to dead-letter and commit all).
func TestWrongKeyStopsTransformWithoutCommitting(t *testing.T) {
	r := newRig(t)
	o := fixture.Generate(fixture.Spec{Seed: 21, Org: "acme", Employees: 6, UnmappedUsers: 1, Days: 40, CallsPerDay: 4})
	r.configure(o)
	r.syncAircall(o)

	other := make([]byte, 32)
	_, _ = rand.Read(other)
	wrong, err := secret.New(other)
	if err != nil {
		t.Fatal(err)
	}
	c, err := transform.New(transform.Config{Bus: r.bus, Box: wrong, Decoders: providers.Registry().Decoders(), Writer: r.loader(),
		DeadLetters: r.st, MaxBatch: 500, SessionTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = c.RunUntilIdle(ctx)
	c.Close()
	if !errors.Is(err, secret.ErrWrongKey) || !strings.Contains(err.Error(), "stopped without committing") ||
		!strings.Contains(err.Error(), "PHONESIGNALS_MASTER_KEY") {
		t.Fatalf("transform with a wrong key returned %v, want a stop naming the master key", err)
	}
	if st := c.Stats(); st.Records != 0 || st.DeadLetters != 0 {
		t.Fatalf("the wrong key processed %+v", st)
	}
	if n := r.rawSignalRows(o.Name); n != 0 {
		t.Fatalf("%d rows loaded under a wrong key", n)
	}
	if dead := readTopic(t, r.bus, bus.TopicDead); len(dead) != 0 {
		t.Fatalf("%d records dead-lettered under a wrong key", len(dead))
	}
	st := r.drain()
	if st.DeadLetters != 0 || st.Records < len(o.Calls) {
		t.Fatalf("right key after a wrong one: %+v, want every one of %d calls and no dead letter", st, len(o.Calls))
	}
	r.verify(o)
}

// Dead letters of any reason are re-driven by dlq.Replay after the fix,
// once: a second replay publishes nothing and changes no number.
func TestReplayDeadLettersOnce(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	o := fixture.Generate(fixture.Spec{Seed: 22, Org: "acme", Employees: 6, UnmappedUsers: 1, Days: 40, CallsPerDay: 4})
	r.configure(o)
	r.syncAircall(o)
	// A transform that cannot decode Aircall yet (the bug to fix): every
	// record is dead-lettered with its reason, and its offset committed.
	broken, err := transform.New(transform.Config{Bus: r.bus, Box: r.box,
		Decoders: map[string]transform.Decoder{fixture.RingCentral: providers.Registry().Decoders()[fixture.RingCentral]},
		Writer:   r.loader(), DeadLetters: r.st, MaxBatch: 500, SessionTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := broken.RunUntilIdle(cctx); err != nil {
		t.Fatal(err)
	}
	broken.Close()
	deadN := broken.Stats().DeadLetters
	if deadN < len(o.Calls) {
		t.Fatalf("%d dead letters, want at least the %d calls", deadN, len(o.Calls))
	}
	listed, err := dlq.List(ctx, dlq.Config{Bus: r.bus, Store: r.st, Org: o.Name, Reason: "NO DECODER", Quiet: time.Second})
	if err != nil || len(listed) != deadN || !listed[0].ReplayedAt.IsZero() {
		t.Fatalf("listed %d dead letters by reason (%v), want %d not replayed", len(listed), err, deadN)
	}
	if other, _ := dlq.List(ctx, dlq.Config{Bus: r.bus, Store: r.st, Org: "globex", Quiet: time.Second}); len(other) != 0 {
		t.Fatalf("another org lists %d dead letters", len(other))
	}

	// After the fix: replay, then load.
	res, err := dlq.Replay(ctx, dlq.Config{Bus: r.bus, Store: r.st, Org: o.Name, Quiet: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Replayed != deadN || res.AlreadyReplayed != 0 {
		t.Fatalf("first replay %+v, want %d replayed", res, deadN)
	}
	if st := r.drain(); st.DeadLetters != 0 || st.Records != deadN {
		t.Fatalf("loading the replay: %+v, want %d records and no dead letter", st, deadN)
	}
	r.verify(o)
	rows := r.rawSignalRows(o.Name)

	// A second replay publishes nothing, and nothing changes.
	res, err = dlq.Replay(ctx, dlq.Config{Bus: r.bus, Store: r.st, Quiet: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Replayed != 0 || res.AlreadyReplayed != deadN {
		t.Fatalf("second replay %+v, want 0 replayed and %d already replayed", res, deadN)
	}
	if st := r.drain(); st.Records != 0 {
		t.Fatalf("after the second replay the transform read %d records", st.Records)
	}
	if after := r.rawSignalRows(o.Name); after != rows {
		t.Fatalf("raw_signals went from %d to %d rows after a second replay", rows, after)
	}
	r.verify(o)
	listed, err = dlq.List(ctx, dlq.Config{Bus: r.bus, Store: r.st, Org: o.Name, Quiet: time.Second})
	if err != nil || len(listed) != deadN || listed[0].ReplayedAt.IsZero() {
		t.Fatalf("after replay: %d listed (%v), want %d marked replayed", len(listed), err, deadN)
	}
}

// A replayed record that fails again with the same reason is listed, and
// not replayed again until its failure changes.
func TestReplayOfAPermanentFailure(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	if err := r.pub.Publish(ctx, []model.RawCall{{Org: "acme", Provider: fixture.Aircall, CallID: "7", Source: model.SourcePoll,
		ObservedAt: time.Now(), Body: []byte(`{"id": 7, "direction": "inbound", "status": "done", "started_at": 9999999999}`)}}); err != nil {
		t.Fatal(err)
	}
	if st := r.drain(); st.DeadLetters != 1 {
		t.Fatalf("%+v, want 1 dead letter", st)
	}
	for i, want := range []int{1, 0} {
		res, err := dlq.Replay(ctx, dlq.Config{Bus: r.bus, Store: r.st, Quiet: time.Second})
		if err != nil || res.Replayed != want {
			t.Fatalf("replay %d: %+v %v, want %d replayed", i+1, res, err, want)
		}
		r.drain()
	}
	listed, err := dlq.List(ctx, dlq.Config{Bus: r.bus, Store: r.st, Reason: "started_at", Quiet: time.Second})
	if err != nil || len(listed) != 2 || listed[1].ReplayOf != listed[0].Origin || listed[1].ReplayedAt.IsZero() {
		t.Fatalf("listed %+v (%v): want the first failure and its replay's, both replayed", listed, err)
	}
}
