package bus

import (
	"bytes"
	"context"
	"crypto/rand"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPublishStuckBrokerFailsVisibly: a broker that stops answering makes
// Publish say it is waiting, then fail naming the brokers, instead of
// blocking sync silently.
func TestPublishStuckBrokerFailsVisibly(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := secret.New(key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, TopicRaw))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := NewPublisher(Config{Brokers: c.ListenAddrs()}, box, TopicRaw)
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	p.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	p.Timeout = 3 * time.Second
	old := WaitLogEvery
	WaitLogEvery = time.Second
	t.Cleanup(func() { WaitLogEvery = old })
	call := []model.RawCall{{Org: "acme", Provider: fixture.Aircall, CallID: "1", Body: []byte("{}")}}
	if err := p.Publish(context.Background(), call); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		c.SleepControl(func() { <-release })
		return nil, nil, false
	})
	defer p.Close()
	defer close(release)

	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- p.Publish(context.Background(), call) }()
	select {
	case err := <-done:
		took := time.Since(start)
		if err == nil || !strings.Contains(err.Error(), "did not acknowledge") || !strings.Contains(err.Error(), c.ListenAddrs()[0]) {
			t.Fatalf("Publish to a stuck broker after %s: %v; want an error naming the broker", took, err)
		}
		if took < 2*time.Second {
			t.Fatalf("gave up after %s, before its 3s timeout", took)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Publish to a stuck broker still blocked after 30s")
	}
	if !strings.Contains(logs.String(), "waiting for kafka") {
		t.Fatalf("no progress line while waiting; logs:\n%s", logs.String())
	}
}
