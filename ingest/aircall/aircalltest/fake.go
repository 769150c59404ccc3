package aircalltest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
)

// Aircall's API facts the fake serves. They are restated here, not taken
// from package aircall, so that a drift in the client shows up in its tests
// against the fake (and so the client's own tests can import this package).
const (
	// DefaultRateLimitPerMinute is Aircall's default company rate limit.
	DefaultRateLimitPerMinute = 60
	// DefaultMaxResults is the record cap of one Aircall query.
	DefaultMaxResults = 10000
	// MaxPerPage is the largest per_page Aircall accepts.
	MaxPerPage = 50
	// DefaultBaseURL is the public API root, used in rendered direct links.
	DefaultBaseURL = "https://api.aircall.io/v1"
	// EventTranscriptionCreated is the webhook event of a new transcript.
	EventTranscriptionCreated = "transcription.created"
)

// CapErrorMessage is the text of Aircall's 400 for paging past the cap.
const CapErrorMessage = "Your query is limited to 10k results and pagination is out of bound, please use timestamps or other filters."

// FakeOptions configures a Fake. Zero fields take the defaults noted.
type FakeOptions struct {
	// APIID is the API ID the fake accepts; other credentials get 401.
	// APIID and APIToken both empty: any credentials are accepted.
	APIID string
	// APIToken is the API token the fake accepts.
	APIToken string
	// RateLimitPerMinute is the company's limit, reported in
	// X-AircallApi-Limit and leaked from the bucket at that rate.
	// Default 60.
	RateLimitPerMinute int
	// Burst is the bucket's capacity. Default RateLimitPerMinute.
	Burst int
	// MaxResults is the record cap of one query. Default 10000.
	MaxResults int
	// Now is the fake's clock: calls not started yet are not served, and
	// notes and tags are those present at Now. Default time.Now; the demo
	// sets it inside the fixture's range.
	Now func() time.Time
	// TranscriptDelay is how long after a call ended its transcript starts
	// being served (404 before). Default 2m.
	TranscriptDelay time.Duration
	// AIAddOn enables transcripts; without it the transcription endpoint
	// answers 403, as Aircall does for companies without the add-on.
	AIAddOn bool
	// Logger receives a line per fault injected. Default: discarded.
	Logger *slog.Logger
	// LoopPage, when positive, makes listings loop from that page on:
	// every later page answers as that page, with its calls and a
	// next_page_link pointing back to it. Default 0: no loop.
	LoopPage int
	// RepeatPage, when positive, makes every later page list that page's
	// calls again, while next_page_link moves on as usual. Default 0.
	RepeatPage int
	// PadCallBytes, when positive, adds a "padding" field of that many
	// bytes to every call a listing returns, so pages grow past a
	// client's response limit (calls with megabytes of comments). Default 0.
	PadCallBytes int
	// ExtraUsers are Aircall users GET /v1/users lists after the org's
	// own (fixture.Org.Users): people with no calls and not on the
	// roster, a user without an e-mail, a second user with someone's
	// e-mail. Default none.
	ExtraUsers []fixture.User
}

// FakeStats counts what the fake answered.
type FakeStats struct {
	// Requests counts every request that reached the fake.
	Requests int
	// RateLimited counts 429 answers (bucket overflows and storms).
	RateLimited int
	// Unauthorized counts 401 answers.
	Unauthorized int
	// CapErrors counts 400 answers for paging past the cap.
	CapErrors int
	// ServerErrors counts injected 5xx answers.
	ServerErrors int
	// Dropped counts connections closed by the kill switch.
	Dropped int
	// CallsServed counts call objects returned by listings.
	CallsServed int
}

// Fake is a fake Aircall API over real HTTP, serving a fixture org the way
// Aircall would: Basic auth, paged listings with meta and the 10k cap,
// the leaky-bucket rate limit with its headers, calls that change after
// they end, transcripts, and injectable faults. It also sends webhooks.
// Use it with httptest.NewServer(fake) and BaseURL = server URL + "/v1".
type Fake struct {
	org    *fixture.Org
	opts   FakeOptions
	log    *slog.Logger
	all    []int
	byUser map[string][]int
	byID   map[int64]int
	users  map[string]fixture.User
	mux    *http.ServeMux
	pad    string

	mu      sync.Mutex
	level   float64
	levelAt time.Time
	storm   int
	errs    int
	down    bool
	stats   FakeStats
}

// NewFake returns a fake Aircall API serving org.
func NewFake(org *fixture.Org, opts FakeOptions) *Fake {
	if opts.RateLimitPerMinute <= 0 {
		opts.RateLimitPerMinute = DefaultRateLimitPerMinute
	}
	if opts.Burst <= 0 {
		opts.Burst = opts.RateLimitPerMinute
	}
	if opts.MaxResults <= 0 {
		opts.MaxResults = DefaultMaxResults
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TranscriptDelay == 0 {
		opts.TranscriptDelay = 2 * time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	f := &Fake{
		org: org, opts: opts, log: opts.Logger.With("component", "fake-aircall"),
		byUser: map[string][]int{}, byID: map[int64]int{}, users: map[string]fixture.User{},
	}
	for i, c := range org.Calls {
		f.all = append(f.all, i)
		f.byID[c.ID] = i
		if c.UserID != "" {
			f.byUser[c.UserID] = append(f.byUser[c.UserID], i)
		}
	}
	for _, u := range org.Users {
		f.users[u.ID] = u
	}
	if opts.PadCallBytes > 0 {
		f.pad = strings.Repeat("x", opts.PadCallBytes)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/calls", func(w http.ResponseWriter, r *http.Request) { f.list(w, r, false) })
	mux.HandleFunc("GET /v1/calls/search", func(w http.ResponseWriter, r *http.Request) { f.list(w, r, true) })
	mux.HandleFunc("GET /v1/calls/{id}", f.getCall)
	mux.HandleFunc("GET /v1/calls/{id}/transcription", f.transcription)
	mux.HandleFunc("GET /v1/users", f.listUsers)
	f.mux = mux
	return f
}

// Storm makes the next n requests answer 429, as when another integration
// drains the company's bucket.
func (f *Fake) Storm(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.storm += n
}

// FailNext makes the next n requests answer 503.
func (f *Fake) FailNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs += n
}

// SetDown is the kill switch: while down, every connection is closed
// without an answer.
func (f *Fake) SetDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// Stats returns the counters so far.
func (f *Fake) Stats() FakeStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// ServeHTTP implements http.Handler.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := f.opts.Now()
	f.mu.Lock()
	f.stats.Requests++
	if f.down {
		f.stats.Dropped++
		f.mu.Unlock()
		panic(http.ErrAbortHandler)
	}
	if f.storm > 0 {
		f.storm--
		f.stats.RateLimited++
		f.mu.Unlock()
		f.rateHeaders(w, 0, now.Add(time.Second))
		writeError(w, http.StatusTooManyRequests, "Too Many Requests", "Rate limit exceeded, retry later")
		return
	}
	if f.errs > 0 {
		f.errs--
		f.stats.ServerErrors++
		f.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, "Service Unavailable", "")
		return
	}
	if !f.authorized(r) {
		f.stats.Unauthorized++
		f.mu.Unlock()
		writeError(w, http.StatusUnauthorized, "Unauthorized", "Wrong API ID or API token")
		return
	}
	ok, remaining, reset := f.admitLocked(now)
	if !ok {
		f.stats.RateLimited++
	}
	f.mu.Unlock()
	f.rateHeaders(w, remaining, reset)
	if !ok {
		writeError(w, http.StatusTooManyRequests, "Too Many Requests", "Rate limit exceeded, retry later")
		return
	}
	f.mux.ServeHTTP(w, r)
}

func (f *Fake) authorized(r *http.Request) bool {
	if f.opts.APIID == "" && f.opts.APIToken == "" {
		return true
	}
	id, tok, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(id), []byte(f.opts.APIID)) == 1 &&
		subtle.ConstantTimeCompare([]byte(tok), []byte(f.opts.APIToken)) == 1
}

// admitLocked runs the leaky bucket: it drains at the per-minute rate and
// holds Burst requests. Reset is when the next request will be admitted.
func (f *Fake) admitLocked(now time.Time) (ok bool, remaining int, reset time.Time) {
	rate := float64(f.opts.RateLimitPerMinute) / 60 // per second
	capacity := float64(f.opts.Burst)
	if !f.levelAt.IsZero() && now.After(f.levelAt) {
		f.level = math.Max(0, f.level-now.Sub(f.levelAt).Seconds()*rate)
	}
	if f.levelAt.IsZero() || now.After(f.levelAt) {
		f.levelAt = now
	}
	// A tiny epsilon absorbs float error so a client pacing at exactly the
	// leak rate is not refused for 1e-12 of a request.
	if f.level+1 > capacity+1e-9 {
		wait := time.Duration((f.level + 1 - capacity) / rate * float64(time.Second))
		return false, 0, now.Add(wait)
	}
	f.level++
	remaining = int(math.Floor(capacity - f.level + 1e-9))
	reset = now
	if remaining <= 0 {
		reset = now.Add(time.Duration((f.level + 1 - capacity) / rate * float64(time.Second)))
	}
	return true, remaining, reset
}

func (f *Fake) rateHeaders(w http.ResponseWriter, remaining int, reset time.Time) {
	h := w.Header()
	h.Set("X-AircallApi-Limit", strconv.Itoa(f.opts.RateLimitPerMinute))
	h.Set("X-AircallApi-Remaining", strconv.Itoa(remaining))
	// Rounded up: a client waiting until this second is never early.
	s := reset.Unix()
	if reset.Nanosecond() > 0 {
		s++
	}
	h.Set("X-AircallApi-Reset", strconv.FormatInt(s, 10))
}

func writeError(w http.ResponseWriter, status int, msg, troubleshoot string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg, "troubleshoot": troubleshoot})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

type apiMeta struct {
	Count            int     `json:"count"`
	Total            int     `json:"total"`
	CurrentPage      int     `json:"current_page"`
	PerPage          int     `json:"per_page"`
	NextPageLink     *string `json:"next_page_link"`
	PreviousPageLink *string `json:"previous_page_link"`
}

func intParam(q url.Values, name string, def int64) (int64, bool) {
	s := q.Get(name)
	if s == "" {
		return def, true
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

func (f *Fake) list(w http.ResponseWriter, r *http.Request, search bool) {
	q := r.URL.Query()
	page, ok1 := intParam(q, "page", 1)
	per, ok2 := intParam(q, "per_page", 20)
	from, ok3 := intParam(q, "from", math.MinInt64)
	to, ok4 := intParam(q, "to", math.MaxInt64)
	order := q.Get("order")
	if order == "" {
		order = "asc"
	}
	if !ok1 || !ok2 || !ok3 || !ok4 || page < 1 || per < 1 || (order != "asc" && order != "desc") {
		writeError(w, http.StatusBadRequest, "Invalid parameters", "page and per_page must be positive integers, from and to UNIX timestamps, order asc or desc")
		return
	}
	per = min(per, MaxPerPage)
	pool := f.all
	if search {
		if u := q.Get("user_id"); u != "" {
			pool = f.byUser[u]
		}
	}
	now := f.opts.Now()
	sel := f.selectStarted(pool, from, to, now)
	total := len(sel)
	served := f.servedPage(page)
	offset := (served - 1) * per
	if offset >= int64(f.opts.MaxResults) {
		f.mu.Lock()
		f.stats.CapErrors++
		f.mu.Unlock()
		writeError(w, http.StatusBadRequest, CapErrorMessage, "")
		return
	}
	end := min(offset+per, int64(total), int64(f.opts.MaxResults))
	calls := []apiCall{}
	for i := offset; i < end; i++ {
		j := i
		if order == "desc" {
			j = int64(total) - 1 - i
		}
		c := f.org.Calls[sel[j]]
		a := f.render(c, f.stateAt(c, now), false)
		a.Padding = f.pad
		calls = append(calls, a)
	}
	meta := apiMeta{Count: len(calls), Total: total, CurrentPage: int(served), PerPage: int(per)}
	link := func(p int64) *string {
		qq := url.Values{}
		for k, v := range q {
			qq[k] = v
		}
		qq.Set("page", strconv.FormatInt(p, 10))
		qq.Set("per_page", strconv.FormatInt(per, 10))
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		s := scheme + "://" + r.Host + r.URL.Path + "?" + qq.Encode()
		return &s
	}
	switch {
	case f.opts.LoopPage > 0 && page >= int64(f.opts.LoopPage) && len(calls) > 0:
		meta.NextPageLink = link(served)
	case f.opts.RepeatPage > 0 && page >= int64(f.opts.RepeatPage) && len(calls) > 0:
		meta.NextPageLink = link(page + 1)
	case end < min(int64(total), int64(f.opts.MaxResults)):
		meta.NextPageLink = link(page + 1)
	}
	if page > 1 {
		meta.PreviousPageLink = link(page - 1)
	}
	f.mu.Lock()
	f.stats.CallsServed += len(calls)
	f.mu.Unlock()
	writeJSON(w, struct {
		Calls []apiCall `json:"calls"`
		Meta  apiMeta   `json:"meta"`
	}{calls, meta})
}

// servedPage is the page a request for page answers with: LoopPage and
// RepeatPage hold later pages on theirs.
func (f *Fake) servedPage(page int64) int64 {
	for _, stuck := range []int{f.opts.LoopPage, f.opts.RepeatPage} {
		if stuck > 0 && page > int64(stuck) {
			return int64(stuck)
		}
	}
	return page
}

// selectStarted returns the calls of pool (indices sorted by start) that
// started in [from, to] (inclusive, like Aircall) and by now.
func (f *Fake) selectStarted(pool []int, from, to int64, now time.Time) []int {
	calls := f.org.Calls
	lo := sort.Search(len(pool), func(i int) bool { return calls[pool[i]].StartedAt.Unix() >= from })
	hi := sort.Search(len(pool), func(i int) bool {
		s := calls[pool[i]].StartedAt
		return s.Unix() > to || s.After(now)
	})
	if hi < lo {
		return nil
	}
	return pool[lo:hi]
}

func (f *Fake) lookup(w http.ResponseWriter, r *http.Request, now time.Time) (fixture.Call, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	i, found := f.byID[id]
	if err != nil || !found || f.org.Calls[i].StartedAt.After(now) {
		writeError(w, http.StatusNotFound, "Not Found", "Call not found")
		return fixture.Call{}, false
	}
	return f.org.Calls[i], true
}

func (f *Fake) getCall(w http.ResponseWriter, r *http.Request) {
	now := f.opts.Now()
	c, ok := f.lookup(w, r, now)
	if !ok {
		return
	}
	writeJSON(w, map[string]apiCall{"call": f.render(c, f.stateAt(c, now), false)})
}

func (f *Fake) transcription(w http.ResponseWriter, r *http.Request) {
	if !f.opts.AIAddOn {
		writeError(w, http.StatusForbidden, "Forbidden", "This feature requires the Aircall AI add-on")
		return
	}
	now := f.opts.Now()
	c, ok := f.lookup(w, r, now)
	if !ok {
		return
	}
	if c.Outcome == "missed" || now.Before(c.EndedAt.Add(f.opts.TranscriptDelay)) {
		writeError(w, http.StatusNotFound, "Not Found", "Transcription not found")
		return
	}
	writeJSON(w, map[string]any{"transcription": fakeTranscript(c)})
}

func fakeTranscript(c fixture.Call) map[string]any {
	typ := "call"
	lines := []string{"Hello, thanks for calling.", "Hi, I have a question about my account.", "Sure, let me look that up.", "Thanks, that helps.", "Anything else I can do?", "No, that's all."}
	if c.Outcome == "voicemail" {
		typ = "voicemail"
		lines = []string{"Hi, please call me back about my order."}
	}
	var utts []map[string]any
	t := 0.0
	for i, l := range lines {
		who := "external"
		if typ == "call" && i%2 == 0 {
			who = "internal"
		}
		d := 1.5 + float64(len(l))/15
		utts = append(utts, map[string]any{
			"start_time": t, "end_time": t + d, "text": l,
			"participant_type": who, "phone_number": nil, "user_id": nil,
		})
		t += d + 0.3
	}
	return map[string]any{
		"id": c.ID + 1, "call_id": c.ID, "type": typ, "created_at": c.EndedAt.Unix(),
		"content": map[string]any{"language": "en-US", "utterances": utts},
	}
}

// callState is what a call looks like at one moment.
type callState struct {
	status   string
	answered bool
	ended    bool
	// at is the moment notes and tags are taken at.
	at time.Time
}

func (f *Fake) stateAt(c fixture.Call, t time.Time) callState {
	st := callState{status: "initial", at: t}
	if c.AnsweredAt != nil && !t.Before(*c.AnsweredAt) {
		st.answered, st.status = true, "answered"
	}
	if !t.Before(c.EndedAt) {
		st.ended, st.status = true, "done"
	}
	return st
}

type apiUser struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type apiNumber struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Digits   string `json:"digits"`
	TimeZone string `json:"time_zone"`
}

type apiTeam struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type apiTag struct {
	ID          int64   `json:"id"`
	Name        string  `json:"name"`
	Color       string  `json:"color"`
	Description *string `json:"description"`
}

type apiComment struct {
	ID       int64  `json:"id"`
	Content  string `json:"content"`
	PostedAt int64  `json:"posted_at"`
	PostedBy *int64 `json:"posted_by"`
}

// apiCall is a call object with Aircall's field names and order.
type apiCall struct {
	ID                     int64        `json:"id"`
	DirectLink             string       `json:"direct_link"`
	Direction              string       `json:"direction"`
	Status                 string       `json:"status"`
	MissedCallReason       *string      `json:"missed_call_reason"`
	StartedAt              int64        `json:"started_at"`
	AnsweredAt             *int64       `json:"answered_at"`
	EndedAt                *int64       `json:"ended_at"`
	Duration               int          `json:"duration"`
	RawDigits              string       `json:"raw_digits"`
	Recording              *string      `json:"recording"`
	Asset                  *string      `json:"asset"`
	Voicemail              *string      `json:"voicemail"`
	User                   *apiUser     `json:"user"`
	Number                 apiNumber    `json:"number"`
	Teams                  []apiTeam    `json:"teams"`
	Tags                   []apiTag     `json:"tags"`
	Comments               []apiComment `json:"comments"`
	Contact                *struct{}    `json:"contact"`
	Archived               bool         `json:"archived"`
	ConferenceParticipants *[]struct{}  `json:"conference_participants,omitempty"`
	Participants           *[]struct{}  `json:"participants,omitempty"`
	// Padding is FakeOptions.PadCallBytes of filler; Aircall has no such
	// field.
	Padding string `json:"padding,omitempty"`
}

func ptr[T any](v T) *T { return &v }

func smallID(s string) int64 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return int64(h.Sum32()%900000) + 100000
}

// render draws c in state st; webhook payloads name the participants
// field differently from the REST API, as Aircall's do.
func (f *Fake) render(c fixture.Call, st callState, webhook bool) apiCall {
	a := apiCall{
		ID:         c.ID,
		DirectLink: fmt.Sprintf("%s/calls/%d", DefaultBaseURL, c.ID),
		Direction:  c.Direction,
		Status:     st.status,
		StartedAt:  c.StartedAt.Unix(),
		RawDigits:  c.Digits,
		Number:     apiNumber{ID: smallID(f.org.Name), Name: "Main line", Digits: "+1 415-555-0100", TimeZone: "America/Los_Angeles"},
		Teams:      []apiTeam{},
		Tags:       []apiTag{},
		Comments:   []apiComment{},
	}
	if c.Direction == "inbound" {
		a.Teams = append(a.Teams, apiTeam{ID: 5001, Name: "Support"})
	}
	if st.answered {
		a.AnsweredAt = ptr(c.AnsweredAt.Unix())
	}
	if c.UserID != "" && (c.Direction == "outbound" || st.answered) {
		u := f.users[c.UserID]
		id, _ := strconv.ParseInt(c.UserID, 10, 64)
		a.User = &apiUser{ID: id, Name: u.Name, Email: u.Email}
	}
	if st.ended {
		a.EndedAt = ptr(c.EndedAt.Unix())
		a.Duration = c.Duration
		if c.MissedReason != "" {
			a.MissedCallReason = ptr(c.MissedReason)
		}
		if st.answered {
			a.Recording = ptr(fmt.Sprintf("https://recordings.fake-aircall.example/calls/%d.mp3?X-Amz-Expires=3600", c.ID))
			a.Asset = ptr(fmt.Sprintf("https://assets.aircall.io/calls/%d/recording", c.ID))
		}
		if c.Outcome == "voicemail" {
			a.Voicemail = ptr(fmt.Sprintf("https://recordings.fake-aircall.example/calls/%d/voicemail.mp3?X-Amz-Expires=3600", c.ID))
		}
		notes, tags := c.NotesAt(st.at)
		late := !c.LateAt.IsZero() && !st.at.Before(c.LateAt)
		for i, n := range notes {
			posted := c.EndedAt
			if late && i >= len(c.EarlyNotes) {
				posted = c.LateAt
			}
			a.Comments = append(a.Comments, apiComment{ID: c.ID*10 + int64(i), Content: n, PostedAt: posted.Unix()})
		}
		for _, t := range tags {
			a.Tags = append(a.Tags, apiTag{ID: smallID(t), Name: t, Color: "#00B388"})
		}
	}
	if webhook {
		a.Participants = &[]struct{}{}
	} else {
		a.ConferenceParticipants = &[]struct{}{}
	}
	return a
}

// SendOptions configures Fake.SendWebhooks. Zero fields take the defaults
// noted.
type SendOptions struct {
	// Calls are the ids of the calls to send events for. Empty: the calls
	// started in [From, To); zero From and To: every call of the org.
	Calls []int64
	// From is the first start time selected when Calls is empty (zero:
	// the org's first call).
	From time.Time
	// To ends the selection, exclusive (zero: after the org's last call).
	To time.Time
	// Transcripts adds a transcription.created event for every answered
	// call and voicemail.
	Transcripts bool
	// Duplicates is the probability, 0 to 1, that an event is delivered
	// twice (Aircall delivers at least once). Default 0.
	Duplicates float64
	// Shuffle delivers events in random order (Aircall does not order).
	Shuffle bool
	// Seed makes duplication and shuffling reproducible. Default 1.
	Seed int64
	// MaxAttempts is how often a delivery is tried while it gets no 2xx.
	// Default 3.
	MaxAttempts int
	// RetryDelay is the wait between attempts. Default 20ms.
	RetryDelay time.Duration
	// Concurrency is the number of deliveries in flight. Default 4.
	Concurrency int
	// HTTPClient sends the deliveries. Default: a client with a 5s timeout,
	// Aircall's wait for an answer.
	HTTPClient *http.Client
}

// SendReport says what SendWebhooks did.
type SendReport struct {
	// Events is the number of distinct events.
	Events int
	// Deliveries is the number of deliveries (events plus duplicates).
	Deliveries int
	// Acked is the number of deliveries answered 2xx.
	Acked int
	// Failed is the number of deliveries given up after MaxAttempts.
	Failed int
	// Attempts is the number of POSTs made.
	Attempts int
	// Status counts the answers by HTTP status (0: no answer).
	Status map[int]int
}

// webhookEvents returns the envelopes (without token) Aircall would send
// for call c, in the order they happened.
func (f *Fake) webhookEvents(c fixture.Call, transcripts bool) []webhookEnvelope {
	type ev struct {
		name string
		at   time.Time
		st   callState
	}
	evs := []ev{{"call.created", c.StartedAt, callState{status: "initial", at: c.StartedAt}}}
	if c.AnsweredAt != nil {
		evs = append(evs, ev{"call.answered", *c.AnsweredAt, callState{status: "answered", answered: true, at: *c.AnsweredAt}})
	}
	end := callState{status: "done", answered: c.AnsweredAt != nil, ended: true, at: c.EndedAt}
	evs = append(evs, ev{"call.ended", c.EndedAt, end})
	// Tags and comments are edits after the end: at LateAt for late ones,
	// else a second after the end (the agent's wrap-up).
	edit := c.EndedAt.Add(time.Second)
	if !c.LateAt.IsZero() {
		edit = c.LateAt
	}
	editSt := end
	editSt.at = edit
	if len(c.Tags) > 0 {
		evs = append(evs, ev{"call.tagged", edit, editSt})
	}
	if len(c.Notes) > 0 {
		evs = append(evs, ev{"call.commented", edit, editSt})
	}
	var out []webhookEnvelope
	for _, e := range evs {
		data, _ := json.Marshal(f.render(c, e.st, true))
		out = append(out, webhookEnvelope{Resource: "call", Event: e.name, Timestamp: e.at.Unix(), Data: data})
	}
	if transcripts && c.Outcome != "missed" {
		typ := "call"
		if c.Outcome == "voicemail" {
			typ = "voicemail"
		}
		data, _ := json.Marshal(map[string]any{"id": c.ID + 1, "call_id": c.ID, "type": typ, "call_created_at": c.StartedAt.Unix()})
		out = append(out, webhookEnvelope{Resource: "transcription", Event: EventTranscriptionCreated, Timestamp: c.EndedAt.Add(30 * time.Second).Unix(), Data: data})
	}
	return out
}

type webhookEnvelope struct {
	Resource  string          `json:"resource"`
	Event     string          `json:"event"`
	Timestamp int64           `json:"timestamp"`
	Token     string          `json:"token"`
	Data      json.RawMessage `json:"data"`
}

// SendWebhooks posts the webhook events of the selected calls to url, as
// Aircall would: call.created, call.answered, call.ended, call.tagged,
// call.commented (and transcription.created), each with the call as it
// was at that moment, possibly duplicated and shuffled, retrying non-2xx
// answers. It fails only for bad options or when ctx ends; deliveries
// given up are counted in the report.
func (f *Fake) SendWebhooks(ctx context.Context, url, token string, opts SendOptions) (SendReport, error) {
	rep := SendReport{Status: map[int]int{}}
	if opts.Duplicates < 0 || opts.Duplicates > 1 {
		return rep, fmt.Errorf("fake aircall webhooks: Duplicates %v is not a probability between 0 and 1", opts.Duplicates)
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 3
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = 20 * time.Millisecond
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	var calls []fixture.Call
	if len(opts.Calls) > 0 {
		for _, id := range opts.Calls {
			i, ok := f.byID[id]
			if !ok {
				return rep, fmt.Errorf("fake aircall webhooks: call %d is not in org %q", id, f.org.Name)
			}
			calls = append(calls, f.org.Calls[i])
		}
	} else {
		for _, c := range f.org.Calls {
			if (opts.From.IsZero() || !c.StartedAt.Before(opts.From)) && (opts.To.IsZero() || c.StartedAt.Before(opts.To)) {
				calls = append(calls, c)
			}
		}
	}
	rng := rand.New(rand.NewPCG(uint64(opts.Seed), 0x5eed))
	var bodies [][]byte
	for _, c := range calls {
		for _, e := range f.webhookEvents(c, opts.Transcripts) {
			e.Token = token
			b, err := json.Marshal(e)
			if err != nil {
				return rep, fmt.Errorf("fake aircall webhooks: encoding %s of call %d: %w", e.Event, c.ID, err)
			}
			rep.Events++
			bodies = append(bodies, b)
			if opts.Duplicates > 0 && rng.Float64() < opts.Duplicates {
				bodies = append(bodies, b)
			}
		}
	}
	if opts.Shuffle {
		rng.Shuffle(len(bodies), func(i, j int) { bodies[i], bodies[j] = bodies[j], bodies[i] })
	}
	rep.Deliveries = len(bodies)

	var mu sync.Mutex
	work := make(chan []byte)
	var wg sync.WaitGroup
	for range opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				acked, attempts, statuses := deliver(ctx, opts, url, b)
				mu.Lock()
				rep.Attempts += attempts
				for _, s := range statuses {
					rep.Status[s]++
				}
				if acked {
					rep.Acked++
				} else {
					rep.Failed++
				}
				mu.Unlock()
			}
		}()
	}
	for _, b := range bodies {
		select {
		case work <- b:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("fake aircall webhooks: %d of %d deliveries acked before: %w", rep.Acked, rep.Deliveries, err)
	}
	return rep, nil
}

func deliver(ctx context.Context, opts SendOptions, url string, body []byte) (acked bool, attempts int, statuses []int) {
	for attempt := 1; attempt <= opts.MaxAttempts; attempt++ {
		if attempt > 1 {
			t := time.NewTimer(opts.RetryDelay)
			select {
			case <-ctx.Done():
				t.Stop()
				return false, attempts, statuses
			case <-t.C:
			}
		}
		attempts++
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return false, attempts, append(statuses, 0)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "Aircall-Webhooks (fake)")
		resp, err := opts.HTTPClient.Do(req)
		if err != nil {
			statuses = append(statuses, 0)
			if errors.Is(err, context.Canceled) || ctx.Err() != nil {
				return false, attempts, statuses
			}
			continue
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return true, attempts, statuses
		}
	}
	return false, attempts, statuses
}
