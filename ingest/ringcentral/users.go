package ringcentral

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
)

// extensionRecord is what ListUsers reads of an extension-list record.
type extensionRecord struct {
	ID              json.RawMessage `json:"id"`
	ExtensionNumber string          `json:"extensionNumber"`
	Name            string          `json:"name"`
	Type            string          `json:"type"`
	Status          string          `json:"status"`
	Contact         struct {
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
		Email     string `json:"email"`
	} `json:"contact"`
}

var _ ingest.UserLister = (*Client)(nil)

// ListUsers lists the account's User extensions (GET .../extension?type=User,
// every page, Config.PerPage a page): their id (the extension.id of call-log
// records), name and contact e-mail. Departments, IVR menus and the other
// extension types hold no employee and are not asked for. The list is in
// the Medium rate-limit group (Config.MediumLimit), which the answers'
// X-Rate-Limit-* headers confirm or correct; the app needs ReadAccounts.
func (c *Client) ListUsers(ctx context.Context) ([]ingest.ProviderUser, error) {
	rs := &runState{}
	q := url.Values{"type": {"User"}, "page": {"1"}, "perPage": {strconv.Itoa(c.cfg.PerPage)}}
	next := c.path(stream{}, "extension") + "?" + q.Encode()
	var out []ingest.ProviderUser
	seen := map[string]bool{}
	for page := 1; next != ""; page++ {
		if page > maxPages {
			return out, fmt.Errorf("listing ringcentral extensions: more than %d pages, the server keeps offering a next page", maxPages)
		}
		body, err := c.getIn(ctx, rs, c.medium, "ReadAccounts", next)
		if err != nil {
			return out, fmt.Errorf("listing ringcentral extensions, page %d: %w", page, err)
		}
		var pg callLogPage
		if err := json.Unmarshal(body, &pg); err != nil {
			return out, fmt.Errorf("reading ringcentral extensions page %d: %w", page, err)
		}
		users, err := extensionUsers(pg.Records, seen)
		if err != nil {
			return out, fmt.Errorf("reading ringcentral extensions page %d: %w", page, err)
		}
		out = append(out, users...)
		cur := next
		if next, err = c.nextPage(cur, pg, page); err != nil {
			return out, fmt.Errorf("paging ringcentral extensions after page %d: %w", page, err)
		}
		if next == cur {
			return out, fmt.Errorf("listing ringcentral extensions, page %d: %w: its navigation.nextPage is the page itself; stopped after %d users", page, ErrNoProgress, len(out))
		}
	}
	return out, nil
}

// extensionUsers reads the User extensions of one page not seen before.
func extensionUsers(recs []json.RawMessage, seen map[string]bool) ([]ingest.ProviderUser, error) {
	var out []ingest.ProviderUser
	for _, raw := range recs {
		var r extensionRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, err
		}
		id := jsonID(r.ID)
		if id == "" || seen[id] || (r.Type != "" && r.Type != "User") {
			continue
		}
		seen[id] = true
		name := strings.TrimSpace(r.Name)
		if name == "" {
			name = strings.TrimSpace(r.Contact.FirstName + " " + r.Contact.LastName)
		}
		out = append(out, ingest.ProviderUser{ID: id, Name: name, Email: strings.TrimSpace(r.Contact.Email)})
	}
	return out, nil
}

var _ ingest.Verifier = (*Client)(nil)

// Verify exchanges the JWT for an access token and reads one record of
// the call log sync reads (the account's in mode "account", the JWT
// user's own otherwise): it checks the app's client id and secret, the
// JWT, the account id and the ReadCallLog permission with two cheap
// requests.
func (c *Client) Verify(ctx context.Context) error {
	s := stream{}
	if c.cfg.Mode != ModeAccount {
		s.ext = "~"
	}
	q := url.Values{"type": {"Voice"}, "view": {"Simple"}, "perPage": {"1"},
		"dateFrom": {formatTime(c.cfg.Now().Add(-time.Hour))}}
	if _, err := c.get(ctx, nil, c.path(s, "call-log")+"?"+q.Encode()); err != nil {
		return fmt.Errorf("reading one record of the ringcentral %s call log: %w", s, err)
	}
	return nil
}
