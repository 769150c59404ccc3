package freshness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/ingest/ringcentral"
	"github.com/phonesignals/phonesignals/ingest/ringcentral/ringcentraltest"
	"github.com/phonesignals/phonesignals/internal/app/orgs"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// The fakes' credentials.
const (
	apiID, apiToken            = "freshness-id", "freshness-token"
	clientID, clientSecret, jt = "freshness-client", "freshness-secret", "freshness-jwt"
	// pollLead is how long after setup the first polled call appears at
	// the provider: serve starts and joins its group meanwhile. The figures
	// count from each poll, so a slower start delays nothing measured.
	pollLead = 5 * time.Second
)

// connectPolled serves tr's org on its provider's fake API
// (aircalltest.Fake, ringcentraltest.Fake) and stores the org as `org
// connect` leaves it: sealed credentials of the fake, employees and the
// cycle. The i-th call, ended, starts at from + i/rate, and a fake lists a
// call only once it started, so calls appear at the provider at a steady
// rate. Every response is read on its way to serve: a call's
// acknowledgement time is when the first response carrying it was
// written, i.e. when it was polled. The func closes the fake.
func connectPolled(ctx context.Context, st *store.Store, box *secret.Box, tr *tracker, rate int, from time.Time) (func(), error) {
	fo := &fixture.Org{Name: tr.org, Provider: tr.provider, Start: from.Add(-time.Hour), End: from.Add(24 * time.Hour)}
	for u := 1; u <= users; u++ {
		fo.Users = append(fo.Users, fixture.User{ID: fmt.Sprint(u), Name: fmt.Sprintf("Agent %d", u), Email: fmt.Sprintf("agent%d@example.com", u)})
	}
	for i := range tr.calls {
		at := from.Add(time.Duration(i) * time.Second / time.Duration(max(rate, 1))).Truncate(time.Second)
		answered := at
		fo.Calls = append(fo.Calls, fixture.Call{ID: int64(tr.first + i), UserID: fmt.Sprint(i%users + 1), Direction: "inbound",
			StartedAt: at, AnsweredAt: &answered, EndedAt: at, Duration: 60, Outcome: "answered", Digits: "+14155550199"})
	}
	o := store.Org{Name: tr.org, Provider: tr.provider}
	var fake http.Handler
	var cr map[string]string
	if tr.provider == ringcentral.Provider.Name {
		fake = ringcentraltest.NewFake(fo, ringcentraltest.FakeOptions{ClientID: clientID, ClientSecret: clientSecret, JWT: jt, HeavyLimit: 1_000_000, AuthLimit: 1000})
		cr = map[string]string{"client_id": clientID, "client_secret": clientSecret, "jwt": jt}
		o.Settings = map[string]string{"mode": "account", "heavy_limit": "100000", "auth_limit": "1000"}
	} else {
		fake = aircalltest.NewFake(fo, aircalltest.FakeOptions{APIID: apiID, APIToken: apiToken, RateLimitPerMinute: 1_000_000})
		cr = map[string]string{"api_id": apiID, "api_token": apiToken}
		o.Settings = map[string]string{"rate_limit": "100000"}
	}
	api := httptest.NewServer(watchPolls(fake, tr))
	o.APIURL = api.URL
	if tr.provider == aircall.Provider.Name {
		o.APIURL += "/v1"
	}
	if err := orgs.SealCredentials(box, &o, cr); err != nil {
		api.Close()
		return nil, err
	}
	if err := configure(ctx, st, o); err != nil {
		api.Close()
		return nil, err
	}
	return api.Close, nil
}

// watchPolls passes fake's answers on and marks the calls a successful
// list answer carried (Aircall's "calls", RingCentral's "records") polled.
func watchPolls(fake http.Handler, tr *tracker) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		fake.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		var page struct {
			Calls, Records []struct {
				ID json.RawMessage `json:"id"`
			}
		}
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &page) != nil {
			return
		}
		var ids []int
		for _, c := range append(page.Calls, page.Records...) {
			if n, ok := callNumber(strings.Trim(string(c.ID), `"`)); ok {
				ids = append(ids, n)
			}
		}
		tr.markPolled(time.Now(), ids)
	})
}

// markPolled records that a response written at at carried ids.
func (tr *tracker) markPolled(at time.Time, ids []int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, id := range ids {
		if i := id - tr.first; i >= 0 && i < len(tr.calls) && !tr.calls[i].ok {
			tr.calls[i] = call{sent: at, acked: at, ok: true}
		}
	}
}

// waitPolled returns once every call was polled, or after bound.
func (tr *tracker) waitPolled(ctx context.Context, bound time.Duration) {
	deadline := time.Now().Add(bound)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		tr.mu.Lock()
		all := true
		for _, c := range tr.calls {
			all = all && c.ok
		}
		tr.mu.Unlock()
		if all {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
