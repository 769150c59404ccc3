package aircall

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/obs"
)

// DefaultWebhookMaxBody is the default cap on a webhook body. Aircall's
// call payloads are a few KiB; a large cap only helps an attacker.
const DefaultWebhookMaxBody = 1 << 20

// WebhookOrg is one org that receives Aircall webhooks.
type WebhookOrg = ingest.WebhookOrg

// OrgDirectory lists the orgs webhooks may come from.
type OrgDirectory = ingest.OrgDirectory

// StaticOrgs is a fixed OrgDirectory.
type StaticOrgs = ingest.StaticOrgs

// Delivery is the record of one webhook delivery, for `doctor`.
type Delivery = ingest.Delivery

// DeliveryLog records every webhook delivery.
type DeliveryLog = ingest.DeliveryLog

// WebhookConfig configures a WebhookServer. Zero fields take the defaults
// noted.
type WebhookConfig struct {
	// Listen is the address Run listens on, e.g. ":8088". Only Run needs it.
	Listen string
	// MaxBody caps a delivery's body; larger ones get 413.
	// Default DefaultWebhookMaxBody (1 MiB).
	MaxBody int64
	// AckTimeout bounds the sink's Publish for one delivery; past it the
	// delivery gets 503 and Aircall retries. Aircall waits 5s for an answer,
	// so it must stay below that. Default 4s.
	AckTimeout time.Duration
	// Orgs resolves the payload token to an org. Required.
	Orgs OrgDirectory
	// Sink receives call events. Required.
	Sink ingest.Sink
	// TranscriptSink receives transcription.created events of orgs that
	// opted in. Nil: those events are acknowledged and dropped.
	TranscriptSink ingest.Sink
	// Deliveries records every delivery. Default: not recorded.
	Deliveries DeliveryLog
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives one line per delivery. Default: discarded.
	Logger *slog.Logger
	// Health, when set, answers GET /healthz: 200 when it returns nil,
	// 503 with its error otherwise (for load balancers and compose
	// healthchecks). Default: /healthz is not served.
	Health func(ctx context.Context) error
}

// Validate reports every invalid field at once, each naming the fix.
func (c WebhookConfig) Validate() error {
	var errs []error
	if c.Orgs == nil {
		errs = append(errs, errors.New("aircall webhook: Orgs is nil: pass the directory of orgs and their webhook tokens"))
	}
	if c.Sink == nil {
		errs = append(errs, errors.New("aircall webhook: Sink is nil: pass the Kafka sink raw calls are published to"))
	}
	if c.MaxBody < 0 {
		errs = append(errs, fmt.Errorf("aircall webhook: MaxBody %d is negative: use a positive size, or 0 for %d", c.MaxBody, DefaultWebhookMaxBody))
	}
	if c.AckTimeout < 0 || c.AckTimeout >= 5*time.Second {
		errs = append(errs, fmt.Errorf("aircall webhook: AckTimeout %s is out of range: Aircall waits 5s, use less (0 means 4s)", c.AckTimeout))
	}
	return errors.Join(errs...)
}

// WebhookServer receives Aircall webhooks and publishes call events.
//
// Aircall signs nothing: the payload's token, compared in constant time
// with every org's token, is the only proof of origin. Delivery is
// at-least-once and unordered, so every event is published and the
// pipeline keeps the highest model.Call.Version of each call. A 2xx is
// answered only after the sink acknowledged; anything else makes Aircall
// retry.
type WebhookServer struct {
	cfg WebhookConfig
	log *slog.Logger

	mu     sync.Mutex
	srv    *http.Server
	closed bool

	// clamped counts envelopes whose timestamp was after the receive time.
	clamped atomic.Int64
}

// ClampedTimestamps returns how many events so far carried a timestamp
// after their receive time and were clamped to it.
func (s *WebhookServer) ClampedTimestamps() int64 { return s.clamped.Load() }

// observedAt bounds an envelope's timestamp by the receive time: the
// timestamp orders versions of a call, so one far in the future would pin
// that version over every later poll. Missing or non-positive timestamps
// mean the receive time too.
func (s *WebhookServer) observedAt(d *Delivery, ts flexInt) time.Time {
	now := d.At.UTC()
	if !ts.ok || ts.v <= 0 {
		return now
	}
	if ts.v > now.Unix() {
		n := s.clamped.Add(1)
		obs.WebhookTimestampClamped(Name)
		s.log.Warn("aircall webhook timestamp is after its receive time; clamped to the receive time",
			"org", d.Org, "event", d.Event, "timestamp", ts.v, "received", now.Unix(), "clamped_total", n)
		return now
	}
	return time.Unix(ts.v, 0).UTC()
}

// NewWebhookServer validates cfg and returns the server.
func NewWebhookServer(cfg WebhookConfig) (*WebhookServer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.MaxBody = cmp.Or(cfg.MaxBody, DefaultWebhookMaxBody)
	cfg.AckTimeout = cmp.Or(cfg.AckTimeout, 4*time.Second)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &WebhookServer{cfg: cfg, log: cfg.Logger.With("provider", Name, "component", "webhook")}, nil
}

// Handler returns the HTTP handler; mount it on any path.
func (s *WebhookServer) Handler() http.Handler { return http.HandlerFunc(s.serve) }

// Run listens on Listen and serves until ctx ends or Close is called,
// then shuts down gracefully (in-flight deliveries finish).
func (s *WebhookServer) Run(ctx context.Context) error {
	if s.cfg.Listen == "" {
		return errors.New("aircall webhook: Listen is empty: set the address to listen on, e.g. \":8088\"")
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("aircall webhook: listening on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is Run on a listener the caller opened (e.g. on port 0 in tests).
func (s *WebhookServer) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       90 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.srv = srv
	s.mu.Unlock()
	s.log.Info("aircall webhook server listening", "addr", ln.Addr().String())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return fmt.Errorf("aircall webhook: serving: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		<-errc
		if err != nil {
			return fmt.Errorf("aircall webhook: shutting down: %w", err)
		}
		return nil
	}
}

// Close stops the server at once, dropping in-flight deliveries (Aircall
// retries them).
func (s *WebhookServer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// envelope is Aircall's webhook payload.
type envelope struct {
	Resource  string          `json:"resource"`
	Event     string          `json:"event"`
	Timestamp flexInt         `json:"timestamp"`
	Token     string          `json:"token"`
	Data      json.RawMessage `json:"data"`
}

func (s *WebhookServer) serve(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Health != nil && r.URL.Path == "/healthz" && r.Method == http.MethodGet {
		s.health(w, r)
		return
	}
	d := Delivery{At: s.cfg.Now()}
	// Every delivery is answered within AckTimeout of its arrival, whatever
	// the org directory or the sink do: Aircall gives up after 5 s.
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.AckTimeout)
	d.Status, d.Reason = s.handle(w, r.WithContext(ctx), &d)
	cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(d.Status)
	io.WriteString(w, http.StatusText(d.Status)+"\n")
	obs.WebhookResponse("aircall", d.Status)
	// Send the answer now, not when the delivery record below is written.
	_ = http.NewResponseController(w).Flush()

	attrs := []any{"org", d.Org, "event", d.Event, "call_id", d.CallID, "status", d.Status, "reason", d.Reason, "remote", r.RemoteAddr}
	switch {
	case d.Status >= 500:
		s.log.Error("aircall webhook not accepted", attrs...)
	case d.Status >= 400:
		s.log.Warn("aircall webhook rejected", attrs...)
	default:
		s.log.Info("aircall webhook", attrs...)
	}
	if s.cfg.Deliveries != nil {
		// Recording must not change the answer: Aircall only needs to know
		// whether the event is safe.
		if err := s.cfg.Deliveries.RecordDelivery(context.WithoutCancel(r.Context()), d); err != nil {
			s.log.Warn("recording aircall webhook delivery failed", "org", d.Org, "event", d.Event, "err", err)
		}
	}
}

// health answers GET /healthz; it is not a delivery and is not recorded.
func (s *WebhookServer) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.cfg.Health(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "unhealthy: "+err.Error()+"\n")
		return
	}
	io.WriteString(w, "ok\n")
}

// handle does the work and returns the status to answer and why.
func (s *WebhookServer) handle(w http.ResponseWriter, r *http.Request, d *Delivery) (int, string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "method " + r.Method + " is not POST"
	}
	if r.ContentLength > s.cfg.MaxBody {
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("body of %d bytes exceeds MaxBody %d", r.ContentLength, s.cfg.MaxBody)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return http.StatusRequestEntityTooLarge, fmt.Sprintf("body exceeds MaxBody %d", s.cfg.MaxBody)
		}
		return http.StatusBadRequest, "reading body: " + err.Error()
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return http.StatusBadRequest, "body is not a JSON webhook envelope"
	}
	d.Event = env.Event
	org, status, reason := s.authenticate(r.Context(), env.Token)
	if status != 0 {
		return status, reason
	}
	d.Org = org.Org
	if env.Event == "" {
		return http.StatusBadRequest, "payload has no event"
	}
	observed := s.observedAt(d, env.Timestamp)
	data := bytes.TrimSpace(env.Data)
	isCall := strings.HasPrefix(env.Event, "call.")
	isTranscript := env.Event == EventTranscriptionCreated
	if !isCall && !isTranscript {
		return http.StatusOK, "ignored: event not used"
	}
	if len(data) == 0 || data[0] != '{' {
		return http.StatusBadRequest, "payload data is not a JSON object"
	}
	rc := model.RawCall{
		Org: org.Org, Provider: Name, Source: model.SourceWebhook,
		Event: env.Event, ObservedAt: observed, Body: data,
	}
	sink, status, reason := s.route(&rc, org, isCall)
	if sink == nil {
		return status, reason
	}
	d.CallID = rc.CallID
	if err := within(r.Context(), func(ctx context.Context) error { return sink.Publish(ctx, []model.RawCall{rc}) }); err != nil {
		return http.StatusServiceUnavailable, "publishing failed, Aircall will retry: " + err.Error()
	}
	return http.StatusOK, "published"
}

// authenticate finds the one org whose webhook token is tok; status is 0
// when it did, else the answer to give with its reason.
func (s *WebhookServer) authenticate(ctx context.Context, tok string) (org WebhookOrg, status int, reason string) {
	if tok == "" {
		return org, http.StatusUnauthorized, "payload has no token"
	}
	var orgs []WebhookOrg
	err := within(ctx, func(ctx context.Context) (err error) {
		orgs, err = s.cfg.Orgs.WebhookOrgs(ctx)
		return err
	})
	if err != nil {
		return org, http.StatusServiceUnavailable, "org directory unavailable: " + err.Error()
	}
	org, n := matchToken(orgs, tok)
	switch {
	case n == 0:
		return org, http.StatusUnauthorized, "token matches no org"
	case n > 1:
		// Publishing under the wrong org would mix tenants; Aircall retries
		// while the operator fixes the tokens.
		return org, http.StatusInternalServerError, fmt.Sprintf("token matches %d orgs; give each org its own webhook token", n)
	}
	return org, 0, ""
}

// route sets rc's call id from the event's data and picks its sink: call
// events go to Sink, transcription events of opted-in orgs to
// TranscriptSink. A nil sink comes with the answer to give instead.
func (s *WebhookServer) route(rc *model.RawCall, org WebhookOrg, isCall bool) (sink ingest.Sink, status int, reason string) {
	if isCall {
		var k callKey
		if err := json.Unmarshal(rc.Body, &k); err != nil || k.ID == "" {
			return nil, http.StatusBadRequest, "call event without data.id"
		}
		rc.CallID = string(k.ID)
		return s.cfg.Sink, 0, ""
	}
	switch {
	case !org.Transcripts:
		return nil, http.StatusOK, "ignored: org has not opted in to transcripts"
	case s.cfg.TranscriptSink == nil:
		return nil, http.StatusOK, "ignored: no transcript sink configured"
	}
	var k struct {
		CallID flexID `json:"call_id"`
	}
	if err := json.Unmarshal(rc.Body, &k); err != nil || k.CallID == "" {
		return nil, http.StatusBadRequest, "transcription event without data.call_id"
	}
	rc.CallID = string(k.CallID)
	return s.cfg.TranscriptSink, 0, ""
}

// within runs f and returns its error, or ctx's as soon as ctx ends even
// if f has not returned: a producer stuck on a dead broker, or a directory
// stuck on a dead database, must not hold the answer to Aircall. f keeps
// running with the ended ctx and is expected to give up soon.
func within(ctx context.Context, f func(ctx context.Context) error) error {
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("no answer within the ack timeout: %w", ctx.Err())
	}
}

// matchToken compares token with every org's token in constant time and
// without stopping at the first match, so neither timing nor the position
// of the org leaks anything. Digests make the comparison length-independent.
func matchToken(orgs []WebhookOrg, token string) (WebhookOrg, int) {
	want := sha256.Sum256([]byte(token))
	var found WebhookOrg
	n := 0
	for _, o := range orgs {
		if o.Token == "" {
			continue
		}
		have := sha256.Sum256([]byte(o.Token))
		if subtle.ConstantTimeCompare(want[:], have[:]) == 1 {
			if n == 0 {
				found = o
			}
			n++
		}
	}
	return found, n
}
