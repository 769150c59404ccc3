package orgs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

// WebhookDirectory lists the orgs of one provider with webhooks, with
// their opened webhook tokens (ingest.OrgDirectory). It is read on every delivery, so the list
// read from ClickHouse is kept for TTL.
//
// A ClickHouse outage does not stop webhooks: when a read fails, the last
// list known is used (kept in memory and, with CacheFile, on disk) and
// ClickHouse is tried again at most every RetryEvery, in the background
// of the deliveries; token changes made in the meantime apply as soon as
// a read succeeds again. Only with no list known at all (first start,
// ClickHouse down, no cache file) does a delivery get an error (503, and
// the provider retries).
type WebhookDirectory struct {
	Store *store.Store
	Box   *secret.Box
	// Provider is the provider (from the registry's WithWebhooks) whose
	// receiver asks: orgs of other providers are left out. Required.
	Provider string
	// CacheFile, when set, keeps the last list read from ClickHouse on
	// disk (mode 0600) for a receiver started during an outage. It holds
	// the tokens sealed as ClickHouse stores them (AES-256-GCM under the
	// master key, bound to their org), never in clear. Default: memory only.
	CacheFile string
	// TTL is how long a list read from ClickHouse is used. Default 30s.
	TTL time.Duration
	// RefreshTimeout bounds the read a delivery waits for once a list is
	// known; past it the known list answers. Default 1s.
	RefreshTimeout time.Duration
	// RetryEvery spaces the reads tried during an outage. Default 5s.
	RetryEvery time.Duration
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives the outage and recovery lines. Default slog.Default().
	Logger *slog.Logger

	mu     sync.Mutex
	cached []ingest.WebhookOrg
	at     time.Time // when cached was read from ClickHouse
	// down is set while ClickHouse fails: cached answers, and retries run
	// in the background.
	down      bool
	retrying  bool
	triedAt   time.Time
	savedHash string // of the sealed list last written to CacheFile
}

// WebhookOrgs implements ingest.OrgDirectory.
func (d *WebhookDirectory) WebhookOrgs(ctx context.Context) ([]ingest.WebhookOrg, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if d.cached != nil && now.Sub(d.at) < cmp.Or(d.TTL, 30*time.Second) {
		return d.cached, nil
	}
	if d.down && d.cached != nil {
		d.retryLocked(now)
		return d.cached, nil
	}
	rctx, cancel := ctx, context.CancelFunc(func() {})
	if d.cached != nil {
		rctx, cancel = context.WithTimeout(ctx, cmp.Or(d.RefreshTimeout, time.Second))
	}
	list, sealed, err := d.read(rctx)
	cancel()
	if err == nil {
		d.setLocked(list, sealed, now)
		return list, nil
	}
	if d.cached == nil {
		d.loadCacheLocked()
	}
	if d.cached == nil {
		return nil, err
	}
	d.down, d.triedAt = true, now
	d.logger().Warn("ClickHouse unavailable: accepting webhooks with the last webhook token list known; token changes apply once it is back",
		"orgs", len(d.cached), "list_read_at", d.at.Format(time.RFC3339), "err", err)
	return d.cached, nil
}

// retryLocked starts a background read when none runs and the last one
// is RetryEvery old.
func (d *WebhookDirectory) retryLocked(now time.Time) {
	if d.retrying || now.Sub(d.triedAt) < cmp.Or(d.RetryEvery, 5*time.Second) {
		return
	}
	d.retrying, d.triedAt = true, now
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		list, sealed, err := d.read(ctx)
		cancel()
		d.mu.Lock()
		defer d.mu.Unlock()
		d.retrying = false
		if err != nil {
			d.logger().Debug("ClickHouse still unavailable for the webhook token list", "err", err)
			return
		}
		d.setLocked(list, sealed, d.now())
		d.logger().Info("ClickHouse is back: webhook token list read again", "orgs", len(list))
	}()
}

// setLocked makes list, read at now, the one answered, and saves it.
func (d *WebhookDirectory) setLocked(list []ingest.WebhookOrg, sealed []cachedOrg, now time.Time) {
	d.cached, d.at, d.down = list, now, false
	if d.CacheFile == "" {
		return
	}
	h, err := saveCache(d.CacheFile, d.savedHash, cacheFile{SavedAt: now.UTC(), Orgs: sealed})
	if err != nil {
		d.logger().Warn("cannot save the webhook token list for outages", "file", d.CacheFile, "err", err)
		return
	}
	d.savedHash = h
}

// loadCacheLocked answers with CacheFile's list when ClickHouse cannot be
// read and nothing is known yet.
func (d *WebhookDirectory) loadCacheLocked() {
	if d.CacheFile == "" {
		return
	}
	cf, h, err := loadCache(d.CacheFile)
	if err != nil {
		d.logger().Warn("cannot read the saved webhook token list", "file", d.CacheFile, "err", err)
		return
	}
	if cf == nil {
		return
	}
	list := []ingest.WebhookOrg{}
	for _, c := range cf.Orgs {
		o := store.Org{Name: c.Org, WebhookToken: c.WebhookToken}
		tok, err := OpenWebhookToken(d.Box, o)
		if err != nil {
			d.logger().Error("cannot open a saved webhook token; its webhooks will get 401", "org", c.Org, "file", d.CacheFile, "err", err)
			continue
		}
		list = append(list, ingest.WebhookOrg{Org: c.Org, Token: tok, Transcripts: c.Transcripts})
	}
	d.cached, d.at, d.savedHash = list, cf.SavedAt, h
	d.logger().Warn("ClickHouse unavailable at start: accepting webhooks with the saved webhook token list",
		"file", d.CacheFile, "orgs", len(list), "saved_at", cf.SavedAt.Format(time.RFC3339))
}

// read lists the provider's orgs with a webhook token from ClickHouse, opened
// and as sealed.
func (d *WebhookDirectory) read(ctx context.Context) ([]ingest.WebhookOrg, []cachedOrg, error) {
	if d.Provider == "" {
		return nil, nil, errors.New("reading the webhook token list: WebhookDirectory.Provider is empty: name the receiver's provider")
	}
	names, err := d.Store.ListOrgs(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the webhook token list: %w", err)
	}
	out := []ingest.WebhookOrg{}
	var sealed []cachedOrg
	for _, n := range names {
		o, err := d.Store.GetOrg(ctx, n)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the webhook token list: %w", err)
		}
		if o.Provider != d.Provider || o.WebhookToken == "" {
			continue
		}
		tok, err := OpenWebhookToken(d.Box, o)
		if err != nil {
			d.logger().Error("cannot open the webhook token of an org; its webhooks will get 401", "org", o.Name, "err", err)
			continue
		}
		out = append(out, ingest.WebhookOrg{Org: o.Name, Token: tok, Transcripts: o.Transcripts})
		sealed = append(sealed, cachedOrg{Org: o.Name, WebhookToken: o.WebhookToken, Transcripts: o.Transcripts})
	}
	return out, sealed, nil
}

func (d *WebhookDirectory) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *WebhookDirectory) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.Default()
}

// DeliveryLog adapts the store's batching buffer to ingest.DeliveryLog.
type DeliveryLog struct{ Buffer *store.DeliveryBuffer }

// RecordDelivery implements ingest.DeliveryLog.
func (l DeliveryLog) RecordDelivery(ctx context.Context, d ingest.Delivery) error {
	return l.Buffer.RecordDelivery(ctx, d.Org, d.Event, d.Status, d.Reason)
}

// TranscriptOrgs gives the transcript worker of one provider the
// connection of an org that wants transcripts (ingest.TranscriptOrgs).
// The org is read again for every event, so new credentials and
// transcripts turned off take effect at once.
type TranscriptOrgs struct {
	Store *store.Store
	Box   *secret.Box
	// Provider is the worker's provider; orgs of other providers get no
	// fetch. Required.
	Provider string
}

// TranscriptOrg implements ingest.TranscriptOrgs: ok=false when the org
// does not want transcripts (any more) or is another provider's.
func (t *TranscriptOrgs) TranscriptOrg(ctx context.Context, org string) (ingest.OrgConfig, bool, error) {
	o, err := t.Store.GetOrg(ctx, org)
	if err != nil {
		return ingest.OrgConfig{}, false, err
	}
	if !o.Transcripts || o.Provider != t.Provider {
		return ingest.OrgConfig{}, false, nil
	}
	cr, err := OpenCredentials(t.Box, o)
	if err != nil {
		return ingest.OrgConfig{}, false, err
	}
	return Config(o, cr, nil), true, nil
}
