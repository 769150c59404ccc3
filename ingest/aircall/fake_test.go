package aircall

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

type fakeAnswer struct {
	status int
	header http.Header
	page   struct {
		Calls []map[string]any `json:"calls"`
		Meta  struct {
			Count            int     `json:"count"`
			Total            int     `json:"total"`
			CurrentPage      int     `json:"current_page"`
			PerPage          int     `json:"per_page"`
			NextPageLink     *string `json:"next_page_link"`
			PreviousPageLink *string `json:"previous_page_link"`
		} `json:"meta"`
	}
	errMsg string
}

func (e *testEnv) getRaw(t *testing.T, path string, q url.Values, id, token string) fakeAnswer {
	t.Helper()
	u := e.srv.URL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.SetBasicAuth(id, token)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	a := fakeAnswer{status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(body, &a.page); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	} else {
		a.errMsg = errorMessage(body)
	}
	return a
}

func (e *testEnv) get(t *testing.T, path string, q url.Values) fakeAnswer {
	t.Helper()
	return e.getRaw(t, path, q, testAPIID, testAPIToken)
}

func qs(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}

func TestFakeListing(t *testing.T) {
	e := newEnv(t, fixture.Spec{Days: 20}, aircalltest.FakeOptions{RateLimitPerMinute: 100000})
	all := len(e.org.Calls)

	t.Run("meta and paging", func(t *testing.T) {
		a := e.get(t, "/v1/calls", qs("page", "2", "per_page", "50"))
		m := a.page.Meta
		if a.status != 200 || m.Total != all || m.Count != 50 || m.CurrentPage != 2 || m.PerPage != 50 || m.NextPageLink == nil || m.PreviousPageLink == nil {
			t.Fatalf("status %d meta %+v", a.status, m)
		}
		next, _ := url.Parse(*m.NextPageLink)
		if next.Query().Get("page") != "3" {
			t.Errorf("next_page_link %s", *m.NextPageLink)
		}
	})
	t.Run("per_page is capped at 50", func(t *testing.T) {
		if a := e.get(t, "/v1/calls", qs("per_page", "500")); len(a.page.Calls) != 50 || a.page.Meta.PerPage != 50 {
			t.Errorf("got %d calls per page", len(a.page.Calls))
		}
	})
	t.Run("10k cap", func(t *testing.T) {
		if all <= 10000 {
			t.Fatalf("fixture too small: %d", all)
		}
		if a := e.get(t, "/v1/calls", qs("page", "200", "per_page", "50")); a.status != 200 || a.page.Meta.NextPageLink != nil {
			t.Errorf("page 200: status %d next %v", a.status, a.page.Meta.NextPageLink)
		}
		a := e.get(t, "/v1/calls", qs("page", "201", "per_page", "50"))
		if a.status != 400 || !strings.Contains(a.errMsg, "limited to 10k results") {
			t.Errorf("page 201: status %d %q", a.status, a.errMsg)
		}
	})
	t.Run("from and to are inclusive", func(t *testing.T) {
		c := e.org.Calls[100]
		s := strconv.FormatInt(c.StartedAt.Unix(), 10)
		a := e.get(t, "/v1/calls", qs("from", s, "to", s))
		found := false
		for _, call := range a.page.Calls {
			if int64(call["started_at"].(float64)) != c.StartedAt.Unix() {
				t.Errorf("call outside [from, to]: %v", call["started_at"])
			}
			found = found || int64(call["id"].(float64)) == c.ID
		}
		if !found {
			t.Errorf("call %d started at from=to not listed", c.ID)
		}
	})
	t.Run("search by user and desc order", func(t *testing.T) {
		u := e.org.Employees[0].ProviderUserID
		a := e.get(t, "/v1/calls/search", qs("user_id", u, "order", "desc", "per_page", "50"))
		prev := int64(1 << 62)
		for _, call := range a.page.Calls {
			user, _ := call["user"].(map[string]any)
			if user == nil || strconv.FormatInt(int64(user["id"].(float64)), 10) != u {
				t.Fatalf("search returned a call of user %v", call["user"])
			}
			s := int64(call["started_at"].(float64))
			if s > prev {
				t.Fatal("desc order not descending")
			}
			prev = s
		}
	})
	t.Run("bad credentials", func(t *testing.T) {
		if a := e.getRaw(t, "/v1/calls", nil, testAPIID, "wrong"); a.status != 401 {
			t.Errorf("status %d", a.status)
		}
	})
	t.Run("single call", func(t *testing.T) {
		c := e.org.Calls[7]
		a := e.get(t, "/v1/calls/"+decimal(c.ID), nil)
		if a.status != 200 {
			t.Errorf("status %d", a.status)
		}
		if a := e.get(t, "/v1/calls/1", nil); a.status != 404 {
			t.Errorf("unknown call: status %d", a.status)
		}
	})
}

// renderOf fetches one call through the API at the fake's current time.
func renderOf(t *testing.T, e *testEnv, id int64) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v1/calls/"+decimal(id), nil)
	req.SetBasicAuth(testAPIID, testAPIToken)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Call map[string]any `json:"call"`
	}
	if resp.StatusCode != 200 {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Call
}

func TestFakeRendersProviderQuirks(t *testing.T) {
	e := newEnv(t, fixture.Spec{Days: 10}, aircalltest.FakeOptions{RateLimitPerMinute: 100000})
	var anon, noUser, late, voicemail *fixture.Call
	for i := range e.org.Calls {
		c := &e.org.Calls[i]
		switch {
		case anon == nil && c.Digits == "anonymous":
			anon = c
		case noUser == nil && c.UserID == "" && c.Outcome == "missed":
			noUser = c
		case late == nil && !c.LateAt.IsZero() && len(c.Notes) > 1:
			late = c
		case voicemail == nil && c.Outcome == "voicemail":
			voicemail = c
		}
	}
	if anon == nil || noUser == nil || late == nil || voicemail == nil {
		t.Fatal("fixture lacks a quirk")
	}
	if got := renderOf(t, e, anon.ID); got["raw_digits"] != "anonymous" {
		t.Errorf("raw_digits %v", got["raw_digits"])
	}
	if got := renderOf(t, e, noUser.ID); got["user"] != nil || got["answered_at"] != nil || got["status"] != "done" || got["missed_call_reason"] == nil {
		t.Errorf("unanswered inbound call rendered %v", got)
	}
	if got := renderOf(t, e, voicemail.ID); got["voicemail"] == nil {
		t.Error("voicemail call without voicemail link")
	}
	if got := renderOf(t, e, late.ID); got["conference_participants"] == nil {
		t.Error("REST call lacks conference_participants")
	}

	notes := func() int { return len(renderOf(t, e, late.ID)["comments"].([]any)) }
	e.clock.Set(late.StartedAt.Add(-time.Second))
	if got := renderOf(t, e, late.ID); got != nil {
		t.Error("a call not started yet is served")
	}
	if a := e.get(t, "/v1/calls", qs("from", strconv.FormatInt(late.StartedAt.Unix(), 10), "to", strconv.FormatInt(late.StartedAt.Unix(), 10))); len(a.page.Calls) != 0 {
		t.Error("a call not started yet is listed")
	}
	e.clock.Set(late.StartedAt)
	if got := renderOf(t, e, late.ID); got["status"] == "done" || got["ended_at"] != nil {
		t.Errorf("call in progress rendered %v / %v", got["status"], got["ended_at"])
	}
	e.clock.Set(late.LateAt.Add(-time.Second))
	if n := notes(); n != len(late.EarlyNotes) {
		t.Errorf("before the late edit: %d comments, want %d", n, len(late.EarlyNotes))
	}
	e.clock.Set(late.LateAt)
	if n := notes(); n != len(late.Notes) {
		t.Errorf("after the late edit: %d comments, want %d", n, len(late.Notes))
	}
}

func TestFakeRateLimit(t *testing.T) {
	e := newEnv(t, fixture.Spec{Days: 1}, aircalltest.FakeOptions{RateLimitPerMinute: 60, Burst: 5})
	for i := 1; i <= 6; i++ {
		a := e.get(t, "/v1/calls", nil)
		rem, _ := strconv.Atoi(a.header.Get("X-AircallApi-Remaining"))
		if a.header.Get("X-AircallApi-Limit") != "60" || a.header.Get("X-AircallApi-Reset") == "" {
			t.Fatalf("headers %v", a.header)
		}
		switch {
		case i <= 5 && (a.status != 200 || rem != 5-i):
			t.Errorf("request %d: status %d remaining %d", i, a.status, rem)
		case i == 6 && a.status != 429:
			t.Errorf("request 6: status %d, want 429", a.status)
		}
	}
	reset, _ := strconv.ParseInt(e.get(t, "/v1/calls", nil).header.Get("X-AircallApi-Reset"), 10, 64)
	if at := time.Unix(reset, 0); at.Before(e.clock.Now()) || at.After(e.clock.Now().Add(2*time.Second)) {
		t.Errorf("reset %s, now %s", at, e.clock.Now())
	}
	e.clock.Set(e.clock.Now().Add(time.Second))
	if a := e.get(t, "/v1/calls", nil); a.status != 200 {
		t.Errorf("after a leak interval: status %d", a.status)
	}
}
