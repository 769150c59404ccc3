package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/obs"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
)

// Publisher publishes raw calls to a topic. It implements ingest.Sink:
// Publish returns once Kafka acknowledged every record (idempotent
// producer, acks=all), so callers may checkpoint after it.
type Publisher struct {
	cl      *kgo.Client
	box     *secret.Box
	topic   string
	brokers []string
	// Timeout bounds one Publish: past it the call fails, naming the
	// brokers, instead of waiting on a broker that is gone or hung.
	// Default DefaultPublishTimeout.
	Timeout time.Duration
	// Logger hears about a Publish still waiting, every WaitLogEvery.
	// Default slog.Default().
	Logger *slog.Logger
}

// DefaultPublishTimeout bounds a Publish: the idempotent producer retries
// inside it, so a broker restarting within it loses nothing.
const DefaultPublishTimeout = 45 * time.Second

// WaitLogEvery is how often a Publish that waits for Kafka says so.
var WaitLogEvery = 5 * time.Second

// NewPublisher connects a publisher for topic.
func NewPublisher(cfg Config, box *secret.Box, topic string) (*Publisher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if box == nil {
		return nil, errors.New("publisher needs the master key to seal call bodies")
	}
	opts := append(cfg.Opts(),
		kgo.DefaultProduceTopic(topic),
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.RecordDeliveryTimeout(30*time.Second),
		// No compression: a record is mostly its sealed body, ciphertext
		// that does not compress, and a compressed batch costs the consumer
		// a decompressed copy of every fetch besides the fetch itself (70
		// of its 195 MB heap at 1M calls queued, with lz4). Batches
		// written compressed by older versions are still read.
		kgo.ProducerBatchCompression(kgo.NoCompression()),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating kafka producer for %v: %w", cfg.Brokers, err)
	}
	return &Publisher{cl: cl, box: box, topic: topic, brokers: cfg.Brokers, Timeout: DefaultPublishTimeout, Logger: slog.Default()}, nil
}

// Publish implements ingest.Sink.
func (p *Publisher) Publish(ctx context.Context, calls []model.RawCall) error {
	if len(calls) == 0 {
		return nil
	}
	recs := make([]*kgo.Record, len(calls))
	for i, c := range calls {
		recs[i] = Encode(p.box, p.topic, c)
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultPublishTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.cl.ProduceSync(ctx, recs...).FirstErr() }()
	start := time.Now()
	tick := time.NewTicker(WaitLogEvery)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return p.failed(len(calls), time.Since(start), err)
			}
			obs.Published(p.topic, len(recs))
			return nil
		case <-tick.C:
			p.Logger.Warn("waiting for kafka to acknowledge published calls", "calls", len(calls), "topic", p.topic,
				"brokers", p.brokers, "waited", time.Since(start).Round(time.Second), "gives_up_after", timeout)
		case <-ctx.Done():
			// The producer may be stuck on a hung connection and not see
			// the context at once; do not wait for it.
			select {
			case err := <-done:
				if err == nil {
					obs.Published(p.topic, len(recs))
					return nil
				}
				return p.failed(len(calls), time.Since(start), err)
			case <-time.After(time.Second):
				return p.failed(len(calls), time.Since(start), ctx.Err())
			}
		}
	}
}

func (p *Publisher) failed(n int, waited time.Duration, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("publishing %d calls to %s: kafka at %v did not acknowledge within %s (is the broker running and reachable?): %w",
			n, p.topic, p.brokers, waited.Round(time.Second), err)
	}
	return fmt.Errorf("publishing %d calls to %s at %v: %w", n, p.topic, p.brokers, err)
}

// Close flushes and closes the producer.
func (p *Publisher) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = p.cl.Flush(ctx)
	p.cl.Close()
}
