package aircall

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/bus"
)

// TranscriptWorkerConfig configures a TranscriptWorker (the provider
// registry's neutral config; see ingest.TranscriptWorkerConfig for the
// fields and defaults).
type TranscriptWorkerConfig = ingest.TranscriptWorkerConfig

// validateWorker reports every missing field, each named.
func validateWorker(c TranscriptWorkerConfig) error {
	var errs []error
	if err := c.Bus.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("aircall transcript worker: Bus: %w", err))
	}
	if c.Box == nil {
		errs = append(errs, errors.New("aircall transcript worker: Box is nil"))
	}
	if c.Orgs == nil {
		errs = append(errs, errors.New("aircall transcript worker: Orgs is nil"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("aircall transcript worker: Store is nil"))
	}
	return errors.Join(errs...)
}

// TranscriptWorker consumes the transcription.created events the webhook
// server published, fetches each transcript and stores it. It is a
// franz-go consumer group member: it blocks rebalances while it handles a
// poll, and commits offsets only after every outcome of the poll was
// recorded, so a crash re-handles events rather than losing them.
type TranscriptWorker struct {
	cfg TranscriptWorkerConfig
	cl  *kgo.Client

	// clients are kept by org, API URL and credentials, so new credentials
	// take effect at once and unchanged ones reuse their client (and its
	// rate limiter).
	mu      sync.Mutex
	clients map[string]*Client
}

// NewTranscriptWorker joins bus.GroupTranscripts on bus.TopicTranscripts.
func NewTranscriptWorker(cfg TranscriptWorkerConfig) (*TranscriptWorker, error) {
	if err := validateWorker(cfg); err != nil {
		return nil, err
	}
	cfg.Logger = cmp.Or(cfg.Logger, slog.Default())
	cl, err := kgo.NewClient(append(cfg.Bus.Opts(),
		kgo.ConsumerGroup(bus.GroupTranscripts), kgo.ConsumeTopics(bus.TopicTranscripts),
		kgo.DisableAutoCommit(), kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		return nil, fmt.Errorf("creating transcript consumer: %w", err)
	}
	return &TranscriptWorker{cfg: cfg, cl: cl}, nil
}

// Run handles events until ctx ends; it returns nil then.
func (w *TranscriptWorker) Run(ctx context.Context) error {
	for {
		fetches := w.cl.PollRecords(ctx, 100)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return nil
		}
		for _, r := range fetches.Records() {
			if err := w.handle(ctx, r); err != nil {
				org, callID := bus.Header(r, bus.HeaderOrg), bus.Header(r, bus.HeaderCallID)
				w.cfg.Logger.Warn("transcript event not handled", "org", org, "call_id", callID, "err", err)
				_ = w.cfg.Store.RecordTranscriptFailure(ctx, org, callID, err.Error())
			}
		}
		if err := w.cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
			w.cfg.Logger.Warn("committing transcript offsets", "err", err)
		}
		w.cl.AllowRebalance()
	}
}

// Close leaves the group; it waits for a blocked rebalance, so it allows
// it first.
func (w *TranscriptWorker) Close() {
	w.cl.AllowRebalance()
	w.cl.Close()
}

func (w *TranscriptWorker) handle(ctx context.Context, r *kgo.Record) error {
	rc, err := bus.Decode(w.cfg.Box, r)
	if err != nil {
		return err
	}
	o, ok, err := w.cfg.Orgs.TranscriptOrg(ctx, rc.Org)
	if err != nil || !ok {
		return err
	}
	c, err := w.client(o)
	if err != nil {
		return err
	}
	return HandleTranscriptEvent(ctx, rc, c, w.cfg.Store)
}

// client returns the client of o, built once per org, API URL and
// credentials.
func (w *TranscriptWorker) client(o ingest.OrgConfig) (*Client, error) {
	cr, err := json.Marshal(o.Credentials) // keys sorted: a stable key
	if err != nil {
		return nil, fmt.Errorf("keying the aircall client of org %s: %w", o.Org, err)
	}
	key := o.Org + "|" + string(cr) + "|" + o.BaseURL
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.clients[key]; ok {
		return c, nil
	}
	c, err := NewClient(o)
	if err != nil {
		return nil, err
	}
	if w.clients == nil {
		w.clients = map[string]*Client{}
	}
	w.clients[key] = c
	return c, nil
}
