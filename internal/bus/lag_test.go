package bus

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/internal/platform/obs"
	"github.com/phonesignals/phonesignals/internal/platform/obs/obstest"
)

// TestWatchLag publishes records nobody consumed (a group that never
// committed is all behind), then commits them, and reads the gauge off a
// real /metrics endpoint each time.
func TestWatchLag(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "lagtopic"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cfg := Config{Brokers: c.ListenAddrs()}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prod, err := kgo.NewClient(append(cfg.Opts(), kgo.DefaultProduceTopic("lagtopic"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for i := range 7 {
		if err := prod.ProduceSync(ctx, &kgo.Record{Key: []byte{byte(i)}, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := obs.NewServer(obs.ServerConfig{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Run(ctx)
	defer srv.Close()
	gauge := `phonesignals_kafka_consumer_lag_records{group="laggroup",topic="lagtopic"}`
	waitLag := func(want float64) {
		t.Helper()
		wctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			WatchLag(wctx, cfg, "laggroup", "lagtopic", 20*time.Millisecond, func(err error) { t.Errorf("WatchLag: %v", err) })
		}()
		defer func() { stop(); <-done }()
		for {
			s := obstest.Scrape(t, "http://"+srv.Addr()+"/metrics")
			if v, ok := s[gauge]; ok && v == want {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("%s never became %v (last %v)", gauge, want, s[gauge])
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitLag(7)

	cons, err := kgo.NewClient(append(cfg.Opts(), kgo.ConsumerGroup("laggroup"), kgo.ConsumeTopics("lagtopic"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())...)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	for got := 0; got < 7; {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatal(ctx.Err())
		}
		got += fs.NumRecords()
	}
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	waitLag(0)
}
