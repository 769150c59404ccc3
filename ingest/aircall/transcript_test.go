package aircall

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// firstCall returns the first fixture call with the outcome.
func firstCall(t *testing.T, org *fixture.Org, outcome string) fixture.Call {
	t.Helper()
	for _, c := range org.Calls {
		if c.Outcome == outcome {
			return c
		}
	}
	t.Fatalf("no %s call in the fixture", outcome)
	return fixture.Call{}
}

func TestFetchTranscript(t *testing.T) {
	tests := []struct {
		name     string
		outcome  string
		aiAddOn  bool
		delay    time.Duration
		attempts int
		// want: "" success, else an error wrapping wantErr.
		wantErr      error
		wantRequests int
		wantType     string
	}{
		{name: "404 until ready", outcome: "answered", aiAddOn: true, delay: 5 * time.Minute, attempts: 10, wantRequests: 5, wantType: "call"},
		{name: "ready at once", outcome: "voicemail", aiAddOn: true, delay: time.Second, attempts: 10, wantRequests: 1, wantType: "voicemail"},
		{name: "no AI add-on", outcome: "answered", aiAddOn: false, delay: time.Second, attempts: 10, wantErr: ErrTranscriptsUnavailable, wantRequests: 1},
		{name: "gives up", outcome: "answered", aiAddOn: true, delay: time.Hour, attempts: 3, wantErr: ErrTranscriptNotReady, wantRequests: 3},
		{name: "missed call has none", outcome: "missed", aiAddOn: true, delay: time.Second, attempts: 4, wantErr: ErrTranscriptNotReady, wantRequests: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, fixture.Spec{Days: 1}, aircalltest.FakeOptions{AIAddOn: tt.aiAddOn, TranscriptDelay: tt.delay})
			call := firstCall(t, e.org, tt.outcome)
			e.clock.Set(call.EndedAt.Add(time.Minute))
			c := e.client(t, Config{TranscriptRetryDelay: time.Minute, TranscriptMaxAttempts: tt.attempts})
			tr, err := c.FetchTranscript(context.Background(), decimal(call.ID))
			if got := e.fake.Stats().Requests; got != tt.wantRequests {
				t.Errorf("%d requests, want %d", got, tt.wantRequests)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr == ErrTranscriptNotReady && !strings.Contains(err.Error(), "giving up") {
					t.Errorf("error %q does not say it gave up", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tr.CallID != decimal(call.ID) || tr.Type != tt.wantType || tr.Language == "" || len(tr.Utterances) == 0 {
				t.Fatalf("transcript %+v", tr)
			}
			for i, u := range tr.Utterances {
				if u.Index != i || u.EndTime <= u.StartTime || (u.Speaker != "internal" && u.Speaker != "external") || u.Text == "" {
					t.Errorf("utterance %+v", u)
				}
			}
		})
	}
}

type memTranscriptStore struct {
	mu       sync.Mutex
	saved    []Transcript
	disabled map[string]string
	failures []string
}

func (m *memTranscriptStore) SaveTranscript(_ context.Context, org string, t Transcript) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saved = append(m.saved, t)
	return nil
}

func (m *memTranscriptStore) DisableTranscripts(_ context.Context, org, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.disabled == nil {
		m.disabled = map[string]string{}
	}
	m.disabled[org] = reason
	return nil
}

func (m *memTranscriptStore) RecordTranscriptFailure(_ context.Context, org, callID, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.failures = append(m.failures, callID+": "+reason)
	return nil
}

func TestHandleTranscriptEvent(t *testing.T) {
	tests := []struct {
		name                      string
		aiAddOn                   bool
		delay                     time.Duration
		saved, disabled, failures int
	}{
		{"saved", true, time.Minute, 1, 0, 0},
		{"no add-on disables the org", false, time.Minute, 0, 1, 0},
		{"never ready is recorded", true, 24 * time.Hour, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, fixture.Spec{Days: 1}, aircalltest.FakeOptions{AIAddOn: tt.aiAddOn, TranscriptDelay: tt.delay})
			call := firstCall(t, e.org, "answered")
			e.clock.Set(call.EndedAt.Add(30 * time.Second))
			c := e.client(t, Config{TranscriptRetryDelay: 30 * time.Second, TranscriptMaxAttempts: 5})
			store := &memTranscriptStore{}
			raw := model.RawCall{Org: e.org.Name, Provider: Name, Source: model.SourceWebhook, Event: EventTranscriptionCreated,
				Body: []byte(`{"id": 1, "call_id": ` + decimal(call.ID) + `, "type": "call"}`)}
			if err := HandleTranscriptEvent(context.Background(), raw, c, store); err != nil {
				t.Fatal(err)
			}
			if len(store.saved) != tt.saved || len(store.disabled) != tt.disabled || len(store.failures) != tt.failures {
				t.Errorf("saved %d, disabled %v, failures %v", len(store.saved), store.disabled, store.failures)
			}
			if r := store.disabled[e.org.Name]; tt.disabled > 0 && !strings.Contains(r, "AI add-on") {
				t.Errorf("disable reason %q does not name the add-on", r)
			}
		})
	}
	e := newEnv(t, fixture.Spec{Days: 1}, aircalltest.FakeOptions{AIAddOn: true})
	c := e.client(t, Config{})
	if err := HandleTranscriptEvent(context.Background(), model.RawCall{Org: "globex", CallID: "1"}, c, &memTranscriptStore{}); err == nil {
		t.Error("an event of another org was handled with this org's credentials")
	}
	if err := HandleTranscriptEvent(context.Background(), model.RawCall{Org: e.org.Name, Body: []byte(`{"id": 3}`)}, c, &memTranscriptStore{}); err == nil || !strings.Contains(err.Error(), "call_id") {
		t.Errorf("event without call_id: %v", err)
	}
}

// The worker keeps one client per org and connection: the same
// credentials reuse it (and its rate limiter), new ones get a new client
// at once.
func TestTranscriptWorkerClientPerConnection(t *testing.T) {
	w := &TranscriptWorker{}
	conn := func(org, token, baseURL string) ingest.OrgConfig {
		return ingest.OrgConfig{Org: org, BaseURL: baseURL, Credentials: map[string]string{"api_id": "id", "api_token": token}}
	}
	first, err := w.client(conn("acme", "t1", ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		o    ingest.OrgConfig
		same bool
	}{
		{"same connection", conn("acme", "t1", ""), true},
		{"new token", conn("acme", "t2", ""), false},
		{"new API URL", conn("acme", "t1", "http://127.0.0.1:1"), false},
		{"other org", conn("globex", "t1", ""), false},
	} {
		c, err := w.client(tt.o)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if (c == first) != tt.same {
			t.Errorf("%s: reused the client %v, want %v", tt.name, c == first, tt.same)
		}
	}
}
