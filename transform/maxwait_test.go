package transform_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest/providers"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver/chservertest"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/load"
	"github.com/phonesignals/phonesignals/transform"
)

// trickleBound is how long after its acknowledgement a record of a steady
// trickle may take to be in raw_signals: the default MaxWait (1 s) plus a
// load on a busy shared 2-core machine (CI runs every package at once).
const trickleBound = 4 * time.Second

// TestTrickleIsLoadedWhileItLasts: records arriving every 50 ms (never a
// 100 ms pause, far fewer than MaxBatch) must be loaded while the trickle
// goes on, each within trickleBound of its acknowledgement, not only
// once it stops (a poll used to keep filling until it held MaxBatch
// records or nothing came for 100 ms: 1,000 s at 20 records/s).
func TestTrickleIsLoadedWhileItLasts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, bcfg, box := trickleRig(t)
	pub, err := bus.NewPublisher(bcfg, box, bus.TopicRaw)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	ld, err := load.New(load.Config{Conn: st.Conn()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ld.Close(context.Background()) }()
	// The defaults of `run`: MaxBatch 20,000 and MaxWait 1 s.
	c, err := transform.New(transform.Config{Bus: bcfg, Box: box, Decoders: providers.Registry().Decoders(),
		Writer: ld, DeadLetters: st, SessionTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("consumer: %v", err)
		}
	}()
	rows := func() int {
		var n uint64
		if err := st.Conn().QueryRow(ctx, "SELECT count() FROM raw_signals").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return int(n)
	}
	// One record first, followed by a pause, so the group has joined
	// before the trickle is timed.
	publishTrickleCall(ctx, t, pub, 0)
	for rows() < 1 {
		if ctx.Err() != nil {
			t.Fatal("the warm-up record was never loaded")
		}
		time.Sleep(20 * time.Millisecond)
	}

	const every, lasts = 50 * time.Millisecond, 10 * time.Second
	tr := &trickle{}
	go tr.run(ctx, t, pub, every, lasts)
	var firstLoaded time.Duration
	late := 0
	for !tr.finished() {
		time.Sleep(25 * time.Millisecond)
		now, n := time.Now(), rows()-1
		due := tr.ackedBefore(now.Add(-trickleBound))
		if n < due && late < 5 {
			late++
			t.Errorf("%s into the trickle: %d of its records in raw_signals, but %d were acknowledged more than %s ago",
				now.Sub(tr.startedAt()).Round(time.Millisecond), n, due, trickleBound)
		}
		if n > 0 && firstLoaded == 0 {
			firstLoaded = now.Sub(tr.firstAck())
		}
	}
	if firstLoaded == 0 || firstLoaded > trickleBound {
		t.Fatalf("the trickle's first record was not loaded while the trickle lasted (%s, a record every %s; loaded after %s); want within %s",
			lasts, every, firstLoaded, trickleBound)
	}
	t.Logf("first record of the trickle in raw_signals %s after its acknowledgement", firstLoaded.Round(time.Millisecond))
	want := tr.count() + 1
	for rows() < want && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	if got := rows(); got != want {
		t.Fatalf("raw_signals holds %d rows after the trickle, want %d", got, want)
	}
}

// trickle publishes one call every so often and keeps the times Kafka
// acknowledged them.
type trickle struct {
	mu    sync.Mutex
	start time.Time
	acks  []time.Time
	done  bool
}

func (tr *trickle) run(ctx context.Context, t *testing.T, pub *bus.Publisher, every, lasts time.Duration) {
	tr.mu.Lock()
	tr.start = time.Now()
	tr.mu.Unlock()
	defer func() {
		tr.mu.Lock()
		tr.done = true
		tr.mu.Unlock()
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := 1; time.Since(tr.start) < lasts && ctx.Err() == nil; i++ {
		publishTrickleCall(ctx, t, pub, i)
		tr.mu.Lock()
		tr.acks = append(tr.acks, time.Now())
		tr.mu.Unlock()
		<-tick.C
	}
}

func (tr *trickle) finished() bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.done
}

func (tr *trickle) startedAt() time.Time {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.start
}

func (tr *trickle) firstAck() time.Time {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.acks[0]
}

func (tr *trickle) count() int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.acks)
}

// ackedBefore counts the records acknowledged before at.
func (tr *trickle) ackedBefore(at time.Time) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return sort.Search(len(tr.acks), func(i int) bool { return !tr.acks[i].Before(at) })
}

// publishTrickleCall publishes the i-th call of the trickle as a webhook
// would and waits for Kafka's acknowledgement.
func publishTrickleCall(ctx context.Context, t *testing.T, pub *bus.Publisher, i int) {
	at := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	id := 5000 + i
	err := pub.Publish(ctx, []model.RawCall{{Org: "acme", Provider: fixture.Aircall, CallID: fmt.Sprint(id),
		Source: model.SourceWebhook, Event: "call.ended", ObservedAt: at.Add(time.Minute),
		Body: []byte(fmt.Sprintf(`{"id": %d, "direction": "inbound", "status": "done", "started_at": %d, "answered_at": %d, "ended_at": %d, "duration": 55, "user": {"id": 7}}`,
			id, at.Unix(), at.Unix()+5, at.Unix()+60))}})
	if err != nil {
		t.Error(err)
	}
}

// trickleRig is a migrated ClickHouse 18.16 database of its own, the
// embedded broker (kfake) with the topics, and a key.
func trickleRig(t *testing.T) (*store.Store, bus.Config, *secret.Box) {
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
	bcfg, box := brokerRig(t)
	return st, bcfg, box
}

// brokerRig is the embedded broker (kfake) with the topics, and a key.
func brokerRig(t *testing.T) (bus.Config, *secret.Box) {
	t.Helper()
	ctx := context.Background()
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
	return emb.Config(), box
}

func TestValidateRejectsNegativeMaxWait(t *testing.T) {
	err := transform.Config{MaxWait: -time.Second}.Validate()
	if err == nil || !strings.Contains(err.Error(), "MaxWait -1s is negative") {
		t.Fatalf("Validate with MaxWait -1s: %v; want an error naming MaxWait", err)
	}
}
