package ringcentral

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
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

// DefaultBaseURL is RingCentral's production Platform API.
const DefaultBaseURL = "https://platform.ringcentral.com"

// Listing modes for Config.Mode.
const (
	// ModeExtension reads GET .../extension/{id}/call-log for every mapped
	// extension: one request stream per extension.
	ModeExtension = "extension"
	// ModeAccount reads the company-wide GET .../account/{id}/call-log
	// (needs an admin JWT user): one request stream for the whole account,
	// and calls of unmapped extensions are seen too.
	ModeAccount = "account"
)

// MaxPerPage is the largest perPage the call log accepts in the Detailed
// view (the Simple view allows 1000, but drops the legs).
const MaxPerPage = 250

// maxSyncRecordCount bounds Call Log Sync's recordCount.
const maxSyncRecordCount = 250

const jwtGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

var (
	// ErrAccountNotFound is wrapped by errors for a RingCentral account id
	// the API does not know: the org's account id (`org connect --account-id`) is wrong.
	ErrAccountNotFound = errors.New("ringcentral account not found")
	// ErrExtensionNotFound is wrapped by errors for an extension id the
	// account does not have: an employee's extension mapping is wrong.
	ErrExtensionNotFound = errors.New("ringcentral extension not found")
)

// Config is one org's RingCentral connection. Zero fields take the defaults
// noted; rate-limit fields are only the starting assumption, the
// X-Rate-Limit-* response headers take over once seen.
type Config struct {
	// BaseURL is the Platform API root. Default DefaultBaseURL.
	BaseURL string
	// ClientID is the RingCentral app's client id. Required.
	ClientID string
	// ClientSecret is the RingCentral app's client secret. Required.
	ClientSecret string
	// JWT is the JWT credential of the user the connector acts as. Required.
	JWT string
	// AccountID is the RingCentral account id (the org's account id, set
	// with `org connect --account-id`). Default "~", the JWT user's own
	// account.
	AccountID string
	// Mode is ModeExtension (default) or ModeAccount.
	Mode string
	// PerPage is the call-log page size. Default and maximum MaxPerPage.
	PerPage int
	// SyncRecordCount is the recordCount of a full Call Log Sync (FSync)
	// in Follow. Default and maximum 250.
	SyncRecordCount int
	// HeavyLimit is the Heavy group's requests per HeavyWindow (call-log
	// reads). Default 10.
	HeavyLimit int
	// HeavyWindow is the Heavy group's window. Default 60s.
	HeavyWindow time.Duration
	// MediumLimit is the Medium group's requests per MediumWindow (the
	// extension list). Default 40.
	MediumLimit int
	// MediumWindow is the Medium group's window. Default 60s.
	MediumWindow time.Duration
	// AuthLimit is the Auth group's requests per AuthWindow (token
	// requests). Default 5.
	AuthLimit int
	// AuthWindow is the Auth group's window. Default 60s.
	AuthWindow time.Duration
	// DefaultRetryAfter is the wait after a 429 without Retry-After.
	// Default 30s.
	DefaultRetryAfter time.Duration
	// WindowSize is the length of the base windows a backfill is split
	// into and checkpointed by. Default 7 days.
	WindowSize time.Duration
	// HTTPClient sends the requests. Default: a client with a 60s timeout.
	HTTPClient *http.Client
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx ends. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives operational logs. Default slog.Default().
	Logger *slog.Logger
}

// LogValue keeps the secrets out of logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL),
		slog.String("client_id", c.ClientID),
		slog.String("account_id", c.AccountID),
		slog.String("mode", c.Mode),
	)
}

// Validate reports every invalid field at once (errors.Join), each error
// naming its field. Zero values are valid where a default exists.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("ringcentral config: "+format, args...))
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("BaseURL %q is not an absolute http(s) URL", c.BaseURL)
		}
	}
	if strings.TrimSpace(c.ClientID) == "" {
		bad("ClientID is required (the RingCentral app's client id)")
	}
	if strings.TrimSpace(c.ClientSecret) == "" {
		bad("ClientSecret is required (the RingCentral app's client secret)")
	}
	if strings.TrimSpace(c.JWT) == "" {
		bad("JWT is required (the JWT credential from the RingCentral Developer Console)")
	}
	if strings.ContainsAny(c.AccountID, "/?# \t\n") {
		bad("AccountID %q must be \"~\" or a numeric account id", c.AccountID)
	}
	switch c.Mode {
	case "", ModeExtension, ModeAccount:
	default:
		bad("Mode %q must be %q or %q", c.Mode, ModeExtension, ModeAccount)
	}
	if c.PerPage < 0 || c.PerPage > MaxPerPage {
		bad("PerPage %d must be between 1 and %d (the Detailed view's maximum)", c.PerPage, MaxPerPage)
	}
	if c.SyncRecordCount < 0 || c.SyncRecordCount > maxSyncRecordCount {
		bad("SyncRecordCount %d must be between 1 and %d", c.SyncRecordCount, maxSyncRecordCount)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"HeavyLimit", c.HeavyLimit}, {"MediumLimit", c.MediumLimit}, {"AuthLimit", c.AuthLimit}} {
		if f.v < 0 {
			bad("%s %d must not be negative", f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    time.Duration
	}{{"HeavyWindow", c.HeavyWindow}, {"MediumWindow", c.MediumWindow}, {"AuthWindow", c.AuthWindow}, {"DefaultRetryAfter", c.DefaultRetryAfter}, {"WindowSize", c.WindowSize}} {
		if f.v < 0 {
			bad("%s %v must not be negative", f.name, f.v)
		}
	}
	return errors.Join(errs...)
}

func (c *Config) defaults() {
	c.BaseURL = cmp.Or(c.BaseURL, DefaultBaseURL)
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	c.AccountID = cmp.Or(c.AccountID, "~")
	c.Mode = cmp.Or(c.Mode, ModeExtension)
	c.PerPage = cmp.Or(c.PerPage, MaxPerPage)
	c.SyncRecordCount = cmp.Or(c.SyncRecordCount, maxSyncRecordCount)
	c.HeavyLimit = cmp.Or(c.HeavyLimit, 10)
	c.HeavyWindow = cmp.Or(c.HeavyWindow, 60*time.Second)
	c.MediumLimit = cmp.Or(c.MediumLimit, 40)
	c.MediumWindow = cmp.Or(c.MediumWindow, 60*time.Second)
	c.AuthLimit = cmp.Or(c.AuthLimit, 5)
	c.AuthWindow = cmp.Or(c.AuthWindow, 60*time.Second)
	c.DefaultRetryAfter = cmp.Or(c.DefaultRetryAfter, 30*time.Second)
	c.WindowSize = cmp.Or(c.WindowSize, 7*24*time.Hour)
	if c.HTTPClient == nil {
		// ingest.Transport bounds connects, so a dead address fails fast.
		c.HTTPClient = &http.Client{Timeout: 60 * time.Second, Transport: ingest.Transport}
	}
	c.HTTPClient = obs.InstrumentClient("ringcentral", c.HTTPClient, 60*time.Second)
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = ingest.Sleep
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Client is a RingCentral Source bound to one org's credentials. It is safe
// for concurrent use; requests are sent one at a time because every rate
// limit is per user per app, so parallel requests would only queue anyway.
type Client struct {
	org string
	cfg Config
	log *slog.Logger

	// sem serialises requests and guards the fields below.
	sem chan struct{}

	token        string
	tokenRefresh time.Time
	heavy        *bucket
	medium       *bucket
	auth         *bucket
	// penaltyUntil blocks every request: RingCentral restarts a 429
	// penalty on any request sent during it.
	penaltyUntil time.Time
	throttled    int // consecutive 429s
}

var _ ingest.Source = (*Client)(nil)

// New returns a client for org. It does not contact RingCentral; bad
// credentials show up as *ingest.AuthError on the first Sync or Follow.
func New(org string, cfg Config) (*Client, error) {
	if strings.TrimSpace(org) == "" {
		return nil, errors.New("ringcentral: org is required")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("configuring ringcentral for org %q: %w", org, err)
	}
	cfg.defaults()
	return &Client{
		org:    org,
		cfg:    cfg,
		log:    cfg.Logger.With("provider", Name, "org", org),
		sem:    make(chan struct{}, 1),
		heavy:  newBucket("Heavy", cfg.HeavyLimit, cfg.HeavyWindow),
		medium: newBucket("Medium", cfg.MediumLimit, cfg.MediumWindow),
		auth:   newBucket("Auth", cfg.AuthLimit, cfg.AuthWindow),
	}, nil
}

// APIError is a RingCentral error answer that is not handled otherwise.
type APIError struct {
	// Status is the HTTP status.
	Status int
	// Code is the API's errorCode ("CMN-102") or the OAuth error
	// ("invalid_grant").
	Code string
	// Message is the API's message or OAuth error_description.
	Message string
	// Parameter is the parameterName the API blamed, if any.
	Parameter string
}

// Error implements error.
func (e *APIError) Error() string {
	msg := fmt.Sprintf("ringcentral answered HTTP %d", e.Status)
	if e.Code != "" {
		msg += " " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// parseAPIError reads both error shapes RingCentral uses: the REST one
// ({"errorCode","message","errors":[{...,"parameterName"}]}) and the OAuth
// one ({"error","error_description","errors":[...]}).
func parseAPIError(status int, body []byte) *APIError {
	var b struct {
		ErrorCode        string `json:"errorCode"`
		Message          string `json:"message"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		Errors           []struct {
			ErrorCode     string `json:"errorCode"`
			Message       string `json:"message"`
			ParameterName string `json:"parameterName"`
		} `json:"errors"`
	}
	e := &APIError{Status: status}
	if json.Unmarshal(body, &b) != nil {
		e.Message = strings.TrimSpace(string(truncate(body, 200)))
		return e
	}
	e.Code, e.Message = b.ErrorCode, b.Message
	if b.Error != "" {
		e.Code = b.Error
		if b.ErrorDescription != "" {
			e.Message = b.ErrorDescription
		}
	}
	if len(b.Errors) > 0 {
		if e.Code == "" {
			e.Code = b.Errors[0].ErrorCode
		}
		if e.Message == "" {
			e.Message = b.Errors[0].Message
		}
		e.Parameter = b.Errors[0].ParameterName
	}
	return e
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// runState carries one Sync's or Follow's counters and progress sink
// through the request path, so rate-limit waits show up in progress.
type runState struct {
	p  ingest.Progress
	st ingest.Status
}

func (r *runState) request() {
	if r != nil {
		r.st.Requests++
	}
}

func (r *runState) waiting(d time.Duration) { r.waitingFor(d, ingest.WaitRateLimit) }

// waitingFor reports a wait of d for reason (0: it is over).
func (r *runState) waitingFor(d time.Duration, reason string) {
	if r != nil && r.p != nil {
		r.st.Waiting, r.st.WaitReason = d, reason
		r.p.Update(r.st)
	}
}

func (r *runState) update() {
	if r != nil && r.p != nil {
		r.p.Update(r.st)
	}
}

const (
	maxTransient = 3
	maxThrottled = 8
)

// MaxResponseBytes bounds one answer (32 MiB): a page of 250 Detailed
// records is well under 1 MiB.
const MaxResponseBytes = 32 << 20

// ErrResponseTooLarge is wrapped by the error of a request whose answer is
// over MaxResponseBytes. It is not retried (the same request gets the same
// answer); Sync splits the window of a call-log page that gets it.
var ErrResponseTooLarge = fmt.Errorf("ringcentral answer over the %d MiB limit on one response", MaxResponseBytes>>20)

func (c *Client) lock(ctx context.Context) error {
	select {
	case c.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) unlock() { <-c.sem }

// get reads a call-log path (the Heavy group, permission ReadCallLog).
func (c *Client) get(ctx context.Context, rs *runState, pathAndQuery string) ([]byte, error) {
	return c.getIn(ctx, rs, c.heavy, "ReadCallLog", pathAndQuery)
}

// getIn reads an API path in rate-limit group b with the org's access
// token and returns the 2xx body; perm is the app permission the path
// needs, named when it is refused. A 401 re-authenticates and retries
// once; 403, 404 and other answers become errors an operator can act on.
func (c *Client) getIn(ctx context.Context, rs *runState, b *bucket, perm, pathAndQuery string) ([]byte, error) {
	if err := c.lock(ctx); err != nil {
		return nil, err
	}
	defer c.unlock()
	reauthed := false
	for {
		tok, err := c.accessToken(ctx, rs)
		if err != nil {
			return nil, err
		}
		status, body, err := c.roundTrip(ctx, rs, b, func() (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.BaseURL+pathAndQuery, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Accept", "application/json")
			return req, nil
		})
		if err != nil {
			return nil, err
		}
		if status/100 == 2 {
			return body, nil
		}
		apiErr := parseAPIError(status, body)
		switch status {
		case http.StatusUnauthorized:
			c.token = ""
			if reauthed {
				return nil, &ingest.AuthError{Org: c.org, Provider: Name, Status: status, Err: apiErr,
					Hint: "RingCentral rejected an access token it had just issued for the JWT; check that the JWT user is enabled and the app has the " + perm + " permission"}
			}
			// Expired or revoked before we thought: present the JWT again.
			c.log.Info("ringcentral access token rejected; authenticating again", "code", apiErr.Code)
			reauthed = true
			continue
		case http.StatusForbidden:
			hint := "the JWT user lacks a permission this request needs: the app needs " + perm
			if c.cfg.Mode == ModeAccount && b == c.heavy {
				hint += ", and the company-wide call log (mode \"account\") needs an admin user with the Company Call Log permission; use mode \"extension\" otherwise"
			}
			return nil, &ingest.AuthError{Org: c.org, Provider: Name, Status: status, Hint: hint, Err: apiErr}
		case http.StatusNotFound:
			return nil, c.notFound(apiErr)
		}
		return nil, apiErr
	}
}

// notFound turns a 404 into an error naming the setting to fix. A wrong
// account id is the documented cause ("zero calls"), so a 404 that does not
// blame an extension is reported as one.
func (c *Client) notFound(e *APIError) error {
	text := strings.ToLower(e.Parameter + " " + e.Message + " " + e.Code)
	if strings.Contains(text, "extension") {
		return fmt.Errorf("%w (%v): check the employees' RingCentral extension id mapping", ErrExtensionNotFound, e)
	}
	return fmt.Errorf("%w: account id %q (%v): check the org's account id (`phonesignals org connect --account-id ID`; leave it empty or \"~\" for the account the JWT belongs to)",
		ErrAccountNotFound, c.cfg.AccountID, e)
}

// accessToken returns a token valid for a while yet, exchanging the JWT for
// a new one when needed. Called with c.sem held.
func (c *Client) accessToken(ctx context.Context, rs *runState) (string, error) {
	if c.token != "" && c.cfg.Now().Before(c.tokenRefresh) {
		return c.token, nil
	}
	return c.authenticate(ctx, rs)
}

// authenticate runs the JWT bearer grant. Called with c.sem held.
func (c *Client) authenticate(ctx context.Context, rs *runState) (string, error) {
	form := url.Values{"grant_type": {jwtGrantType}, "assertion": {c.cfg.JWT}}.Encode()
	status, body, err := c.roundTrip(ctx, rs, c.auth, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/restapi/oauth/token", strings.NewReader(form))
		if err != nil {
			return nil, err
		}
		req.SetBasicAuth(c.cfg.ClientID, c.cfg.ClientSecret)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		return req, nil
	})
	if err != nil {
		return "", fmt.Errorf("requesting a ringcentral access token: %w", err)
	}
	if status/100 != 2 {
		apiErr := parseAPIError(status, body)
		if status == http.StatusBadRequest || status == http.StatusUnauthorized || status == http.StatusForbidden {
			return "", &ingest.AuthError{Org: c.org, Provider: Name, Status: status, Hint: authHint(apiErr), Err: apiErr}
		}
		return "", fmt.Errorf("requesting a ringcentral access token: %w", apiErr)
	}
	var tok struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("requesting a ringcentral access token: answer has no access_token (%s)", truncate(body, 200))
	}
	ttl := time.Hour // RingCentral's usual; a 401 corrects us if wrong
	if s, err := strconv.ParseFloat(strings.Trim(string(tok.ExpiresIn), `"`), 64); err == nil && s > 0 {
		ttl = time.Duration(s * float64(time.Second))
	}
	// Renew a little early so a request never leaves with a token that
	// expires on the way.
	margin := min(ttl/10, time.Minute)
	c.token = tok.AccessToken
	c.tokenRefresh = c.cfg.Now().Add(ttl - margin)
	c.log.Debug("ringcentral access token issued", "expires_in", ttl)
	return c.token, nil
}

// authHint tells the operator which credential to fix: OAuth's
// invalid_client is the app's id/secret, invalid_grant is the JWT.
func authHint(e *APIError) string {
	detail := ""
	if e.Message != "" {
		detail = " (RingCentral said: " + e.Message + ")"
	}
	switch e.Code {
	case "invalid_client":
		return "the client ID or client secret was rejected: check the RingCentral app's credentials in the Developer Console against the org's integration settings" + detail
	case "invalid_grant":
		return "the JWT was rejected: it is expired, revoked, or was issued for another app or environment; create a new JWT credential in the RingCentral Developer Console and store it for the org" + detail
	case "unauthorized_client":
		return "the app may not use the JWT grant: enable the JWT auth flow for the app in the RingCentral Developer Console" + detail
	}
	return "check the org's RingCentral JWT and the app's client ID and client secret" + detail
}

// roundTrip sends one request in group b: it waits for the group's pacing
// and any penalty, rides out 429s and transient failures, and returns the
// first other answer. Called with c.sem held.
func (c *Client) roundTrip(ctx context.Context, rs *runState, b *bucket, newReq func() (*http.Request, error)) (int, []byte, error) {
	transient, connectFails := 0, 0
	bo := transientBackoff()
	for {
		if err := c.pace(ctx, rs, b); err != nil {
			return 0, nil, err
		}
		req, err := newReq()
		if err != nil {
			return 0, nil, err
		}
		resp, err := c.cfg.HTTPClient.Do(req)
		done := c.cfg.Now()
		b.record(done)
		rs.request()
		if err != nil {
			if ctx.Err() != nil {
				return 0, nil, ctx.Err()
			}
			if ce := ingest.ConnectFailure(Title, req.URL.String(), err); ce != nil {
				if connectFails++; connectFails > ingest.ConnectRetries {
					ce.Attempts = connectFails
					return 0, nil, ce
				}
				c.log.Warn("cannot connect to ringcentral; retrying", "addr", ce.Addr, "attempt", connectFails, "wait", ingest.ConnectRetryDelay, "err", ce.Err)
				if err := c.retryWait(ctx, rs, ingest.ConnectRetryDelay, "connection error"); err != nil {
					return 0, nil, err
				}
				continue
			}
			if transient < maxTransient {
				transient++
				c.log.Warn("ringcentral request failed; retrying", "err", err, "attempt", transient, "waiting_for", "network error")
				if err := c.retryWait(ctx, rs, bo.NextBackOff(), "network error"); err != nil {
					return 0, nil, err
				}
				continue
			}
			return 0, nil, err
		}
		// One byte past the limit tells a cut answer from one that fits.
		body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
		resp.Body.Close()
		if err != nil {
			return 0, nil, fmt.Errorf("reading ringcentral answer: %w", err)
		}
		if len(body) > MaxResponseBytes {
			return 0, nil, ErrResponseTooLarge
		}
		b.observe(resp.Header, done)
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			if err := c.penalize(b, resp.Header, done); err != nil {
				return 0, nil, err
			}
			continue
		case resp.StatusCode >= 500 && transient < maxTransient:
			transient++
			c.log.Warn("ringcentral server error; retrying", "status", resp.StatusCode, "attempt", transient)
			if err := c.retryWait(ctx, rs, bo.NextBackOff(), "HTTP "+strconv.Itoa(resp.StatusCode)); err != nil {
				return 0, nil, err
			}
			continue
		}
		c.throttled = 0
		return resp.StatusCode, body, nil
	}
}

// retryWait waits d before retrying a failed request, shown as a wait
// for reason (never as a rate-limit wait).
func (c *Client) retryWait(ctx context.Context, rs *runState, d time.Duration, reason string) error {
	rs.waitingFor(d, reason)
	err := c.cfg.Sleep(ctx, d)
	rs.waitingFor(0, "")
	return err
}

// transientBackoff paces the retries of one request after network errors
// and 5xx answers: 500ms doubling per retry, ±50% jitter (maxTransient
// retries at most).
func transientBackoff() *backoff.ExponentialBackOff {
	bo := &backoff.ExponentialBackOff{InitialInterval: 500 * time.Millisecond, RandomizationFactor: 0.5,
		Multiplier: 2, MaxInterval: 10 * time.Second}
	bo.Reset()
	return bo
}

// pace blocks until a request of group b may leave: after any penalty and
// within the group's window.
func (c *Client) pace(ctx context.Context, rs *runState, b *bucket) error {
	for {
		now := c.cfg.Now()
		wait := max(c.penaltyUntil.Sub(now), b.wait(now))
		if wait <= 0 {
			return nil
		}
		c.log.Debug("ringcentral rate limit: waiting", "group", b.name, "wait", wait)
		rs.waiting(wait)
		err := c.cfg.Sleep(ctx, wait)
		rs.waiting(0)
		if err != nil {
			return err
		}
	}
}

// penalize records a 429: nothing may be sent until Retry-After has passed,
// because any request during the penalty restarts it.
func (c *Client) penalize(b *bucket, h http.Header, now time.Time) error {
	c.throttled++
	if c.throttled > maxThrottled {
		return fmt.Errorf("ringcentral %s rate limit: still throttled after %d penalties", b.name, maxThrottled)
	}
	wait, ok := retryAfter(h, now)
	if !ok {
		wait = c.cfg.DefaultRetryAfter
	}
	// A 429 straight after waiting out a penalty means the wait was too
	// short (a penalty longer than Retry-After said, or than the default)
	// and we restarted it: back off harder instead of looping.
	if c.throttled > 1 {
		wait <<= min(c.throttled-1, 4)
	}
	c.penaltyUntil = now.Add(wait)
	b.learn(now)
	c.log.Warn("ringcentral rate limit exceeded; pausing all requests", "group", b.name, "wait", wait, "limit", b.limit(), "window", b.window)
	return nil
}

// retryAfter parses Retry-After as seconds (fractions allowed) or an HTTP
// date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 && !math.IsInf(s, 0) {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// bucket paces one rate-limit group with a sliding log of request
// completion times. Completion (not send) times are logged because the
// server counts a request when it arrives, which is no later than when we
// see its answer: waiting for the oldest completion + window can never
// land inside the server's window, whatever the latency jitter.
type bucket struct {
	mu      sync.Mutex
	name    string
	cfg     int // configured limit, until the server tells us
	server  int // X-Rate-Limit-Limit, 0 until seen
	learned int // limit inferred from a 429 without headers, 0 if none
	window  time.Duration
	sent    []time.Time // ascending
}

func newBucket(name string, limit int, window time.Duration) *bucket {
	return &bucket{name: name, cfg: limit, window: window}
}

func (b *bucket) limit() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limitLocked()
}

func (b *bucket) limitLocked() int {
	l := b.cfg
	if b.server > 0 {
		l = b.server
	}
	if b.learned > 0 && b.learned < l {
		l = b.learned
	}
	return max(l, 1)
}

func (b *bucket) prune(now time.Time) {
	i := 0
	for i < len(b.sent) && !b.sent[i].Add(b.window).After(now) {
		i++
	}
	b.sent = b.sent[i:]
}

// wait is how long until one more request fits in the window.
func (b *bucket) wait(now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prune(now)
	l := b.limitLocked()
	if len(b.sent) < l {
		return 0
	}
	return b.sent[len(b.sent)-l].Add(b.window).Sub(now)
}

func (b *bucket) record(t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sent = append(b.sent, t)
}

// observe adopts the server's view of the group. When the server counts
// more requests than we sent (another process using the same user and
// app), the difference is logged as sent now, so we slow down to match.
func (b *bucket) observe(h http.Header, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if g := strings.TrimSpace(h.Get("X-Rate-Limit-Group")); g != "" {
		// The server says which group the path is in: its limits below
		// are that group's, whatever this bucket assumed.
		b.name = g
	}
	if v, err := strconv.Atoi(strings.TrimSpace(h.Get("X-Rate-Limit-Limit"))); err == nil && v > 0 {
		b.server = v
	}
	if v, err := strconv.ParseFloat(strings.TrimSpace(h.Get("X-Rate-Limit-Window")), 64); err == nil && v > 0 {
		b.window = time.Duration(v * float64(time.Second))
	}
	if v, err := strconv.Atoi(strings.TrimSpace(h.Get("X-Rate-Limit-Remaining"))); err == nil && v >= 0 {
		b.prune(now)
		used := b.limitLocked() - v
		for n := len(b.sent); n < used; n++ {
			b.sent = append(b.sent, now)
		}
	}
}

// learn lowers the limit after a 429 the headers did not predict: the
// server evidently allowed one request fewer than we sent in the window.
// With headers present, observe's reconciliation is the better signal.
func (b *bucket) learn(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.server > 0 {
		return
	}
	b.prune(now)
	if n := len(b.sent) - 1; n >= 1 && n < b.limitLocked() {
		b.learned = n
	}
}
