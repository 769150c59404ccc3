package orgs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/internal/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

// WebhookDirectory lists the Aircall orgs with their opened webhook
// tokens (aircall.OrgDirectory), cached for 30 s since it is read on every
// delivery.
type WebhookDirectory struct {
	Store *store.Store
	Box   *secret.Box

	mu     sync.Mutex
	cached []aircall.WebhookOrg
	at     time.Time
}

// WebhookOrgs implements aircall.OrgDirectory.
func (d *WebhookDirectory) WebhookOrgs(ctx context.Context) ([]aircall.WebhookOrg, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cached != nil && time.Since(d.at) < 30*time.Second {
		return d.cached, nil
	}
	names, err := d.Store.ListOrgs(ctx)
	if err != nil {
		return nil, err
	}
	out := []aircall.WebhookOrg{}
	for _, n := range names {
		o, err := d.Store.GetOrg(ctx, n)
		if err != nil {
			return nil, err
		}
		if o.Provider != aircall.Provider.Name || o.WebhookToken == "" {
			continue
		}
		tok, err := OpenWebhookToken(d.Box, o)
		if err != nil {
			slog.Error("cannot open the webhook token of an org; its webhooks will get 401", "org", o.Name, "err", err)
			continue
		}
		out = append(out, aircall.WebhookOrg{Org: o.Name, Token: tok, Transcripts: o.Transcripts})
	}
	d.cached, d.at = out, time.Now()
	return out, nil
}

// DeliveryLog adapts the store's batching buffer to aircall.DeliveryLog.
type DeliveryLog struct{ Buffer *store.DeliveryBuffer }

// RecordDelivery implements aircall.DeliveryLog.
func (l DeliveryLog) RecordDelivery(ctx context.Context, d aircall.Delivery) error {
	return l.Buffer.RecordDelivery(ctx, d.Org, d.Event, d.Status, d.Reason)
}

// TranscriptClients gives the transcript worker the Aircall client of an
// org that wants transcripts (aircall.TranscriptWorkerConfig.Client). The
// org is read again for every event; clients are kept by org, sealed
// credentials and API URL, so new credentials take effect at once.
type TranscriptClients struct {
	Store *store.Store
	Box   *secret.Box

	mu      sync.Mutex
	clients map[string]*aircall.Client
}

// Client returns org's client, or nil when the org does not want
// transcripts (any more).
func (t *TranscriptClients) Client(ctx context.Context, org string) (*aircall.Client, error) {
	o, err := t.Store.GetOrg(ctx, org)
	if err != nil {
		return nil, err
	}
	if !o.Transcripts || o.Provider != aircall.Provider.Name {
		return nil, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	key := o.Name + "|" + o.Credentials + "|" + o.APIURL
	if c, ok := t.clients[key]; ok {
		return c, nil
	}
	cr, err := OpenCredentials(t.Box, o)
	if err != nil {
		return nil, err
	}
	c, err := aircall.NewClient(Config(o, cr, nil))
	if err != nil {
		return nil, err
	}
	if t.clients == nil {
		t.clients = map[string]*aircall.Client{}
	}
	t.clients[key] = c
	return c, nil
}
