package aircall

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/model"
)

// listPage is one page of GET /v1/calls or /v1/calls/search. Calls stay raw
// so they are published byte for byte as Aircall sent them.
type listPage struct {
	Calls []json.RawMessage `json:"calls"`
	Meta  struct {
		Count            int     `json:"count"`
		Total            int     `json:"total"`
		CurrentPage      int     `json:"current_page"`
		PerPage          int     `json:"per_page"`
		NextPageLink     *string `json:"next_page_link"`
		PreviousPageLink *string `json:"previous_page_link"`
	} `json:"meta"`
}

// callKey is the part of a call object the poller routes by.
type callKey struct {
	ID   flexID   `json:"id"`
	User *userRef `json:"user"`
}

// Sync extracts every call started in req.Window and publishes it to sink.
//
// The window is cut into base windows of Config.WindowSize aligned to the
// UNIX epoch, so reruns with a slightly different range still share their
// checkpoint keys. A base window whose meta.total exceeds Config.MaxResults
// is bisected by time (recursively) before paging reaches the cap; a 400
// for paging past the cap bisects too, and calls seen twice in one base
// window are published once. Each base window is checkpointed in cp under
// req.Job after all its calls were published, and skipped when cp says it
// is done, so a killed backfill re-fetches at most one base window.
//
// Aircall's from/to are inclusive UNIX seconds, so the half-open window
// [a, b) is asked as from=a&to=b-1: a call on a window edge belongs to
// exactly one window.
func (c *Client) Sync(ctx context.Context, req ingest.SyncRequest, sink ingest.Sink, cp ingest.Checkpoints, p ingest.Progress) (ingest.SyncResult, error) {
	res := ingest.SyncResult{PerUser: map[string]int{}}
	if req.Org != "" && req.Org != c.org {
		return res, fmt.Errorf("aircall sync: request is for org %q but the client holds the credentials of org %q", req.Org, c.org)
	}
	if sink == nil {
		return res, errors.New("aircall sync: sink is nil")
	}
	if !req.Window.To.After(req.Window.From) {
		return res, fmt.Errorf("aircall sync: window %s is empty: To must be after From", req.Window)
	}
	if c.cfg.Mode == ModePerUser && len(req.UserIDs) == 0 {
		return res, errors.New("aircall sync: per-user mode needs the mapped user ids in req.UserIDs (map users first, or use org mode)")
	}
	if p == nil {
		p = ingest.NoProgress
	}
	useCP := cp != nil && req.Job != ""
	base := baseWindows(req.Window, c.cfg.WindowSize)
	r := &syncRun{c: c, sink: sink, p: p, res: &res}
	r.st.WindowsTotal = len(base)
	p.Update(r.st)

	for _, w := range base {
		win := ingest.Window{From: time.Unix(w[0], 0).UTC(), To: time.Unix(w[1], 0).UTC()}
		if useCP {
			done, err := cp.Done(ctx, req.Job, win)
			if err != nil {
				return res, fmt.Errorf("reading checkpoint of aircall window %s (job %q): %w", win, req.Job, err)
			}
			if done {
				res.SkippedWindows++
				r.st.WindowsDone++
				p.Update(r.st)
				continue
			}
		}
		r.seen = map[string]struct{}{}
		before := res.Calls
		var err error
		if c.cfg.Mode == ModePerUser {
			for _, u := range req.UserIDs {
				if _, err = r.fetchRange(ctx, w[0], w[1], u); err != nil {
					err = fmt.Errorf("user %s: %w", u, err)
					break
				}
			}
		} else {
			_, err = r.fetchRange(ctx, w[0], w[1], "")
		}
		n := res.Calls - before
		if err != nil {
			return res, fmt.Errorf("aircall sync of window %s (%d calls of it published, %d in all): %w", win, n, res.Calls, err)
		}
		if useCP {
			if err := cp.MarkDone(ctx, req.Job, win, n); err != nil {
				return res, fmt.Errorf("checkpointing aircall window %s (job %q) after %d calls: %w", win, req.Job, n, err)
			}
		}
		res.Windows++
		r.st.WindowsDone++
		p.Update(r.st)
		c.log.Debug("aircall window done", "window", win.String(), "calls", n, "requests", res.Requests)
	}
	r.seen = nil
	return res, nil
}

// baseWindows cuts [from, to) into [a, b) pairs of UNIX seconds at
// multiples of size; the first and last may be partial.
func baseWindows(w ingest.Window, size time.Duration) [][2]int64 {
	from, to := ceilUnix(w.From), ceilUnix(w.To)
	step := int64(size / time.Second)
	var out [][2]int64
	for a := from; a < to; {
		b := floorDiv(a, step)*step + step
		b = min(b, to)
		out = append(out, [2]int64{a, b})
		a = b
	}
	return out
}

func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// syncRun is the state of one Sync call.
type syncRun struct {
	c    *Client
	sink ingest.Sink
	p    ingest.Progress
	res  *ingest.SyncResult
	st   ingest.Status
	// seen holds the call ids published in the current base window, so a
	// range re-fetched after a cap error publishes each call once.
	seen map[string]struct{}
}

func (r *syncRun) onRequest() {
	r.res.Requests++
	r.st.Requests = r.res.Requests
	r.p.Update(r.st)
}

func (r *syncRun) onWait(d time.Duration, reason string) {
	r.st.Waiting, r.st.WaitReason = d, reason
	r.p.Update(r.st)
}

// ErrNoProgress is wrapped by the error of a listing whose next page
// brings nothing new: its next_page_link is the same as the page before's,
// or it lists only calls earlier pages of the same range listed. Paging
// on would never end, so the sync stops with the window unfinished (not
// checkpointed); what it published stays published.
var ErrNoProgress = errors.New("aircall paging makes no progress")

// fetchRange publishes the calls started in [from, to) (UNIX seconds),
// listed for user (empty: the whole company).
func (r *syncRun) fetchRange(ctx context.Context, from, to int64, user string) (int, error) {
	r.st.Window = ingest.Window{From: time.Unix(from, 0).UTC(), To: time.Unix(to, 0).UTC()}
	r.p.Update(r.st)
	per := r.c.cfg.PerPage
	capN := r.c.cfg.MaxResults
	published := 0
	progress := pageProgress{ids: map[string]struct{}{}}
	for page := 1; ; page++ {
		lp, fetchedAt, err := r.c.listCalls(ctx, from, to, user, page, r)
		if err != nil {
			if why := splitReason(err); why != "" {
				r.c.log.Warn("splitting an aircall window", "reason", why, "window", r.st.Window.String(), "page", page)
				n, serr := r.split(ctx, from, to, user, why)
				return published + n, serr
			}
			return published, fmt.Errorf("fetching aircall calls page %d of %s: %w", page, r.st.Window, err)
		}
		if page == 1 && lp.Meta.Total > capN {
			return r.split(ctx, from, to, user, fmt.Sprintf("more than the %d calls one aircall query returns", capN))
		}
		n, err := r.publish(ctx, lp.Calls, fetchedAt, user)
		published += n
		if err != nil {
			return published, err
		}
		// meta.total counts too: a listing that stops offering a next page
		// at the cap must not silently end the window short.
		more := len(lp.Calls) > 0 &&
			((lp.Meta.NextPageLink != nil && *lp.Meta.NextPageLink != "") || page*per < lp.Meta.Total)
		if !more {
			return published, nil
		}
		if why := progress.check(page, lp); why != "" {
			return published, fmt.Errorf("aircall calls page %d of %s: %w: %s; stopped with the window unfinished, so the next sync fetches it again",
				page, r.st.Window, ErrNoProgress, why)
		}
		if page*per >= capN {
			// The window grew past the cap while we paged it (calls still
			// arriving): the next page would be refused.
			n, err := r.split(ctx, from, to, user, fmt.Sprintf("more than the %d calls one aircall query returns", capN))
			return published + n, err
		}
	}
}

// splitReason says why err calls for splitting the window rather than
// failing: Aircall's 400 for paging past its cap, or a page over the
// response limit. Empty: it does not.
func splitReason(err error) string {
	switch {
	case isCapError(err):
		return fmt.Sprintf("aircall refused to page past its cap of %d calls", DefaultMaxResults)
	case errors.Is(err, ErrResponseTooLarge):
		return fmt.Sprintf("a page of calls was over the %d MiB limit on one response", MaxResponseBytes>>20)
	}
	return ""
}

// pageProgress tells a listing that moves on from one that loops: the
// call ids and the next_page_link of the pages of one range so far.
type pageProgress struct {
	ids      map[string]struct{}
	lastLink string
	linkPage int
}

// check records page and says why it made no progress, or "" when it did.
func (p *pageProgress) check(page int, lp listPage) string {
	fresh, known := 0, 0
	for _, raw := range lp.Calls {
		var k callKey
		if json.Unmarshal(raw, &k) != nil || k.ID == "" {
			continue
		}
		known++
		if _, ok := p.ids[string(k.ID)]; !ok {
			fresh++
			p.ids[string(k.ID)] = struct{}{}
		}
	}
	link := ""
	if lp.Meta.NextPageLink != nil {
		link = *lp.Meta.NextPageLink
	}
	prevLink, prevPage := p.lastLink, p.linkPage
	p.lastLink, p.linkPage = link, page
	switch {
	case known > 0 && fresh == 0:
		return fmt.Sprintf("it lists only the %d calls earlier pages listed", known)
	case link != "" && link == prevLink:
		return fmt.Sprintf("its next_page_link is the same as page %d's", prevPage)
	}
	return ""
}

// split bisects [from, to) and fetches both halves; why says what made the
// window too big, for the error when it is one second already.
func (r *syncRun) split(ctx context.Context, from, to int64, user, why string) (int, error) {
	if to-from <= 1 {
		return 0, fmt.Errorf("aircall window %s is one second and cannot be split further: %s",
			ingest.Window{From: time.Unix(from, 0).UTC(), To: time.Unix(to, 0).UTC()}, why)
	}
	mid := from + (to-from)/2
	a, err := r.fetchRange(ctx, from, mid, user)
	if err != nil {
		return a, err
	}
	b, err := r.fetchRange(ctx, mid, to, user)
	return a + b, err
}

// listCalls fetches one page of calls started in [from, to).
func (c *Client) listCalls(ctx context.Context, from, to int64, user string, page int, tr tracker) (listPage, time.Time, error) {
	q := url.Values{}
	q.Set("from", strconv.FormatInt(from, 10))
	q.Set("to", strconv.FormatInt(to-1, 10))
	q.Set("order", "asc")
	q.Set("page", strconv.Itoa(page))
	q.Set("per_page", strconv.Itoa(c.cfg.PerPage))
	path := "/calls"
	if user != "" {
		path = "/calls/search"
		q.Set("user_id", user)
	}
	var lp listPage
	body, at, err := c.get(ctx, path, q, tr)
	if err != nil {
		return lp, at, err
	}
	if err := json.Unmarshal(body, &lp); err != nil {
		return lp, at, fmt.Errorf("decoding aircall calls listing: %w", err)
	}
	return lp, at, nil
}

// publish sends one page of calls to the sink, skipping calls already
// published in this base window.
func (r *syncRun) publish(ctx context.Context, raws []json.RawMessage, fetchedAt time.Time, listedUser string) (int, error) {
	batch := make([]model.RawCall, 0, len(raws))
	users := make([]string, 0, len(raws))
	for _, raw := range raws {
		var k callKey
		// A call object we cannot read is published anyway: the transform
		// dead-letters it with a reason an operator can see.
		_ = json.Unmarshal(raw, &k)
		id := string(k.ID)
		if id != "" {
			if _, dup := r.seen[id]; dup {
				continue
			}
		}
		user := ""
		if k.User != nil {
			user = string(k.User.ID)
		}
		hint := ""
		if user == "" && listedUser != "" {
			hint = listedUser
		}
		batch = append(batch, model.RawCall{
			Org:        r.c.org,
			Provider:   Name,
			CallID:     id,
			Source:     model.SourcePoll,
			ObservedAt: fetchedAt,
			UserHint:   hint,
			Body:       raw,
		})
		if user == "" {
			user = hint
		}
		users = append(users, user)
	}
	if len(batch) == 0 {
		return 0, nil
	}
	if err := r.sink.Publish(ctx, batch); err != nil {
		return 0, fmt.Errorf("publishing %d aircall calls: %w", len(batch), err)
	}
	for i, rc := range batch {
		if rc.CallID != "" {
			r.seen[rc.CallID] = struct{}{}
		}
		r.res.PerUser[users[i]]++
	}
	r.res.Calls += len(batch)
	r.st.Calls = r.res.Calls
	r.p.Update(r.st)
	return len(batch), nil
}

// Follow polls for new and updated calls until ctx ends, starting from
// req.Window.From (zero: Config.Overlap ago). Each round re-reads the calls
// created in the last Config.Overlap, because Aircall filters by creation
// time while tags and comments arrive after a call ended; a call edited more
// than Overlap after it started is only caught by webhooks. A failed round
// is logged and retried from the same point next round. Follow returns nil
// when ctx ends and an *ingest.AuthError as soon as credentials are
// rejected. Checkpoints are not used: every round is cheap to redo.
func (c *Client) Follow(ctx context.Context, req ingest.SyncRequest, sink ingest.Sink, every time.Duration) error {
	if every <= 0 {
		return fmt.Errorf("aircall follow: every must be positive, got %s", every)
	}
	from := req.Window.From
	if from.IsZero() {
		from = c.cfg.Now().Add(-c.cfg.Overlap)
	}
	floor := from
	for round := 1; ; round++ {
		start := c.cfg.Now()
		rreq := req
		rreq.Job = ""
		// +1s: the window is half-open and whole seconds, and a call that
		// started this very second should be seen this round.
		rreq.Window = ingest.Window{From: from, To: start.Add(time.Second)}
		res, err := c.Sync(ctx, rreq, sink, nil, nil)
		switch {
		case ctx.Err() != nil:
			return nil
		case ingest.IsAuth(err):
			return err
		case err != nil:
			c.log.Warn("aircall follow round failed; retrying next round", "round", round, "window", rreq.Window.String(), "err", err)
		default:
			c.log.Info("aircall follow round done", "round", round, "window", rreq.Window.String(), "calls", res.Calls, "requests", res.Requests)
			from = start.Add(-c.cfg.Overlap)
			if from.Before(floor) {
				from = floor
			}
		}
		if err := c.cfg.Sleep(ctx, every); err != nil || ctx.Err() != nil {
			return nil
		}
	}
}
