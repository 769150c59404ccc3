package orgs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

// ConnectRequest is one `org connect`: what to change in an org's stored
// connection. Flags are named as the CLI names them, so the problems
// found point at the flag to fix.
type ConnectRequest struct {
	// Org is the org connected. Required.
	Org string
	// Flags are the values of the provider flags given (every provider's
	// credential flags, webhook-token-file, account-id, transcripts), by
	// flag name; a flag not given is absent.
	Flags map[string]string
	// APIURL, when not nil, overrides the provider's base URL ("" resets
	// it to the default).
	APIURL *string
	// Settings are the provider settings given, each KEY=VALUE.
	Settings []string
	// NoVerify stores the connection without trying it (`org connect
	// --no-verify`). Default false: the credentials are tried against the
	// provider with one cheap request first, and nothing is saved when the
	// provider refuses them or cannot be reached.
	NoVerify bool
	// HTTPClient sends the verifying request; nil for the connector's
	// default.
	HTTPClient *http.Client
}

// VerifyTimeout bounds the verifying request of Connect, retries
// included: a provider that accepts the connection and never answers is
// reported, not waited on.
const VerifyTimeout = 15 * time.Second

// ConnectResult is what Connect stored.
type ConnectResult struct {
	// Org is the org as saved.
	Org store.Org
	// Verified says the provider accepted the credentials; false with
	// NoVerify, or for a provider whose connector cannot verify.
	Verified bool
}

// Connect merges req into the stored connection of req.Org: credentials
// given replace the stored ones (the rest stay), and the account id,
// webhook token, transcripts and settings are applied, all sealed with
// box and saved. Every problem is reported at once, naming its flag, and
// nothing is saved then. Unless req.NoVerify, the merged connection is
// tried against the provider first (one cheap request) and nothing is
// saved when that fails.
func Connect(ctx context.Context, st *store.Store, box *secret.Box, reg *ingest.Registry, req ConnectRequest) (ConnectResult, error) {
	o, err := st.GetOrg(ctx, req.Org)
	if err != nil {
		return ConnectResult{Org: o}, err
	}
	p, err := reg.Lookup(o.Provider)
	if err != nil {
		return ConnectResult{Org: o}, fmt.Errorf("org %s: %w", o.Name, err)
	}
	cr := map[string]string{}
	if o.Credentials != "" {
		if cr, err = OpenCredentials(box, o); err != nil {
			return ConnectResult{Org: o}, err
		}
	}
	probs := foreignFlags(req.Flags, reg, p, o.Name)
	probs = append(probs, readCredentials(req.Flags, p, cr)...)
	sealedBefore := o.WebhookToken
	probs = append(probs, connectOptions(req, box, p, &o)...)
	if o.WebhookToken != sealedBefore {
		clash, err := webhookTokenClash(ctx, st, box, p, o)
		if err != nil {
			return ConnectResult{Org: o}, err
		}
		probs = append(probs, clash...)
	}
	if len(probs) > 0 {
		return ConnectResult{Org: o}, fmt.Errorf("org connect %s:\n  %s", o.Name, strings.Join(probs, "\n  "))
	}
	if req.APIURL != nil {
		o.APIURL = *req.APIURL
	}
	verified := false
	if !req.NoVerify {
		if verified, err = verify(ctx, p, o, cr, req.HTTPClient); err != nil {
			return ConnectResult{Org: o}, err
		}
	}
	if err := SealCredentials(box, &o, cr); err != nil {
		return ConnectResult{Org: o}, err
	}
	if err := st.SaveOrg(ctx, o); err != nil {
		return ConnectResult{Org: o}, err
	}
	return ConnectResult{Org: o, Verified: verified}, nil
}

// verify tries the connection o would have with cr against the provider,
// within VerifyTimeout. Its error names what was refused and says that
// nothing was saved, and how to save anyway.
func verify(ctx context.Context, p ingest.Provider, o store.Org, cr map[string]string, hc *http.Client) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, VerifyTimeout)
	defer cancel()
	ok, err := p.VerifyCredentials(ctx, Config(o, cr, hc))
	if err == nil {
		return ok, nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("%w: %s did not answer within %s", err, p.Title, VerifyTimeout)
	}
	return false, fmt.Errorf("org connect %s: %w\nnothing was saved; fix the above, or store the connection untried with --no-verify", o.Name, err)
}

// ReadSecretFile returns the trimmed contents of the file path given in
// flag; "" for no path.
func ReadSecretFile(flag, path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--%s: %w", flag, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("--%s %s is empty", flag, path)
	}
	return s, nil
}

// webhookTokenClash refuses the webhook token just sealed into o when
// another org already has it: the receiver finds an org by its token, so
// a shared token makes every delivery of both orgs fail. The other org is
// not named, nor the token shown.
func webhookTokenClash(ctx context.Context, st *store.Store, box *secret.Box, p ingest.Provider, o store.Org) ([]string, error) {
	tok, err := OpenWebhookToken(box, o)
	if err != nil {
		return nil, fmt.Errorf("org %s: opening the webhook token just sealed: %w", o.Name, err)
	}
	owners, err := WebhookTokenOwners(ctx, st, box, tok, o.Name)
	if err != nil || len(owners) == 0 {
		return nil, err
	}
	return []string{fmt.Sprintf("--webhook-token-file: this webhook token is already used by another org, and a token must identify one org "+
		"(deliveries with a shared token are refused for both): generate a new token for org %s (create the org's own webhook in %s, "+
		"Integrations & API → Webhook; each webhook has its own token) and pass it in --webhook-token-file", o.Name, p.Title)}, nil
}

// ProviderFlags are the `org connect` flags p accepts beyond the common
// ones.
func ProviderFlags(p ingest.Provider) []string {
	var out []string
	for _, f := range p.Credentials {
		out = append(out, f.Flag)
	}
	if p.Webhooks != nil {
		out = append(out, "webhook-token-file", "transcripts")
	}
	if p.AccountID {
		out = append(out, "account-id")
	}
	return out
}

// foreignFlags names every flag given that belongs to another provider.
func foreignFlags(given map[string]string, reg *ingest.Registry, p ingest.Provider, org string) []string {
	own := map[string]bool{}
	for _, f := range ProviderFlags(p) {
		own[f] = true
	}
	var probs []string
	reported := map[string]bool{}
	for _, other := range reg.All() {
		for _, f := range ProviderFlags(other) {
			if _, set := given[f]; own[f] || reported[f] || !set {
				continue
			}
			reported[f] = true
			probs = append(probs, fmt.Sprintf("--%s is %s %s flag; org %s uses %s", f, article(other.Title), other.Title, org, p.Title))
		}
	}
	return probs
}

// article is "an" before a vowel sound of the usual kind, else "a".
func article(word string) string {
	if word != "" && strings.ContainsRune("AEIOUaeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// readCredentials sets cr from p's credential flags and names what is
// wrong or still missing.
func readCredentials(given map[string]string, p ingest.Provider, cr map[string]string) []string {
	var probs []string
	for _, f := range p.Credentials {
		v := given[f.Flag]
		if f.File {
			var err error
			if v, err = ReadSecretFile(f.Flag, v); err != nil {
				probs = append(probs, err.Error())
				continue
			}
		}
		if v != "" {
			cr[f.Key] = v
		}
	}
	var need []string
	missing := false
	for _, f := range p.Credentials {
		need = append(need, "--"+f.Flag)
		missing = missing || cr[f.Key] == ""
	}
	if missing {
		probs = append(probs, fmt.Sprintf("%s needs %s %s", p.Title, joinAnd(need), p.CredentialsHint))
	}
	return probs
}

// joinAnd joins "a", "b" and "c" as "a, b and c".
func joinAnd(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

// connectOptions applies the account id, webhook token, transcripts and
// settings of req to o.
func connectOptions(req ConnectRequest, box *secret.Box, p ingest.Provider, o *store.Org) []string {
	var probs []string
	if v, set := req.Flags["account-id"]; p.AccountID && set {
		o.AccountID = v
	}
	if path, set := req.Flags["webhook-token-file"]; p.Webhooks != nil && set {
		tok, err := ReadSecretFile("webhook-token-file", path)
		if err != nil {
			probs = append(probs, err.Error())
		} else {
			SealWebhookToken(box, o, tok)
		}
	}
	switch v := req.Flags["transcripts"]; v {
	case "":
	case "on":
		o.Transcripts = true
	case "off":
		o.Transcripts = false
	default:
		probs = append(probs, fmt.Sprintf("--transcripts %q: want on or off", v))
	}
	for _, kv := range req.Settings {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			probs = append(probs, fmt.Sprintf("--setting %q: want KEY=VALUE", kv))
			continue
		}
		// Refused here, not stored: a key the provider does not read
		// would be ignored by every sync.
		if err := p.Settings.Check(p.Name, k, v); err != nil {
			probs = append(probs, err.Error())
			continue
		}
		if o.Settings == nil {
			o.Settings = map[string]string{}
		}
		o.Settings[k] = v
	}
	return probs
}
