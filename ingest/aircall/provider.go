package aircall

import (
	"cmp"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/phonesignals/phonesignals/ingest"
)

// Name is Aircall's provider id: in orgs.provider, the Kafka headers and
// the CLI. It is written here only: the rest of phonesignals reaches
// Aircall through the registry, never by name.
const Name = "aircall"

// Title is the provider's name for people, in messages.
const Title = "Aircall"

// Provider is Aircall as the rest of phonesignals sees it (registered in
// ingest/providers).
var Provider = ingest.Provider{
	Name:       Name,
	Title:      Title,
	UserIDName: "Aircall user",
	Credentials: []ingest.CredentialField{
		{Key: "api_id", Flag: "api-id", Usage: "Aircall API ID"},
		{Key: "api_token", Flag: "api-token-file", File: true, Usage: "file holding the Aircall API token"},
	},
	CredentialsHint: "(Aircall → Integrations & API → API keys; the token is not the API key shown in the UI)",
	Settings:        Settings,
	Webhooks:        &ingest.WebhookSpec{NewReceiver: newReceiver, NewTranscriptWorker: newTranscriptWorker},
	NewSource:       NewSource,
	Decode:          Decode,
	Users:           ingest.ListUsersOf(NewSource),
}

// Settings are the org settings NewClient reads (`org connect --setting`);
// `org connect` refuses any other key.
var Settings = ingest.SettingSpec{
	{Name: "rate_limit", Kind: ingest.SettingInt, Default: strconv.Itoa(DefaultRateLimitPerMinute), Doc: "the company's requests per minute, 60 or 120"},
	{Name: "mode", Default: ModeOrg, Doc: ModeOrg + " lists the whole company, " + ModePerUser + " searches the calls of each mapped user",
		Validate: oneOf(ModeOrg, ModePerUser)},
	{Name: "per_page", Kind: ingest.SettingInt, Default: strconv.Itoa(MaxPerPage), Doc: "page size of call listings, 1 to " + strconv.Itoa(MaxPerPage)},
	{Name: "window", Kind: ingest.SettingDuration, Default: "24h", Doc: "length of a backfill's base windows"},
}

// newReceiver is the registry's way to the webhook server
// (ingest.WebhookSpec.NewReceiver).
func newReceiver(c ingest.ReceiverConfig) (ingest.Receiver, error) {
	s, err := NewWebhookServer(WebhookConfig{Listen: c.Listen, Orgs: c.Orgs, Sink: c.Sink, TranscriptSink: c.TranscriptSink,
		Deliveries: c.Deliveries, Logger: c.Logger, Health: c.Health})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// newTranscriptWorker is the registry's way to the transcript worker
// (ingest.WebhookSpec.NewTranscriptWorker).
func newTranscriptWorker(c ingest.TranscriptWorkerConfig) (ingest.Worker, error) {
	w, err := NewTranscriptWorker(c)
	if err != nil {
		return nil, err
	}
	return w, nil
}

// oneOf accepts "" and the values given.
func oneOf(vals ...string) func(string) error {
	return func(v string) error {
		if v == "" || slices.Contains(vals, v) {
			return nil
		}
		return fmt.Errorf("%q is not one of %s", v, strings.Join(vals, ", "))
	}
}

// NewSource builds the Aircall connector of one org from its stored
// connection; settings: per_page, rate_limit, mode, window.
func NewSource(o ingest.OrgConfig) (ingest.Source, error) {
	c, err := NewClient(o)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// NewClient is NewSource returning the *Client, for what only Aircall
// does (transcripts).
func NewClient(o ingest.OrgConfig) (*Client, error) {
	s := cmp.Or(o.Settings, ingest.NewSettings(nil))
	cfg := Config{
		BaseURL:            o.BaseURL,
		APIID:              o.Credentials["api_id"],
		APIToken:           o.Credentials["api_token"],
		PerPage:            s.Int("per_page"),
		RateLimitPerMinute: s.Int("rate_limit"),
		Mode:               s.String("mode"),
		WindowSize:         s.Duration("window"),
		HTTPClient:         o.HTTPClient,
		Logger:             cmp.Or(o.Logger, slog.Default()),
	}
	if err := s.Err(); err != nil {
		return nil, fmt.Errorf("settings of org %s: %w", o.Org, err)
	}
	c, err := New(o.Org, cfg)
	if err != nil {
		return nil, fmt.Errorf("configuring aircall for org %s: %w", o.Org, err)
	}
	return c, nil
}
