package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/obs"
	"github.com/phonesignals/phonesignals/internal/secret"
)

// Publisher publishes raw calls to a topic. It implements ingest.Sink:
// Publish returns once Kafka acknowledged every record (idempotent
// producer, acks=all), so callers may checkpoint after it.
type Publisher struct {
	cl    *kgo.Client
	box   *secret.Box
	topic string
}

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
		kgo.ProducerBatchCompression(kgo.Lz4Compression()),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating kafka producer for %v: %w", cfg.Brokers, err)
	}
	return &Publisher{cl: cl, box: box, topic: topic}, nil
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
	if err := p.cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("publishing %d calls to %s: %w", len(calls), p.topic, err)
	}
	obs.Published(p.topic, len(recs))
	return nil
}

// Close flushes and closes the producer.
func (p *Publisher) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = p.cl.Flush(ctx)
	p.cl.Close()
}
