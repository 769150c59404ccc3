package bus

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
)

// TestStopBrokerMidStream: on three brokers the raw topic has three
// replicas; a broker stopped while a Publisher and a consumer group
// stream (the group's coordinator, so the group must find another) loses
// no acknowledged record: every published call is read back.
func TestStopBrokerMidStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	emb, err := StartEmbeddedBrokers(3)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	if err := EnsureTopics(ctx, emb.Config()); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(emb.Config().Opts(), kgo.ConsumerGroup("brokers-test"), kgo.ConsumeTopics(TopicRaw),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	md, err := kadm.NewClient(cl).Metadata(ctx, TopicRaw)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range md.Topics[TopicRaw].Partitions {
		if len(p.Replicas) != 3 || len(p.ISR) != 3 {
			t.Fatalf("partition %d: replicas %v, in sync %v; want 3 of each", p.Partition, p.Replicas, p.ISR)
		}
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, _ := secret.New(key)
	pub, err := NewPublisher(emb.Config(), box, TopicRaw)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	const rounds, per = 20, 50
	seen := map[string]bool{}
	consume := func(want int) {
		for len(seen) < want {
			fs := cl.PollFetches(ctx)
			if ctx.Err() != nil {
				t.Fatalf("read back %d of %d calls: %v", len(seen), want, ctx.Err())
			}
			fs.EachRecord(func(r *kgo.Record) { seen[Header(r, "call_id")] = true })
		}
	}
	stopped := -1
	for r := 0; r < rounds; r++ {
		var calls []model.RawCall
		for i := 0; i < per; i++ {
			calls = append(calls, model.RawCall{Org: "acme", Provider: "toy", CallID: fmt.Sprint(r*per + i), Source: model.SourcePoll,
				ObservedAt: time.Unix(1e9, 0).UTC(), Body: []byte(`{}`)})
		}
		if err := pub.Publish(ctx, calls); err != nil {
			t.Fatalf("round %d (broker %d stopped): %v", r, stopped, err)
		}
		consume((r + 1) * per / 2)
		if r == rounds/2 {
			stopped = int(emb.Cluster().CoordinatorFor("brokers-test"))
			if err := emb.StopBroker(stopped); err != nil {
				t.Fatal(err)
			}
			t.Logf("stopped broker %d, the group's coordinator", stopped)
		}
	}
	consume(rounds * per)
	if now := emb.Cluster().CoordinatorFor("brokers-test"); int(now) == stopped {
		t.Fatalf("the group's coordinator is still the stopped broker %d", stopped)
	}
	if err := emb.StopBroker(7); err == nil {
		t.Fatal("stopping broker 7 of 3 succeeded")
	}
}
