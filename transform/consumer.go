package transform

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"sync/atomic"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/cenkalti/backoff/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/obs"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store/cherr"
)

// Decoder decodes a provider's raw call into a model.Call
// (ingest.Provider.Decode; ingest.Registry.Decoders gives them by provider
// name).
type Decoder = func(model.RawCall, *model.Call) error

// Writer stores the transform's output, a poll at a time (load.Loader,
// which imports this declaration: the loader is the later stage).
// BeginPoll gets the keys of the poll's calls before they are decoded, so
// work that needs only them (the loader's stale-day lookup) overlaps the
// decoding.
type Writer interface {
	BeginPoll(ctx context.Context, calls []model.CallKey) PollLoad
}

// PollLoad is one poll's store. Write stores the poll's batches (all of
// one schema); Finish completes the store before the offsets are
// committed; both are retried while they fail with a transient error, so
// they must be idempotent. Close releases what BeginPoll started, whether
// or not Finish ran.
type PollLoad interface {
	Write(ctx context.Context, recs []arrow.Record) error
	Finish(ctx context.Context) error
	Close()
}

// DeadLetterLog records why records were dead-lettered (store.Store).
type DeadLetterLog interface {
	RecordDeadLetters(ctx context.Context, dls []model.DeadLetter) error
}

// HoursSource gives the working-hours rules the after-hours flag is
// computed with, per org (store.HoursCache): Prepare reads those of a
// poll's orgs before it is decoded, Schedule returns one (nil: the seed's
// rule, 08:00-18:00 UTC).
type HoursSource interface {
	Prepare(ctx context.Context, orgs []string) error
	Schedule(org string) model.Schedule
}

// Config configures the transform consumer.
type Config struct {
	// Bus says where Kafka is. Required.
	Bus bus.Config
	// Box opens sealed call bodies. Required.
	Box *secret.Box
	// Decoders by provider name. Required.
	Decoders map[string]Decoder
	// Workers is how many goroutines decode a poll's chunks in parallel.
	// Default GOMAXPROCS.
	Workers int
	// Writer stores the polls' record batches. Required.
	Writer Writer
	// Hours gives the orgs' working hours. Default: the seed's rule for
	// every org.
	Hours HoursSource
	// DeadLetters records dead-letter reasons. Required.
	DeadLetters DeadLetterLog
	// Group is the consumer group. Default bus.GroupTransform.
	Group string
	// MaxBatch is how many records a poll gathers before it is loaded,
	// and the most records of one Arrow batch. A poll takes whole fetches
	// (see fill), so it may hold up to one fetch (24 MiB) more; a
	// Writer stores it in one ClickHouse insert. Default DefaultMaxBatch.
	MaxBatch int
	// MaxWait bounds how long a record waits in a poll that is still
	// filling: a poll is loaded once it holds MaxBatch records or once its
	// oldest record was fetched MaxWait ago, whichever comes first, so a
	// steady trickle is loaded within about MaxWait plus one load, instead
	// of only when it pauses. It is measured from when the client read the
	// record's batch off the broker, not from the record's Kafka
	// timestamp: the producer's clock may be skewed, and a backlog's
	// records, old by their timestamps, must still fill whole polls.
	// Default 1s: a review is about a second behind a steady stream, while
	// a backlog fills a poll of 20,000 records from one or two fetches in
	// well under a second, so its polls, and its throughput, are as they
	// were.
	MaxWait time.Duration
	// SessionTimeout of the group member. Default 10s, so a crashed
	// consumer's partitions move quickly.
	SessionTimeout time.Duration
	// ProgressEvery is how often a long run logs its progress. Default 5s.
	ProgressEvery time.Duration
	// TransactionalID of the session's producer. Default: the group name
	// plus a random suffix (KIP-447 fences zombies by group generation, so
	// the id need not be stable).
	TransactionalID string
	// TransactionTimeout is the Kafka transaction timeout. A transaction
	// is open only while the dead letters are published and the offsets
	// committed, after the batch is in ClickHouse, so an outage never runs
	// into it. Default 2m.
	TransactionTimeout time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Validate reports every problem, each naming the field.
func (c Config) Validate() error {
	var errs []error
	if err := c.Bus.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Box == nil {
		errs = append(errs, errors.New("transform: Box is nil; the master key is needed to open call bodies"))
	}
	if len(c.Decoders) == 0 {
		errs = append(errs, errors.New("transform: Decoders is empty"))
	}
	if c.Writer == nil {
		errs = append(errs, errors.New("transform: Writer is nil"))
	}
	if c.DeadLetters == nil {
		errs = append(errs, errors.New("transform: DeadLetters is nil"))
	}
	if c.MaxBatch < 0 {
		errs = append(errs, fmt.Errorf("transform: MaxBatch %d is negative", c.MaxBatch))
	}
	if c.MaxWait < 0 {
		errs = append(errs, fmt.Errorf("transform: MaxWait %s is negative; use a positive duration, or 0 for %s", c.MaxWait, DefaultMaxWait))
	}
	return errors.Join(errs...)
}

// Stats counts what a consumer did.
type Stats struct {
	Records     int
	Rows        int
	DeadLetters int
	Batches     int
}

// Consumer is the transform-and-load stage: a franz-go group consumer that
// decodes raw calls, applies the rules into Arrow batches, writes them and
// commits offsets only after the write returned.
type Consumer struct {
	cfg       Config
	sess      *kgo.GroupTransactSession
	cl        *kgo.Client
	stats     Stats
	decoders  map[string]Decoder
	providers []string
	workers   []*worker
	fetched   fetchClock
}

// DefaultMaxWait is Config.MaxWait's default.
const DefaultMaxWait = time.Second

// DefaultMaxBatch is Config.MaxBatch's default, and `run --max-batch`'s:
// large enough that ClickHouse gets few large inserts, small enough that
// a poll's Arrow batches stay a few MiB.
const DefaultMaxBatch = 20000

// New creates the consumer and joins the group.
func New(cfg Config) (*Consumer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Group = cmp.Or(cfg.Group, bus.GroupTransform)
	cfg.MaxBatch = cmp.Or(cfg.MaxBatch, DefaultMaxBatch)
	cfg.MaxWait = cmp.Or(cfg.MaxWait, DefaultMaxWait)
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	cfg.SessionTimeout = cmp.Or(cfg.SessionTimeout, 10*time.Second)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.TransactionTimeout = cmp.Or(cfg.TransactionTimeout, 2*time.Minute)
	cfg.ProgressEvery = cmp.Or(cfg.ProgressEvery, 5*time.Second)
	if cfg.TransactionalID == "" {
		cfg.TransactionalID = fmt.Sprintf("%s-%d-%d", cfg.Group, os.Getpid(), time.Now().UnixNano())
	}
	opts := append(cfg.Bus.Opts(),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(bus.TopicRaw),
		// Offsets are committed inside the transaction that also carries the
		// dead letters, and only after ClickHouse acknowledged the batch.
		// Blocking rebalances while a batch is in flight keeps another member
		// from re-reading it meanwhile; should the group move anyway, the
		// session aborts and the batch is re-delivered (its rows load again
		// and the versioned views count them once).
		kgo.TransactionalID(cfg.TransactionalID),
		kgo.TransactionTimeout(cfg.TransactionTimeout),
		kgo.DefaultProduceTopic(bus.TopicDead),
		kgo.BlockRebalanceOnPoll(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(cfg.SessionTimeout),
		kgo.HeartbeatInterval(cfg.SessionTimeout/4),
		kgo.FetchMaxWait(250*time.Millisecond),
		// What the client buffers ahead of the polls is bounded, whatever
		// is queued on the topic (the default allows 50 MiB per fetch):
		// one fetch in flight or buffered while a poll is processed. A
		// fetch holds a default poll (20,000 Aircall calls of about 1 KB
		// sealed) so that a poll rarely waits for a second one.
		kgo.FetchMaxBytes(fetchMaxBytes),
		kgo.FetchMaxPartitionBytes(fetchMaxBytes/4),
	)
	c := &Consumer{cfg: cfg, decoders: map[string]Decoder{}}
	opts = append(opts, kgo.WithHooks(&c.fetched))
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		return nil, fmt.Errorf("creating kafka transact session for %v: %w", cfg.Bus.Brokers, err)
	}
	c.sess, c.cl = sess, sess.Client()
	for name, d := range cfg.Decoders {
		c.decoders[name] = d
	}
	for name := range c.decoders {
		c.providers = append(c.providers, name)
	}
	sort.Strings(c.providers)
	for range cfg.Workers {
		w := &worker{bb: NewBatchBuilder(nil)}
		if cfg.Hours != nil {
			w.bb.Hours = cfg.Hours.Schedule
		}
		c.workers = append(c.workers, w)
	}
	return c, nil
}

// Stats returns the counts so far.
func (c *Consumer) Stats() Stats { return c.stats }

// Run consumes until ctx ends.
func (c *Consumer) Run(ctx context.Context) error { return c.run(ctx, false) }

// RunUntilIdle consumes until every record published so far is loaded
// (the group's committed offsets reach the topic's end), then returns.
func (c *Consumer) RunUntilIdle(ctx context.Context) error { return c.run(ctx, true) }

func (c *Consumer) run(ctx context.Context, untilIdle bool) error {
	lastLog := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			if untilIdle {
				return err
			}
			return nil
		}
		pollCtx, cancel := context.WithTimeout(ctx, time.Second)
		polled := time.Now()
		fetches := c.sess.PollFetches(pollCtx)
		cancel()
		pollWait := time.Since(polled)
		if !fetches.IsClientClosed() {
			fetches = c.fill(ctx, fetches)
		}
		fillWait := time.Since(polled) - pollWait
		if fetches.IsClientClosed() {
			return nil
		}
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				c.cfg.Logger.Warn("kafka fetch error", "topic", t, "partition", p, "err", err)
			}
		})
		recs := fetches.Records()
		if len(recs) == 0 {
			c.sess.AllowRebalance()
			if untilIdle && c.caughtUp(ctx) {
				return nil
			}
			continue
		}
		c.cfg.Logger.Debug("polled", "records", len(recs), "wait", pollWait, "fill", fillWait)
		if err := c.process(ctx, recs); err != nil {
			c.sess.AllowRebalance()
			if err := c.failedBatch(ctx, err, len(recs), untilIdle); err != nil {
				return err
			}
			continue
		}
		c.sess.AllowRebalance()
		// Checking right after a batch saves a last empty poll's wait.
		lag := int64(-1)
		if untilIdle {
			if l, err := bus.Lag(ctx, c.cl, c.cfg.Group, bus.TopicRaw); err == nil {
				if l == 0 {
					return nil
				}
				lag = l
			}
		}
		if time.Since(lastLog) >= c.cfg.ProgressEvery {
			lastLog = time.Now()
			args := []any{"rows", c.stats.Rows, "records", c.stats.Records, "dead_letters", c.stats.DeadLetters, "batches", c.stats.Batches}
			if lag >= 0 {
				args = append(args, "records_behind", lag)
			}
			c.cfg.Logger.Info("transform progress", args...)
		}
	}
}

// caughtUp reports whether the group has consumed everything published.
func (c *Consumer) caughtUp(ctx context.Context) bool {
	lag, err := bus.Lag(ctx, c.cl, c.cfg.Group, bus.TopicRaw)
	if err != nil {
		c.cfg.Logger.Warn("checking consumer lag", "err", err)
		return false
	}
	return lag == 0
}

// failedBatch decides what a batch of n records that failed with err
// means: nil to go on, else the error that ends the run.
func (c *Consumer) failedBatch(ctx context.Context, err error, n int, untilIdle bool) error {
	if ctx.Err() != nil && !untilIdle {
		// Stopped mid-batch: nothing of it is committed, so it comes
		// again on the next start. A clean stop.
		return nil
	}
	var te *txnError
	if !errors.As(err, &te) || ctx.Err() != nil {
		return err
	}
	// The batch is in ClickHouse and its offsets are not committed: the
	// session rewound to the last commit, so the batch comes again and
	// loads once more (the views count it once). A broker restarting
	// mid-commit must not end a long-running run.
	c.cfg.Logger.Warn("kafka transaction not committed; the batch will be delivered again", "records", n, "err", err)
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
	}
	return nil
}

// deadLetter is the dead-letter row and record of r, which failed with
// err: the record keeps r's sealed body and headers, plus the reason and
// where r came from.
func deadLetter(r *kgo.Record, err error) (model.DeadLetter, *kgo.Record) {
	d := model.DeadLetter{Org: bus.Header(r, bus.HeaderOrg), Provider: bus.Header(r, bus.HeaderProvider),
		CallID: bus.Header(r, bus.HeaderCallID), Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Reason: err.Error()}
	dr := bus.DeadLetter(r, d.Reason)
	return d, dr
}

// fetchMaxBytes bounds one fetch of the consumer.
const fetchMaxBytes = 24 << 20

// fill polls again while records are buffered or arriving, until the
// poll holds MaxBatch records or its oldest record was fetched MaxWait
// ago: ClickHouse prefers few large inserts to many small ones (each
// insert writes a part per month it touches, which the server then
// merges), and a review wants a steady stream loaded within about a
// second. Each poll takes everything buffered: franz-go sends a broker its
// next fetch only once the previous one is drained, so a poll that left
// records behind would have no fetch in flight while it is processed, and
// the next poll would wait for one (50 to 100 ms a poll at 1M calls). A
// poll can thus overshoot by up to one fetch (fetchMaxBytes).
func (c *Consumer) fill(ctx context.Context, fetches kgo.Fetches) kgo.Fetches {
	n := fetches.NumRecords()
	oldest := c.fetched.claim(time.Now())
	if n == 0 {
		return fetches
	}
	deadline := oldest.Add(c.cfg.MaxWait)
	for n < c.cfg.MaxBatch {
		wait := min(fillGap, time.Until(deadline))
		if wait <= 0 {
			break
		}
		pollCtx, cancel := context.WithTimeout(ctx, wait)
		more := c.sess.PollFetches(pollCtx)
		cancel()
		// These records are younger than the poll's oldest.
		c.fetched.claim(time.Time{})
		if more.IsClientClosed() || more.NumRecords() == 0 {
			break
		}
		n += more.NumRecords()
		fetches = append(fetches, more...)
	}
	return fetches
}

// fillGap is how long fill waits for more records before it loads what the
// poll holds: a stream that pauses is loaded at once.
const fillGap = 100 * time.Millisecond

// fetchClock is a kgo hook that keeps when the oldest record batch read
// off the broker since the last claim was read: the age of a poll's oldest
// record, which fill bounds by MaxWait. One atomic read per batch; the
// times are monotonic (nanoseconds since monoBase, plus one so that zero
// means none), so a wall-clock step does not stretch the bound.
type fetchClock struct{ first atomic.Int64 }

var monoBase = time.Now()

// OnFetchBatchRead implements kgo.HookFetchBatchRead.
func (f *fetchClock) OnFetchBatchRead(kgo.BrokerMetadata, string, int32, kgo.FetchBatchMetrics) {
	if f.first.Load() == 0 {
		f.first.CompareAndSwap(0, int64(time.Since(monoBase))+1)
	}
}

// claim returns when the oldest batch since the last claim was read, or
// otherwise when none was, and starts over. A batch discarded unpolled (a
// rebalance) can only make a later poll load early, never late.
func (f *fetchClock) claim(otherwise time.Time) time.Time {
	if d := f.first.Swap(0); d != 0 {
		return monoBase.Add(time.Duration(d - 1))
	}
	return otherwise
}

// process decodes recs into batches, writes them and the dead-letter
// reasons into ClickHouse, and only then, in one transaction, publishes the
// dead letters and commits the offsets.
func (c *Consumer) process(ctx context.Context, recs []*kgo.Record) error {
	// ClickHouse first, with no Kafka transaction open: an outage of any
	// length is waited out here, so the transaction below never outlives
	// its timeout (which fenced the producer and re-delivered the batch,
	// writing its dead letters twice). A crash between the two re-delivers
	// the batch; its rows load again and the versioned views count them once.
	start := time.Now()
	ld, err := c.load(ctx, recs)
	if err != nil {
		return err
	}
	loadedAt := time.Now()
	defer func() {
		c.cfg.Logger.Debug("batch committed", "records", len(recs), "load", loadedAt.Sub(start), "commit", time.Since(loadedAt))
	}()
	dead, deadRecs := ld.dead, ld.deadRecs
	if err := c.sess.Begin(); err != nil {
		return fmt.Errorf("beginning transaction: %w", err)
	}
	abort := func(cause error) error {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, err := c.sess.End(actx, kgo.TryAbort); err != nil {
			return errors.Join(cause, fmt.Errorf("aborting transaction: %w", err))
		}
		return cause
	}
	// The first failed dead letter aborts the others still buffered, so
	// the transaction is aborted without waiting for them (franz-go's
	// examples/transactions).
	published := kgo.AbortingFirstErrPromise(c.cl)
	for _, dr := range deadRecs {
		c.sess.Produce(ctx, dr, published.Promise())
	}
	// Flush, unlike Err, returns when ctx ends (a shutdown mid-publish).
	if err := c.cl.Flush(ctx); err != nil {
		return abort(&txnError{fmt.Errorf("flushing dead letters: %w", err)})
	}
	if err := published.Err(); err != nil {
		return abort(&txnError{fmt.Errorf("publishing %d dead letters: %w", len(deadRecs), err)})
	}
	committed, err := c.sess.End(ctx, kgo.TryCommit)
	if err != nil {
		return &txnError{fmt.Errorf("committing transaction after loading %d rows: %w", ld.rows, err)}
	}
	if !committed {
		// The group rebalanced: the batch goes to the partitions' new owner,
		// which loads it again; the views count each call once.
		c.cfg.Logger.Info("transaction aborted by a rebalance; the batch will be delivered again", "records", len(recs))
		return nil
	}
	c.stats.Records += len(recs)
	c.stats.Rows += ld.rows
	c.stats.DeadLetters += len(dead)
	c.stats.Batches += ld.batches
	obs.TransformBatch(len(recs), ld.rows, len(dead))
	return nil
}

// store writes the poll's dead-letter reasons and batches into
// ClickHouse, waiting out outages; a permanent failure (schema drift) stops
// the consumer with the error naming the column instead.
func (c *Consumer) store(ctx context.Context, poll PollLoad, batches []arrow.Record, dead []model.DeadLetter) error {
	if len(dead) > 0 {
		if err := retry(ctx, c.cfg.Logger, "recording dead letters", func() error {
			return cherr.Classify(c.cfg.DeadLetters.RecordDeadLetters(ctx, dead))
		}); err != nil {
			return err
		}
	}
	if len(batches) > 0 {
		if err := retry(ctx, c.cfg.Logger, "loading batch into clickhouse", func() error {
			return poll.Write(ctx, batches)
		}); err != nil {
			return err
		}
	}
	return retry(ctx, c.cfg.Logger, "marking the batch's days for the per-day aggregates", func() error {
		return poll.Finish(ctx)
	})
}

// txnError is a Kafka transaction that failed after its batch was loaded;
// the session aborted it and rewound, so the consumer goes on.
type txnError struct{ err error }

func (e *txnError) Error() string { return e.err.Error() }
func (e *txnError) Unwrap() error { return e.err }

// openFailure stops the consumer on a record the key does not open,
// before anything of the batch is written or committed: dead-lettering it
// would commit past every record sealed under the right key, and a wrong
// key would discard everything pending.
func openFailure(r *kgo.Record, err error) error {
	return fmt.Errorf("raw record %s/%d/%d (org %s, call %s) does not open with this master key; stopped without committing, nothing is lost: "+
		"run again with the key the records were sealed with (PHONESIGNALS_MASTER_KEY or --master-key-file): %w",
		r.Topic, r.Partition, r.Offset, bus.Header(r, bus.HeaderOrg), bus.Header(r, bus.HeaderCallID), err)
}

// retry runs f until it succeeds or ctx ends, backing off from 200ms
// doubling up to 30s: a ClickHouse or Kafka outage pauses the pipeline
// instead of losing data. A full ClickHouse disk is such an outage
// (cherr.DiskFull): the pipeline waits until space is freed, raising
// phonesignals_clickhouse_disk_full meanwhile. A permanent error
// (cherr.IsPermanent) is returned at once: retrying a dropped or retyped
// column would only hide it.
func retry(ctx context.Context, log *slog.Logger, what string, f func() error) error {
	bo := &backoff.ExponentialBackOff{InitialInterval: 200 * time.Millisecond, Multiplier: 2, MaxInterval: 30 * time.Second}
	var last error
	attempt := 0
	o := outage{log: log, what: what, start: time.Now()}
	_, err := backoff.Retry(ctx, func() (struct{}, error) {
		attempt++
		last = f()
		if last != nil && cherr.IsPermanent(last) {
			return struct{}{}, backoff.Permanent(last)
		}
		return struct{}{}, last
	}, backoff.WithBackOff(bo), backoff.WithMaxElapsedTime(0), backoff.WithNotify(func(err error, d time.Duration) {
		o.failed(err, attempt, d)
	}))
	if err != nil {
		// On cancellation Retry returns the context's cause; the last
		// failure says more.
		return fmt.Errorf("%s: %w", what, cmp.Or(last, err))
	}
	o.over()
	return nil
}

// outage reports one retry's failures: a line and a metric per attempt,
// and when ClickHouse's disk is full, a line naming the disk once, the
// disk_full gauge while it lasts and a line when space is back.
type outage struct {
	log      *slog.Logger
	what     string
	start    time.Time
	diskFull bool
}

func (o *outage) failed(err error, attempt int, in time.Duration) {
	if where, full := cherr.DiskFull(err); full {
		obs.ClickHouseRetry("disk_full")
		obs.ClickHouseDiskFull(true)
		if !o.diskFull {
			o.diskFull = true
			o.log.Error("clickhouse is out of disk space: waiting, and loading resumes by itself once space is freed (nothing is lost; Kafka keeps the records)",
				"what", o.what, "disk", cmp.Or(where, "not named by clickhouse: its data path"), "err", err)
		}
	} else if cherr.IsTransient(err) {
		obs.ClickHouseRetry("unavailable")
	} else {
		obs.ClickHouseRetry("other")
	}
	o.log.Warn("retrying", "what", o.what, "attempt", attempt, "in", in, "err", err)
}

func (o *outage) over() {
	if o.diskFull {
		obs.ClickHouseDiskFull(false)
		o.log.Info("clickhouse has disk space again; loading resumed", "what", o.what, "waited", time.Since(o.start).Round(time.Millisecond))
	}
}

// Close leaves the group and closes the clients.
func (c *Consumer) Close() {
	// Leaving the group waits for a rebalance blocked by a poll in flight.
	c.sess.CloseAllowingRebalance()
	for _, w := range c.workers {
		w.bb.Release()
	}
}
