package aircall

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
)

// blackhole accepts connections and never answers, like a broker frozen
// by the kernel or a network that drops replies.
func blackhole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// hungOrgs never answers, like an org directory on a dead database.
type hungOrgs struct{ release chan struct{} }

func (h hungOrgs) WebhookOrgs(context.Context) ([]WebhookOrg, error) {
	<-h.release
	return nil, nil
}

// TestWebhookAnswersWithinAckTimeout: with Kafka down, hung, or the org
// directory hung, every delivery is answered 503 within the ack timeout
// (plus scheduling slack), so Aircall, which waits 5 s, retries.
func TestWebhookAnswersWithinAckTimeout(t *testing.T) {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := secret.New(key)
	if err != nil {
		t.Fatal(err)
	}
	// A real producer whose broker is gone.
	emb, err := bus.StartEmbedded("", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.EnsureTopics(context.Background(), emb.Config()); err != nil {
		t.Fatal(err)
	}
	pub, err := bus.NewPublisher(emb.Config(), box, bus.TopicRaw)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	emb.Close()

	hung, err := bus.NewPublisher(bus.Config{Brokers: []string{blackhole(t)}}, box, bus.TopicRaw)
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	release := make(chan struct{})
	// A real broker that stops answering produce requests once the
	// producer is connected and has published.
	stuck, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(6, bus.TopicRaw))
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	stuckPub, err := bus.NewPublisher(bus.Config{Brokers: stuck.ListenAddrs()}, box, bus.TopicRaw)
	if err != nil {
		t.Fatal(err)
	}
	defer stuckPub.Close()
	if err := stuckPub.Publish(context.Background(), []model.RawCall{{Org: "acme", Provider: Name, CallID: "1", Body: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	stuck.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		stuck.KeepControl()
		stuck.SleepControl(func() { <-release })
		return nil, nil, false
	})
	// Runs before the producers' Close, which would wait on the stuck broker.
	defer close(release)
	orgs := StaticOrgs{{Org: "acme", Token: "tok"}}
	const ack = time.Second
	for _, tc := range []struct {
		name string
		orgs OrgDirectory
		sink interface {
			Publish(context.Context, []model.RawCall) error
		}
	}{
		{"kafka down", orgs, pub},
		{"kafka unreachable", orgs, hung},
		{"kafka stops answering", orgs, stuckPub},
		{"org directory hung", hungOrgs{release}, pub},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws, err := NewWebhookServer(WebhookConfig{Orgs: tc.orgs, Sink: tc.sink, AckTimeout: ack})
			if err != nil {
				t.Fatal(err)
			}
			hs := httptest.NewServer(ws.Handler())
			defer hs.Close()
			client := &http.Client{Timeout: 30 * time.Second}
			var wg sync.WaitGroup
			errs := make(chan error, 20)
			for i := 0; i < 20; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					body := fmt.Sprintf(`{"resource":"call","event":"call.ended","timestamp":%d,"token":"tok","data":{"id":%d}}`, time.Now().Unix(), 100+i)
					start := time.Now()
					resp, err := client.Post(hs.URL, "application/json", strings.NewReader(body))
					took := time.Since(start)
					if err != nil {
						errs <- fmt.Errorf("delivery %d: no answer after %s: %v", i, took, err)
						return
					}
					resp.Body.Close()
					// Generous: twice the ack timeout, still under Aircall's 5 s.
					if resp.StatusCode != http.StatusServiceUnavailable || took > 2*ack+500*time.Millisecond {
						errs <- fmt.Errorf("delivery %d: %d after %s, want 503 within about %s", i, resp.StatusCode, took, ack)
					}
				}(i)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}
