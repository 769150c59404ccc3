package ringcentraltest

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// fakeExtension is a record of GET .../extension, with RingCentral's names.
type fakeExtension struct {
	URI             string         `json:"uri"`
	ID              any            `json:"id"`
	ExtensionNumber string         `json:"extensionNumber"`
	Contact         fakeContact    `json:"contact"`
	Name            string         `json:"name"`
	Type            string         `json:"type"`
	Status          string         `json:"status"`
	Hidden          bool           `json:"hidden"`
	Permissions     map[string]any `json:"permissions,omitempty"`
}

type fakeContact struct {
	FirstName        string `json:"firstName,omitempty"`
	LastName         string `json:"lastName,omitempty"`
	Company          string `json:"company,omitempty"`
	Email            string `json:"email,omitempty"`
	EmailAsLoginName bool   `json:"emailAsLoginName,omitempty"`
}

// nonUserExtensions are extensions of other types every account has: the
// extension list serves them unless asked for type=User only.
var nonUserExtensions = []fakeExtension{
	{ID: 62999001, ExtensionNumber: "1000", Name: "Main Menu", Type: "IvrMenu", Status: "Enabled", Contact: fakeContact{FirstName: "Main Menu"}},
	{ID: 62999002, ExtensionNumber: "2000", Name: "Support Queue", Type: "Department", Status: "Enabled",
		Contact: fakeContact{FirstName: "Support Queue", Email: "support-queue@queues.example"}},
}

// ThrottleNext makes the next n authenticated API requests (not token
// requests) answer 429 and start the penalty, as when another app of the
// same user drains the group.
func (f *Fake) ThrottleNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.storm += n
}

// Users returns the User extensions the extension list serves: the org's,
// then FakeOptions.ExtraUsers.
func (f *Fake) Users() []fixture.User {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fixture.User(nil), f.users...)
}

// extensions is GET .../extension: the account's extensions in pages
// (page from 1, perPage default 100 and at most 1000), filtered by type,
// status, email and extensionNumber, with paging and navigation like the
// call log, in the Medium group.
func (f *Fake) extensions(w http.ResponseWriter, r *http.Request, s fakeStream) {
	if f.opts.DenyReadAccounts {
		writeJSON(w, http.StatusForbidden, apiErrorBody("CMN-408", "In order to call this API endpoint, application needs to have [ReadAccounts] permission", ""))
		return
	}
	q := r.URL.Query()
	perPage, ok := fakeInt(q, "perPage", 100)
	if !ok || perPage < 1 || perPage > 1000 {
		badParam(w, "perPage")
		return
	}
	page, ok := fakeInt(q, "page", 1)
	if !ok || page < 1 {
		badParam(w, "page")
		return
	}
	all := f.filterExtensions(q, s)
	total := len(all)
	pages := (total + perPage - 1) / perPage
	start := min((page-1)*perPage, total)
	end := min(start+perPage, total)
	pageURI := func(p int) map[string]string {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		qq.Set("page", strconv.Itoa(p))
		qq.Set("perPage", strconv.Itoa(perPage))
		return map[string]string{"uri": s.baseURI + "/extension?" + qq.Encode()}
	}
	paging := map[string]any{"page": page, "totalPages": pages, "perPage": perPage, "totalElements": total}
	if end > start {
		paging["pageStart"], paging["pageEnd"] = start, end-1
	}
	nav := map[string]any{"firstPage": pageURI(1)}
	if pages > 0 {
		nav["lastPage"] = pageURI(pages)
	}
	if page < pages {
		nav["nextPage"] = pageURI(page + 1)
	}
	if page > 1 {
		nav["previousPage"] = pageURI(page - 1)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"uri": pageURI(page)["uri"], "records": all[start:end], "paging": paging, "navigation": nav,
	})
}

// filterExtensions returns the account's extensions, users first in
// extension-number order, that pass q's filters (each may repeat).
func (f *Fake) filterExtensions(q url.Values, s fakeStream) []fakeExtension {
	keep := func(name, v string, fold bool) bool {
		if len(q[name]) == 0 {
			return true
		}
		for _, want := range q[name] {
			if want == v || (fold && strings.EqualFold(want, v)) {
				return true
			}
		}
		return false
	}
	out := []fakeExtension{}
	for _, e := range append(f.userExtensions(s), nonUserExtensions...) {
		if keep("type", e.Type, false) && keep("status", e.Status, false) && keep("email", e.Contact.Email, true) && keep("extensionNumber", e.ExtensionNumber, false) {
			e.URI = s.baseURI + "/extension/" + fmt.Sprint(e.ID)
			out = append(out, e)
		}
	}
	return out
}

// userExtensions renders the User extensions; their numbers are the ones
// call-log records show (101 on).
func (f *Fake) userExtensions(s fakeStream) []fakeExtension {
	out := make([]fakeExtension, 0, len(f.users))
	for i, u := range f.users {
		first, last, _ := strings.Cut(u.Name, " ")
		out = append(out, fakeExtension{
			ID: extIDValue(u.ID), ExtensionNumber: strconv.Itoa(101 + i), Name: u.Name, Type: "User", Status: "Enabled",
			Contact:     fakeContact{FirstName: first, LastName: last, Email: u.Email, EmailAsLoginName: u.Email != ""},
			Permissions: map[string]any{"admin": map[string]bool{"enabled": i == 0}, "internationalCalling": map[string]bool{"enabled": false}},
		})
	}
	return out
}
