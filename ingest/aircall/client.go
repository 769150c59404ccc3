// Package aircall is the Aircall connector: it backfills and follows calls
// through the REST API (poll.go), receives webhooks (webhook.go), fetches
// transcripts for orgs that opted in (transcript.go), decodes provider call
// objects for the transform stage (decode.go), and ships a fake Aircall API
// that behaves like the real one, quirks included (fake.go).
package aircall

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/platform/obs"
)

// Listing modes for Config.Mode.
const (
	// ModeOrg lists every call of the company (GET /v1/calls), so calls of
	// users mapped later and unanswered inbound calls (no user) are loaded.
	ModeOrg = "org"
	// ModePerUser lists the calls of each mapped user
	// (GET /v1/calls/search?user_id=). Calls without a user are not listed.
	ModePerUser = "per-user"
)

// Defaults and API limits.
const (
	// DefaultBaseURL is Aircall's public API.
	DefaultBaseURL = "https://api.aircall.io/v1"
	// MaxPerPage is the largest page size Aircall serves.
	MaxPerPage = 50
	// DefaultMaxResults is Aircall's cap on the records one query returns.
	DefaultMaxResults = 10000
	// DefaultRateLimitPerMinute is the stricter of the documented company
	// limits (60 or 120 requests per minute).
	DefaultRateLimitPerMinute = 60

	// AuthHint is the operator hint of the *ingest.AuthError returned on 401.
	AuthHint = "check the API ID and API token in `phonesignals org connect`; the token is not the API key shown in the Aircall UI"

	// paceReserve is the number of bucket slots the pacer leaves free, so
	// the floor rounding of X-AircallApi-Remaining and small clock skew never
	// tip a request over the limit.
	paceReserve = 2
	// MaxResponseBytes bounds one response body (32 MiB). A page of 50
	// calls is far below it; a listing page over it splits its window
	// (ErrResponseTooLarge), as a window over the 10k cap does.
	MaxResponseBytes = 32 << 20
)

// ErrResponseTooLarge is wrapped by the error of a request whose answer
// is over MaxResponseBytes. It is not retried: the same request gets the
// same answer. Sync splits the window of a listing page that gets it.
var ErrResponseTooLarge = fmt.Errorf("aircall answer over the %d MiB limit on one response", MaxResponseBytes>>20)

// Config configures a Client. Zero fields take the defaults noted.
type Config struct {
	// BaseURL is the API root, without a trailing slash.
	// Default DefaultBaseURL ("https://api.aircall.io/v1").
	BaseURL string
	// APIID is the API ID of the company's API key (Basic auth user). Required.
	APIID string
	// APIToken is the API token of the company's API key (Basic auth
	// password). Required.
	APIToken string
	// PerPage is the page size of call listings, 1 to 50. Default 50.
	PerPage int
	// RateLimitPerMinute is the company's request budget. Default 60;
	// Aircall grants 60 or 120. The X-AircallApi-Limit header overrides it
	// once seen, so a wrong value costs at most one 429.
	RateLimitPerMinute int
	// Mode is ModeOrg (default) or ModePerUser.
	Mode string
	// MaxResults is the most records one Aircall query returns; windows with
	// more are split by time. Default 10000.
	MaxResults int
	// WindowSize is the length of a backfill's base windows, aligned to
	// multiples of it since the UNIX epoch (24h: UTC days). Checkpoints are
	// kept per base window, so changing it restarts a job's checkpoints.
	// Must be whole seconds. Default 24h.
	WindowSize time.Duration
	// Overlap is how far back each Follow round re-reads, so tags and
	// comments added after a call ended are picked up. Default 24h.
	Overlap time.Duration
	// MaxRetries is how many times one request is retried after 429, 5xx or
	// a network error before the sync fails. Default 8.
	MaxRetries int
	// RetryBaseDelay is the first backoff after a 5xx or network error; it
	// doubles per retry (±50% jitter) up to MaxRetryDelay. Default 1s.
	RetryBaseDelay time.Duration
	// MaxRetryDelay caps one backoff. Default 1m.
	MaxRetryDelay time.Duration
	// TranscriptRetryDelay is the wait between attempts while a transcript
	// answers 404 (Aircall announces transcripts before serving them).
	// Default 30s.
	TranscriptRetryDelay time.Duration
	// TranscriptMaxAttempts is how many times a transcript is requested
	// before giving up. Default 10.
	TranscriptMaxAttempts int
	// HTTPClient sends the requests. Default: a client with a 60s timeout.
	HTTPClient *http.Client
	// Now is the clock; tests inject one. Default time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends; tests inject one that advances a
	// fake clock. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives operational logs. Default: discarded.
	Logger *slog.Logger
}

// Validate reports every invalid field at once, each error naming the
// field and the fix. Zero values are valid (they mean the default) except
// for the credentials.
func (c Config) Validate() error {
	var errs []error
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("aircall: BaseURL %q is not an absolute http(s) URL: leave it empty for %s", c.BaseURL, DefaultBaseURL))
		}
	}
	if strings.TrimSpace(c.APIID) == "" {
		errs = append(errs, errors.New("aircall: APIID is empty: set the API ID from Aircall → Admin → API Keys with `phonesignals org connect`"))
	}
	if strings.TrimSpace(c.APIToken) == "" {
		errs = append(errs, errors.New("aircall: APIToken is empty: set the API token from Aircall → Admin → API Keys with `phonesignals org connect`"))
	}
	if c.PerPage < 0 || c.PerPage > MaxPerPage {
		errs = append(errs, fmt.Errorf("aircall: PerPage %d is out of range: use 1 to %d, or 0 for %d", c.PerPage, MaxPerPage, MaxPerPage))
	}
	if c.RateLimitPerMinute < 0 {
		errs = append(errs, fmt.Errorf("aircall: RateLimitPerMinute %d is negative: use the company's limit (60 or 120), or 0 for %d", c.RateLimitPerMinute, DefaultRateLimitPerMinute))
	}
	switch c.Mode {
	case "", ModeOrg, ModePerUser:
	default:
		errs = append(errs, fmt.Errorf("aircall: Mode %q is unknown: use %q (default) or %q", c.Mode, ModeOrg, ModePerUser))
	}
	if c.MaxResults < 0 {
		errs = append(errs, fmt.Errorf("aircall: MaxResults %d is negative: use 0 for Aircall's cap of %d", c.MaxResults, DefaultMaxResults))
	}
	if !validWindowSize(c.WindowSize) {
		errs = append(errs, fmt.Errorf("aircall: WindowSize %s is invalid: use whole seconds of at least 1s, or 0 for 24h", c.WindowSize))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
		def  string
	}{
		{"Overlap", c.Overlap, "24h"},
		{"RetryBaseDelay", c.RetryBaseDelay, "1s"},
		{"MaxRetryDelay", c.MaxRetryDelay, "1m"},
		{"TranscriptRetryDelay", c.TranscriptRetryDelay, "30s"},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("aircall: %s %s is negative: use a positive duration, or 0 for %s", d.name, d.v, d.def))
		}
	}
	if c.MaxRetries < 0 {
		errs = append(errs, fmt.Errorf("aircall: MaxRetries %d is negative: use 0 for 8", c.MaxRetries))
	}
	if c.TranscriptMaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("aircall: TranscriptMaxAttempts %d is negative: use 0 for 10", c.TranscriptMaxAttempts))
	}
	return errors.Join(errs...)
}

// validWindowSize reports whether d is 0 (the default) or whole seconds of
// at least 1s.
func validWindowSize(d time.Duration) bool {
	return d == 0 || (d >= time.Second && d%time.Second == 0)
}

func (c Config) withDefaults() Config {
	c.BaseURL = cmp.Or(c.BaseURL, DefaultBaseURL)
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	c.PerPage = cmp.Or(c.PerPage, MaxPerPage)
	c.RateLimitPerMinute = cmp.Or(c.RateLimitPerMinute, DefaultRateLimitPerMinute)
	c.Mode = cmp.Or(c.Mode, ModeOrg)
	c.MaxResults = cmp.Or(c.MaxResults, DefaultMaxResults)
	c.WindowSize = cmp.Or(c.WindowSize, 24*time.Hour)
	c.Overlap = cmp.Or(c.Overlap, 24*time.Hour)
	c.MaxRetries = cmp.Or(c.MaxRetries, 8)
	c.RetryBaseDelay = cmp.Or(c.RetryBaseDelay, time.Second)
	c.MaxRetryDelay = cmp.Or(c.MaxRetryDelay, time.Minute)
	c.TranscriptRetryDelay = cmp.Or(c.TranscriptRetryDelay, 30*time.Second)
	c.TranscriptMaxAttempts = cmp.Or(c.TranscriptMaxAttempts, 10)
	if c.HTTPClient == nil {
		// ingest.Transport bounds connects, so a dead address fails fast.
		c.HTTPClient = &http.Client{Timeout: 60 * time.Second, Transport: ingest.Transport}
	}
	c.HTTPClient = obs.InstrumentClient("aircall", c.HTTPClient, 60*time.Second)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = ingest.Sleep
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Client is the Aircall API client of one org. It is safe for concurrent
// use; all its requests share one rate-limit pacer, as they share the
// company's bucket at Aircall.
type Client struct {
	org   string
	cfg   Config
	log   *slog.Logger
	pacer *pacer
}

var _ ingest.Source = (*Client)(nil)

// New returns the client of org, after validating cfg.
func New(org string, cfg Config) (*Client, error) {
	var errs []error
	if strings.TrimSpace(org) == "" {
		errs = append(errs, errors.New("aircall: org is empty: pass the phonesignals org the credentials belong to"))
	}
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Client{
		org:   org,
		cfg:   cfg,
		log:   cfg.Logger.With("org", org, "provider", Name),
		pacer: newPacer(cfg.RateLimitPerMinute),
	}, nil
}

// Org is the org the client's credentials belong to.
func (c *Client) Org() string { return c.org }

// apiError is a non-2xx answer that is not retried.
type apiError struct {
	Status  int
	Path    string
	Message string
}

func (e *apiError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("aircall answered HTTP %d to GET %s: %s", e.Status, e.Path, msg)
}

func httpStatus(err error) int {
	var a *apiError
	if errors.As(err, &a) {
		return a.Status
	}
	return 0
}

// isCapError reports Aircall's 400 for paging past the 10k-record cap.
func isCapError(err error) bool {
	var a *apiError
	if !errors.As(err, &a) || a.Status != http.StatusBadRequest {
		return false
	}
	m := strings.ToLower(a.Message)
	return strings.Contains(m, "10k") || strings.Contains(m, "out of bound")
}

// errorMessage extracts Aircall's {"error": ..., "troubleshoot": ...}
// without ever echoing a body that is not such an error object.
func errorMessage(body []byte) string {
	var e struct {
		Error        string `json:"error"`
		Message      string `json:"message"`
		Troubleshoot string `json:"troubleshoot"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	parts := []string{}
	for _, s := range []string{e.Error, e.Message, e.Troubleshoot} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}

// tracker receives request and wait events for progress reporting; nil
// means nobody is listening.
type tracker interface {
	onRequest()
	// onWait reports a wait of d (0: the wait is over) and what it waits
	// for (ingest.WaitRateLimit, or the failure being retried).
	onWait(d time.Duration, reason string)
}

// get performs one GET with pacing and bounded retries on 429, 5xx and
// network errors. It returns the body and when the request was sent (the
// state the body describes is at least that recent).
func (c *Client) get(ctx context.Context, path string, q url.Values, tr tracker) ([]byte, time.Time, error) {
	u := c.cfg.BaseURL + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var lastErr error
	rateLimited, connectFails := 0, 0
	bo := c.newBackoff()
	for attempt := 1; ; attempt++ {
		if err := c.pace(ctx, tr); err != nil {
			return nil, time.Time{}, err
		}
		sentAt := c.cfg.Now()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			c.pacer.release()
			return nil, sentAt, fmt.Errorf("building request GET %s: %w", path, err)
		}
		req.SetBasicAuth(c.cfg.APIID, c.cfg.APIToken)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "phonesignals")
		resp, err := c.cfg.HTTPClient.Do(req)
		if tr != nil {
			tr.onRequest()
		}
		var retryAfter time.Duration
		if err != nil {
			c.pacer.release()
			if ctx.Err() != nil {
				return nil, sentAt, ctx.Err()
			}
			if ce := ingest.ConnectFailure(Title, u, err); ce != nil {
				if connectFails++; connectFails > ingest.ConnectRetries {
					ce.Attempts = connectFails
					return nil, sentAt, fmt.Errorf("GET %s: %w", path, ce)
				}
				c.log.Warn("cannot connect to aircall, retrying", "addr", ce.Addr, "attempt", attempt, "wait", ingest.ConnectRetryDelay, "err", ce.Err)
				if err := c.wait(ctx, ingest.ConnectRetryDelay, "connection error", tr); err != nil {
					return nil, sentAt, err
				}
				continue
			}
			lastErr = fmt.Errorf("GET %s: %w", path, err)
		} else {
			var body []byte
			var final error
			body, final, lastErr, retryAfter = c.answer(resp, path)
			switch {
			case final != nil:
				return nil, sentAt, final
			case lastErr == nil:
				return body, sentAt, nil
			case httpStatus(lastErr) == http.StatusTooManyRequests:
				rateLimited++
			}
		}
		if attempt > c.cfg.MaxRetries {
			return nil, sentAt, fmt.Errorf("giving up after %d attempts: %w", attempt, lastErr)
		}
		is429 := httpStatus(lastErr) == http.StatusTooManyRequests
		d := c.backoff(bo, rateLimited, retryAfter, is429)
		reason := ingest.WaitRateLimit
		if !is429 {
			reason = retryReason(lastErr)
		}
		c.log.Warn("aircall request failed, retrying", "path", path, "attempt", attempt, "wait", d, "waiting_for", reason, "err", lastErr)
		if err := c.wait(ctx, d, reason, tr); err != nil {
			return nil, sentAt, err
		}
	}
}

// answer reads one answer: its body (2xx), or the error to return at once
// (final), or the error to retry after (retry, with Retry-After's wait).
func (c *Client) answer(resp *http.Response, path string) (body []byte, final, retry error, retryAfter time.Duration) {
	// One byte past the limit tells a cut answer from one that fits
	// exactly; a cut answer used to fail as "unexpected end of JSON input".
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	resp.Body.Close()
	c.pacer.observe(resp.Header, c.cfg.Now())
	st := resp.StatusCode
	switch {
	case st >= 200 && st < 300 && rerr != nil:
		return nil, nil, fmt.Errorf("reading answer to GET %s: %w", path, rerr), 0
	case st >= 200 && st < 300 && len(body) > MaxResponseBytes:
		return nil, fmt.Errorf("GET %s: %w", path, ErrResponseTooLarge), nil, 0
	case st >= 200 && st < 300:
		return body, nil, nil, 0
	case st == http.StatusUnauthorized:
		return nil, &ingest.AuthError{
			Org: c.org, Provider: Name, Status: st, Hint: AuthHint,
			Err: &apiError{Status: st, Path: path, Message: errorMessage(body)},
		}, nil, 0
	case st == http.StatusTooManyRequests:
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			retryAfter = time.Duration(s) * time.Second
		}
		return nil, nil, &apiError{Status: st, Path: path, Message: errorMessage(body)}, retryAfter
	case st >= 500:
		return nil, nil, &apiError{Status: st, Path: path, Message: errorMessage(body)}, 0
	}
	return nil, &apiError{Status: st, Path: path, Message: errorMessage(body)}, nil, 0
}

// newBackoff is the backoff of one request's retries: RetryBaseDelay
// doubling per retry, with ±50% jitter so several workers do not retry in
// step.
func (c *Client) newBackoff() *backoff.ExponentialBackOff {
	bo := &backoff.ExponentialBackOff{InitialInterval: c.cfg.RetryBaseDelay, RandomizationFactor: 0.5,
		Multiplier: 2, MaxInterval: c.cfg.MaxRetryDelay}
	bo.Reset()
	return bo
}

// backoff is the wait before the next retry. The first 429 only waits a
// little past what the pacer already waits (the bucket tells us when it
// has room); repeated 429s or server errors take bo's next backoff, capped
// at MaxRetryDelay; a Retry-After header is always honoured.
func (c *Client) backoff(bo *backoff.ExponentialBackOff, rateLimited int, retryAfter time.Duration, is429 bool) time.Duration {
	var d time.Duration
	if is429 && rateLimited == 1 {
		d = jitter(c.pacer.currentInterval())
	} else {
		d = min(bo.NextBackOff(), c.cfg.MaxRetryDelay)
	}
	return max(d, retryAfter)
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// pace waits until the pacer grants a request slot, reporting the wait.
func (c *Client) pace(ctx context.Context, tr tracker) error {
	for {
		d := c.pacer.acquire(c.cfg.Now())
		if d <= 0 {
			return nil
		}
		if err := c.wait(ctx, d, ingest.WaitRateLimit, tr); err != nil {
			return err
		}
	}
}

// retryReason names the failure a retry waits out: "HTTP 503", or
// "network error" for a request that connected but got no answer.
func retryReason(err error) string {
	if st := httpStatus(err); st != 0 {
		return "HTTP " + strconv.Itoa(st)
	}
	return "network error"
}

func (c *Client) wait(ctx context.Context, d time.Duration, reason string, tr tracker) error {
	if tr != nil {
		tr.onWait(d, reason)
		defer tr.onWait(0, "")
	}
	return c.cfg.Sleep(ctx, d)
}

// pacer keeps requests under Aircall's leaky bucket. It models the bucket
// from the last X-AircallApi-Remaining it saw, refilled at the limit's rate
// since then, and lets a request go while that estimate leaves paceReserve
// slots free. After the first answer it needs no 429 to find the limit,
// and in steady state it sends exactly one request per leak interval, so a
// long backfill runs at the full limit. Without headers it falls back to
// one request per interval. Remaining 0 with a future X-AircallApi-Reset
// (a fixed-window reading of the headers, or someone else draining the
// bucket) blocks until that reset.
type pacer struct {
	mu       sync.Mutex
	interval time.Duration
	known    bool
	// remaining is the header value observed at t0; sent counts requests
	// sent since t0 (in flight at t0 included).
	remaining    int
	t0           time.Time
	sent         int
	inflight     int
	lastSend     time.Time
	blockedUntil time.Time
}

func newPacer(perMinute int) *pacer {
	return &pacer{interval: time.Minute / time.Duration(max(perMinute, 1))}
}

func (p *pacer) currentInterval() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.interval
}

// acquire returns 0 and claims a slot, or how long to wait before asking
// again.
func (p *pacer) acquire(now time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Before(p.blockedUntil) {
		return p.blockedUntil.Sub(now)
	}
	var readyAt time.Time
	if p.known {
		// The estimate reaches paceReserve+1 free slots at readyAt.
		readyAt = p.t0.Add(time.Duration(paceReserve+1-p.remaining+p.sent) * p.interval)
	} else if !p.lastSend.IsZero() {
		readyAt = p.lastSend.Add(p.interval)
	}
	if now.Before(readyAt) {
		return readyAt.Sub(now)
	}
	p.sent++
	p.inflight++
	p.lastSend = now
	return 0
}

// release returns the claim of a request that got no answer.
func (p *pacer) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inflight > 0 {
		p.inflight--
	}
}

// observe resynchronises the model from an answer's headers.
func (p *pacer) observe(h http.Header, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inflight > 0 {
		p.inflight--
	}
	if limit, err := strconv.Atoi(h.Get("X-AircallApi-Limit")); err == nil && limit > 0 {
		p.interval = time.Minute / time.Duration(limit)
	}
	rem, err := strconv.Atoi(h.Get("X-AircallApi-Remaining"))
	if err != nil {
		return
	}
	p.known = true
	p.remaining = rem
	p.t0 = now
	p.sent = p.inflight
	if rem <= 0 {
		if reset, err := strconv.ParseInt(h.Get("X-AircallApi-Reset"), 10, 64); err == nil {
			at := time.Unix(reset, 0)
			// A reset far ahead is clock skew or a bogus header; the leak
			// model recovers on its own within a minute anyway.
			if at.After(now) && at.Sub(now) <= 2*time.Minute {
				p.blockedUntil = at
			}
		}
	}
}
