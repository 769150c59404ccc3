package freshness

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/ingest/providers"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/load"
	"github.com/phonesignals/phonesignals/transform"
)

// Config configures one run.
type Config struct {
	// Rate is how many webhooks are posted per second. Default 20.
	Rate int
	// Duration of the stream. Default 30s.
	Duration time.Duration
	// MaxWait is the transform's (`run --max-wait`). Default
	// transform.DefaultMaxWait.
	MaxWait time.Duration
	// Every is how often raw_signals and the review are read. Default
	// 50ms; it adds up to that much to each figure.
	Every time.Duration
	// Dir holds the ClickHouse server; default a temporary directory,
	// removed afterwards.
	Dir string
	// Out receives the report. Default os.Stdout.
	Out io.Writer
}

// Result is what a run measured.
type Result struct {
	// Sent webhooks, Acked of them answered 2xx.
	Sent, Acked int
	// Ack is the webhook's answer time; ToRow from the 2xx to the call's
	// row in raw_signals; ToReview from the 2xx to the review counting it.
	Ack, ToRow, ToReview Percentiles
}

// Percentiles of a set of durations.
type Percentiles struct{ P50, P99, Max time.Duration }

func percentiles(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(q*float64(len(s))))] }
	return Percentiles{P50: at(0.50), P99: at(0.99), Max: s[len(s)-1]}
}

func (p Percentiles) String() string {
	return fmt.Sprintf("p50 %s  p99 %s  max %s", p.P50.Round(time.Millisecond), p.P99.Round(time.Millisecond), p.Max.Round(time.Millisecond))
}

func (c *Config) defaults() {
	c.Rate = cmp.Or(c.Rate, 20)
	c.Duration = cmp.Or(c.Duration, 30*time.Second)
	c.MaxWait = cmp.Or(c.MaxWait, transform.DefaultMaxWait)
	c.Every = cmp.Or(c.Every, 50*time.Millisecond)
	if c.Out == nil {
		c.Out = os.Stdout
	}
}

// Run starts ClickHouse 18.16, the embedded broker, the webhook server and
// the transform, streams the webhooks, waits until every acknowledged call
// is in the review, and reports.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg.defaults()
	if cfg.Rate < 0 || cfg.Duration < 0 || cfg.MaxWait < 0 {
		return Result{}, fmt.Errorf("freshness: rate %d, duration %s and max-wait %s must not be negative", cfg.Rate, cfg.Duration, cfg.MaxWait)
	}
	if cfg.Dir == "" {
		d, err := os.MkdirTemp("", "bench-freshness-")
		if err != nil {
			return Result{}, err
		}
		defer os.RemoveAll(d)
		cfg.Dir = d
	}
	srv, err := chserver.Start(ctx, chserver.Config{Dir: filepath.Join(cfg.Dir, "clickhouse")})
	if err != nil {
		return Result{}, fmt.Errorf("starting clickhouse 18.16: %w", err)
	}
	defer srv.Stop()
	st, err := store.Open(ctx, store.Config{Addr: srv.Addr(), Database: "freshness"})
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	if err := setUp(ctx, st); err != nil {
		return Result{}, err
	}
	emb, err := bus.StartEmbedded("", 0)
	if err != nil {
		return Result{}, err
	}
	defer emb.Close()
	if err := bus.EnsureTopics(ctx, emb.Config()); err != nil {
		return Result{}, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := secret.New(key)
	if err != nil {
		return Result{}, err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	transformed, err := startTransform(runCtx, st, emb.Config(), box, cfg.MaxWait)
	if err != nil {
		return Result{}, err
	}
	res, err := stream(runCtx, cfg, st, emb.Config(), box)
	stop()
	return res, errors.Join(err, <-transformed)
}

// The org the webhooks are for, its token, employees and cycle.
const (
	org     = "fresh"
	token   = "freshness-token"
	cycleID = "now"
	users   = 10
)

// setUp migrates and configures the org: users employees, each mapped to
// an Aircall user, and a cycle around today.
func setUp(ctx context.Context, st *store.Store) error {
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	if _, err := st.AddOrg(ctx, org, aircall.Provider.Name); err != nil {
		return err
	}
	var emps []store.Employee
	for u := 1; u <= users; u++ {
		emps = append(emps, store.Employee{ID: fmt.Sprintf("E%02d", u), Name: fmt.Sprintf("Agent %d", u),
			Email: fmt.Sprintf("agent%d@example.com", u), Cohort: "support", ProviderUserID: fmt.Sprint(u)})
	}
	if err := st.ImportEmployees(ctx, org, emps); err != nil {
		return err
	}
	today := time.Now().UTC().Truncate(24 * time.Hour)
	return st.AddCycle(ctx, org, store.Cycle{ID: cycleID, Start: today.AddDate(0, 0, -2), End: today.AddDate(0, 0, 2)})
}

// startTransform runs the transform and load stage as `run` does (the
// loader, the registry's decoders, the default MaxBatch) until ctx ends;
// the channel gets its error.
func startTransform(ctx context.Context, st *store.Store, bcfg bus.Config, box *secret.Box, maxWait time.Duration) (<-chan error, error) {
	ld, err := load.New(load.Config{Conn: st.Conn()})
	if err != nil {
		return nil, err
	}
	reg := providers.Registry()
	// FRESHNESS_LOG=debug shows the transform's polls and loads.
	logs := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("FRESHNESS_LOG") == "debug" {
		logs = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	cons, err := transform.New(transform.Config{Bus: bcfg, Box: box, Decoders: reg.Decoders(),
		Writer: ld, DeadLetters: st, MaxWait: maxWait, Logger: logs})
	if err != nil {
		_ = ld.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	done := make(chan error, 1)
	go func() {
		err := cons.Run(ctx)
		cons.Close()
		done <- errors.Join(err, ld.Close(context.WithoutCancel(ctx)))
	}()
	return done, nil
}

// webhookServer serves the real Aircall webhook receiver on a loopback
// port, publishing to the raw topic; it returns the URL.
func webhookServer(ctx context.Context, bcfg bus.Config, box *secret.Box) (string, func(), error) {
	pub, err := bus.NewPublisher(bcfg, box, bus.TopicRaw)
	if err != nil {
		return "", nil, err
	}
	srv, err := aircall.NewWebhookServer(aircall.WebhookConfig{Orgs: aircall.StaticOrgs{{Org: org, Token: token}}, Sink: pub})
	if err != nil {
		pub.Close()
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		pub.Close()
		return "", nil, err
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(sctx, ln)
	}()
	return "http://" + ln.Addr().String() + "/", func() { stop(); <-served; pub.Close() }, nil
}
