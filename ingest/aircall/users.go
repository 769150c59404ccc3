package aircall

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/phonesignals/phonesignals/ingest"
)

// usersPage is one page of GET /v1/users.
type usersPage struct {
	Users []struct {
		ID    flexID  `json:"id"`
		Name  flexStr `json:"name"`
		Email flexStr `json:"email"`
	} `json:"users"`
	Meta struct {
		Total        int     `json:"total"`
		PerPage      int     `json:"per_page"`
		NextPageLink *string `json:"next_page_link"`
	} `json:"meta"`
}

var _ ingest.UserLister = (*Client)(nil)

// ListUsers lists every Aircall user of the company (GET /v1/users, page by
// page with Config.PerPage, within the company's rate limit like every
// other request): their id (the user.id of calls), name and e-mail.
func (c *Client) ListUsers(ctx context.Context) ([]ingest.ProviderUser, error) {
	var out []ingest.ProviderUser
	seen := map[string]bool{}
	lastLink := ""
	for page := 1; ; page++ {
		lp, err := c.usersPage(ctx, page)
		if err != nil {
			if isCapError(err) {
				return out, fmt.Errorf("aircall refused to list users past page %d (its cap of %d records per query): %w", page-1, DefaultMaxResults, err)
			}
			return out, fmt.Errorf("listing aircall users, page %d: %w", page, err)
		}
		fresh := 0
		for _, u := range lp.Users {
			id := string(u.ID)
			if id == "" || seen[id] {
				continue
			}
			seen[id] = true
			fresh++
			out = append(out, ingest.ProviderUser{ID: id, Name: strings.TrimSpace(string(u.Name)), Email: strings.TrimSpace(string(u.Email))})
		}
		link := ""
		if lp.Meta.NextPageLink != nil {
			link = *lp.Meta.NextPageLink
		}
		if len(lp.Users) == 0 || (link == "" && page*c.cfg.PerPage >= lp.Meta.Total) {
			return out, nil
		}
		if fresh == 0 || (link != "" && link == lastLink) {
			return out, fmt.Errorf("listing aircall users, page %d: %w: it lists no user earlier pages did not, or repeats the previous page's next_page_link; stopped after %d users",
				page, ErrNoProgress, len(out))
		}
		lastLink = link
	}
}

// usersPage fetches page page of the company's users.
func (c *Client) usersPage(ctx context.Context, page int) (usersPage, error) {
	q := url.Values{}
	q.Set("page", strconv.Itoa(page))
	q.Set("per_page", strconv.Itoa(c.cfg.PerPage))
	var lp usersPage
	body, _, err := c.get(ctx, "/users", q, nil)
	if err != nil {
		return lp, err
	}
	if err := json.Unmarshal(body, &lp); err != nil {
		return lp, fmt.Errorf("decoding aircall users page %d: %w", page, err)
	}
	return lp, nil
}

var _ ingest.Verifier = (*Client)(nil)

// Verify asks for one user (GET /v1/users?per_page=1): the cheapest
// authenticated request, with one retry at most on a connect failure.
func (c *Client) Verify(ctx context.Context) error {
	if _, _, err := c.get(ctx, "/users", url.Values{"per_page": {"1"}}, nil); err != nil {
		return fmt.Errorf("asking aircall for one user: %w", err)
	}
	return nil
}
