package bus

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"github.com/twmb/franz-go/plugin/kslog"

	"github.com/phonesignals/phonesignals/internal/platform/obs"
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
	// TLS, when set, dials every broker over TLS (managed clusters).
	// Default nil: plaintext.
	TLS *tls.Config
	// SASL authenticates to the brokers; the zero value does not.
	SASL SASL
	// Dial, when set, opens every broker connection (kgo.Dialer), so a
	// client can follow a broker that moved (FollowAddrFile); not with
	// TLS. Default: a plain dial of the address asked for.
	Dial func(ctx context.Context, network, host string) (net.Conn, error)
	// Logger receives franz-go's own logs with component=kafka: warnings
	// and errors (fencing, failed joins and commits, broker errors) at
	// info level and up, its info (joins, rebalances, assignments) and
	// debug lines at debug level. Default slog.Default() when the client is
	// created.
	Logger *slog.Logger
	// RawRetention is how long a raw topic created by EnsureTopics keeps
	// calls. Default 30 days; the embedded broker's is EmbeddedRawRetention.
	// An existing topic keeps its own setting.
	RawRetention time.Duration
}

// kgoLogger is kslog's adapter one step quieter: franz-go logs every
// join, assignment and metadata load at info, which would repeat on every
// command, so its info lines show only when slog is at debug.
type kgoLogger struct{ *kslog.Logger }

// Level implements kgo.Logger.
func (l kgoLogger) Level() kgo.LogLevel {
	if lvl := l.Logger.Level(); lvl != kgo.LogLevelInfo {
		return lvl
	}
	return kgo.LogLevelWarn
}

// SASL mechanisms.
const (
	SASLPlain       = "PLAIN"
	SASLScramSHA256 = "SCRAM-SHA-256"
	SASLScramSHA512 = "SCRAM-SHA-512"
)

// SASL is Kafka authentication with a user and password.
type SASL struct {
	// Mechanism is PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty means no
	// SASL.
	Mechanism string
	// User and Password are the credentials; both required with a
	// Mechanism.
	User, Password string
}

func (s SASL) mechanism() sasl.Mechanism {
	switch strings.ToUpper(s.Mechanism) {
	case SASLPlain:
		return plain.Auth{User: s.User, Pass: s.Password}.AsMechanism()
	case SASLScramSHA256:
		return scram.Auth{User: s.User, Pass: s.Password}.AsSha256Mechanism()
	case SASLScramSHA512:
		return scram.Auth{User: s.User, Pass: s.Password}.AsSha512Mechanism()
	}
	return nil
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
	if c.SASL.Mechanism != "" {
		if c.SASL.mechanism() == nil {
			errs = append(errs, fmt.Errorf("kafka SASL mechanism %q: want %s, %s or %s", c.SASL.Mechanism, SASLPlain, SASLScramSHA256, SASLScramSHA512))
		}
		if c.SASL.User == "" {
			errs = append(errs, errors.New("kafka SASL user: empty; pass --kafka-user or set PHONESIGNALS_KAFKA_USER"))
		}
		if c.SASL.Password == "" {
			errs = append(errs, errors.New("kafka SASL password: empty; set PHONESIGNALS_KAFKA_PASSWORD or pass --kafka-password-file"))
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
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...), kgo.ClientID(id),
		kgo.WithLogger(kgoLogger{kslog.New(cmp.Or(c.Logger, slog.Default()).With("component", "kafka"))})}
	if c.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(c.TLS.Clone()))
	} else if c.Dial != nil {
		opts = append(opts, kgo.Dialer(c.Dial))
	}
	if m := c.SASL.mechanism(); m != nil {
		opts = append(opts, kgo.SASL(m))
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
		{TopicRaw, rawPartitions, map[string]*string{"retention.ms": str(strconv.FormatInt(cmp.Or(cfg.RawRetention, 30*24*time.Hour).Milliseconds(), 10))}},
		// Dead letters stay until someone has looked at them.
		{TopicDead, 1, map[string]*string{"retention.ms": str("-1")}},
		{TopicTranscripts, 1, map[string]*string{"retention.ms": str("604800000")}},
		// One record per org, kept forever (compacted): serve's ownership.
		{TopicOrgs, OrgPartitions, map[string]*string{"cleanup.policy": str("compact")}},
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

// Lag is how many records of topic the group has not committed yet, as
// kadm computes it (end offset minus commit, or minus the log start where
// the group has no commit). Before the group has joined or committed on
// topic, kadm knows no partition of it: then every record from the log
// start is behind, so "idle" is never reported for a group that has not
// started.
func Lag(ctx context.Context, cl *kgo.Client, group, topic string) (int64, error) {
	adm := kadm.NewClient(cl)
	lags, err := adm.Lag(ctx, group)
	if err != nil {
		return 0, fmt.Errorf("computing the lag of group %s: %w", group, err)
	}
	gl := lags[group]
	for _, err := range []error{gl.DescribeErr, gl.FetchErr} {
		switch {
		case errors.Is(err, kerr.GroupIDNotFound):
			// The group does not exist yet: everything is behind.
			return unconsumed(ctx, adm, topic)
		case err != nil:
			return 0, fmt.Errorf("computing the lag of group %s: %w", group, err)
		}
	}
	if tl, ok := gl.Lag.TotalByTopic()[topic]; ok && len(gl.Lag[topic]) > 0 {
		for _, pl := range gl.Lag[topic] {
			if pl.Err != nil {
				return 0, fmt.Errorf("lag of %s partition %d: %w", topic, pl.Partition, pl.Err)
			}
		}
		return tl.Lag, nil
	}
	return unconsumed(ctx, adm, topic)
}

// unconsumed counts every record of topic from its log start.
func unconsumed(ctx context.Context, adm *kadm.Client, topic string) (int64, error) {
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("listing start offsets of %s: %w", topic, err)
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return 0, fmt.Errorf("listing end offsets of %s: %w", topic, err)
	}
	var n int64
	ends.Each(func(o kadm.ListedOffset) {
		if s, ok := starts.Lookup(o.Topic, o.Partition); ok && o.Offset > s.Offset {
			n += o.Offset - s.Offset
		}
	})
	return n, nil
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

// WatchLag records group's lag on topic in the metrics (obs) every
// interval until ctx ends; a failed check is logged by the caller's
// metrics going stale, not fatal.
func WatchLag(ctx context.Context, cfg Config, group, topic string, every time.Duration, onErr func(error)) {
	cl, err := kgo.NewClient(cfg.Opts()...)
	if err != nil {
		onErr(fmt.Errorf("creating kafka client for the lag watcher: %w", err))
		return
	}
	defer cl.Close()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if lag, err := Lag(ctx, cl, group, topic); err == nil {
			obs.ConsumerLag(group, topic, lag)
		} else if ctx.Err() == nil {
			onErr(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
