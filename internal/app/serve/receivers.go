package serve

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/phonesignals/phonesignals/internal/app/orgs"
	"github.com/phonesignals/phonesignals/internal/bus"
)

// startReceivers starts the webhook receivers and the transcript workers
// of the roles that ask for them, the same stages `webhooks serve` runs
// (orgs.WebhookStages, one per provider with webhooks).
func (s *Service) startReceivers(ctx context.Context, g *errgroup.Group) error {
	st, box := s.cfg.Store, s.cfg.Box
	stages := orgs.WebhookStages{Registry: s.cfg.Registry, Store: st, Box: box, Bus: s.cfg.Bus, Logger: s.cfg.Logger}
	if s.cfg.has(RoleWebhooks) {
		trs, err := bus.NewPublisher(s.cfg.Bus, box, bus.TopicTranscripts)
		if err != nil {
			return err
		}
		deliveries := st.NewDeliveryBuffer(time.Second)
		ws := stages
		ws.Listen, ws.CacheFile, ws.Sink, ws.TranscriptSink = s.cfg.Listen, s.cfg.WebhookCache, s.raw, trs
		ws.Deliveries = orgs.DeliveryLog{Buffer: deliveries}
		ws.Health = func(ctx context.Context) error {
			if err := bus.WaitReachable(ctx, s.cfg.Bus, 2*time.Second); err != nil {
				return err
			}
			return st.Conn().Ping(ctx)
		}
		receivers, _, err := ws.Receivers()
		if err != nil {
			trs.Close()
			return err
		}
		g.Go(func() error {
			defer trs.Close()
			defer deliveries.Close(context.WithoutCancel(ctx))
			rg, rctx := errgroup.WithContext(ctx)
			for _, r := range receivers {
				rg.Go(func() error { return r.Run(rctx) })
			}
			return rg.Wait()
		})
	}
	if s.cfg.has(RoleTranscripts) {
		workers, err := stages.TranscriptWorkers()
		if err != nil {
			return err
		}
		for _, tw := range workers {
			g.Go(func() error {
				defer tw.Close()
				return tw.Run(ctx)
			})
		}
	}
	return nil
}
