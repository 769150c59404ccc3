package ingest

import (
	"context"
	"log/slog"
	"time"

	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
)

// WebhookSpec is the push capability of a provider: the provider sends
// calls to `webhooks serve` (and `serve`'s webhooks role), with a webhook
// token per org (`org connect --webhook-token-file`) and optional
// transcripts (`--transcripts`). The app builds one receiver per provider
// that has it, so it never names the provider.
type WebhookSpec struct {
	// NewReceiver builds the provider's webhook receiver. Required.
	NewReceiver func(ReceiverConfig) (Receiver, error)
	// NewTranscriptWorker builds the worker that fetches the transcripts
	// the receiver queued on bus.TopicTranscripts. Nil when the provider
	// has no transcripts.
	NewTranscriptWorker func(TranscriptWorkerConfig) (Worker, error)
}

// ReceiverConfig is what a webhook receiver is built from. Zero fields
// take the receiver's defaults.
type ReceiverConfig struct {
	// Listen is the address Run listens on, e.g. ":8088".
	Listen string
	// Orgs resolves a delivery's token to an org. Required.
	Orgs OrgDirectory
	// Sink receives call events. Required.
	Sink Sink
	// TranscriptSink receives the transcript events of orgs that opted in.
	// Nil: those events are acknowledged and dropped.
	TranscriptSink Sink
	// Deliveries records every delivery. Default: not recorded.
	Deliveries DeliveryLog
	// Logger receives one line per delivery. Default: discarded.
	Logger *slog.Logger
	// Health, when set, answers GET /healthz: 200 when it returns nil,
	// 503 with its error otherwise. Default: /healthz is not served.
	Health func(ctx context.Context) error
}

// Receiver is a provider's webhook receiver.
type Receiver interface {
	// Run listens on ReceiverConfig.Listen and serves until ctx ends,
	// then shuts down gracefully.
	Run(ctx context.Context) error
}

// TranscriptWorkerConfig is what a transcript worker is built from. Zero
// fields take the worker's defaults.
type TranscriptWorkerConfig struct {
	// Bus is the Kafka connection. Required.
	Bus bus.Config
	// Box opens the sealed records of bus.TopicTranscripts. Required.
	Box *secret.Box
	// Orgs finds the connection of an org that still wants transcripts.
	// Required.
	Orgs TranscriptOrgs
	// Store keeps transcripts and their outcomes. Required.
	Store TranscriptStore
	// Logger receives one line per event not handled. Default slog.Default().
	Logger *slog.Logger
}

// TranscriptOrgs finds, for the transcript worker, the connection of the
// org a transcript event is about. It is asked for every event, so an org
// that turned transcripts off (or lost them to a 403) since the event was
// queued gets no fetch, and new credentials apply at once.
type TranscriptOrgs interface {
	// TranscriptOrg returns org's connection with its credentials opened,
	// and ok=false (no error) when the org does not want transcripts (any
	// more) or is not the provider's.
	TranscriptOrg(ctx context.Context, org string) (cfg OrgConfig, ok bool, err error)
}

// TranscriptStore keeps transcripts and the per-org transcript state.
type TranscriptStore interface {
	// SaveTranscript stores the transcript of one call of org.
	SaveTranscript(ctx context.Context, org string, t model.Transcript) error
	// DisableTranscripts turns transcripts off for org, with a reason to
	// show its admin (no AI add-on).
	DisableTranscripts(ctx context.Context, org, reason string) error
	// RecordTranscriptFailure notes that one call's transcript could not
	// be fetched, for `doctor`.
	RecordTranscriptFailure(ctx context.Context, org, callID, reason string) error
}

// Worker is a stage consuming Kafka until its context ends.
type Worker interface {
	// Run handles events until ctx ends; it returns nil then.
	Run(ctx context.Context) error
	// Close leaves the consumer group.
	Close()
}

// WebhookOrg is one org that receives webhooks.
type WebhookOrg struct {
	// Org is the phonesignals org.
	Org string
	// Token is the token the provider puts in every delivery of the org's
	// webhook.
	Token string
	// Transcripts is true when the org opted in to transcripts.
	Transcripts bool
}

// OrgDirectory lists the orgs webhooks may come from. It is called on
// every delivery, so implementations backed by a database should cache.
type OrgDirectory interface {
	WebhookOrgs(ctx context.Context) ([]WebhookOrg, error)
}

// StaticOrgs is a fixed OrgDirectory: for a deployment with a known set
// of orgs, tests and the demo.
type StaticOrgs []WebhookOrg

// WebhookOrgs implements OrgDirectory.
func (s StaticOrgs) WebhookOrgs(context.Context) ([]WebhookOrg, error) { return s, nil }

// Delivery is the record of one webhook delivery, for `doctor`. It never
// holds the body.
type Delivery struct {
	// At is when the delivery arrived.
	At time.Time
	// Org is empty when the token matched no org.
	Org string
	// Event is the envelope's event, empty if unreadable.
	Event string
	// CallID is the call the event is about, when known.
	CallID string
	// Status is the HTTP status answered to the provider.
	Status int
	// Reason says why, in words an operator can act on.
	Reason string
}

// DeliveryLog records every webhook delivery.
type DeliveryLog interface {
	RecordDelivery(ctx context.Context, d Delivery) error
}
