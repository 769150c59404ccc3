package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
)

// Provider is everything the rest of phonesignals knows about one phone
// provider. Each connector package exports one (aircall.Provider,
// ringcentral.Provider) and ingest/providers lists them; the CLI, the
// transform and doctor iterate over that registry and never switch on a
// provider name, so adding a provider touches its own package plus one
// line in the registry.
type Provider struct {
	// Name is the provider's id in orgs.provider, Kafka headers and the
	// CLI ("aircall"). Required, lower case.
	Name string
	// Title is the provider's name for people ("Aircall"). Required.
	Title string
	// UserIDName names the provider's user id in messages, e.g. "Aircall
	// user" or "RingCentral extension". Required.
	UserIDName string
	// Credentials are the secrets `org connect` asks for; they are sealed
	// together as one JSON object keyed by CredentialField.Key. Required.
	Credentials []CredentialField
	// CredentialsHint says where the credentials come from, shown when some
	// are missing, e.g. "(from the RingCentral Developer Console)".
	CredentialsHint string
	// AccountID says the provider uses the org's account id (`org connect
	// --account-id`).
	AccountID bool
	// Settings are the org settings the connector reads (`org connect
	// --setting`); `org connect` refuses any other key or a value of the
	// wrong kind. Default: none (every setting is refused).
	Settings SettingSpec
	// Webhooks, when set, says the provider pushes calls to `webhooks
	// serve`, with a webhook token (`org connect --webhook-token-file`)
	// and optional transcripts (`--transcripts`), and builds its
	// receiver. Default nil: the provider is only polled.
	Webhooks *WebhookSpec
	// NoEscalation, when set, says why escalation cannot be detected for
	// this provider (reviews show n/a, not 0); empty when it can.
	NoEscalation string
	// NewSource builds the connector of one org. Required.
	NewSource func(OrgConfig) (Source, error)
	// Decode decodes one raw record into c (reset first), setting the
	// neutral fields (Connected, Completed, EscalationAvailable, Missed,
	// Voicemail, AnswerTimeAvailable) the rules read. It is the
	// transform's hot loop: c's text may alias raw.Body or c's reused
	// buffers (model.Call), so a decoder need not allocate. A malformed
	// record is an error naming the call and the field; the transform
	// dead-letters it. Required.
	Decode func(raw model.RawCall, c *model.Call) error
	// Diagnose explains a provider-specific Sync error for doctor: what is
	// wrong and how to fix it, ok=false when it does not recognise err.
	// Optional; auth errors (*AuthError) are handled for every provider.
	Diagnose func(err error, org OrgConfig) (problem, fix string, ok bool)
	// Users lists the provider's own users with their e-mail addresses,
	// for `employees discover` and `employees import --match email`
	// (usually ListUsersOf(NewSource)). Optional: without it the mapping
	// is typed by hand; call it through Provider.ListUsers.
	Users func(ctx context.Context, org OrgConfig) ([]ProviderUser, error)
}

// CredentialField is one secret of a provider's credentials.
type CredentialField struct {
	// Key names the value in the sealed credentials JSON ("api_token").
	Key string
	// Flag is the `org connect` flag that sets it ("api-token-file").
	Flag string
	// File says the flag names a file holding the value (its contents are
	// trimmed), so secrets never appear on a command line.
	File bool
	// Usage is the flag's help text.
	Usage string
}

// OrgConfig is what a connector is built from: one org's stored connection
// with its credentials opened.
type OrgConfig struct {
	// Org is the phonesignals org name.
	Org string
	// BaseURL overrides the provider's API root; empty for the default.
	BaseURL string
	// AccountID is the org's provider account id, for providers with
	// AccountID set; empty for the provider's default.
	AccountID string
	// Credentials are the opened credentials, by CredentialField.Key.
	Credentials map[string]string
	// Settings are the org's provider settings (`org connect --setting`).
	Settings *Settings
	// HTTPClient is used for every request; nil for the connector's default.
	HTTPClient *http.Client
	// Logger receives the connector's logs; nil for slog.Default().
	Logger *slog.Logger
}

// Validate reports the Provider's missing required fields, each named.
func (p Provider) Validate() error {
	var errs []error
	if p.Name == "" || strings.ToLower(p.Name) != p.Name {
		errs = append(errs, fmt.Errorf("provider %q: Name must be set and lower case", p.Name))
	}
	if p.Title == "" {
		errs = append(errs, fmt.Errorf("provider %q: Title is empty", p.Name))
	}
	if p.UserIDName == "" {
		errs = append(errs, fmt.Errorf("provider %q: UserIDName is empty", p.Name))
	}
	if len(p.Credentials) == 0 {
		errs = append(errs, fmt.Errorf("provider %q: Credentials is empty", p.Name))
	}
	for _, f := range p.Credentials {
		if f.Key == "" || f.Flag == "" {
			errs = append(errs, fmt.Errorf("provider %q: credential %+v needs Key and Flag", p.Name, f))
		}
	}
	if p.NewSource == nil {
		errs = append(errs, fmt.Errorf("provider %q: NewSource is nil", p.Name))
	}
	if p.Decode == nil {
		errs = append(errs, fmt.Errorf("provider %q: Decode is nil", p.Name))
	}
	if p.Webhooks != nil && p.Webhooks.NewReceiver == nil {
		errs = append(errs, fmt.Errorf("provider %q: Webhooks.NewReceiver is nil", p.Name))
	}
	return errors.Join(errs...)
}

// Registry is the set of providers phonesignals supports, in a fixed order.
type Registry struct {
	list   []Provider
	byName map[string]Provider
}

// NewRegistry returns a registry of ps; every provider must be valid and
// no name may repeat.
func NewRegistry(ps ...Provider) (*Registry, error) {
	r := &Registry{byName: map[string]Provider{}}
	var errs []error
	for _, p := range ps {
		if err := p.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := r.byName[p.Name]; dup {
			errs = append(errs, fmt.Errorf("provider %q is registered twice", p.Name))
			continue
		}
		r.byName[p.Name] = p
		r.list = append(r.list, p)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("provider registry: %w", err)
	}
	return r, nil
}

// All returns the providers in registration order.
func (r *Registry) All() []Provider { return append([]Provider(nil), r.list...) }

// Names returns the provider names in registration order.
func (r *Registry) Names() []string {
	out := make([]string, len(r.list))
	for i, p := range r.list {
		out[i] = p.Name
	}
	return out
}

// Lookup returns the provider called name, or an error listing the known
// ones.
func (r *Registry) Lookup(name string) (Provider, error) {
	if p, ok := r.byName[name]; ok {
		return p, nil
	}
	return Provider{}, fmt.Errorf("provider %q: must be %s", name, strings.Join(r.Names(), " or "))
}

// WithWebhooks returns the providers that push calls (Webhooks set), in
// registration order: `webhooks serve` runs one receiver for each.
func (r *Registry) WithWebhooks() []Provider {
	var out []Provider
	for _, p := range r.list {
		if p.Webhooks != nil {
			out = append(out, p)
		}
	}
	return out
}

// Decoders returns every provider's decoder by provider name.
func (r *Registry) Decoders() map[string]func(model.RawCall, *model.Call) error {
	out := make(map[string]func(model.RawCall, *model.Call) error, len(r.list))
	for _, p := range r.list {
		out[p.Name] = p.Decode
	}
	return out
}

// Settings reads typed values from an org's provider settings, collecting
// one error per bad key for Err.
type Settings struct {
	m    map[string]string
	errs []string
}

// NewSettings reads m (nil is an empty set of settings).
func NewSettings(m map[string]string) *Settings { return &Settings{m: m} }

// String returns the setting k, "" when unset.
func (s *Settings) String(k string) string { return s.m[k] }

// Int returns the setting k as a whole number, 0 when unset.
func (s *Settings) Int(k string) int {
	v := s.m[k]
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		s.errs = append(s.errs, fmt.Sprintf("setting %s=%q is not a whole number", k, v))
	}
	return n
}

// Duration returns the setting k as a duration, 0 when unset.
func (s *Settings) Duration(k string) time.Duration {
	v := s.m[k]
	if v == "" {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		s.errs = append(s.errs, fmt.Sprintf("setting %s=%q is not a duration like 24h or 30s", k, v))
	}
	return d
}

// Err returns every bad setting read so far, naming each key and the fix;
// nil when all were good.
func (s *Settings) Err() error {
	if len(s.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s; (fix with `phonesignals org connect --setting KEY=VALUE`)", strings.Join(s.errs, "; "))
}
