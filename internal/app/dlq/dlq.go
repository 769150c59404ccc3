package dlq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/store"
)

// Config selects dead letters and says where they are.
type Config struct {
	// Bus says where Kafka is. Required.
	Bus bus.Config
	// Store records what was replayed. Required.
	Store *store.Store
	// Org selects one org. Default "": every org.
	Org string
	// Reason selects reasons containing this text, case-insensitive.
	// Default "": any. List only.
	Reason string
	// Since selects dead letters written at or after it. Default zero: all.
	Since time.Time
	// Quiet is how long a read of the dead-letter topic waits for more
	// records before it counts the topic as read to its end. Default 2s.
	Quiet time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Validate reports every problem, each naming the field.
func (c Config) Validate() error {
	var errs []error
	if err := c.Bus.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Store == nil {
		errs = append(errs, errors.New("dlq: Store is nil: replays are recorded in ClickHouse"))
	}
	if c.Quiet < 0 {
		errs = append(errs, fmt.Errorf("dlq: Quiet %s is negative", c.Quiet))
	}
	return errors.Join(errs...)
}

func (c *Config) defaults() {
	if c.Quiet == 0 {
		c.Quiet = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Letter is one dead letter: the raw record it came from and why.
type Letter struct {
	Org, Provider, CallID string
	// Origin is the raw record's topic/partition/offset.
	Origin string
	// ReplayOf is the origin of the call record's first dead letter when
	// this one failed again after a replay; "" otherwise.
	ReplayOf string
	Reason   string
	// At is when it was dead-lettered.
	At time.Time
	// ReplayedAt is when it (or, for one that failed again the same way,
	// the record it replayed) was replayed; zero if never.
	ReplayedAt time.Time

	rec *kgo.Record
}

// Root is the origin of the record's first dead letter.
func (l Letter) Root() string {
	if l.ReplayOf != "" {
		return l.ReplayOf
	}
	return l.Origin
}

func (l Letter) key() string { return store.ReplayKey(l.Org, l.Root(), l.Reason) }

// List reads the dead letters selected by cfg from the dead-letter topic,
// oldest first, one per raw record (a batch re-delivered after a crash
// dead-letters its records again).
func List(ctx context.Context, cfg Config) ([]Letter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.defaults()
	done, err := cfg.Store.ReplayedDeadLetters(ctx, cfg.Org)
	if err != nil {
		return nil, err
	}
	recs, err := readAll(ctx, cfg.Bus, bus.TopicDead, cfg.Quiet)
	if err != nil {
		return nil, err
	}
	var out []Letter
	seen := map[string]bool{}
	for _, r := range recs {
		l := Letter{Org: bus.Header(r, bus.HeaderOrg), Provider: bus.Header(r, bus.HeaderProvider), CallID: bus.Header(r, bus.HeaderCallID),
			Origin: bus.Header(r, bus.HeaderOrigin), ReplayOf: bus.Header(r, bus.HeaderReplayOf), Reason: bus.Header(r, bus.HeaderReason),
			At: r.Timestamp.UTC(), rec: r}
		if l.Origin == "" {
			l.Origin = store.Origin(r.Topic, r.Partition, r.Offset)
		}
		if cfg.Org != "" && l.Org != cfg.Org || l.At.Before(cfg.Since) ||
			cfg.Reason != "" && !strings.Contains(strings.ToLower(l.Reason), strings.ToLower(cfg.Reason)) {
			continue
		}
		if id := l.Org + "\x00" + l.Origin; seen[id] {
			continue
		} else {
			seen[id] = true
		}
		l.ReplayedAt = done[l.key()]
		out = append(out, l)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

// Result counts what Replay did.
type Result struct {
	// Replayed were published to the raw topic again.
	Replayed int
	// AlreadyReplayed were replayed by an earlier run and left alone (a
	// record that failed again the same way counts once).
	AlreadyReplayed int
}

// Replay publishes the dead letters selected by cfg to the raw topic, each
// once, and records them as replayed. `run` then loads them; one that
// fails again becomes a new dead letter naming the first (replay_of): with
// the same reason it is not replayed again (nothing changed), with another
// reason (a partial fix) the next replay re-drives it.
func Replay(ctx context.Context, cfg Config) (Result, error) {
	var res Result
	cfg.Reason = ""
	letters, err := List(ctx, cfg)
	if err != nil {
		return res, err
	}
	cfg.defaults()
	var out []*kgo.Record
	var replayed []store.Replayed
	seen := map[string]bool{}
	for _, l := range letters {
		if seen[l.key()] {
			continue // failed again the same way after a replay
		}
		seen[l.key()] = true
		if !l.ReplayedAt.IsZero() {
			res.AlreadyReplayed++
			continue
		}
		out = append(out, bus.Replay(l.rec, l.Root()))
		replayed = append(replayed, store.Replayed{Org: l.Org, Origin: l.Root(), Reason: l.Reason, CallID: l.CallID})
	}
	if len(out) == 0 {
		return res, nil
	}
	if err := publish(ctx, cfg.Bus, out); err != nil {
		return res, err
	}
	// Recorded after publishing: a crash in between replays them again,
	// which loads the same versions again and changes no number.
	if err := cfg.Store.RecordReplays(ctx, replayed); err != nil {
		return res, err
	}
	res.Replayed = len(out)
	cfg.Logger.Info("replayed dead letters", "replayed", res.Replayed, "already_replayed", res.AlreadyReplayed)
	return res, nil
}

func publish(ctx context.Context, cfg bus.Config, recs []*kgo.Record) error {
	cl, err := kgo.NewClient(append(cfg.Opts(), kgo.RequiredAcks(kgo.AllISRAcks()))...)
	if err != nil {
		return fmt.Errorf("connecting to kafka %v: %w", cfg.Brokers, err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("re-publishing %d dead letters to %s: %w", len(recs), bus.TopicRaw, err)
	}
	return nil
}

// readAll reads every committed record of topic. Transaction markers take
// offsets too, so the end is where a poll of quiet brings nothing more.
func readAll(ctx context.Context, cfg bus.Config, topic string, quiet time.Duration) ([]*kgo.Record, error) {
	cl, err := kgo.NewClient(append(cfg.Opts(), kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(quiet/4))...)
	if err != nil {
		return nil, fmt.Errorf("connecting to kafka %v: %w", cfg.Brokers, err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for {
		pctx, cancel := context.WithTimeout(ctx, quiet)
		fs := cl.PollFetches(pctx)
		cancel()
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reading %s: %w", topic, err)
		}
		var ferr error
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				ferr = errors.Join(ferr, fmt.Errorf("reading %s partition %d: %w", t, p, err))
			}
		})
		if ferr != nil {
			return nil, ferr
		}
		n := len(out)
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
		if len(out) == n {
			return out, nil
		}
	}
}
