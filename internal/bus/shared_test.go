package bus

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/internal/model"
)

func TestSharedEmbedded(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	owner, err := OpenShared(ctx, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !owner.Owned {
		t.Fatal("first opener does not own the broker")
	}
	client, err := OpenShared(ctx, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if client.Owned || client.Config.Brokers[0] != owner.Config.Brokers[0] {
		t.Fatalf("second opener: owned=%v brokers=%v, want the owner's %v", client.Owned, client.Config.Brokers, owner.Config.Brokers)
	}
	client.Close() // no-op for a client
	if err := EnsureTopics(ctx, client.Config); err != nil {
		t.Fatalf("broker gone after a client closed: %v", err)
	}
	box := testBox(t, 1)
	pub, err := NewPublisher(client.Config, box, TopicRaw)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(ctx, []model.RawCall{{Org: "o", Provider: "aircall", CallID: "1", ObservedAt: time.Now(), Body: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	pub.Close()
	owner.Close()

	// The data dir keeps the record for the next owner.
	next, err := OpenShared(ctx, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	if !next.Owned {
		t.Fatal("the broker was not released")
	}
	cl, err := kgo.NewClient(append(next.Config.Opts(), kgo.ConsumeTopics(TopicRaw), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if fs := cl.PollFetches(pctx); fs.NumRecords() != 1 {
		t.Fatalf("after restart: %d records, want 1 (%v)", fs.NumRecords(), fs.Errors())
	}
}

func TestEnsureTopicsIdempotentWithRetention(t *testing.T) {
	ctx := context.Background()
	emb, err := StartEmbedded("", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	for i := 0; i < 2; i++ {
		if err := EnsureTopics(ctx, emb.Config()); err != nil {
			t.Fatalf("EnsureTopics run %d: %v", i+1, err)
		}
	}
	cl, err := kgo.NewClient(emb.Config().Opts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	rcs, err := adm.DescribeTopicConfigs(ctx, TopicRaw, TopicDead)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{TopicRaw: "2592000000", TopicDead: "-1"}
	for _, rc := range rcs {
		got := ""
		for _, c := range rc.Configs {
			if c.Key == "retention.ms" && c.Value != nil {
				got = *c.Value
			}
		}
		if got != want[rc.Name] {
			t.Errorf("%s retention.ms = %q, want %q", rc.Name, got, want[rc.Name])
		}
	}
	topics, err := adm.ListTopics(ctx, TopicRaw)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(topics[TopicRaw].Partitions); n != rawPartitions {
		t.Fatalf("%s has %d partitions, want %d", TopicRaw, n, rawPartitions)
	}
}
