// Package orgs turns an org's stored connection into what the pipeline
// uses: it seals and opens the credentials and webhook token (AES-GCM under
// the master key, bound to the org by their AAD), builds the org's
// connector through the provider registry, and serves the Aircall webhook
// receiver its directory of orgs and its delivery log.
package orgs

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

// credentialsAAD and webhookTokenAAD bind a sealed value to its org and
// role, so a value copied to another org or column does not open.
func credentialsAAD(org string) string  { return "org:" + org + ":credentials" }
func webhookTokenAAD(org string) string { return "org:" + org + ":webhook_token" }

// OpenCredentials opens what SealCredentials sealed into o.Credentials: a
// JSON object keyed by the provider's ingest.CredentialField keys.
func OpenCredentials(box *secret.Box, o store.Org) (map[string]string, error) {
	cr := map[string]string{}
	if o.Credentials == "" {
		return cr, fmt.Errorf("org %s has no credentials: run `phonesignals org connect --org %s ...`", o.Name, o.Name)
	}
	plain, err := box.OpenString(o.Credentials, credentialsAAD(o.Name))
	if err != nil {
		return cr, fmt.Errorf("opening the credentials of org %s: %w", o.Name, err)
	}
	if err := json.Unmarshal([]byte(plain), &cr); err != nil {
		return cr, fmt.Errorf("decoding the credentials of org %s: %w", o.Name, err)
	}
	return cr, nil
}

// SealCredentials seals cr into o.Credentials.
func SealCredentials(box *secret.Box, o *store.Org, cr map[string]string) error {
	plain, err := json.Marshal(cr)
	if err != nil {
		return fmt.Errorf("encoding the credentials of org %s: %w", o.Name, err)
	}
	o.Credentials = box.SealString(string(plain), credentialsAAD(o.Name))
	return nil
}

// SealWebhookToken seals tok into o.WebhookToken.
func SealWebhookToken(box *secret.Box, o *store.Org, tok string) {
	o.WebhookToken = box.SealString(tok, webhookTokenAAD(o.Name))
}

// OpenWebhookToken opens o.WebhookToken.
func OpenWebhookToken(box *secret.Box, o store.Org) (string, error) {
	return box.OpenString(o.WebhookToken, webhookTokenAAD(o.Name))
}

// Config is the connector's view of a stored org with opened credentials;
// httpClient nil means the connector's default.
func Config(o store.Org, cr map[string]string, httpClient *http.Client) ingest.OrgConfig {
	return ingest.OrgConfig{
		Org: o.Name, BaseURL: o.APIURL, AccountID: o.AccountID, Credentials: cr,
		Settings: ingest.NewSettings(o.Settings), HTTPClient: httpClient, Logger: slog.Default(),
	}
}

// NewSource builds the org's connector, through the provider registry,
// from its sealed credentials and settings (`org connect --setting`).
func NewSource(reg *ingest.Registry, box *secret.Box, o store.Org, httpClient *http.Client) (ingest.Source, error) {
	p, err := reg.Lookup(o.Provider)
	if err != nil {
		return nil, fmt.Errorf("org %s: %w", o.Name, err)
	}
	cr, err := OpenCredentials(box, o)
	if err != nil {
		return nil, err
	}
	return p.NewSource(Config(o, cr, httpClient))
}
