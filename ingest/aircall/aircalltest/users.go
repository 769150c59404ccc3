package aircalltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// apiUserObject is a user of GET /v1/users, with Aircall's field names.
type apiUserObject struct {
	ID                 any        `json:"id"`
	DirectLink         string     `json:"direct_link"`
	Name               string     `json:"name"`
	Email              *string    `json:"email"`
	CreatedAt          string     `json:"created_at"`
	Available          bool       `json:"available"`
	AvailabilityStatus string     `json:"availability_status"`
	Numbers            []struct{} `json:"numbers"`
	TimeZone           string     `json:"time_zone"`
	Language           string     `json:"language"`
}

// Users returns every user GET /v1/users lists: the org's, then
// FakeOptions.ExtraUsers.
func (f *Fake) Users() []fixture.User {
	return append(append([]fixture.User(nil), f.org.Users...), f.opts.ExtraUsers...)
}

// listUsers is GET /v1/users: the company's users in pages like the call
// listings (page from 1, per_page default 20 and at most 50, meta with
// next_page_link), in the same rate-limit bucket as every request.
func (f *Fake) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page, ok1 := intParam(q, "page", 1)
	per, ok2 := intParam(q, "per_page", 20)
	if !ok1 || !ok2 || page < 1 || per < 1 {
		writeError(w, http.StatusBadRequest, "Invalid parameters", "page and per_page must be positive integers")
		return
	}
	per = min(per, MaxPerPage)
	users := f.Users()
	total := int64(len(users))
	offset := (page - 1) * per
	if offset >= int64(f.opts.MaxResults) {
		writeError(w, http.StatusBadRequest, CapErrorMessage, "")
		return
	}
	end := min(offset+per, total)
	out := []apiUserObject{}
	for i := offset; i < end; i++ {
		out = append(out, renderUser(users[i], i))
	}
	meta := apiMeta{Count: len(out), Total: int(total), CurrentPage: int(page), PerPage: int(per)}
	link := func(p int64) *string {
		s := fmt.Sprintf("%s/v1/users?%s", baseOf(r), url.Values{"page": {strconv.FormatInt(p, 10)}, "per_page": {strconv.FormatInt(per, 10)}}.Encode())
		return &s
	}
	if end < total {
		meta.NextPageLink = link(page + 1)
	}
	if page > 1 {
		meta.PreviousPageLink = link(page - 1)
	}
	writeJSON(w, struct {
		Users []apiUserObject `json:"users"`
		Meta  apiMeta         `json:"meta"`
	}{out, meta})
}

func baseOf(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// renderUser draws u, the i-th user: Aircall's ids are integers, and a
// user without an e-mail has "email": null.
func renderUser(u fixture.User, i int64) apiUserObject {
	var id any = u.ID
	if _, err := strconv.ParseInt(u.ID, 10, 64); err == nil {
		id = json.Number(u.ID)
	}
	var email *string
	if u.Email != "" {
		email = ptr(u.Email)
	}
	return apiUserObject{
		ID: id, DirectLink: fmt.Sprintf("%s/users/%s", DefaultBaseURL, u.ID), Name: u.Name, Email: email,
		CreatedAt:          time.Date(2024, 1, 8, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour).Format("2006-01-02T15:04:05.000Z"),
		Available:          i%3 != 2,
		AvailabilityStatus: [...]string{"available", "available", "custom"}[i%3],
		Numbers:            []struct{}{},
		TimeZone:           "America/Los_Angeles",
		Language:           "en-US",
	}
}
