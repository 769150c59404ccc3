package aircall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// extraUsers are Aircall users beyond the fixture's: one with no calls,
// one without an e-mail, one sharing the first employee's e-mail.
func extraUsers(org *fixture.Org) []fixture.User {
	return []fixture.User{
		{ID: "990001", Name: "Nora Newhire", Email: "nora.newhire@" + org.Name + ".example"},
		{ID: "990002", Name: "Front Desk"},
		{ID: "990003", Name: org.Users[0].Name + " (second seat)", Email: strings.ToUpper(org.Users[0].Email)},
	}
}

func wantUsers(us []fixture.User) []ingest.ProviderUser {
	var out []ingest.ProviderUser
	for _, u := range us {
		out = append(out, ingest.ProviderUser{ID: u.ID, Name: u.Name, Email: u.Email})
	}
	return out
}

func TestFakeUsersEndpoint(t *testing.T) {
	spec := fixture.Spec{Days: 3, Employees: 30, UnmappedUsers: 2}
	org := fixture.Generate(spec)
	e := newEnv(t, spec, aircalltest.FakeOptions{RateLimitPerMinute: 100000, ExtraUsers: extraUsers(org)})
	all := e.fake.Users()
	if len(all) != 35 {
		t.Fatalf("the fake lists %d users, want 35", len(all))
	}
	for _, tt := range []struct {
		name          string
		q             []string
		count, page   int
		per           int
		next, prev    bool
		firstID       string
		status        int
		wantErrSubstr string
	}{
		{name: "default page size 20", q: nil, count: 20, page: 1, per: 20, next: true, firstID: all[0].ID, status: 200},
		{name: "per_page over 50 is 50", q: []string{"per_page", "100"}, count: 35, page: 1, per: 50, firstID: all[0].ID, status: 200},
		{name: "second page", q: []string{"page", "2", "per_page", "20"}, count: 15, page: 2, per: 20, prev: true, firstID: all[20].ID, status: 200},
		{name: "past the end", q: []string{"page", "9", "per_page", "20"}, count: 0, page: 9, per: 20, prev: true, status: 200},
		{name: "bad page", q: []string{"page", "0"}, status: 400, wantErrSubstr: "positive integers"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := rawUsers(t, e, tt.q...)
			if resp.status != tt.status {
				t.Fatalf("status %d, want %d (%s)", resp.status, tt.status, resp.body)
			}
			if tt.status != 200 {
				if !strings.Contains(resp.body, tt.wantErrSubstr) {
					t.Fatalf("error body %s lacks %q", resp.body, tt.wantErrSubstr)
				}
				return
			}
			m := resp.page.Meta
			if len(resp.page.Users) != tt.count || m.Count != tt.count || m.Total != len(all) || m.CurrentPage != tt.page || m.PerPage != tt.per ||
				(m.NextPageLink != nil) != tt.next || (m.PreviousPageLink != nil) != tt.prev {
				t.Fatalf("users %d, meta %+v", len(resp.page.Users), m)
			}
			if tt.count > 0 && fmt.Sprint(resp.page.Users[0]["id"]) != tt.firstID {
				t.Fatalf("first user %v, want id %s", resp.page.Users[0], tt.firstID)
			}
		})
	}
	// The real fields: integer ids, email null when there is none, and the
	// rate-limit headers of every answer.
	resp := rawUsers(t, e, "per_page", "50")
	for _, k := range []string{"id", "direct_link", "name", "email", "available", "availability_status", "time_zone", "created_at"} {
		if _, ok := resp.page.Users[0][k]; !ok {
			t.Errorf("user %v has no %q", resp.page.Users[0], k)
		}
	}
	if _, isNum := resp.page.Users[0]["id"].(json.Number); !isNum {
		t.Errorf("id %#v is not a JSON number", resp.page.Users[0]["id"])
	}
	if v, ok := resp.page.Users[33]["email"]; !ok || v != nil {
		t.Errorf("the user without an e-mail has email %#v, want null", v)
	}
	if resp.header.Get("X-AircallApi-Limit") != "100000" || resp.header.Get("X-AircallApi-Remaining") == "" {
		t.Errorf("rate-limit headers %v", resp.header)
	}
}

type usersAnswer struct {
	status int
	header http.Header
	body   string
	page   struct {
		Users []map[string]any `json:"users"`
		Meta  struct {
			Count            int     `json:"count"`
			Total            int     `json:"total"`
			CurrentPage      int     `json:"current_page"`
			PerPage          int     `json:"per_page"`
			NextPageLink     *string `json:"next_page_link"`
			PreviousPageLink *string `json:"previous_page_link"`
		} `json:"meta"`
	}
}

func rawUsers(t *testing.T, e *testEnv, kv ...string) usersAnswer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v1/users?"+qs(kv...).Encode(), nil)
	req.SetBasicAuth(testAPIID, testAPIToken)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := usersAnswer{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if a.status == 200 {
		d := json.NewDecoder(strings.NewReader(a.body))
		d.UseNumber()
		if err := d.Decode(&a.page); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func TestListUsers(t *testing.T) {
	for _, tt := range []struct {
		name      string
		employees int
		perPage   int
		storm     int
		wantReqs  int
	}{
		{name: "one page", employees: 5, perPage: 50, wantReqs: 1},
		{name: "several pages", employees: 12, perPage: 5, wantReqs: 4},
		{name: "exactly full pages", employees: 7, perPage: 5, wantReqs: 2},
		{name: "429 then success", employees: 12, perPage: 5, storm: 2, wantReqs: 6},
	} {
		t.Run(tt.name, func(t *testing.T) {
			spec := fixture.Spec{Days: 2, Employees: tt.employees, UnmappedUsers: 2}
			org := fixture.Generate(spec)
			extra := extraUsers(org)
			if tt.name == "exactly full pages" {
				extra = extra[:1] // 7 + 2 + 1 = 10 users: two full pages
			}
			e := newEnv(t, spec, aircalltest.FakeOptions{RateLimitPerMinute: 6000, ExtraUsers: extra})
			e.fake.Storm(tt.storm)
			c := e.client(t, Config{PerPage: tt.perPage, RateLimitPerMinute: 6000})
			got, err := c.ListUsers(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if want := wantUsers(e.fake.Users()); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("users:\n got %v\nwant %v", got, want)
			}
			st := e.fake.Stats()
			if st.Requests != tt.wantReqs || st.RateLimited != tt.storm {
				t.Errorf("%d requests, %d answered 429; want %d and %d", st.Requests, st.RateLimited, tt.wantReqs, tt.storm)
			}
		})
	}
}

func TestListUsersErrors(t *testing.T) {
	spec := fixture.Spec{Days: 2, Employees: 3, UnmappedUsers: 1}
	e := newEnv(t, spec, aircalltest.FakeOptions{RateLimitPerMinute: 6000})
	// Wrong credentials: the auth error with its hint.
	c := e.client(t, Config{APIID: testAPIID, APIToken: "wrong"})
	_, err := c.ListUsers(context.Background())
	var ae *ingest.AuthError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "not the API key shown in the Aircall UI") {
		t.Fatalf("wrong token: %v, want an AuthError with the hint", err)
	}
	// A listing whose every page is the first one stops, naming why.
	loop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next := "http://" + r.Host + "/v1/users?page=2&per_page=1"
		_ = json.NewEncoder(w).Encode(map[string]any{"users": []map[string]any{{"id": 1, "name": "A", "email": "a@x.example"}},
			"meta": map[string]any{"total": 5, "per_page": 1, "next_page_link": next}})
	}))
	t.Cleanup(loop.Close)
	lc := e.client(t, Config{BaseURL: loop.URL + "/v1", HTTPClient: loop.Client()})
	users, err := lc.ListUsers(context.Background())
	if !errors.Is(err, ErrNoProgress) || len(users) != 1 || !strings.Contains(err.Error(), "page 2") {
		t.Fatalf("looping listing: %v, %v; want ErrNoProgress at page 2 after 1 user", users, err)
	}
}

// The registry entry lists users from an org's stored connection.
func TestProviderListsUsers(t *testing.T) {
	spec := fixture.Spec{Days: 2, Employees: 4, UnmappedUsers: 1}
	e := newEnv(t, spec, aircalltest.FakeOptions{RateLimitPerMinute: 6000})
	o := ingest.OrgConfig{Org: e.org.Name, BaseURL: e.srv.URL + "/v1", HTTPClient: e.srv.Client(),
		Credentials: map[string]string{"api_id": testAPIID, "api_token": testAPIToken},
		Settings:    ingest.NewSettings(map[string]string{"per_page": "2", "rate_limit": "6000"})}
	got, err := Provider.ListUsers(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if want := wantUsers(e.org.Users); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("users:\n got %v\nwant %v", got, want)
	}
	if n := e.fake.Stats().Requests; n != 3 {
		t.Errorf("%d requests for 5 users at 2 a page, want 3", n)
	}
}
