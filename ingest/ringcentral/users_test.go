package ringcentral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/ringcentral/ringcentraltest"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// extraUsers are extensions beyond the fixture's: one with no calls, one
// without an e-mail, one sharing the first employee's e-mail.
func extraUsers(org *fixture.Org) []fixture.User {
	return []fixture.User{
		{ID: "63990001", Name: "Nora Newhire", Email: "nora.newhire@" + org.Name + ".example"},
		{ID: "63990002", Name: "Lobby Phone"},
		{ID: "63990003", Name: org.Users[0].Name + " Desk", Email: strings.ToUpper(org.Users[0].Email)},
	}
}

func wantUsers(us []fixture.User) []ingest.ProviderUser {
	var out []ingest.ProviderUser
	for _, u := range us {
		out = append(out, ingest.ProviderUser{ID: u.ID, Name: u.Name, Email: u.Email})
	}
	return out
}

type extAnswer struct {
	status int
	header http.Header
	body   string
	page   struct {
		Records []map[string]any `json:"records"`
		Paging  struct {
			Page, PerPage, TotalPages, TotalElements int
		} `json:"paging"`
		Navigation map[string]struct {
			URI string `json:"uri"`
		} `json:"navigation"`
	}
}

// rawExtensions asks the fake's extension list with a fresh access token.
func rawExtensions(t *testing.T, e *env, q url.Values) extAnswer {
	t.Helper()
	fo := e.fake.Options()
	form := url.Values{"grant_type": {jwtGrantType}, "assertion": {fo.JWT}}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/restapi/oauth/token", strings.NewReader(form.Encode()))
	req.SetBasicAuth(fo.ClientID, fo.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	req, _ = http.NewRequest(http.MethodGet, e.srv.URL+"/restapi/v1.0/account/~/extension?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	if resp, err = e.srv.Client().Do(req); err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := extAnswer{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if a.status == 200 {
		d := json.NewDecoder(strings.NewReader(a.body))
		d.UseNumber()
		if err := d.Decode(&a.page); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func TestFakeExtensionList(t *testing.T) {
	org := testOrg(t, 6, 2, 2)
	e := newEnv(t, org, ringcentraltest.FakeOptions{AuthLimit: 1000, ExtraUsers: extraUsers(org)}, Config{})
	users := e.fake.Users() // 6 + 2 + 3 User extensions, and 2 of other types
	for _, tt := range []struct {
		name              string
		q                 url.Values
		status            int
		records, total    int
		perPage, pages    int
		next              bool
		firstID, firstTyp string
	}{
		{name: "every type, default perPage 100", q: url.Values{}, status: 200, records: 13, total: 13, perPage: 100, pages: 1, firstID: users[0].ID, firstTyp: "User"},
		{name: "users only", q: url.Values{"type": {"User"}}, status: 200, records: 11, total: 11, perPage: 100, pages: 1, firstID: users[0].ID, firstTyp: "User"},
		{name: "several types", q: url.Values{"type": {"Department", "IvrMenu"}}, status: 200, records: 2, total: 2, perPage: 100, pages: 1, firstID: "62999001", firstTyp: "IvrMenu"},
		{name: "paged", q: url.Values{"type": {"User"}, "perPage": {"4"}, "page": {"2"}}, status: 200, records: 4, total: 11, perPage: 4, pages: 3, next: true, firstID: users[4].ID, firstTyp: "User"},
		{name: "last page", q: url.Values{"type": {"User"}, "perPage": {"4"}, "page": {"3"}}, status: 200, records: 3, total: 11, perPage: 4, pages: 3, firstID: users[8].ID, firstTyp: "User"},
		{name: "e-mail filter ignores case", q: url.Values{"email": {strings.ToUpper(users[1].Email)}}, status: 200, records: 1, total: 1, perPage: 100, pages: 1, firstID: users[1].ID, firstTyp: "User"},
		{name: "perPage over 1000", q: url.Values{"perPage": {"1001"}}, status: 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := rawExtensions(t, e, tt.q)
			if a.status != tt.status {
				t.Fatalf("status %d, want %d: %s", a.status, tt.status, a.body)
			}
			if tt.status != 200 {
				return
			}
			p := a.page.Paging
			if len(a.page.Records) != tt.records || p.TotalElements != tt.total || p.PerPage != tt.perPage || p.TotalPages != tt.pages {
				t.Fatalf("%d records, paging %+v", len(a.page.Records), p)
			}
			if _, ok := a.page.Navigation["nextPage"]; ok != tt.next {
				t.Fatalf("navigation %v: nextPage present %v, want %v", a.page.Navigation, ok, tt.next)
			}
			r := a.page.Records[0]
			if fmt.Sprint(r["id"]) != tt.firstID || r["type"] != tt.firstTyp {
				t.Fatalf("first record %v, want id %s of type %s", r, tt.firstID, tt.firstTyp)
			}
			if g := a.header.Get("X-Rate-Limit-Group"); g != "Medium" {
				t.Errorf("X-Rate-Limit-Group %q, want Medium", g)
			}
		})
	}
	// The fields of a User record.
	a := rawExtensions(t, e, url.Values{"type": {"User"}})
	r := a.page.Records[0]
	for _, k := range []string{"uri", "id", "extensionNumber", "contact", "name", "type", "status"} {
		if _, ok := r[k]; !ok {
			t.Errorf("record %v has no %q", r, k)
		}
	}
	if _, isNum := r["id"].(json.Number); !isNum || r["extensionNumber"] != "101" || r["status"] != "Enabled" {
		t.Errorf("record %v: want a numeric id, extensionNumber \"101\", status Enabled", r)
	}
	contact, _ := r["contact"].(map[string]any)
	if contact["email"] != users[0].Email || contact["firstName"] == "" || contact["lastName"] == "" {
		t.Errorf("contact %v, want e-mail %s and both names", contact, users[0].Email)
	}
	if c, _ := a.page.Records[9]["contact"].(map[string]any); c["email"] != nil {
		t.Errorf("the extension without an e-mail has contact %v", c)
	}
}

func TestListUsers(t *testing.T) {
	for _, tt := range []struct {
		name       string
		employees  int
		perPage    int
		fake       ringcentraltest.FakeOptions
		throttle   int
		wantPages  int
		want429    int
		wantWindow time.Duration
	}{
		{name: "one page", employees: 4, perPage: 250, wantPages: 1},
		{name: "several pages", employees: 9, perPage: 4, wantPages: 4},
		{name: "429 then success", employees: 9, perPage: 4, fake: ringcentraltest.FakeOptions{Penalty: 300 * time.Millisecond}, throttle: 1, wantPages: 5, want429: 1},
		// The client assumes Medium's 40 a minute; the server says 3 a
		// second in its headers, and the client keeps to that without a 429.
		{name: "limit from the headers", employees: 9, perPage: 2, fake: ringcentraltest.FakeOptions{MediumLimit: 3, MediumWindow: time.Second}, wantPages: 7},
	} {
		t.Run(tt.name, func(t *testing.T) {
			org := testOrg(t, tt.employees, 2, 2)
			tt.fake.AuthLimit = 1000
			tt.fake.ExtraUsers = extraUsers(org)
			e := newEnv(t, org, tt.fake, Config{PerPage: tt.perPage})
			e.fake.ThrottleNext(tt.throttle)
			got, err := e.client.ListUsers(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if want := wantUsers(e.fake.Users()); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("users:\n got %v\nwant %v", got, want)
			}
			st := e.fake.Stats()
			if st.MediumRequests != tt.wantPages || st.TooMany != tt.want429 || st.PenaltyRestarts != 0 || st.HeavyRequests != 0 {
				t.Errorf("stats %+v: want %d extension-list requests, %d answered 429, no penalty restart, no Heavy request", st, tt.wantPages, tt.want429)
			}
		})
	}
}

func TestListUsersErrors(t *testing.T) {
	org := testOrg(t, 3, 1, 2)
	// No ReadAccounts permission: an auth error naming it.
	e := newEnv(t, org, ringcentraltest.FakeOptions{AuthLimit: 1000, DenyReadAccounts: true}, Config{})
	_, err := e.client.ListUsers(context.Background())
	var ae *ingest.AuthError
	if !errors.As(err, &ae) || ae.Status != 403 || !strings.Contains(err.Error(), "ReadAccounts") || strings.Contains(err.Error(), "ReadCallLog") {
		t.Fatalf("without ReadAccounts: %v, want a 403 AuthError naming ReadAccounts", err)
	}
	// A wrong account id: ErrAccountNotFound with the flag to fix it.
	e = newEnv(t, org, ringcentraltest.FakeOptions{AuthLimit: 1000}, Config{AccountID: "400000009"})
	if _, err := e.client.ListUsers(context.Background()); !errors.Is(err, ErrAccountNotFound) || !strings.Contains(err.Error(), "--account-id") {
		t.Fatalf("wrong account: %v, want ErrAccountNotFound naming --account-id", err)
	}
}

// The registry entry lists users from an org's stored connection and
// settings (per_page, medium_limit).
func TestProviderListsUsers(t *testing.T) {
	org := testOrg(t, 5, 1, 2)
	e := newEnv(t, org, ringcentraltest.FakeOptions{AuthLimit: 1000}, Config{})
	fo := e.fake.Options()
	o := ingest.OrgConfig{Org: org.Name, BaseURL: e.srv.URL, HTTPClient: e.srv.Client(),
		Credentials: map[string]string{"client_id": fo.ClientID, "client_secret": fo.ClientSecret, "jwt": fo.JWT},
		Settings:    ingest.NewSettings(map[string]string{"per_page": "2", "medium_limit": "30", "auth_limit": "1000"})}
	got, err := Provider.ListUsers(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if want := wantUsers(org.Users); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("users:\n got %v\nwant %v", got, want)
	}
	if n := e.fake.Stats().MediumRequests; n != 3 {
		t.Errorf("%d requests for 6 users at 2 a page, want 3", n)
	}
	o.Settings = ingest.NewSettings(map[string]string{"medium_limit": "many"})
	if _, err := Provider.ListUsers(context.Background(), o); err == nil || !strings.Contains(err.Error(), "medium_limit") {
		t.Fatalf("a bad medium_limit: %v, want an error naming it", err)
	}
}
