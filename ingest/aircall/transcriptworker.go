package aircall

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
)

// TranscriptWorkerConfig configures a TranscriptWorker. Zero fields take
// the defaults noted.
type TranscriptWorkerConfig struct {
	// Bus is the Kafka connection. Required.
	Bus bus.Config
	// Box opens the sealed records of bus.TopicTranscripts. Required.
	Box *secret.Box
	// Client returns the Aircall client of org when the org still wants
	// transcripts, and nil (no error) when it does not: an org that turned
	// transcripts off, or lost them to a 403, since the event was queued
	// gets no fetch. Required.
	Client func(ctx context.Context, org string) (*Client, error)
	// Store keeps transcripts and their outcomes. Required.
	Store TranscriptStore
	// Logger receives one line per event not handled. Default slog.Default().
	Logger *slog.Logger
}

// Validate reports every missing field, each named.
func (c TranscriptWorkerConfig) Validate() error {
	var errs []error
	if err := c.Bus.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("aircall transcript worker: Bus: %w", err))
	}
	if c.Box == nil {
		errs = append(errs, errors.New("aircall transcript worker: Box is nil"))
	}
	if c.Client == nil {
		errs = append(errs, errors.New("aircall transcript worker: Client is nil"))
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
}

// NewTranscriptWorker joins bus.GroupTranscripts on bus.TopicTranscripts.
func NewTranscriptWorker(cfg TranscriptWorkerConfig) (*TranscriptWorker, error) {
	if err := cfg.Validate(); err != nil {
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
	c, err := w.cfg.Client(ctx, rc.Org)
	if err != nil || c == nil {
		return err
	}
	return HandleTranscriptEvent(ctx, rc, c, w.cfg.Store)
}
