package orgs

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"

	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

// WebhookTokenOwners returns the orgs, other than except, whose stored
// webhook token is tok. The webhook receiver finds an org by its token
// alone, so a token two orgs share makes every delivery of both fail
// ("token matches 2 orgs"). Tokens are compared as SHA-256 digests in
// constant time; a stored token that does not open (another master key)
// matches nothing.
func WebhookTokenOwners(ctx context.Context, st *store.Store, box *secret.Box, tok, except string) ([]string, error) {
	if tok == "" {
		return nil, nil
	}
	names, err := st.ListOrgs(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing the orgs to compare webhook tokens: %w", err)
	}
	want := sha256.Sum256([]byte(tok))
	var out []string
	for _, n := range names {
		if n == except {
			continue
		}
		o, err := st.GetOrg(ctx, n)
		if err != nil {
			return nil, fmt.Errorf("reading org %s to compare webhook tokens: %w", n, err)
		}
		if o.WebhookToken == "" {
			continue
		}
		other, err := OpenWebhookToken(box, o)
		if err != nil {
			continue
		}
		have := sha256.Sum256([]byte(other))
		if subtle.ConstantTimeCompare(want[:], have[:]) == 1 {
			out = append(out, o.Name)
		}
	}
	return out, nil
}
