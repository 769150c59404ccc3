package orgs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

// WebhookStages configures the webhook receivers and transcript workers
// of the providers with webhooks (ingest.Registry.WithWebhooks), as
// `webhooks serve` and serve's webhooks and transcripts roles run them:
// both build them here, so the two commands cannot drift apart.
type WebhookStages struct {
	// Registry lists the providers. Required.
	Registry *ingest.Registry
	// Store reads the orgs and their tokens. Required.
	Store *store.Store
	// Box opens the tokens and credentials. Required.
	Box *secret.Box
	// Bus is the Kafka connection of the transcript workers.
	Bus bus.Config
	// Listen is the receiver's address.
	Listen string
	// CacheFile keeps the last webhook token list for ClickHouse outages
	// (WebhookDirectory.CacheFile); "" for memory only.
	CacheFile string
	// Sink receives call events; TranscriptSink the transcript events.
	Sink, TranscriptSink ingest.Sink
	// Deliveries records every delivery.
	Deliveries ingest.DeliveryLog
	// Logger receives the stages' logs.
	Logger *slog.Logger
	// Health answers the receiver's GET /healthz.
	Health func(ctx context.Context) error
}

// providers returns the providers with webhooks. Their receivers share
// Listen and CacheFile, so a second push provider needs an address and a
// cache file of its own first: it is refused rather than left to fail
// on a busy port.
func (w WebhookStages) providers() ([]ingest.Provider, error) {
	if w.Registry == nil {
		return nil, errors.New("webhook stages: Registry is nil")
	}
	ps := w.Registry.WithWebhooks()
	if len(ps) > 1 {
		names := make([]string, len(ps))
		for i, p := range ps {
			names[i] = p.Name
		}
		return nil, fmt.Errorf("webhook stages: providers %s all push webhooks, but they would share one listen address and token cache", strings.Join(names, ", "))
	}
	return ps, nil
}

// Receivers builds the webhook receiver of every provider with webhooks
// and returns them with those providers' names.
func (w WebhookStages) Receivers() ([]ingest.Receiver, []string, error) {
	ps, err := w.providers()
	if err != nil {
		return nil, nil, err
	}
	var rs []ingest.Receiver
	var names []string
	for _, p := range ps {
		r, err := p.Webhooks.NewReceiver(ingest.ReceiverConfig{
			Listen: w.Listen, Orgs: &WebhookDirectory{Store: w.Store, Box: w.Box, Provider: p.Name, CacheFile: w.CacheFile},
			Sink: w.Sink, TranscriptSink: w.TranscriptSink, Deliveries: w.Deliveries, Logger: w.Logger, Health: w.Health,
		})
		if err != nil {
			return nil, nil, err
		}
		rs, names = append(rs, r), append(names, p.Name)
	}
	return rs, names, nil
}

// TranscriptWorkers builds the transcript worker of every provider with
// webhooks and transcripts. On an error the workers built are closed.
func (w WebhookStages) TranscriptWorkers() ([]ingest.Worker, error) {
	ps, err := w.providers()
	if err != nil {
		return nil, err
	}
	var ws []ingest.Worker
	for _, p := range ps {
		if p.Webhooks.NewTranscriptWorker == nil {
			continue
		}
		tw, err := p.Webhooks.NewTranscriptWorker(ingest.TranscriptWorkerConfig{
			Bus: w.Bus, Box: w.Box, Store: w.Store.TranscriptStore(), Logger: w.Logger,
			Orgs: &TranscriptOrgs{Store: w.Store, Box: w.Box, Provider: p.Name},
		})
		if err != nil {
			for _, o := range ws {
				o.Close()
			}
			return nil, err
		}
		ws = append(ws, tw)
	}
	return ws, nil
}
