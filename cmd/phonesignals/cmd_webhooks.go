package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/urfave/cli/v2"
	"golang.org/x/sync/errgroup"

	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/secret"
	"github.com/phonesignals/phonesignals/internal/store"
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
	inProcess := c.Bool("transform") || (!c.IsSet("transform") && e.embedded != nil)
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
	srv, err := aircall.NewWebhookServer(aircall.WebhookConfig{
		Listen: c.String("listen"), Orgs: &orgDirectory{st: st, box: box}, Sink: raw, TranscriptSink: trs,
		Deliveries: deliveryLog{deliveries}, Logger: slog.Default(),
		Health: func(ctx context.Context) error {
			if err := bus.WaitReachable(ctx, bcfg, 2*time.Second); err != nil {
				return err
			}
			return st.Conn().Ping(ctx)
		},
	})
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return srv.Run(gctx) })
	g.Go(func() error { return runTranscriptWorker(gctx, bcfg, box, st) })
	if inProcess {
		g.Go(func() error {
			_, err := transformUntil(gctx, providersOf(c), bcfg, box, st, 20000, false)
			return err
		})
	}
	slog.Info("receiving aircall webhooks", "listen", c.String("listen"), "brokers", bcfg.Brokers)
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// orgDirectory lists Aircall orgs with their opened webhook tokens,
// cached for 30 s since it is read on every delivery.
type orgDirectory struct {
	st     *store.Store
	box    *secret.Box
	mu     sync.Mutex
	cached []aircall.WebhookOrg
	at     time.Time
}

func (d *orgDirectory) WebhookOrgs(ctx context.Context) ([]aircall.WebhookOrg, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cached != nil && time.Since(d.at) < 30*time.Second {
		return d.cached, nil
	}
	names, err := d.st.ListOrgs(ctx)
	if err != nil {
		return nil, err
	}
	out := []aircall.WebhookOrg{}
	for _, n := range names {
		o, err := d.st.GetOrg(ctx, n)
		if err != nil {
			return nil, err
		}
		if o.Provider != aircall.Provider.Name || o.WebhookToken == "" {
			continue
		}
		tok, err := d.box.OpenString(o.WebhookToken, webhookTokenAAD(o.Name))
		if err != nil {
			slog.Error("cannot open the webhook token of an org; its webhooks will get 401", "org", o.Name, "err", err)
			continue
		}
		out = append(out, aircall.WebhookOrg{Org: o.Name, Token: tok, Transcripts: o.Transcripts})
	}
	d.cached, d.at = out, time.Now()
	return out, nil
}

// deliveryLog adapts the store's batching buffer to aircall.DeliveryLog.
type deliveryLog struct{ b *store.DeliveryBuffer }

func (l deliveryLog) RecordDelivery(ctx context.Context, d aircall.Delivery) error {
	return l.b.RecordDelivery(ctx, d.Org, d.Event, d.Status, d.Reason)
}

// runTranscriptWorker consumes transcription.created events, fetches each
// transcript with the org's credentials and stores it; offsets are
// committed after the outcome is recorded.
func runTranscriptWorker(ctx context.Context, bcfg bus.Config, box *secret.Box, st *store.Store) error {
	cl, err := kgo.NewClient(append(bcfg.Opts(),
		kgo.ConsumerGroup(bus.GroupTranscripts), kgo.ConsumeTopics(bus.TopicTranscripts),
		kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		return fmt.Errorf("creating transcript consumer: %w", err)
	}
	// Close leaves the group, which waits for a blocked rebalance: allow it.
	defer func() { cl.AllowRebalance(); cl.Close() }()
	// Clients by org and sealed credentials, so new credentials take effect.
	clients := map[string]*aircall.Client{}
	for {
		fetches := cl.PollRecords(ctx, 100)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return nil
		}
		for _, r := range fetches.Records() {
			if err := handleTranscriptRecord(ctx, box, st, clients, r); err != nil {
				org, callID := bus.Header(r, bus.HeaderOrg), bus.Header(r, bus.HeaderCallID)
				slog.Warn("transcript event not handled", "org", org, "call_id", callID, "err", err)
				_ = st.TranscriptStore().RecordTranscriptFailure(ctx, org, callID, err.Error())
			}
		}
		if err := cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("committing transcript offsets", "err", err)
		}
		cl.AllowRebalance()
	}
}

// handleTranscriptRecord fetches and stores one transcript. The org is read
// again for every event: an org that turned transcripts off (or lost them
// to a 403) since the event was queued gets no fetch.
func handleTranscriptRecord(ctx context.Context, box *secret.Box, st *store.Store, clients map[string]*aircall.Client, r *kgo.Record) error {
	rc, err := bus.Decode(box, r)
	if err != nil {
		return err
	}
	o, err := st.GetOrg(ctx, rc.Org)
	if err != nil {
		return err
	}
	if !o.Transcripts || o.Provider != aircall.Provider.Name {
		return nil
	}
	key := o.Name + "|" + o.Credentials + "|" + o.APIURL
	c, ok := clients[key]
	if !ok {
		cr, err := openCredentials(box, o)
		if err != nil {
			return err
		}
		if c, err = aircall.NewClient(orgConfig(o, cr, nil)); err != nil {
			return err
		}
		clients[key] = c
	}
	return aircall.HandleTranscriptEvent(ctx, rc, c, st.TranscriptStore())
}
