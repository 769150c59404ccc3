package ringcentraltest

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// FakeOptions configure a Fake. Zero fields take the defaults noted.
type FakeOptions struct {
	// ClientID is the app client id the token endpoint accepts. Default
	// "fake-client-id".
	ClientID string
	// ClientSecret is the app client secret it accepts. Default
	// "fake-client-secret".
	ClientSecret string
	// JWT is the only assertion it accepts. Default "fake-jwt".
	JWT string
	// AccountID is the account's real id; "~" is accepted as well.
	// Default "400123456".
	AccountID string
	// TokenTTL is how long access tokens live (real time; expires_in is
	// rounded up to whole seconds like the real API). Default 1h.
	TokenTTL time.Duration
	// HeavyLimit is the Heavy group's requests per HeavyWindow (call log
	// and call log sync). Default 10.
	HeavyLimit int
	// HeavyWindow is the Heavy group's sliding window. Default 60s.
	HeavyWindow time.Duration
	// MediumLimit is the Medium group's requests per MediumWindow (the
	// extension list). Default 40.
	MediumLimit int
	// MediumWindow is the Medium group's sliding window. Default 60s.
	MediumWindow time.Duration
	// AuthLimit is the Auth group's requests per AuthWindow. Default 5.
	AuthLimit int
	// AuthWindow is the Auth group's sliding window. Default 60s.
	AuthWindow time.Duration
	// Penalty is how long a 429 blocks every request; any request during
	// it restarts it. Default 60s.
	Penalty time.Duration
	// OmitRetryAfter leaves Retry-After off 429 answers.
	OmitRetryAfter bool
	// NoRateHeaders leaves the X-Rate-Limit-* headers off every answer,
	// so a client can only learn the limit from 429s.
	NoRateHeaders bool
	// SyncMaxChanges is how many changes an ISync token survives. Default
	// 250.
	SyncMaxChanges int
	// SyncTokenTTL is how long (on the Now clock) a sync token is
	// accepted. Default: forever.
	SyncTokenTTL time.Duration
	// Now is the data clock: only calls started before Now() are listed,
	// and sync tokens age by it. Rate limits and access tokens always use
	// real time, because clients really sleep. Default time.Now; set it to
	// the fixture's End to serve a whole generated org.
	Now func() time.Time
	// PadRecordBytes, when positive, adds a "padding" field of that many
	// bytes to every call-log record, so pages grow past a client's
	// response limit. Default 0.
	PadRecordBytes int
	// LoopPage, when positive, makes call-log pages from that one on point
	// navigation.nextPage back at themselves. Default 0: no loop.
	LoopPage int
	// ExtraUsers are User extensions the extension list serves after the
	// org's own (fixture.Org.Users), with no calls: people not on the
	// roster, one without an e-mail, a second one with someone's e-mail.
	// Default none.
	ExtraUsers []fixture.User
	// DenyReadAccounts answers the extension list 403, as for an app
	// without the ReadAccounts permission.
	DenyReadAccounts bool
}

func (o *FakeOptions) defaults() {
	if o.ClientID == "" {
		o.ClientID = "fake-client-id"
	}
	if o.ClientSecret == "" {
		o.ClientSecret = "fake-client-secret"
	}
	if o.JWT == "" {
		o.JWT = "fake-jwt"
	}
	if o.AccountID == "" {
		o.AccountID = "400123456"
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = time.Hour
	}
	if o.HeavyLimit == 0 {
		o.HeavyLimit = 10
	}
	if o.HeavyWindow == 0 {
		o.HeavyWindow = 60 * time.Second
	}
	if o.MediumLimit == 0 {
		o.MediumLimit = 40
	}
	if o.MediumWindow == 0 {
		o.MediumWindow = 60 * time.Second
	}
	if o.AuthLimit == 0 {
		o.AuthLimit = 5
	}
	if o.AuthWindow == 0 {
		o.AuthWindow = 60 * time.Second
	}
	if o.Penalty == 0 {
		o.Penalty = 60 * time.Second
	}
	if o.SyncMaxChanges == 0 {
		o.SyncMaxChanges = 250
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// FakeStats counts what a Fake saw, for tests to assert on.
type FakeStats struct {
	// Requests is every request received.
	Requests int
	// HeavyRequests are authenticated call-log and call-log-sync requests.
	HeavyRequests int
	// MediumRequests are authenticated extension-list requests.
	MediumRequests int
	// AuthRequests are token requests.
	AuthRequests int
	// TokensIssued counts access tokens handed out.
	TokensIssued int
	// AuthRejected counts token requests refused for bad credentials.
	AuthRejected int
	// Unauthorized counts API requests refused with 401.
	Unauthorized int
	// TooMany counts 429 answers, penalty restarts included.
	TooMany int
	// PenaltyRestarts counts requests sent during a penalty (each restarted
	// it). A well-behaved client keeps this at zero.
	PenaltyRestarts int
	// SyncTokensRejected counts ISync requests refused for their token.
	SyncTokensRejected int
}

// Fake is an in-memory RingCentral Platform API serving a fixture org: the
// JWT token endpoint and the per-extension and company-wide call log and
// call log sync endpoints, with the real API's record shapes, paging, rate
// limit groups, 429 penalties, token expiry and error bodies. It is an
// http.Handler for httptest and the CLI demo.
type Fake struct {
	opts FakeOptions

	mu         sync.Mutex
	mux        *http.ServeMux
	users      []fixture.User
	userIdx    map[string]int
	calls      []*fakeCall // ascending StartedAt, then ID
	ids        map[string]*fakeCall
	tokens     map[string]time.Time // access token -> expiry
	heavy      fakeWindow
	medium     fakeWindow
	auth       fakeWindow
	penalty    time.Time
	storm      int
	seq        int64 // mutation counter
	syncTokens map[string]fakeSyncToken
	syncEpoch  int
	issued     int
	stats      FakeStats
}

type fakeCall struct {
	c     fixture.Call
	modAt time.Time
	seq   int64 // mutation that last changed it, 0 for generated
}

type fakeSyncToken struct {
	stream string
	seq    int64
	at     time.Time
	epoch  int
}

// fakeWindow is a sliding-window counter of one rate-limit group.
type fakeWindow struct {
	name   string
	limit  int
	window time.Duration
	times  []time.Time
}

func (w *fakeWindow) count(now time.Time) int {
	i := 0
	for i < len(w.times) && !w.times[i].After(now.Add(-w.window)) {
		i++
	}
	w.times = w.times[i:]
	return len(w.times)
}

// admit counts a request arriving at now and reports whether it is within
// the limit.
func (w *fakeWindow) admit(now time.Time) bool {
	if w.count(now) >= w.limit {
		return false
	}
	w.times = append(w.times, now)
	return true
}

// NewFake serves org. The fake copies the calls, so AddCall and UpdateCall
// do not change org.
func NewFake(org *fixture.Org, opts FakeOptions) *Fake {
	opts.defaults()
	f := &Fake{
		opts:       opts,
		users:      append(append([]fixture.User(nil), org.Users...), opts.ExtraUsers...),
		userIdx:    map[string]int{},
		ids:        map[string]*fakeCall{},
		tokens:     map[string]time.Time{},
		heavy:      fakeWindow{name: "Heavy", limit: opts.HeavyLimit, window: opts.HeavyWindow},
		medium:     fakeWindow{name: "Medium", limit: opts.MediumLimit, window: opts.MediumWindow},
		auth:       fakeWindow{name: "Auth", limit: opts.AuthLimit, window: opts.AuthWindow},
		syncTokens: map[string]fakeSyncToken{},
	}
	for i, u := range f.users {
		f.userIdx[u.ID] = i
	}
	for _, c := range org.Calls {
		f.insert(c)
	}
	f.sortCalls()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /restapi/oauth/token", f.token)
	mux.HandleFunc("GET /restapi/v1.0/account/{account}/call-log", f.api(f.callLog))
	mux.HandleFunc("GET /restapi/v1.0/account/{account}/call-log-sync", f.api(f.callLogSync))
	mux.HandleFunc("GET /restapi/v1.0/account/{account}/extension/{ext}/call-log", f.api(f.callLog))
	mux.HandleFunc("GET /restapi/v1.0/account/{account}/extension/{ext}/call-log-sync", f.api(f.callLogSync))
	mux.HandleFunc("GET /restapi/v1.0/account/{account}/extension", f.apiIn(&f.medium, f.extensions))
	f.mux = mux
	return f
}

func (f *Fake) insert(c fixture.Call) *fakeCall {
	fc := &fakeCall{c: c, modAt: c.EndedAt.Add(time.Duration(1+c.ID%30) * time.Second)}
	if c.Deleted {
		fc.modAt = c.EndedAt.Add(time.Hour)
	}
	f.calls = append(f.calls, fc)
	f.ids[c.StrID()] = fc
	return fc
}

func (f *Fake) sortCalls() {
	sort.SliceStable(f.calls, func(i, j int) bool {
		a, b := f.calls[i].c, f.calls[j].c
		if !a.StartedAt.Equal(b.StartedAt) {
			return a.StartedAt.Before(b.StartedAt)
		}
		return a.ID < b.ID
	})
}

// ServeHTTP implements http.Handler.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }

// Options returns the options in effect, defaults filled in: tests
// configure their client with the credentials the fake accepts.
func (f *Fake) Options() FakeOptions { return f.opts }

// Stats returns the counters so far.
func (f *Fake) Stats() FakeStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// ExpireTokens invalidates every access token issued so far, as a token
// revoked or expired early would be.
func (f *Fake) ExpireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for t := range f.tokens {
		f.tokens[t] = time.Time{}
	}
}

// RejectSyncTokens makes every sync token issued so far fail ISync, as the
// server does "whenever it decides".
func (f *Fake) RejectSyncTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.syncEpoch++
}

// AddCall adds a call (a fixture.Call with an ID not used yet); it is
// listed once the data clock passes its start and counts as a change for
// ISync.
func (f *Fake) AddCall(c fixture.Call) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, dup := f.ids[c.StrID()]; dup {
		panic(fmt.Sprintf("ringcentral fake: call %s exists", c.StrID()))
	}
	fc := f.insert(c)
	f.seq++
	fc.seq = f.seq
	f.sortCalls()
}

// UpdateCall changes the call with RingCentral id id (Call.StrID()) through
// fn, e.g. setting Deleted or Duration, bumps its lastModifiedTime to the
// data clock's now, and reports whether the call exists.
func (f *Fake) UpdateCall(id string, fn func(*fixture.Call)) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	fc, ok := f.ids[id]
	if !ok {
		return false
	}
	fn(&fc.c)
	f.seq++
	fc.seq = f.seq
	// lastModifiedTime must grow, or the older body would win downstream.
	now := f.opts.Now().UTC()
	if !now.After(fc.modAt) {
		now = fc.modAt.Add(time.Millisecond)
	}
	fc.modAt = now
	f.sortCalls()
	return true
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

type fakeErrorItem struct {
	ErrorCode     string `json:"errorCode"`
	Message       string `json:"message"`
	ParameterName string `json:"parameterName,omitempty"`
}

// apiError writes the REST error shape.
func apiErrorBody(code, msg, param string) map[string]any {
	return map[string]any{
		"errorCode": code,
		"message":   msg,
		"errors":    []fakeErrorItem{{ErrorCode: code, Message: msg, ParameterName: param}},
	}
}

func (f *Fake) rateHeaders(w http.ResponseWriter, g *fakeWindow, now time.Time) {
	if f.opts.NoRateHeaders {
		return
	}
	h := w.Header()
	h.Set("X-Rate-Limit-Group", g.name)
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(g.limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(max(g.limit-g.count(now), 0)))
	// Whole seconds in production ("60"); test windows may be fractional.
	h.Set("X-Rate-Limit-Window", strconv.FormatFloat(g.window.Seconds(), 'f', -1, 64))
}

// throttle answers 429 for group g and (re)starts the penalty.
func (f *Fake) throttle(w http.ResponseWriter, g *fakeWindow, now time.Time) {
	f.penalty = now.Add(f.opts.Penalty)
	f.stats.TooMany++
	f.rateHeaders(w, g, now)
	if !f.opts.OmitRetryAfter {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.opts.Penalty.Seconds()))))
	}
	writeJSON(w, http.StatusTooManyRequests, apiErrorBody("CMN-301", "Request rate exceeded", ""))
}

// admit applies the penalty and g's window to a request arriving now; it
// answers 429 itself and returns false when the request may not proceed.
func (f *Fake) admit(w http.ResponseWriter, g *fakeWindow, now time.Time) bool {
	if now.Before(f.penalty) {
		f.stats.PenaltyRestarts++
		f.throttle(w, g, now)
		return false
	}
	if !g.admit(now) {
		f.throttle(w, g, now)
		return false
	}
	f.rateHeaders(w, g, now)
	return true
}

// token is POST /restapi/oauth/token (JWT bearer grant).
func (f *Fake) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	f.stats.Requests++
	f.stats.AuthRequests++
	if !f.admit(w, &f.auth, now) {
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok || !equal(id, f.opts.ClientID) || !equal(secret, f.opts.ClientSecret) {
		f.stats.AuthRejected++
		writeJSON(w, http.StatusUnauthorized, map[string]any{
			"error":             "invalid_client",
			"error_description": "Invalid client: " + id,
			"errors":            []fakeErrorItem{{ErrorCode: "OAU-123", Message: "Invalid client: " + id}},
		})
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != jwtGrantType {
		f.stats.AuthRejected++
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error":             "unsupported_grant_type",
			"error_description": "Unsupported grant type",
			"errors":            []fakeErrorItem{{ErrorCode: "OAU-250", Message: "Unsupported grant type"}},
		})
		return
	}
	if !equal(r.PostForm.Get("assertion"), f.opts.JWT) {
		f.stats.AuthRejected++
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"error":             "invalid_grant",
			"error_description": "Invalid token",
			"errors":            []fakeErrorItem{{ErrorCode: "OAU-213", Message: "Token is invalid or expired"}},
		})
		return
	}
	f.issued++
	f.stats.TokensIssued++
	tok := fmt.Sprintf("fake-access-%d-%d", f.issued, now.UnixNano())
	f.tokens[tok] = now.Add(f.opts.TokenTTL)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":             tok,
		"token_type":               "bearer",
		"expires_in":               int(math.Ceil(f.opts.TokenTTL.Seconds())),
		"refresh_token":            "fake-refresh-" + strconv.Itoa(f.issued),
		"refresh_token_expires_in": 604800,
		"scope":                    "ReadCallLog",
		"owner_id":                 f.users[0].ID,
		"endpoint_id":              "fake-endpoint",
	})
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// fakeStream is what an API path addresses.
type fakeStream struct {
	ext     string // "" for the account
	baseURI string // record and navigation URIs start with it
}

// api wraps a Heavy-group endpoint (see apiIn).
func (f *Fake) api(h func(w http.ResponseWriter, r *http.Request, s fakeStream)) http.HandlerFunc {
	return f.apiIn(&f.heavy, h)
}

// apiIn wraps an endpoint of rate-limit group g: penalty, bearer token,
// rate window and account/extension lookup, in the order the real gateway
// checks them.
func (f *Fake) apiIn(g *fakeWindow, h func(w http.ResponseWriter, r *http.Request, s fakeStream)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		now := time.Now()
		f.stats.Requests++
		if now.Before(f.penalty) {
			f.stats.PenaltyRestarts++
			f.throttle(w, g, now)
			return
		}
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		exp, known := f.tokens[tok]
		switch {
		case !ok || !known:
			f.stats.Unauthorized++
			writeJSON(w, http.StatusUnauthorized, apiErrorBody("TokenInvalid", "Invalid token", ""))
			return
		case !now.Before(exp):
			f.stats.Unauthorized++
			writeJSON(w, http.StatusUnauthorized, apiErrorBody("TokenExpired", "Token expired", ""))
			return
		}
		if g == &f.heavy {
			f.stats.HeavyRequests++
		} else {
			f.stats.MediumRequests++
		}
		if f.storm > 0 {
			f.storm--
			f.throttle(w, g, now)
			return
		}
		if !f.admit(w, g, now) {
			return
		}
		acct := r.PathValue("account")
		if acct != "~" && acct != f.opts.AccountID {
			writeJSON(w, http.StatusNotFound, apiErrorBody("CMN-102", "Resource for parameter [accountId] is not found", "accountId"))
			return
		}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		s := fakeStream{baseURI: scheme + "://" + r.Host + "/restapi/v1.0/account/" + f.opts.AccountID}
		if ext := r.PathValue("ext"); ext != "" {
			if ext == "~" {
				ext = f.users[0].ID
			}
			if _, ok := f.userIdx[ext]; !ok {
				writeJSON(w, http.StatusNotFound, apiErrorBody("CMN-102", "Resource for parameter [extensionId] is not found", "extensionId"))
				return
			}
			s.ext = ext
			s.baseURI += "/extension/" + ext
		}
		h(w, r, s)
	}
}

func badParam(w http.ResponseWriter, name string) {
	writeJSON(w, http.StatusBadRequest, apiErrorBody("CMN-101", "Parameter ["+name+"] value is invalid", name))
}

func fakeTime(q url.Values, name string, def time.Time) (time.Time, bool) {
	v := q.Get(name)
	if v == "" {
		return def, true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		// The API also takes dates without a zone, as UTC.
		if t, err = time.Parse("2006-01-02T15:04:05", v); err != nil {
			if t, err = time.Parse("2006-01-02", v); err != nil {
				return time.Time{}, false
			}
		}
	}
	return t.UTC(), true
}

func fakeInt(q url.Values, name string, def int) (int, bool) {
	v := q.Get(name)
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil
}

// streamCalls returns the stream's calls started in [from, to] (the real
// API's dateTo is treated as inclusive, the stricter reading for clients)
// and before the data clock's now, newest first.
func (f *Fake) streamCalls(s fakeStream, from, to time.Time, keep func(*fakeCall) bool) []*fakeCall {
	now := f.opts.Now()
	lo := sort.Search(len(f.calls), func(i int) bool { return !f.calls[i].c.StartedAt.Before(from) })
	var out []*fakeCall
	for i := len(f.calls) - 1; i >= lo; i-- {
		c := f.calls[i]
		if c.c.StartedAt.After(to) || !c.c.StartedAt.Before(now) {
			continue
		}
		if s.ext != "" && c.c.UserID != s.ext {
			continue
		}
		if keep != nil && !keep(c) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// callLog is GET .../call-log.
func (f *Fake) callLog(w http.ResponseWriter, r *http.Request, s fakeStream) {
	q := r.URL.Query()
	view := q.Get("view")
	if view == "" {
		view = "Simple"
	}
	maxPer := 1000
	switch view {
	case "Simple":
	case "Detailed":
		maxPer = 250
	default:
		badParam(w, "view")
		return
	}
	perPage, ok := fakeInt(q, "perPage", 100)
	if !ok || perPage < 1 || perPage > maxPer {
		badParam(w, "perPage")
		return
	}
	page, ok := fakeInt(q, "page", 1)
	if !ok || page < 1 {
		badParam(w, "page")
		return
	}
	dateTo, ok := fakeTime(q, "dateTo", f.opts.Now().UTC())
	if !ok {
		badParam(w, "dateTo")
		return
	}
	dateFrom, ok := fakeTime(q, "dateFrom", dateTo.Add(-24*time.Hour))
	if !ok {
		badParam(w, "dateFrom")
		return
	}
	voice := len(q["type"]) == 0
	for _, t := range q["type"] {
		voice = voice || t == "Voice"
	}
	dirs := map[string]bool{}
	for _, d := range q["direction"] {
		dirs[strings.ToLower(d)] = true
	}
	showDeleted := q.Get("showDeleted") == "true"
	var all []*fakeCall
	if voice {
		all = f.streamCalls(s, dateFrom, dateTo, func(c *fakeCall) bool {
			return (showDeleted || !c.c.Deleted) && (len(dirs) == 0 || dirs[c.c.Direction])
		})
	}
	total := len(all)
	pages := (total + perPage - 1) / perPage
	start := min((page-1)*perPage, total)
	end := min(start+perPage, total)
	recs := make([]fakeRecord, 0, end-start)
	pad := strings.Repeat("x", max(f.opts.PadRecordBytes, 0))
	for _, c := range all[start:end] {
		rec := f.render(c, s, view == "Detailed")
		rec.Padding = pad
		recs = append(recs, rec)
	}
	pageURI := func(p int) map[string]string {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		qq.Set("page", strconv.Itoa(p))
		qq.Set("perPage", strconv.Itoa(perPage))
		return map[string]string{"uri": s.baseURI + "/call-log?" + qq.Encode()}
	}
	paging := map[string]any{"page": page, "totalPages": pages, "perPage": perPage, "totalElements": total}
	if end > start {
		paging["pageStart"], paging["pageEnd"] = start, end-1
	}
	nav := map[string]any{"firstPage": pageURI(1)}
	if pages > 0 {
		nav["lastPage"] = pageURI(pages)
	}
	switch {
	case f.opts.LoopPage > 0 && page >= f.opts.LoopPage:
		nav["nextPage"] = pageURI(page)
	case page < pages:
		nav["nextPage"] = pageURI(page + 1)
	}
	if page > 1 {
		nav["previousPage"] = pageURI(page - 1)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"uri":        pageURI(page)["uri"],
		"records":    recs,
		"paging":     paging,
		"navigation": nav,
	})
}

// callLogSync is GET .../call-log-sync.
func (f *Fake) callLogSync(w http.ResponseWriter, r *http.Request, s fakeStream) {
	q := r.URL.Query()
	now := f.opts.Now().UTC()
	key := s.baseURI
	var recs []*fakeCall
	older := false
	switch q.Get("syncType") {
	case "FSync":
		n, ok := fakeInt(q, "recordCount", 250)
		if !ok || n < 1 || n > 250 {
			badParam(w, "recordCount")
			return
		}
		from, ok := fakeTime(q, "dateFrom", now.AddDate(0, 0, -30))
		if !ok {
			badParam(w, "dateFrom")
			return
		}
		recs = f.streamCalls(s, from, now, func(c *fakeCall) bool { return !c.c.Deleted })
		if len(recs) > n {
			recs, older = recs[:n], true
		}
	case "ISync":
		st, ok := f.syncTokens[q.Get("syncToken")]
		valid := ok && st.stream == key && st.epoch == f.syncEpoch &&
			(f.opts.SyncTokenTTL == 0 || now.Sub(st.at) <= f.opts.SyncTokenTTL)
		if valid {
			recs = f.streamCalls(s, time.Time{}, now, func(c *fakeCall) bool {
				return c.seq > st.seq || !c.c.StartedAt.Before(st.at)
			})
			valid = len(recs) <= f.opts.SyncMaxChanges
		}
		if !valid {
			f.stats.SyncTokensRejected++
			writeJSON(w, http.StatusBadRequest, apiErrorBody("CLG-104", "Sync token is invalid or expired; a full sync (FSync) is required", "syncToken"))
			return
		}
	default:
		badParam(w, "syncType")
		return
	}
	f.issued++
	tok := fmt.Sprintf("fake-sync-%d", f.issued)
	f.syncTokens[tok] = fakeSyncToken{stream: key, seq: f.seq, at: now, epoch: f.syncEpoch}
	out := make([]fakeRecord, 0, len(recs))
	for _, c := range recs {
		out = append(out, f.render(c, s, false))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"uri":     s.baseURI + "/call-log-sync?" + q.Encode(),
		"records": out,
		"syncInfo": map[string]any{
			"syncType":          q.Get("syncType"),
			"syncToken":         tok,
			"syncTime":          formatTime(now),
			"olderRecordsExist": older,
		},
	})
}

type fakeParty struct {
	PhoneNumber     string `json:"phoneNumber,omitempty"`
	ExtensionNumber string `json:"extensionNumber,omitempty"`
	ExtensionID     string `json:"extensionId,omitempty"`
	Name            string `json:"name,omitempty"`
}

type fakeExtRef struct {
	URI string `json:"uri"`
	ID  any    `json:"id"`
}

type fakeLeg struct {
	StartTime          string      `json:"startTime"`
	Duration           int         `json:"duration"`
	DurationMs         int64       `json:"durationMs"`
	Type               string      `json:"type"`
	Direction          string      `json:"direction"`
	Action             string      `json:"action"`
	Result             string      `json:"result"`
	Reason             string      `json:"reason,omitempty"`
	From               fakeParty   `json:"from"`
	To                 fakeParty   `json:"to"`
	Extension          *fakeExtRef `json:"extension,omitempty"`
	LegType            string      `json:"legType"`
	Master             bool        `json:"master,omitempty"`
	TelephonySessionID string      `json:"telephonySessionId"`
}

type fakeRecord struct {
	URI                string      `json:"uri"`
	ID                 string      `json:"id"`
	SessionID          string      `json:"sessionId"`
	TelephonySessionID string      `json:"telephonySessionId"`
	StartTime          string      `json:"startTime"`
	Duration           int         `json:"duration"`
	DurationMs         int64       `json:"durationMs"`
	Type               string      `json:"type"`
	InternalType       string      `json:"internalType"`
	Direction          string      `json:"direction"`
	Action             string      `json:"action"`
	Result             string      `json:"result"`
	Reason             string      `json:"reason,omitempty"`
	ReasonDescription  string      `json:"reasonDescription,omitempty"`
	To                 fakeParty   `json:"to"`
	From               fakeParty   `json:"from"`
	Extension          *fakeExtRef `json:"extension,omitempty"`
	Legs               []fakeLeg   `json:"legs,omitempty"`
	LastModifiedTime   string      `json:"lastModifiedTime"`
	Deleted            bool        `json:"deleted,omitempty"`
	// Padding is FakeOptions.PadRecordBytes of filler; RingCentral has no
	// such field.
	Padding string `json:"padding,omitempty"`
}

var fakeReasons = map[string]string{
	"Accepted":       "The call was answered.",
	"Call connected": "The call was connected.",
	"Voicemail":      "The caller left a voicemail.",
	"Missed":         "The call was not answered.",
	"No Answer":      "The called party did not answer.",
}

// render draws a call the way the call log does. Per-extension records
// carry no "extension" object (it is implied by the path), which is why
// raw calls carry UserHint.
func (f *Fake) render(fc *fakeCall, s fakeStream, detailed bool) fakeRecord {
	c := fc.c
	idx := f.userIdx[c.UserID]
	var user fixture.User
	if idx < len(f.users) {
		user = f.users[idx]
	}
	internal := fakeParty{
		PhoneNumber:     fmt.Sprintf("+1650555%04d", 1000+idx),
		ExtensionNumber: strconv.Itoa(101 + idx),
		ExtensionID:     c.UserID,
		Name:            user.Name,
	}
	external := fakeParty{PhoneNumber: c.Digits}
	if c.Digits == "anonymous" {
		external = fakeParty{Name: "Anonymous"}
	}
	direction, action := "Outbound", "VoIP Call"
	from, to := internal, external
	if c.Direction == "inbound" {
		direction, action = "Inbound", "Phone Call"
		from, to = external, internal
		to.PhoneNumber = "+16505550100" // the main number, routed to the extension
	}
	result := c.RCResult()
	ms := int64(c.Duration)*1000 + c.ID%500
	start := formatTime(c.StartedAt)
	tsid := fmt.Sprintf("s-a%012xz%x", c.ID, c.ID%997)
	var ext *fakeExtRef
	if s.ext == "" && c.UserID != "" {
		ext = &fakeExtRef{URI: s.baseURI + "/extension/" + c.UserID, ID: extIDValue(c.UserID)}
	}
	rec := fakeRecord{
		URI:                s.baseURI + "/call-log/" + c.StrID() + "?view=Simple",
		ID:                 c.StrID(),
		SessionID:          strconv.FormatInt(c.ID*3+17, 10),
		TelephonySessionID: tsid,
		StartTime:          start,
		Duration:           c.Duration,
		DurationMs:         ms,
		Type:               "Voice",
		InternalType:       "Local",
		Direction:          direction,
		Action:             action,
		Result:             result,
		Reason:             result,
		ReasonDescription:  fakeReasons[result],
		To:                 to,
		From:               from,
		Extension:          ext,
		LastModifiedTime:   formatTime(fc.modAt),
		Deleted:            c.Deleted,
	}
	if detailed {
		rec.URI = strings.Replace(rec.URI, "view=Simple", "view=Detailed", 1)
		rec.Legs = []fakeLeg{{
			StartTime: start, Duration: c.Duration, DurationMs: ms, Type: "Voice",
			Direction: direction, Action: action, Result: result, Reason: result,
			From: from, To: to, Extension: ext, LegType: "Accept", Master: true,
			TelephonySessionID: tsid,
		}}
		if c.Direction == "inbound" {
			pstn := rec.Legs[0]
			pstn.LegType, pstn.Master, pstn.Extension = "PstnToSip", false, nil
			rec.Legs = append(rec.Legs, pstn)
		}
	}
	return rec
}

// extIDValue renders an extension id as the JSON number the API uses,
// falling back to a string for non-numeric fixture ids.
func extIDValue(id string) any {
	if _, err := strconv.ParseInt(id, 10, 64); err == nil {
		return json.Number(id)
	}
	return id
}

// jwtGrantType is the OAuth grant RingCentral's JWT flow posts.
const jwtGrantType = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// formatTime renders t the way RingCentral's call log does.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
