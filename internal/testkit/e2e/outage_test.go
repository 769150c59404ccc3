package e2e

import (
	"context"
	"fmt"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/phonesignals/phonesignals/ingest/providers"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/transform"
)

// publishCalls publishes n decodable Aircall calls and one that is
// dead-lettered (a direction the decoder rejects).
func (r *rig) publishCalls(n int) {
	r.t.Helper()
	at := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)
	var calls []model.RawCall
	for i := 0; i < n; i++ {
		calls = append(calls, model.RawCall{Org: "acme", Provider: fixture.Aircall, CallID: fmt.Sprint(1000 + i),
			Source: model.SourcePoll, ObservedAt: at,
			Body: []byte(fmt.Sprintf(`{"id": %d, "direction": "inbound", "status": "done", "started_at": %d, "answered_at": %d, "ended_at": %d, "duration": 300, "user": {"id": 7}}`,
				1000+i, at.Unix(), at.Unix()+5, at.Unix()+300))})
	}
	calls = append(calls, model.RawCall{Org: "acme", Provider: fixture.Aircall, CallID: "999", Source: model.SourcePoll,
		ObservedAt: at, Body: []byte(`{"id": 999, "direction": "sideways", "started_at": null}`)})
	if err := r.pub.Publish(context.Background(), calls); err != nil {
		r.t.Fatal(err)
	}
}

// TestSchemaDriftStopsTheConsumer: a column retyped under the pipeline is
// not an outage. The consumer must stop with an error naming the column
// instead of retrying forever, and commit nothing.
func TestSchemaDriftStopsTheConsumer(t *testing.T) {
	r := newRig(t)
	r.publishCalls(20)
	ctx := context.Background()
	if err := r.st.Conn().Exec(ctx, "ALTER TABLE raw_signals MODIFY COLUMN duration_sec UInt8"); err != nil {
		t.Fatal(err)
	}
	c := r.consumer(r.loader(), 2000)
	defer c.Close()
	// Long enough for several retries of the old behaviour.
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	start := time.Now()
	err := c.RunUntilIdle(rctx)
	if err == nil || rctx.Err() != nil {
		t.Fatalf("consumer on a drifted schema returned %v after %s; want a prompt error naming duration_sec", err, time.Since(start))
	}
	if !strings.Contains(err.Error(), "duration_sec") || !strings.Contains(err.Error(), "permanent") {
		t.Fatalf("error %q does not name the column duration_sec as a permanent failure", err)
	}
	if st := c.Stats(); st.Batches != 0 {
		t.Fatalf("committed %d batches on a drifted schema", st.Batches)
	}
	lag, lerr := lagOf(t, r)
	if lerr != nil || lag != 21 {
		t.Fatalf("records behind after the stop: %d, %v; want all 21 left uncommitted", lag, lerr)
	}
}

// outageWriter fails like an unreachable ClickHouse for a while, then
// loads, and watches whether a Kafka transaction is open meanwhile.
type outageWriter struct {
	inner    transform.Writer
	until    time.Time
	adm      *kadm.Client
	failures atomic.Int64
	openTxn  atomic.Int64
}

func (w *outageWriter) BeginPoll(ctx context.Context, calls []model.CallKey) transform.PollLoad {
	return outagePoll{w.inner.BeginPoll(ctx, calls), w}
}

type outagePoll struct {
	transform.PollLoad
	w *outageWriter
}

func (p outagePoll) Write(ctx context.Context, recs []arrow.Record) error {
	if w := p.w; time.Now().Before(w.until) {
		w.failures.Add(1)
		if txs, err := w.adm.ListTransactions(ctx, nil, nil); err == nil {
			for _, tx := range txs.Sorted() {
				if tx.State == "Ongoing" {
					w.openTxn.Add(1)
				}
			}
		}
		return fmt.Errorf("inserting into raw_signals: dial tcp 127.0.0.1:1: connect: connection refused")
	}
	return p.PollLoad.Write(ctx, recs)
}

// TestLongOutageWithDeadLetter: a ClickHouse outage longer than the Kafka
// transaction timeout, with a dead letter in the batch, must end with every
// call loaded, one dead_letters row, and no fenced producer. The consumer
// must hold no Kafka transaction open while it waits for ClickHouse.
func TestLongOutageWithDeadLetter(t *testing.T) {
	r := newRig(t)
	r.publishCalls(30)
	cl, err := kgo.NewClient(r.bus.Opts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	w := &outageWriter{inner: r.loader(), until: time.Now().Add(7 * time.Second), adm: kadm.NewClient(cl)}
	c, err := transform.New(transform.Config{Bus: r.bus, Box: r.box, Decoders: providers.Registry().Decoders(), Writer: w,
		DeadLetters: r.st, SessionTimeout: 2 * time.Second, TransactionTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := c.RunUntilIdle(ctx); err != nil {
		t.Fatalf("consumer through a 7 s outage (transaction timeout 3 s): %v", err)
	}
	if w.failures.Load() < 2 {
		t.Fatalf("the outage was not exercised: %d failed writes", w.failures.Load())
	}
	if n := w.openTxn.Load(); n != 0 {
		t.Errorf("a Kafka transaction was open during %d of %d failed ClickHouse writes; it times out on a long outage", n, w.failures.Load())
	}
	if got := r.count("SELECT count() FROM raw_signals"); got != 30 {
		t.Errorf("raw_signals rows = %d, want 30", got)
	}
	if got := r.count("SELECT count() FROM dead_letters"); got != 1 {
		t.Errorf("dead_letters rows = %d, want 1", got)
	}
	dead := readTopic(t, r.bus, "phonesignals.calls.dead")
	if len(dead) != 1 {
		t.Errorf("dead-letter topic holds %d records, want 1", len(dead))
	}
}

func (r *rig) count(sql string) uint64 {
	r.t.Helper()
	var n uint64
	if err := r.st.Conn().QueryRow(context.Background(), sql).Scan(&n); err != nil {
		r.t.Fatal(err)
	}
	return n
}

func lagOf(t *testing.T, r *rig) (int64, error) {
	t.Helper()
	cl, err := kgo.NewClient(r.bus.Opts()...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	return bus.Lag(context.Background(), cl, bus.GroupTransform, bus.TopicRaw)
}

// TestCommitFailureDoesNotStopRun: a broker failing the transaction's
// offset commit once (as while it restarts) must not end the consumer: the
// batch comes again and everything loads, each call once in the views.
func TestCommitFailureDoesNotStopRun(t *testing.T) {
	r := newRig(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(time.Second),
		kfake.SeedTopics(6, bus.TopicRaw), kfake.SeedTopics(1, bus.TopicDead))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	r.bus = bus.Config{Brokers: c.ListenAddrs()}
	pub, err := bus.NewPublisher(r.bus, r.box, bus.TopicRaw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	r.pub = pub
	r.publishCalls(25)
	var failed atomic.Int64
	c.ControlKey(int16(kmsg.TxnOffsetCommit), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		if failed.Add(1) > 1 {
			return nil, nil, false
		}
		req := kr.(*kmsg.TxnOffsetCommitRequest)
		resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewTxnOffsetCommitResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.RequestTimedOut.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp, nil, true
	})
	cons := r.consumer(r.loader(), 2000)
	defer cons.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := cons.RunUntilIdle(ctx); err != nil {
		t.Fatalf("consumer after one failed commit: %v", err)
	}
	if failed.Load() < 2 {
		t.Fatalf("the failed commit was not retried (%d offset commits)", failed.Load())
	}
	if got := r.count("SELECT count() FROM calls_current"); got != 25 {
		t.Errorf("calls_current holds %d calls, want 25", got)
	}
}
