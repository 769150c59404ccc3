package freshness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/internal/app/orgs"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// The org serve polls, and the fake's credentials.
const (
	polledOrg = "polled"
	apiID     = "freshness-id"
	apiToken  = "freshness-token"
	// pollLead is how long after setup the first polled call appears at
	// the provider: serve starts and joins its group meanwhile. The figures
	// count from each poll, so a slower start delays nothing measured.
	pollLead = 5 * time.Second
)

// polledAPI is the fake Aircall API (aircalltest.Fake) of the polled org:
// its i-th call, ended, starts at from + i/rate, and the fake lists a call
// only once it started, so calls appear at the provider at a steady rate.
// Every list response is read on its way to serve: a call's acknowledgement
// time is when the first response carrying it was written, i.e. polled.
func polledAPI(tr *tracker, rate int, from time.Time) http.Handler {
	o := &fixture.Org{Name: polledOrg, Provider: aircall.Provider.Name, Start: from.Add(-time.Hour), End: from.Add(24 * time.Hour)}
	for u := 1; u <= users; u++ {
		o.Users = append(o.Users, fixture.User{ID: fmt.Sprint(u), Name: fmt.Sprintf("Agent %d", u), Email: fmt.Sprintf("agent%d@example.com", u)})
	}
	for i := range tr.calls {
		at := from.Add(time.Duration(i) * time.Second / time.Duration(max(rate, 1))).Truncate(time.Second)
		answered := at
		o.Calls = append(o.Calls, fixture.Call{ID: int64(firstPolled + i), UserID: fmt.Sprint(i%users + 1), Direction: "inbound",
			StartedAt: at, AnsweredAt: &answered, EndedAt: at, Duration: 60, Outcome: "answered", Digits: "+14155550199"})
	}
	fake := aircalltest.NewFake(o, aircalltest.FakeOptions{APIID: apiID, APIToken: apiToken, RateLimitPerMinute: 1_000_000})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		fake.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		var page struct {
			Calls []struct {
				ID int `json:"id"`
			} `json:"calls"`
		}
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &page) != nil {
			return
		}
		ids := make([]int, len(page.Calls))
		for i, c := range page.Calls {
			ids[i] = c.ID
		}
		tr.markPolled(time.Now(), ids)
	})
}

// connectPolled stores the polled org as `org connect` leaves it: sealed
// credentials of the fake at url, employees and the cycle.
func connectPolled(ctx context.Context, st *store.Store, box *secret.Box, url string) error {
	o := store.Org{Name: polledOrg, Provider: aircall.Provider.Name, APIURL: url, Settings: map[string]string{"rate_limit": "100000"}}
	if err := orgs.SealCredentials(box, &o, map[string]string{"api_id": apiID, "api_token": apiToken}); err != nil {
		return err
	}
	return configure(ctx, st, o)
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
