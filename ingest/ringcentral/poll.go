package ringcentral

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/model"
)

// maxPages stops a paging loop whose server keeps offering a next page.
const maxPages = 10000

// stream is one request stream: an extension's call log, or the account's.
type stream struct {
	ext string // "" for the account-level call log
}

func (s stream) String() string {
	if s.ext == "" {
		return "account"
	}
	return "extension " + s.ext
}

// checkpointJob names the stream's checkpoint series under job.
func (s stream) checkpointJob(job string) string {
	if s.ext == "" {
		return job + "/account"
	}
	return job + "/extension/" + s.ext
}

func (c *Client) path(s stream, endpoint string) string {
	p := "/restapi/v1.0/account/" + url.PathEscape(c.cfg.AccountID)
	if s.ext != "" {
		p += "/extension/" + url.PathEscape(s.ext)
	}
	return p + "/" + endpoint
}

func (c *Client) streams(userIDs []string) ([]stream, error) {
	if c.cfg.Mode == ModeAccount {
		return []stream{{}}, nil
	}
	seen := map[string]bool{}
	var out []stream
	for _, id := range userIDs {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] {
			continue
		}
		if strings.ContainsAny(id, "/?#") {
			return nil, fmt.Errorf("ringcentral extension id %q is not an extension id: check the employee's mapping", id)
		}
		seen[id] = true
		out = append(out, stream{ext: id})
	}
	return out, nil
}

func (c *Client) checkOrg(org string) (string, error) {
	if org != "" && org != c.org {
		return "", fmt.Errorf("ringcentral client of org %q asked to sync org %q", c.org, org)
	}
	return c.org, nil
}

// splitWindow cuts w into base windows of size, aligned on w.From so a
// rerun of the same request yields the same checkpoint keys.
func splitWindow(w ingest.Window, size time.Duration) ([]ingest.Window, error) {
	if w.From.IsZero() || w.To.IsZero() || !w.From.Before(w.To) {
		return nil, fmt.Errorf("ringcentral sync window %s is empty or inverted", w)
	}
	var out []ingest.Window
	for from := w.From; from.Before(w.To); from = from.Add(size) {
		to := from.Add(size)
		if to.After(w.To) {
			to = w.To
		}
		out = append(out, ingest.Window{From: from, To: to})
	}
	return out, nil
}

// Sync backfills every call started in req.Window: for each base window
// (Config.WindowSize) and each mapped extension (or the account, in
// ModeAccount) it reads the Detailed call log page by page, publishes each
// page as it arrives, and checkpoints the (stream, window) once its last
// page is published, so a killed backfill re-fetches at most the window it
// was in.
//
// Deleted records are requested (showDeleted=true) and published like the
// others, with "deleted": true in the body: a call published earlier and
// deleted since must reach the transform to be dropped there. SyncResult's
// Calls and PerUser therefore include deleted records. PerUser is keyed by
// extension id: the listed extension in ModeExtension, the record's
// extension.id in ModeAccount ("" when absent), so unmapped extensions show
// up in account mode. Windows counts the windows fetched by this run,
// SkippedWindows those a checkpoint said were done.
func (c *Client) Sync(ctx context.Context, req ingest.SyncRequest, sink ingest.Sink, cp ingest.Checkpoints, p ingest.Progress) (res ingest.SyncResult, err error) {
	if p == nil {
		p = ingest.NoProgress
	}
	org, err := c.checkOrg(req.Org)
	if err != nil {
		return res, err
	}
	windows, err := splitWindow(req.Window, c.cfg.WindowSize)
	if err != nil {
		return res, err
	}
	streams, err := c.streams(req.UserIDs)
	if err != nil {
		return res, err
	}
	res.PerUser = map[string]int{}
	run := &runState{p: p, st: ingest.Status{WindowsTotal: len(windows) * len(streams)}}
	defer func() { res.Requests = run.st.Requests }()
	if len(streams) == 0 {
		// The seed's first "zero calls" cause: say so rather than succeed quietly.
		c.log.Warn("ringcentral sync: no extension ids mapped, nothing to fetch; map employees to extensions or use mode \"account\"")
		return res, nil
	}
	checkpointing := cp != nil && req.Job != ""
	for _, w := range windows {
		for _, s := range streams {
			job := s.checkpointJob(req.Job)
			if checkpointing {
				done, err := cp.Done(ctx, job, w)
				if err != nil {
					return res, fmt.Errorf("reading the ringcentral checkpoint of %s window %s: %w", s, w, err)
				}
				if done {
					res.SkippedWindows++
					run.st.WindowsDone++
					run.update()
					continue
				}
			}
			run.st.Window = w
			run.update()
			n, err := c.fetchWindow(ctx, run, org, s, w, sink, &res)
			if err != nil {
				return res, err
			}
			res.Windows++
			if checkpointing {
				if err := cp.MarkDone(ctx, job, w, n); err != nil {
					return res, fmt.Errorf("checkpointing ringcentral %s window %s: %w", s, w, err)
				}
			}
			run.st.WindowsDone++
			run.update()
		}
	}
	c.log.Debug("ringcentral sync done", "calls", res.Calls, "requests", run.st.Requests, "windows", res.Windows, "skipped_windows", res.SkippedWindows)
	return res, nil
}

// callLogPage is a call-log answer; records stay raw so they are published
// byte for byte.
type callLogPage struct {
	Records []json.RawMessage `json:"records"`
	Paging  struct {
		Page       int `json:"page"`
		PerPage    int `json:"perPage"`
		TotalPages int `json:"totalPages"`
	} `json:"paging"`
	Navigation struct {
		NextPage *struct {
			URI string `json:"uri"`
		} `json:"nextPage"`
	} `json:"navigation"`
}

// recordHead is what the connector itself needs from a record.
type recordHead struct {
	ID        json.RawMessage `json:"id"`
	StartTime string          `json:"startTime"`
	Extension *struct {
		ID json.RawMessage `json:"id"`
	} `json:"extension"`
}

// ErrNoProgress is wrapped by the error of a call log whose
// navigation.nextPage points at the page just read: paging on would never
// end, so the sync stops with the window unfinished (not checkpointed).
var ErrNoProgress = errors.New("ringcentral paging makes no progress")

// fetchWindow reads and publishes one stream's call log for w, returning
// the number of calls published. A page over MaxResponseBytes splits w in
// two (recursively); calls published before the split are not published
// again.
func (c *Client) fetchWindow(ctx context.Context, run *runState, org string, s stream, w ingest.Window, sink ingest.Sink, res *ingest.SyncResult) (int, error) {
	f := &windowFetch{c: c, run: run, org: org, s: s, sink: sink, res: res, seen: map[string]struct{}{}}
	return f.fetch(ctx, w)
}

// windowFetch is the state of one fetchWindow.
type windowFetch struct {
	c    *Client
	run  *runState
	org  string
	s    stream
	sink ingest.Sink
	res  *ingest.SyncResult
	// seen holds the ids published in this base window, so a range read
	// again after a split publishes each call once.
	seen map[string]struct{}
}

// fetch reads and publishes w page by page.
func (f *windowFetch) fetch(ctx context.Context, w ingest.Window) (int, error) {
	c, s := f.c, f.s
	q := url.Values{
		"type":        {"Voice"},
		"view":        {"Detailed"},
		"showDeleted": {"true"},
		"dateFrom":    {formatTime(w.From)},
		"dateTo":      {formatTime(w.To)},
		"page":        {"1"},
		"perPage":     {strconv.Itoa(c.cfg.PerPage)},
	}
	next := c.path(s, "call-log") + "?" + q.Encode()
	published := 0
	for page := 1; next != ""; page++ {
		if page > maxPages {
			return published, fmt.Errorf("fetching ringcentral call log for %s window %s: more than %d pages, the server keeps offering a next page", s, w, maxPages)
		}
		body, err := c.get(ctx, f.run, next)
		if errors.Is(err, ErrResponseTooLarge) {
			n, serr := f.split(ctx, w, page)
			return published + n, serr
		}
		if err != nil {
			return published, fmt.Errorf("fetching ringcentral call log for %s window %s page %d: %w", s, w, page, err)
		}
		n, pg, err := f.publishPage(ctx, w, page, body)
		published += n
		if err != nil {
			return published, err
		}
		cur := next
		next, err = c.nextPage(cur, pg, page)
		if err != nil {
			return published, fmt.Errorf("paging ringcentral call log for %s window %s after page %d: %w", s, w, page, err)
		}
		if next == cur {
			return published, fmt.Errorf("ringcentral call log for %s window %s page %d: %w: its navigation.nextPage is the page itself; stopped with the window unfinished, so the next sync fetches it again",
				s, w, page, ErrNoProgress)
		}
	}
	return published, nil
}

// publishPage publishes the records of one call-log page that started in
// w and were not published yet in this base window.
func (f *windowFetch) publishPage(ctx context.Context, w ingest.Window, page int, body []byte) (int, callLogPage, error) {
	observed := f.c.cfg.Now()
	var pg callLogPage
	if err := json.Unmarshal(body, &pg); err != nil {
		return 0, pg, fmt.Errorf("reading ringcentral call log for %s window %s page %d: %w", f.s, w, page, err)
	}
	calls := make([]model.RawCall, 0, len(pg.Records))
	for _, rec := range pg.Records {
		rc, start, ok := f.c.rawCall(f.org, f.s, rec, observed)
		// The server's dateTo may be inclusive; keep windows half-open
		// so a call on a boundary belongs to exactly one window.
		if ok && (start.Before(w.From) || !start.Before(w.To)) {
			continue
		}
		if _, dup := f.seen[rc.CallID]; dup && rc.CallID != "" {
			continue
		}
		calls = append(calls, rc)
	}
	if err := f.c.publish(ctx, f.sink, calls, f.res); err != nil {
		return 0, pg, fmt.Errorf("publishing ringcentral calls of %s window %s page %d: %w", f.s, w, page, err)
	}
	for _, rc := range calls {
		if rc.CallID != "" {
			f.seen[rc.CallID] = struct{}{}
		}
	}
	f.run.st.Calls += len(calls)
	f.run.update()
	return len(calls), pg, nil
}

// split reads the two halves of w, whose page was over MaxResponseBytes;
// a window of one second or less cannot shrink and fails naming the limit.
func (f *windowFetch) split(ctx context.Context, w ingest.Window, page int) (int, error) {
	mid := w.From.Add(w.Duration() / 2).Truncate(time.Second)
	if !mid.After(w.From) || !mid.Before(w.To) {
		return 0, fmt.Errorf("fetching ringcentral call log for %s window %s page %d: %w, and the window is one second and cannot be split further",
			f.s, w, page, ErrResponseTooLarge)
	}
	f.c.log.Warn("a ringcentral call-log page was over the response limit; splitting the window",
		"limit_mib", MaxResponseBytes>>20, "stream", f.s.String(), "window", w.String(), "page", page)
	a, err := f.fetch(ctx, ingest.Window{From: w.From, To: mid})
	if err != nil {
		return a, err
	}
	b, err := f.fetch(ctx, ingest.Window{From: mid, To: w.To})
	return a + b, err
}

// nextPage returns the path and query of the page after pg, "" when done.
// navigation.nextPage is preferred; its host is ignored so the bearer token
// only ever goes to BaseURL.
func (c *Client) nextPage(cur string, pg callLogPage, page int) (string, error) {
	if pg.Navigation.NextPage != nil && pg.Navigation.NextPage.URI != "" {
		u, err := url.Parse(pg.Navigation.NextPage.URI)
		if err != nil {
			return "", fmt.Errorf("bad navigation.nextPage uri %q: %w", pg.Navigation.NextPage.URI, err)
		}
		if !strings.HasPrefix(u.Path, "/restapi/") {
			return "", fmt.Errorf("navigation.nextPage uri %q is not a Platform API path", pg.Navigation.NextPage.URI)
		}
		return u.EscapedPath() + "?" + u.RawQuery, nil
	}
	n := pg.Paging.Page
	if n == 0 {
		n = page
	}
	if pg.Paging.TotalPages <= n || len(pg.Records) == 0 {
		return "", nil
	}
	// No navigation but totalPages says there is more: ask for page n+1.
	u, err := url.Parse(cur)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("page", strconv.Itoa(n+1))
	return u.EscapedPath() + "?" + q.Encode(), nil
}

// rawCall wraps one record for publishing. It also returns the record's
// start time when it parses (ok), for window filtering. Records the
// connector cannot read are still published: the transform dead-letters
// them where an operator can see them.
func (c *Client) rawCall(org string, s stream, rec json.RawMessage, observed time.Time) (model.RawCall, time.Time, bool) {
	rc := model.RawCall{
		Org:        org,
		Provider:   Name,
		Source:     model.SourcePoll,
		ObservedAt: observed,
		UserHint:   s.ext,
		Body:       rec,
	}
	var h recordHead
	if err := json.Unmarshal(rec, &h); err != nil {
		c.log.Warn("ringcentral record is not a call object; publishing it for the dead letters", "err", err)
		return rc, time.Time{}, false
	}
	rc.CallID = jsonID(h.ID)
	if rc.CallID == "" {
		c.log.Warn("ringcentral record has no id; publishing it for the dead letters", "stream", s.String())
	}
	start, err := parseTime(h.StartTime)
	return rc, start, err == nil
}

// publish sends calls and counts them per extension.
func (c *Client) publish(ctx context.Context, sink ingest.Sink, calls []model.RawCall, res *ingest.SyncResult) error {
	if len(calls) == 0 {
		return nil
	}
	if err := sink.Publish(ctx, calls); err != nil {
		return err
	}
	if res != nil {
		res.Calls += len(calls)
		for _, rc := range calls {
			res.PerUser[userOf(rc)]++
		}
	}
	return nil
}

// userOf is the extension a raw call counts for: the body's extension.id,
// else the extension it was listed under.
func userOf(rc model.RawCall) string {
	var h recordHead
	if json.Unmarshal(rc.Body, &h) == nil && h.Extension != nil {
		if id := jsonID(h.Extension.ID); id != "" {
			return id
		}
	}
	return rc.UserHint
}

// syncAnswer is a Call Log Sync answer.
type syncAnswer struct {
	Records  []json.RawMessage `json:"records"`
	SyncInfo struct {
		SyncType          string `json:"syncType"`
		SyncToken         string `json:"syncToken"`
		SyncTime          string `json:"syncTime"`
		OlderRecordsExist bool   `json:"olderRecordsExist"`
	} `json:"syncInfo"`
}

// Follow publishes new and changed calls until ctx ends, polling every
// `every` with Call Log Sync per stream (per mapped extension, or the
// account in ModeAccount). The first round of a stream is a full sync
// (FSync) from req.Window.From; when that returns a full recordCount the
// older calls since req.Window.From are read from the call log, so nothing
// between From and the first sync is missed. Later rounds are incremental
// (ISync); a token the server rejects (over 250 changes, expired) falls
// back to a new FSync from req.Window.From. A sync token only advances
// once its records are published, so a failed publish is retried next
// round. Credential and account/extension errors end Follow; other errors
// are logged and retried next round. Follow returns nil when ctx ends.
//
// Per-extension Follow costs one Heavy request per extension per round, so
// with the default 10 requests/min a large org should follow in
// ModeAccount.
func (c *Client) Follow(ctx context.Context, req ingest.SyncRequest, sink ingest.Sink, every time.Duration) error {
	if every <= 0 {
		return fmt.Errorf("ringcentral follow: poll interval %v must be positive", every)
	}
	if req.Window.From.IsZero() {
		return errors.New("ringcentral follow: req.Window.From is required (where the first full sync starts)")
	}
	org, err := c.checkOrg(req.Org)
	if err != nil {
		return err
	}
	streams, err := c.streams(req.UserIDs)
	if err != nil {
		return err
	}
	if len(streams) == 0 {
		c.log.Warn("ringcentral follow: no extension ids mapped, nothing to follow")
	}
	tokens := map[stream]string{}
	run := &runState{}
	for {
		for _, s := range streams {
			err := c.followStream(ctx, run, org, req.Window.From, s, tokens, sink)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				if fatal(err) {
					return err
				}
				c.log.Warn("ringcentral follow round failed; retrying next round", "stream", s.String(), "err", err)
			}
		}
		if c.cfg.Sleep(ctx, every) != nil {
			return nil
		}
	}
}

// fatal errors need an operator; retrying them only burns rate limit.
func fatal(err error) bool {
	return ingest.IsAuth(err) || errors.Is(err, ErrAccountNotFound) || errors.Is(err, ErrExtensionNotFound)
}

func (c *Client) followStream(ctx context.Context, run *runState, org string, from time.Time, s stream, tokens map[stream]string, sink ingest.Sink) error {
	if tok := tokens[s]; tok != "" {
		q := url.Values{"syncType": {"ISync"}, "syncToken": {tok}}
		ans, observed, err := c.syncCall(ctx, run, s, q)
		switch {
		case err == nil:
			calls := c.rawCalls(org, s, ans.Records, observed)
			if err := c.publish(ctx, sink, calls, nil); err != nil {
				return fmt.Errorf("publishing ringcentral incremental sync of %s: %w", s, err)
			}
			if ans.SyncInfo.SyncToken != "" {
				tokens[s] = ans.SyncInfo.SyncToken
			}
			return nil
		case tokenRejected(err):
			c.log.Info("ringcentral sync token rejected; running a full sync", "stream", s.String(), "err", err)
			delete(tokens, s)
		default:
			return fmt.Errorf("incremental ringcentral call log sync of %s: %w", s, err)
		}
	}
	q := url.Values{
		"syncType":    {"FSync"},
		"recordCount": {strconv.Itoa(c.cfg.SyncRecordCount)},
		"dateFrom":    {formatTime(from)},
	}
	ans, observed, err := c.syncCall(ctx, run, s, q)
	if err != nil {
		return fmt.Errorf("full ringcentral call log sync of %s: %w", s, err)
	}
	calls := c.rawCalls(org, s, ans.Records, observed)
	if err := c.publish(ctx, sink, calls, nil); err != nil {
		return fmt.Errorf("publishing ringcentral full sync of %s: %w", s, err)
	}
	if ans.SyncInfo.OlderRecordsExist || len(ans.Records) >= c.cfg.SyncRecordCount {
		// FSync returns only the newest recordCount calls: read the rest
		// since from out of the call log.
		oldest := time.Time{}
		for _, rec := range ans.Records {
			var h recordHead
			if json.Unmarshal(rec, &h) != nil {
				continue
			}
			if t, err := parseTime(h.StartTime); err == nil && (oldest.IsZero() || t.Before(oldest)) {
				oldest = t
			}
		}
		if !oldest.IsZero() && oldest.After(from) {
			res := ingest.SyncResult{PerUser: map[string]int{}}
			// +1ms: the oldest synced call itself is re-read rather than
			// risking the ones that share its start time.
			w := ingest.Window{From: from, To: oldest.Add(time.Millisecond)}
			if _, err := c.fetchWindow(ctx, run, org, s, w, sink, &res); err != nil {
				return fmt.Errorf("reading ringcentral calls older than the full sync of %s: %w", s, err)
			}
		}
	}
	if ans.SyncInfo.SyncToken == "" {
		return fmt.Errorf("full ringcentral call log sync of %s: answer has no syncInfo.syncToken", s)
	}
	tokens[s] = ans.SyncInfo.SyncToken
	return nil
}

func (c *Client) syncCall(ctx context.Context, run *runState, s stream, q url.Values) (syncAnswer, time.Time, error) {
	var ans syncAnswer
	body, err := c.get(ctx, run, c.path(s, "call-log-sync")+"?"+q.Encode())
	if err != nil {
		return ans, time.Time{}, err
	}
	observed := c.cfg.Now()
	if err := json.Unmarshal(body, &ans); err != nil {
		return ans, time.Time{}, fmt.Errorf("reading call log sync answer: %w", err)
	}
	return ans, observed, nil
}

func (c *Client) rawCalls(org string, s stream, recs []json.RawMessage, observed time.Time) []model.RawCall {
	calls := make([]model.RawCall, 0, len(recs))
	for _, rec := range recs {
		rc, _, _ := c.rawCall(org, s, rec, observed)
		calls = append(calls, rc)
	}
	return calls
}

// tokenRejected reports whether an ISync failed because of its token. The
// API's codes for this are not stable across versions, so any plain 4xx
// (auth, not-found and 429 are handled before) counts: a needless FSync is
// cheap, a stuck Follow is not.
func tokenRejected(err error) bool {
	if fatal(err) {
		return false
	}
	var ae *APIError
	return errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500
}

// formatTime renders t the way RingCentral writes times.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// jsonID renders an id that RingCentral sends as a string in some places
// and a number in others (extension.id is a number, from.extensionId a
// string).
func jsonID(raw json.RawMessage) string {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return ""
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}
