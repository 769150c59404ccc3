package serve

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/platform/obs"
	"github.com/phonesignals/phonesignals/queries"
)

// orgStatus is what a follower reports: in the metrics, and in sync_runs
// as one run per (replica, process) whose latest row carries the state
// (run id "serve/REPLICA/SESSION"; window_to is the start of the last
// successful round, i.e. everything created before it was published).
type orgStatus struct {
	started     time.Time
	from        time.Time
	lastSuccess time.Time
	status      string // running, ok, error, auth_error
	err         string
	failures    int
	calls       int
	requests    int
	rateWaits   int
	dirty       bool
	written     time.Time
}

func (f *follower) succeeded(start time.Time, w ingest.Window, res ingest.SyncResult) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.st.status != "ok" {
		f.st.dirty = true
		if f.st.failures > 0 {
			f.s.cfg.Logger.Info("org recovered", "org", f.org.Name, "after_failures", f.st.failures)
		}
	}
	if f.st.from.IsZero() || w.From.Before(f.st.from) {
		f.st.from = w.From
	}
	// Never backwards, even with a clock stepped back.
	if start.After(f.st.lastSuccess) {
		f.st.lastSuccess = start
	}
	f.st.status, f.st.err, f.st.failures = "ok", "", 0
	f.st.calls += res.Calls
	f.st.requests += res.Requests
}

// failed records a failed round or chunk and returns the back-off before
// the next; kind "" classifies err.
func (f *follower) failed(err error, a answers, kind string) time.Duration {
	if kind == "" {
		kind = classify(err, a)
	}
	fix := fixFor(kind, f.org.Name)
	obs.ServeOrgError(f.label, kind)
	f.mu.Lock()
	f.st.failures++
	status := "error"
	if kind == KindAuth {
		status = "auth_error"
	}
	msg := fmt.Sprintf("%s: %s (fix: %s)", kind, err, fix)
	f.st.dirty = f.st.dirty || f.st.status != status || f.st.err != msg
	f.st.status, f.st.err = status, msg
	n := f.st.failures
	f.mu.Unlock()
	d := f.backoff()
	f.s.cfg.Logger.Warn("org sync failed; the other orgs are not affected, this one is retried with back-off",
		"org", f.org.Name, "provider", f.org.Provider, "kind", kind, "failures", n, "retry_in", d.Round(time.Second), "err", err, "fix", fix)
	return d
}

// statusLoop writes changed statuses every few seconds (every
// Config.StatusEvery when nothing changed) and sets the freshness gauges,
// until ctx ends.
func (s *Service) statusLoop(ctx context.Context) {
	t := time.NewTicker(min(5*time.Second, s.cfg.StatusEvery))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		fs := make([]*follower, 0, len(s.followers))
		for _, f := range s.followers {
			fs = append(fs, f)
		}
		s.mu.Unlock()
		s.gauges(fs)
		var due []*follower
		now := time.Now()
		for _, f := range fs {
			f.mu.Lock()
			if f.st.dirty || now.Sub(f.st.written) >= s.cfg.StatusEvery {
				due = append(due, f)
			}
			f.mu.Unlock()
		}
		s.writeStatus(ctx, due)
	}
}

// gauges sets every followed org's freshness; the orgs past the label cap
// share obs.OtherOrg with the oldest success and the most behind.
func (s *Service) gauges(fs []*follower) {
	now := s.cfg.Now()
	var otherLast time.Time
	var otherBehind float64
	other := false
	for _, f := range fs {
		f.mu.Lock()
		last, started := f.st.lastSuccess, f.st.started
		f.mu.Unlock()
		behind := now.Sub(started).Seconds()
		if !last.IsZero() {
			behind = now.Sub(last).Seconds()
		}
		if f.label != obs.OtherOrg {
			obs.ServeOrgFreshness(f.label, unixOrZero(last), behind)
			continue
		}
		if !other || last.Before(otherLast) {
			otherLast = last
		}
		otherBehind = max(otherBehind, behind)
		other = true
	}
	if other {
		obs.ServeOrgFreshness(obs.OtherOrg, unixOrZero(otherLast), otherBehind)
	}
}

func unixOrZero(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

// writeStatus records fs' statuses in sync_runs in one insert.
func (s *Service) writeStatus(ctx context.Context, fs []*follower) {
	if len(fs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	b, err := s.cfg.Store.Conn().PrepareBatch(ctx, queries.InsertSyncRuns)
	if err != nil {
		s.cfg.Logger.Warn("recording org statuses", "err", err)
		return
	}
	now := time.Now().UTC()
	for _, f := range fs {
		f.mu.Lock()
		st := f.st
		f.st.dirty, f.st.written = false, now
		f.mu.Unlock()
		to := st.lastSuccess
		if to.IsZero() {
			to = st.started
		}
		from := st.from
		if from.IsZero() || from.After(to) {
			from = to
		}
		if err := b.Append(f.org.Name, f.runID, f.org.Provider, now, now, from.UTC(), to.UTC(), st.status, st.err,
			uint32(st.calls), uint32(st.requests)); err != nil {
			s.cfg.Logger.Warn("recording org statuses", "err", err)
			return
		}
	}
	if err := b.Send(); err != nil {
		s.cfg.Logger.Warn("recording org statuses", "orgs", len(fs), "err", err)
	}
}

// Owner is the replica named by a serve run id, "" for other runs.
func Owner(runID string) string {
	rest, ok := strings.CutPrefix(runID, "serve/")
	if !ok {
		return ""
	}
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		return rest[:i]
	}
	return rest
}
