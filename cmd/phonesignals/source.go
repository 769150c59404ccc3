package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

// providersKey holds the provider registry in cli.App.Metadata, so a test
// can run the CLI with a provider of its own.
const providersKey = "providers"

// providersOf returns the provider registry the app was built with.
func providersOf(c *cli.Context) *ingest.Registry {
	return c.App.Metadata[providersKey].(*ingest.Registry)
}

// newSource builds the org's connector, through the provider registry,
// from its sealed credentials and settings (see `org connect --setting`).
func newSource(reg *ingest.Registry, box *secret.Box, o store.Org, httpClient *http.Client) (ingest.Source, error) {
	p, err := reg.Lookup(o.Provider)
	if err != nil {
		return nil, fmt.Errorf("org %s: %w", o.Name, err)
	}
	cr, err := openCredentials(box, o)
	if err != nil {
		return nil, err
	}
	return p.NewSource(orgConfig(o, cr, httpClient))
}

// orgConfig is the connector's view of a stored org.
func orgConfig(o store.Org, cr map[string]string, httpClient *http.Client) ingest.OrgConfig {
	return ingest.OrgConfig{
		Org: o.Name, BaseURL: o.APIURL, AccountID: o.AccountID, Credentials: cr,
		Settings: ingest.NewSettings(o.Settings), HTTPClient: httpClient, Logger: slog.Default(),
	}
}

func credentialsAAD(org string) string  { return "org:" + org + ":credentials" }
func webhookTokenAAD(org string) string { return "org:" + org + ":webhook_token" }

// openCredentials opens what `org connect` sealed into orgs.credentials: a
// JSON object keyed by the provider's ingest.CredentialField keys.
func openCredentials(box *secret.Box, o store.Org) (map[string]string, error) {
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

// sealCredentials seals cr into o.Credentials.
func sealCredentials(box *secret.Box, o *store.Org, cr map[string]string) error {
	plain, err := json.Marshal(cr)
	if err != nil {
		return fmt.Errorf("encoding the credentials of org %s: %w", o.Name, err)
	}
	o.Credentials = box.SealString(string(plain), credentialsAAD(o.Name))
	return nil
}
