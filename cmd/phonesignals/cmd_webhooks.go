package main

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/sync/errgroup"

	"github.com/phonesignals/phonesignals/internal/app/orgs"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/transform"
)

func webhooksCommand() *cli.Command {
	return &cli.Command{
		Name:  "webhooks",
		Usage: "receive Aircall webhooks",
		Subcommands: []*cli.Command{{
			Name:  "serve",
			Usage: "receive Aircall webhooks, publish them to Kafka (2xx only after Kafka acknowledged), fetch opted-in transcripts",
			Description: "The body token is checked in constant time against every org's stored webhook token\n" +
				"(`org connect --webhook-token-file`). Unknown token 401, malformed 400, over 1 MiB 413, Kafka down 503.\n" +
				"With the embedded broker (no --brokers) it also transforms and loads in the same process.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "listen", Value: "127.0.0.1:8088", Usage: "`ADDR` to listen on"},
				&cli.BoolFlag{Name: "transform", Usage: "also run the transform and load stage in this process (default: on with the embedded broker)", DisableDefaultText: true},
			},
			Action: webhooksServe,
		}},
	}
}

func webhooksServe(c *cli.Context) error {
	ctx := c.Context
	e := newEnv(c)
	defer e.close()
	box, st, bcfg, err := e.pipeline(ctx)
	if err != nil {
		return err
	}
	inProcess := c.Bool("transform") || (!c.IsSet("transform") && e.Embedded())
	var lagOf *bus.Config // the transform's lag, when it runs here
	if inProcess {
		lagOf = &bcfg
	}
	stopOps, err := serveOps(c, readiness(st, bcfg), lagOf)
	if err != nil {
		return err
	}
	defer stopOps()
	raw, err := bus.NewPublisher(bcfg, box, bus.TopicRaw)
	if err != nil {
		return err
	}
	defer raw.Close()
	trs, err := bus.NewPublisher(bcfg, box, bus.TopicTranscripts)
	if err != nil {
		return err
	}
	defer trs.Close()
	deliveries := st.NewDeliveryBuffer(time.Second)
	defer deliveries.Close(context.WithoutCancel(ctx))
	stages := orgs.WebhookStages{
		Registry: providersOf(c), Store: st, Box: box, Bus: bcfg, Listen: c.String("listen"), CacheFile: e.webhookCache(),
		Sink: raw, TranscriptSink: trs, Deliveries: orgs.DeliveryLog{Buffer: deliveries}, Logger: slog.Default(),
		Health: func(ctx context.Context) error {
			if err := bus.WaitReachable(ctx, bcfg, 2*time.Second); err != nil {
				return err
			}
			return st.Conn().Ping(ctx)
		},
	}
	receivers, names, err := stages.Receivers()
	if err != nil {
		return err
	}
	workers, err := stages.TranscriptWorkers()
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, r := range receivers {
		g.Go(func() error { return r.Run(gctx) })
	}
	for _, w := range workers {
		defer w.Close()
		g.Go(func() error { return w.Run(gctx) })
	}
	if inProcess {
		g.Go(func() error {
			_, err := transformUntil(gctx, providersOf(c), bcfg, box, st, transform.DefaultMaxBatch, false)
			return err
		})
	}
	for _, name := range names {
		slog.Info("receiving "+name+" webhooks", "listen", c.String("listen"), "brokers", bcfg.Brokers)
	}
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// webhookCache is where the receiver keeps the last webhook token list it
// read (sealed, as ClickHouse stores it), so a receiver started during a
// ClickHouse outage still accepts deliveries; "" without a data dir.
func (e *env) webhookCache() string {
	if e.dataDir == "" {
		return ""
	}
	return filepath.Join(e.dataDir, "webhook-tokens.json")
}
