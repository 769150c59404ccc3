package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/phonesignals/phonesignals/queries"
)

// Org is an org's connection settings. Credentials and WebhookToken are
// sealed (internal/platform/secret) before they reach this struct.
type Org struct {
	Name     string
	Provider string
	// APIURL overrides the provider's base URL; empty means the default.
	APIURL string
	// Credentials is the sealed JSON of the provider's credentials.
	Credentials string
	// AccountID is RingCentral's account id ("~" when empty).
	AccountID string
	// WebhookToken is the sealed Aircall webhook token.
	WebhookToken string
	// Transcripts says the org opted in to Aircall transcripts.
	Transcripts bool
	// Settings are provider options (rate limits, listing mode).
	Settings map[string]string
}

// AddOrg creates org with provider (a name the caller checked against the
// provider registry, ingest/providers). Adding it again with the same provider
// is a no-op; with another provider it is refused, since an org has one.
func (s *Store) AddOrg(ctx context.Context, name, provider string) (created bool, err error) {
	if !identRe.MatchString(name) && !orgRe.MatchString(name) {
		return false, fmt.Errorf("org %q: use letters, digits, '-', '_' and '.' only", name)
	}
	if provider == "" {
		return false, fmt.Errorf("org %q: the provider is empty", name)
	}
	cur, err := s.GetOrg(ctx, name)
	switch {
	case err == nil && cur.Provider == provider:
		return false, nil
	case err == nil:
		return false, fmt.Errorf("org %q already uses %s: an org has exactly one phone provider; create another org for %s", name, cur.Provider, provider)
	case !errors.Is(err, ErrNotFound):
		return false, err
	}
	return true, s.SaveOrg(ctx, Org{Name: name, Provider: provider})
}

// SaveOrg writes the org's current settings (a new version of its row).
func (s *Store) SaveOrg(ctx context.Context, o Org) error {
	settings, err := json.Marshal(o.Settings)
	if err != nil {
		return fmt.Errorf("encoding settings of org %s: %w", o.Name, err)
	}
	var tr uint8
	if o.Transcripts {
		tr = 1
	}
	err = s.insert(ctx, queries.InsertOrgs,
		[]any{o.Name, o.Provider, o.APIURL, o.Credentials, o.AccountID, o.WebhookToken, tr, string(settings), version()})
	if err != nil {
		return fmt.Errorf("saving org %s: %w", o.Name, err)
	}
	return nil
}

// GetOrg reads an org; ErrNotFound (wrapped, naming the fix) when missing.
func (s *Store) GetOrg(ctx context.Context, name string) (Org, error) {
	var rows []orgRow
	if err := s.conn.Select(ctx, &rows, queries.OrgGet, name); err != nil {
		return Org{}, fmt.Errorf("reading org %s: %w", name, err)
	}
	if len(rows) == 0 {
		return Org{}, fmt.Errorf("org %q: %w (create it with `phonesignals org add --org %s --provider aircall|ringcentral`)", name, ErrNotFound, name)
	}
	r := rows[0]
	o := Org{Name: r.Name, Provider: r.Provider, APIURL: r.APIURL, Credentials: r.Credentials, AccountID: r.AccountID,
		WebhookToken: r.WebhookToken, Transcripts: r.Transcripts == 1}
	if r.Settings != "" && r.Settings != "null" {
		if err := json.Unmarshal([]byte(r.Settings), &o.Settings); err != nil {
			return Org{}, fmt.Errorf("decoding settings of org %s: %w", name, err)
		}
	}
	return o, nil
}

// orgRow is the org query's row: Org holds transcripts as a bool and the
// settings decoded.
type orgRow struct {
	Name         string `ch:"org"`
	Provider     string `ch:"provider_"`
	APIURL       string `ch:"api_url_"`
	Credentials  string `ch:"credentials_"`
	AccountID    string `ch:"account_id_"`
	WebhookToken string `ch:"webhook_token_"`
	Transcripts  uint8  `ch:"transcripts_"`
	Settings     string `ch:"settings_"`
}

// ListOrgs returns every org name.
func (s *Store) ListOrgs(ctx context.Context) ([]string, error) {
	var rows []struct {
		Org string `ch:"org"`
	}
	if err := s.conn.Select(ctx, &rows, queries.OrgList); err != nil {
		return nil, fmt.Errorf("listing orgs: %w", err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.Org)
	}
	return out, nil
}
