package freshness

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/phonesignals/phonesignals/grafana/pkg/plugin"
	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/ingest/providers"
	"github.com/phonesignals/phonesignals/ingest/ringcentral"
	"github.com/phonesignals/phonesignals/internal/app/orgs"
	"github.com/phonesignals/phonesignals/internal/app/serve"
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
	// PollRate is how many calls a second appear at the fake Aircall API
	// of a second org, for serve's sync role to poll. Default 10.
	PollRate int
	// PollEvery is that org's poll interval (`serve --every`). Default 1s.
	PollEvery time.Duration
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
	// row in raw_signals; ToReview from the 2xx to the review counting it;
	// ToGrafana from the 2xx to the Grafana plugin's team review (its
	// QueryData, as a dashboard panel asks it) counting it.
	Ack, ToRow, ToReview, ToGrafana Percentiles
	// Polled has one leg per provider whose fake serve polls.
	Polled []Leg
}

// Leg is the calls of one polled org, timed from the response of the poll
// that first returned each to serve.
type Leg struct {
	Provider                   string
	Calls, Polled              int
	ToRow, ToReview, ToGrafana Percentiles
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
	c.PollRate = cmp.Or(c.PollRate, 10)
	c.PollEvery = cmp.Or(c.PollEvery, time.Second)
	c.MaxWait = cmp.Or(c.MaxWait, transform.DefaultMaxWait)
	c.Every = cmp.Or(c.Every, 50*time.Millisecond)
	if c.Out == nil {
		c.Out = os.Stdout
	}
}

// Run starts ClickHouse 18.16, the embedded broker and `serve` with the
// webhooks and transform roles, streams the webhooks to serve's receiver,
// waits until every acknowledged call is in the review and in the Grafana
// plugin's team review, and reports.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg.defaults()
	if cfg.Rate < 0 || cfg.Duration < 0 || cfg.MaxWait < 0 || cfg.PollRate < 0 || cfg.PollEvery < 0 {
		return Result{}, fmt.Errorf("freshness: rate %d, duration %s, max-wait %s, poll rate %d and poll interval %s must not be negative",
			cfg.Rate, cfg.Duration, cfg.MaxWait, cfg.PollRate, cfg.PollEvery)
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
	st, err := store.Open(ctx, store.Config{Addr: srv.Addr(), Database: database})
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	box, err := secret.New(key)
	if err != nil {
		return Result{}, err
	}
	if err := setUp(ctx, st, box); err != nil {
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
	tr := &tracker{org: org, first: firstID, calls: make([]call, int(float64(cfg.Rate)*cfg.Duration.Seconds()))}
	var polled []*tracker
	for _, pr := range []string{aircall.Provider.Name, ringcentral.Provider.Name} {
		polled = append(polled, &tracker{org: "polled-" + pr, provider: pr, first: firstPolled, calls: make([]call, int(float64(cfg.PollRate)*cfg.Duration.Seconds()))})
	}
	for _, t := range append([]*tracker{tr}, polled...) {
		if t.panel, err = grafanaPanel(ctx, srv.Addr(), t.org); err != nil {
			return Result{}, err
		}
		defer t.panel.Dispose()
	}
	for _, p := range polled {
		closeAPI, err := connectPolled(ctx, st, box, p, cfg.PollRate, time.Now().Add(pollLead))
		if err != nil {
			return Result{}, err
		}
		defer closeAPI()
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	url, served, err := startServe(runCtx, st, emb.Config(), box, cfg)
	if err != nil {
		return Result{}, err
	}
	res, err := stream(runCtx, cfg, st, tr, polled, url)
	stop()
	return res, errors.Join(err, <-served)
}

// The org the webhooks are for, its token, employees and cycle.
const (
	org      = "fresh"
	database = "freshness"
	token    = "freshness-token"
	cycleID  = "now"
	users    = 10
)

// setUp migrates and configures the org as `org add` and `org connect
// --webhook-token` leave it (serve's receiver reads the sealed token from
// the store): users employees, each mapped to an Aircall user, and a
// cycle around today.
func setUp(ctx context.Context, st *store.Store, box *secret.Box) error {
	if _, err := st.Migrate(ctx); err != nil {
		return err
	}
	o := store.Org{Name: org, Provider: aircall.Provider.Name}
	orgs.SealWebhookToken(box, &o, token)
	return configure(ctx, st, o)
}

// configure saves o with users employees, each mapped to an Aircall user,
// and a cycle around today.
func configure(ctx context.Context, st *store.Store, o store.Org) error {
	if err := st.SaveOrg(ctx, o); err != nil {
		return err
	}
	org := o.Name
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

// startServe runs `phonesignals serve --roles sync,webhooks,transform
// --every cfg.PollEvery --backfill-days -1` on a loopback port: the sync
// role following the connected org (the Kafka group gives this one
// replica every org), the webhook receiver publishing to the raw topic,
// and the transform and load stage as `run` does (the loader, the
// registry's decoders, the default MaxBatch), until ctx ends. It returns
// the receiver's URL once it answers, and a channel that gets serve's
// error.
func startServe(ctx context.Context, st *store.Store, bcfg bus.Config, box *secret.Box, cfg Config) (string, <-chan error, error) {
	reg := providers.Registry()
	// FRESHNESS_LOG=debug shows serve's, the transform's polls and loads.
	logs := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("FRESHNESS_LOG") == "debug" {
		logs = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	addr, err := freeAddr()
	if err != nil {
		return "", nil, err
	}
	svc, err := serve.New(serve.Config{Store: st, Registry: reg, Box: box, Bus: bcfg, Replica: "freshness", Logger: logs,
		Roles: []string{serve.RoleSync, serve.RoleWebhooks, serve.RoleTransform}, Listen: addr, Every: cfg.PollEvery, BackfillDays: -1,
		Transform: func(ctx context.Context) error { return transformUntil(ctx, st, bcfg, box, reg, cfg.MaxWait, logs) }})
	if err != nil {
		return "", nil, fmt.Errorf("starting serve: %w", err)
	}
	done := make(chan error, 1)
	go func() {
		defer svc.Close()
		done <- svc.Run(ctx)
	}()
	url := "http://" + addr + "/"
	if err := waitListening(ctx, addr, done); err != nil {
		return "", nil, err
	}
	return url, done, nil
}

// transformUntil is serve's transform role: the consumer and loader until
// ctx ends.
func transformUntil(ctx context.Context, st *store.Store, bcfg bus.Config, box *secret.Box, reg *ingest.Registry, maxWait time.Duration, logs *slog.Logger) error {
	ld, err := load.New(load.Config{Conn: st.Conn()})
	if err != nil {
		return err
	}
	cons, err := transform.New(transform.Config{Bus: bcfg, Box: box, Decoders: reg.Decoders(),
		Writer: ld, DeadLetters: st, MaxWait: maxWait, Logger: logs})
	if err != nil {
		return errors.Join(err, ld.Close(context.WithoutCancel(ctx)))
	}
	err = cons.Run(ctx)
	cons.Close()
	return errors.Join(err, ld.Close(context.WithoutCancel(ctx)))
}

// freeAddr is a loopback address nothing listens on (serve takes an
// address, not a listener).
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port for the webhook receiver: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitListening waits until addr accepts connections, or serve stopped.
func waitListening(ctx context.Context, addr string, done <-chan error) error {
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		select {
		case err := <-done:
			return fmt.Errorf("serve stopped before its webhook receiver listened on %s: %w", addr, err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// grafanaPanel is the Grafana plugin's data source for org, on the
// same ClickHouse, as a provisioned data source configures it.
func grafanaPanel(ctx context.Context, addr, org string) (*plugin.Datasource, error) {
	raw, err := json.Marshal(map[string]string{"clickhouse": addr, "database": database, "org": org})
	if err != nil {
		return nil, err
	}
	inst, err := plugin.NewDatasource(ctx, backend.DataSourceInstanceSettings{Name: org, JSONData: raw})
	if err != nil {
		return nil, fmt.Errorf("creating the Grafana data source: %w", err)
	}
	return inst.(*plugin.Datasource), nil
}
