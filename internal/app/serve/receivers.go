package serve

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/internal/app/orgs"
	"github.com/phonesignals/phonesignals/internal/bus"
)

// startReceivers starts the webhook receiver and the transcript worker
// of the roles that ask for them, the same stages `webhooks serve` runs.
func (s *Service) startReceivers(ctx context.Context, g *errgroup.Group) error {
	st, box := s.cfg.Store, s.cfg.Box
	if s.cfg.has(RoleWebhooks) {
		trs, err := bus.NewPublisher(s.cfg.Bus, box, bus.TopicTranscripts)
		if err != nil {
			return err
		}
		deliveries := st.NewDeliveryBuffer(time.Second)
		srv, err := aircall.NewWebhookServer(aircall.WebhookConfig{
			Listen: s.cfg.Listen, Orgs: &orgs.WebhookDirectory{Store: st, Box: box, CacheFile: s.cfg.WebhookCache}, Sink: s.raw, TranscriptSink: trs,
			Deliveries: orgs.DeliveryLog{Buffer: deliveries}, Logger: s.cfg.Logger,
			Health: func(ctx context.Context) error {
				if err := bus.WaitReachable(ctx, s.cfg.Bus, 2*time.Second); err != nil {
					return err
				}
				return st.Conn().Ping(ctx)
			},
		})
		if err != nil {
			trs.Close()
			return err
		}
		g.Go(func() error {
			defer trs.Close()
			defer deliveries.Close(context.WithoutCancel(ctx))
			return srv.Run(ctx)
		})
	}
	if s.cfg.has(RoleTranscripts) {
		tw, err := aircall.NewTranscriptWorker(aircall.TranscriptWorkerConfig{
			Bus: s.cfg.Bus, Box: box, Store: st.TranscriptStore(), Logger: s.cfg.Logger,
			Client: (&orgs.TranscriptClients{Store: st, Box: box}).Client,
		})
		if err != nil {
			return err
		}
		g.Go(func() error {
			defer tw.Close()
			return tw.Run(ctx)
		})
	}
	return nil
}
