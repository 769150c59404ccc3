// Package bus is phonesignals' Kafka layer: topic names, the record format
// of raw calls (headers plus an AES-GCM sealed body, since bodies carry call
// notes), the producer that implements ingest.Sink, and the embedded kfake
// broker used by `demo`, the CLI's defaults and tests. The same code runs
// against Kafka or Redpanda given a broker list.
package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Topics.
const (
	// TopicRaw carries every raw provider call, keyed org/provider/call_id.
	TopicRaw = "phonesignals.calls.raw"
	// TopicDead carries raw records the transform could not use, with a
	// "reason" header; bodies stay sealed.
	TopicDead = "phonesignals.calls.dead"
	// TopicTranscripts carries Aircall transcription.created events of
	// orgs that opted in to transcripts.
	TopicTranscripts = "phonesignals.aircall.transcripts"
	// GroupTransform is the consumer group of `phonesignals run`.
	GroupTransform = "phonesignals-transform"
	// GroupTranscripts is the consumer group of the transcript fetcher.
	GroupTranscripts = "phonesignals-transcripts"
)

// Partitions of TopicRaw. Calls are keyed, so one call stays in one
// partition and its versions keep their order.
const rawPartitions = 6

// Config says how to reach Kafka.
type Config struct {
	// Brokers are HOST:PORT seeds. Required.
	Brokers []string
	// ClientID defaults to "phonesignals".
	ClientID string
	// Dial, when set, opens every broker connection (kgo.Dialer), so a
	// client can follow a broker that moved (FollowAddrFile). Default: a
	// plain dial of the address asked for.
	Dial func(ctx context.Context, network, host string) (net.Conn, error)
}

// Validate reports every problem, each naming the field.
func (c Config) Validate() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("brokers: empty; pass --brokers HOST:PORT[,HOST:PORT] or set PHONESIGNALS_BROKERS (omit both to use the embedded broker)"))
	}
	for _, b := range c.Brokers {
		if !strings.Contains(b, ":") {
			errs = append(errs, fmt.Errorf("broker %q: want HOST:PORT", b))
		}
	}
	return errors.Join(errs...)
}

// Opts are the client options every phonesignals client shares.
func (c Config) Opts() []kgo.Opt {
	id := c.ClientID
	if id == "" {
		id = "phonesignals"
	}
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...), kgo.ClientID(id)}
	if c.Dial != nil {
		opts = append(opts, kgo.Dialer(c.Dial))
	}
	return opts
}

// EnsureTopics creates the phonesignals topics when missing.
func EnsureTopics(ctx context.Context, cfg Config) error {
	cl, err := kgo.NewClient(cfg.Opts()...)
	if err != nil {
		return fmt.Errorf("creating kafka client for %v: %w", cfg.Brokers, err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	str := func(s string) *string { return &s }
	for _, t := range []struct {
		name    string
		parts   int32
		configs map[string]*string
	}{
		// Raw calls are kept 30 days so a reload (new rules, a lost
		// ClickHouse) can replay them; the providers hold them longer.
		{TopicRaw, rawPartitions, map[string]*string{"retention.ms": str("2592000000")}},
		// Dead letters stay until someone has looked at them.
		{TopicDead, 1, map[string]*string{"retention.ms": str("-1")}},
		{TopicTranscripts, 1, map[string]*string{"retention.ms": str("604800000")}},
	} {
		resp, err := adm.CreateTopic(ctx, t.parts, -1, t.configs, t.name)
		if err == nil {
			err = resp.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("creating kafka topic %s on %v: %w", t.name, cfg.Brokers, err)
		}
	}
	return nil
}

// Lag is how many records of topic the group has not committed yet.
func Lag(ctx context.Context, cl *kgo.Client, group, topic string) (int64, error) {
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("listing end offsets of %s: %w", topic, err)
	}
	if err := ends.Error(); err != nil {
		return 0, fmt.Errorf("listing end offsets of %s: %w", topic, err)
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return 0, fmt.Errorf("fetching offsets of group %s: %w", group, err)
	}
	var lag int64
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup(o.Topic, o.Partition)
		at := int64(0)
		if ok && c.At >= 0 {
			at = c.At
		}
		if o.Offset > at {
			lag += o.Offset - at
		}
	})
	return lag, nil
}

// WaitReachable waits until a broker answers metadata, for at most d.
func WaitReachable(ctx context.Context, cfg Config, d time.Duration) error {
	cl, err := kgo.NewClient(cfg.Opts()...)
	if err != nil {
		return fmt.Errorf("creating kafka client for %v: %w", cfg.Brokers, err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		return fmt.Errorf("reaching kafka at %v: %w", cfg.Brokers, err)
	}
	return nil
}
