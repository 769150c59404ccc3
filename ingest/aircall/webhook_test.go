package aircall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/ingest/aircall/aircalltest"
	"github.com/phonesignals/phonesignals/ingest/ingesttest"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/model/modeltest"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// syncBuffer is a goroutine-safe log buffer.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type webhookEnv struct {
	srv        *WebhookServer
	sink       *ingesttest.MemSink
	transcript *ingesttest.MemSink
	log        *MemDeliveryLog
	logs       *syncBuffer
}

func newWebhookEnv(t testing.TB, cfg WebhookConfig) *webhookEnv {
	t.Helper()
	e := &webhookEnv{sink: &ingesttest.MemSink{}, transcript: &ingesttest.MemSink{}, log: &MemDeliveryLog{}, logs: &syncBuffer{}}
	if cfg.Orgs == nil {
		cfg.Orgs = StaticOrgs{
			{Org: "acme", Token: "tok-acme", Transcripts: true},
			{Org: "globex", Token: "tok-globex"},
		}
	}
	if cfg.Sink == nil {
		cfg.Sink = e.sink
	}
	if cfg.TranscriptSink == nil {
		cfg.TranscriptSink = e.transcript
	}
	cfg.Deliveries = e.log
	cfg.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := NewWebhookServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = s
	return e
}

const callData = `{"id": 4010000200, "direction": "inbound", "status": "done", "started_at": 1785571200,
 "answered_at": 1785571205, "ended_at": 1785571300, "duration": 95, "user": {"id": 100007},
 "comments": [{"id": 1, "content": "SECRET-NOTE Complaint about billing"}], "tags": [], "participants": []}`

func envelopeJSON(event, token, data string) string {
	return fmt.Sprintf(`{"resource": %q, "event": %q, "timestamp": 1785571400, "token": %q, "data": %s}`,
		strings.SplitN(event, ".", 2)[0], event, token, data)
}

func TestWebhookDeliveries(t *testing.T) {
	failing := &ingesttest.MemSink{Fail: errors.New("kafka: not enough replicas")}
	tests := []struct {
		name       string
		method     string
		body       string
		cfg        WebhookConfig
		wantStatus int
		wantReason string
		wantOrg    string
		// wantCalls and wantTranscripts are the records published.
		wantCalls, wantTranscripts int
	}{
		{name: "call event", body: envelopeJSON("call.ended", "tok-acme", callData), wantStatus: 200, wantReason: "published", wantOrg: "acme", wantCalls: 1},
		{name: "call event of second org", body: envelopeJSON("call.tagged", "tok-globex", callData), wantStatus: 200, wantOrg: "globex", wantCalls: 1},
		{name: "unknown token", body: envelopeJSON("call.ended", "tok-evil", callData), wantStatus: 401, wantReason: "matches no org"},
		{name: "token prefix", body: envelopeJSON("call.ended", "tok-acm", callData), wantStatus: 401},
		{name: "no token", body: envelopeJSON("call.ended", "", callData), wantStatus: 401, wantReason: "no token"},
		{name: "malformed", body: `{"resource": "call", "event": "call.ended", "token": "tok-acme", "data": {`, wantStatus: 400, wantReason: "not a JSON"},
		{name: "data not an object", body: envelopeJSON("call.ended", "tok-acme", `"x"`), wantStatus: 400, wantOrg: "acme"},
		{name: "call without id", body: envelopeJSON("call.ended", "tok-acme", `{"direction": "inbound"}`), wantStatus: 400, wantReason: "data.id", wantOrg: "acme"},
		{name: "oversize", body: envelopeJSON("call.ended", "tok-acme", `{"id": 1, "pad": "`+strings.Repeat("x", 4096)+`"}`), cfg: WebhookConfig{MaxBody: 2048}, wantStatus: 413},
		{name: "sink failure", body: envelopeJSON("call.ended", "tok-acme", callData), cfg: WebhookConfig{Sink: failing}, wantStatus: 503, wantReason: "Aircall will retry", wantOrg: "acme"},
		{name: "GET", method: http.MethodGet, wantStatus: 405},
		{name: "other resource", body: envelopeJSON("contact.created", "tok-acme", `{"id": 5}`), wantStatus: 200, wantReason: "ignored", wantOrg: "acme"},
		{name: "transcript of opted-in org", body: envelopeJSON(EventTranscriptionCreated, "tok-acme", `{"id": 9, "call_id": 4010000200}`), wantStatus: 200, wantOrg: "acme", wantTranscripts: 1},
		{name: "transcript of org not opted in", body: envelopeJSON(EventTranscriptionCreated, "tok-globex", `{"id": 9, "call_id": 4010000200}`), wantStatus: 200, wantReason: "not opted in", wantOrg: "globex"},
		{name: "transcript without call id", body: envelopeJSON(EventTranscriptionCreated, "tok-acme", `{"id": 9}`), wantStatus: 400, wantOrg: "acme"},
		{name: "shared token", body: envelopeJSON("call.ended", "tok-acme", callData),
			cfg: WebhookConfig{Orgs: StaticOrgs{{Org: "a", Token: "tok-acme"}, {Org: "b", Token: "tok-acme"}}}, wantStatus: 500, wantReason: "2 orgs"},
		{name: "org directory down", body: envelopeJSON("call.ended", "tok-acme", callData),
			cfg: WebhookConfig{Orgs: failingOrgs{}}, wantStatus: 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newWebhookEnv(t, tt.cfg)
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, "/webhooks/aircall", strings.NewReader(tt.body))
			rec := httptest.NewRecorder()
			e.srv.Handler().ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d (deliveries %+v)", rec.Code, tt.wantStatus, e.log.Deliveries())
			}
			if n := len(e.sink.Snapshot()); n != tt.wantCalls {
				t.Errorf("%d calls published, want %d", n, tt.wantCalls)
			}
			if n := len(e.transcript.Snapshot()); n != tt.wantTranscripts {
				t.Errorf("%d transcript events published, want %d", n, tt.wantTranscripts)
			}
			ds := e.log.Deliveries()
			if len(ds) != 1 {
				t.Fatalf("%d deliveries recorded, want 1", len(ds))
			}
			d := ds[0]
			if d.Status != tt.wantStatus || d.Org != tt.wantOrg || d.Reason == "" || !strings.Contains(d.Reason, tt.wantReason) {
				t.Errorf("delivery %+v, want status %d org %q reason containing %q", d, tt.wantStatus, tt.wantOrg, tt.wantReason)
			}
			logs := e.logs.String()
			if strings.Contains(logs, "SECRET-NOTE") || strings.Contains(logs, "tok-") || strings.Contains(d.Reason, "SECRET-NOTE") {
				t.Errorf("logs or delivery record leak the body or the token:\n%s", logs)
			}
			if !strings.Contains(logs, "reason=") {
				t.Errorf("delivery not logged with its reason:\n%s", logs)
			}
		})
	}
}

type failingOrgs struct{}

func (failingOrgs) WebhookOrgs(context.Context) ([]WebhookOrg, error) {
	return nil, errors.New("postgres: connection refused")
}

func TestWebhookPublishesDataUntouched(t *testing.T) {
	e := newWebhookEnv(t, WebhookConfig{})
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(envelopeJSON("call.ended", "tok-acme", callData))))
	if rec.Code != 200 {
		t.Fatal(rec.Code)
	}
	rc := e.sink.Snapshot()[0]
	if rc.Org != "acme" || rc.Provider != Name || rc.CallID != "4010000200" || rc.Source != model.SourceWebhook ||
		rc.Event != "call.ended" || !rc.ObservedAt.Equal(time.Unix(1785571400, 0)) {
		t.Errorf("RawCall routing = %+v", rc)
	}
	if string(rc.Body) != callData {
		t.Errorf("body was re-encoded:\n%s", rc.Body)
	}
}

// Duplicated and shuffled deliveries are all published; downstream the
// highest Version of each call must be its final state.
func TestWebhookDuplicatesAndReordering(t *testing.T) {
	e := newEnv(t, fixture.Spec{Days: 2}, aircalltest.FakeOptions{})
	we := newWebhookEnv(t, WebhookConfig{Orgs: StaticOrgs{{Org: e.org.Name, Token: "hook-token"}}})
	hs := httptest.NewServer(we.srv.Handler())
	t.Cleanup(hs.Close)
	from, to := e.org.Start, e.org.Start.Add(24*time.Hour)
	rep, err := e.fake.SendWebhooks(context.Background(), hs.URL, "hook-token", aircalltest.SendOptions{From: from, To: to, Duplicates: 0.4, Shuffle: true, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 0 || rep.Acked != rep.Deliveries || rep.Deliveries <= rep.Events {
		t.Fatalf("report %+v: want all deliveries acked, with duplicates", rep)
	}
	published := we.sink.Snapshot()
	if len(published) != rep.Deliveries {
		t.Fatalf("%d records published for %d deliveries", len(published), rep.Deliveries)
	}
	latest := map[string]modeltest.Call{}
	for _, rc := range published {
		d, err := modeltest.Decode(Decode, rc)
		if err != nil {
			t.Fatalf("decoding %s of %s: %v", rc.Event, rc.CallID, err)
		}
		if d.Version > latest[d.CallID].Version {
			latest[d.CallID] = d
		}
	}
	want := callsIn(e.org, ingest.Window{From: from, To: to})
	if missing, extra := diffIDs(want, latest); len(missing)+len(extra) > 0 {
		t.Fatalf("%d missing, %d extra", len(missing), len(extra))
	}
	for id, fc := range want {
		got := latest[id]
		if got.Status != seedStatus(fc) || got.UserID != fc.UserID || got.DurationSec != uint32(fc.Duration) ||
			!equalStrings(got.Notes, fc.Notes) || !equalStrings(got.Tags, fc.Tags) || got.EndedAt == nil || !got.EndedAt.Equal(fc.EndedAt) {
			t.Fatalf("call %s: highest version %+v is not the final state %+v", id, got, fc)
		}
	}
}

// While the sink is down Aircall gets 503 and retries; nothing is lost.
func TestWebhookSinkOutageIsRetried(t *testing.T) {
	e := newEnv(t, fixture.Spec{Days: 1}, aircalltest.FakeOptions{})
	mem := &ingesttest.MemSink{}
	var mu sync.Mutex
	failures := 25
	sink := funcSink(func(ctx context.Context, calls []model.RawCall) error {
		mu.Lock()
		defer mu.Unlock()
		if failures > 0 {
			failures--
			return errors.New("kafka: leader not available")
		}
		return mem.Publish(ctx, calls)
	})
	we := newWebhookEnv(t, WebhookConfig{Orgs: StaticOrgs{{Org: e.org.Name, Token: "hook-token"}}, Sink: sink})
	hs := httptest.NewServer(we.srv.Handler())
	t.Cleanup(hs.Close)
	ids := []int64{e.org.Calls[0].ID, e.org.Calls[1].ID, e.org.Calls[2].ID}
	rep, err := e.fake.SendWebhooks(context.Background(), hs.URL, "hook-token", aircalltest.SendOptions{Calls: ids, MaxAttempts: 30, RetryDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 0 || rep.Status[503] != 25 || len(mem.Snapshot()) != rep.Deliveries {
		t.Fatalf("report %+v, %d published", rep, len(mem.Snapshot()))
	}
}

func TestWebhookServeAndShutdown(t *testing.T) {
	e := newWebhookEnv(t, WebhookConfig{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ctx, ln) }()
	resp, err := http.Post("http://"+ln.Addr().String()+"/", "application/json", strings.NewReader(envelopeJSON("call.ended", "tok-acme", callData)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after ctx ended")
	}
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := (&WebhookServer{cfg: WebhookConfig{}}).Run(context.Background()); err == nil || !strings.Contains(err.Error(), "Listen") {
		t.Errorf("Run without Listen: %v", err)
	}
}

func TestWebhookConfigValidate(t *testing.T) {
	err := WebhookConfig{MaxBody: -1, AckTimeout: 10 * time.Second}.Validate()
	for _, want := range []string{"Orgs is nil", "Sink is nil", "MaxBody -1", "AckTimeout 10s"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to mention %q", err, want)
		}
	}
	if err := (WebhookConfig{Orgs: StaticOrgs{}, Sink: &ingesttest.MemSink{}}).Validate(); err != nil {
		t.Errorf("minimal config: %v", err)
	}
}

func TestWebhookHealthz(t *testing.T) {
	var down error
	ws, err := NewWebhookServer(WebhookConfig{Orgs: StaticOrgs{{Org: "acme", Token: "t"}}, Sink: &ingesttest.MemSink{},
		Health: func(context.Context) error { return down }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(ws.Handler())
	t.Cleanup(hs.Close)
	for _, tt := range []struct {
		down error
		want int
	}{{nil, http.StatusOK}, {errors.New("kafka unreachable"), http.StatusServiceUnavailable}} {
		down = tt.down
		resp, err := http.Get(hs.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want || (tt.down != nil && !strings.Contains(string(body), "kafka unreachable")) {
			t.Fatalf("healthz with %v: %d %q", tt.down, resp.StatusCode, body)
		}
	}
}
