package serve

import (
	"context"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/app/orgs"
	"github.com/phonesignals/phonesignals/internal/app/syncjob"
	"github.com/phonesignals/phonesignals/internal/platform/obs"
	"github.com/phonesignals/phonesignals/internal/store"
)

// follower keeps one org current on this replica: its own goroutine, its
// own connector (hence its own rate limiter, per credential) and HTTP
// transport, its own timeouts and back-off.
type follower struct {
	s     *Service
	org   store.Org
	fp    string
	runID string
	label string
	tr    *orgTransport

	soft, hard         context.Context
	stopSoft, stopHard context.CancelFunc
	done               chan struct{}

	mu sync.Mutex
	st orgStatus
}

func (s *Service) startFollower(o store.Org) *follower {
	f := &follower{s: s, org: o, fp: fingerprint(o), label: obs.ServeOrgLabel(o.Name),
		runID: "serve/" + s.cfg.Replica + "/" + s.session,
		tr:    &orgTransport{base: s.cfg.Transport, agent: UserAgent(s.cfg.Replica)}, done: make(chan struct{})}
	f.hard, f.stopHard = context.WithCancel(context.Background())
	f.soft, f.stopSoft = context.WithCancel(f.hard)
	f.st = orgStatus{started: s.cfg.Now(), status: "running", dirty: true}
	s.cfg.Logger.Info("following org", "org", o.Name, "provider", o.Provider, "replica", s.cfg.Replica)
	go f.run()
	return f
}

func (f *follower) run() {
	defer close(f.done)
	src, err := orgs.NewSource(f.s.cfg.Registry, f.s.cfg.Box, f.org, &http.Client{Timeout: f.s.cfg.RequestTimeout, Transport: f.tr})
	for err != nil {
		// Fixed by `org connect`, which changes the fingerprint and
		// restarts this follower; until then, retried with back-off.
		if !f.sleep(f.failed(err, answers{}, KindConfig)) {
			return
		}
		src, err = orgs.NewSource(f.s.cfg.Registry, f.s.cfg.Box, f.org, &http.Client{Timeout: f.s.cfg.RequestTimeout, Transport: f.tr})
	}
	var wg sync.WaitGroup
	if f.s.cfg.BackfillDays > 0 {
		wg.Go(func() { f.backfill(src) })
	}
	f.follow(src)
	wg.Wait()
}

// follow runs the polling rounds: every Config.Every it fetches the calls
// created since a little before the last successful round (recentOverlap,
// for calls still in progress then), and every Config.RereadEvery (and
// first) the whole Config.Reread window, for calls edited after they end.
func (f *follower) follow(src ingest.Source) {
	cfg := f.s.cfg
	recentOverlap := max(2*cfg.Every, 10*time.Minute)
	var lastStart, lastDeep time.Time
	for f.soft.Err() == nil {
		now := cfg.Now()
		deep := lastStart.IsZero() || now.Sub(lastDeep) >= cfg.RereadEvery
		from := lastStart.Add(-recentOverlap)
		if deep {
			from = now.Add(-cfg.Reread)
		}
		wait := cfg.Every
		if f.round(src, ingest.Window{From: from, To: now.Add(time.Second)}, now) {
			lastStart = now
			if deep {
				lastDeep = now
			}
		} else {
			wait = f.backoff()
		}
		if !f.sleep(wait) {
			return
		}
	}
}

// round fetches w once, publishing every call; ok says it succeeded.
func (f *follower) round(src ingest.Source, w ingest.Window, start time.Time) bool {
	ctx, cancel := context.WithTimeout(f.hard, f.s.cfg.RoundTimeout)
	defer cancel()
	before := f.tr.snapshot()
	users, err := syncjob.MappedUsers(ctx, f.s.cfg.Store, f.org.Name)
	var res ingest.SyncResult
	if err == nil {
		res, err = src.Sync(ctx, ingest.SyncRequest{Org: f.org.Name, Window: w, UserIDs: users}, kafkaSink{f.s.raw}, nil, f.progress())
	}
	if f.hard.Err() != nil {
		return false // stopped: not a failure of the org
	}
	if err != nil {
		f.failed(err, f.tr.snapshot().since(before), "")
		return false
	}
	f.succeeded(start, w, res)
	return true
}

// backfill fetches the last Config.BackfillDays days, a day at a time,
// newest first, each day through the fair pool and checkpointed, so a
// day finished by an earlier owner or run is skipped.
func (f *follower) backfill(src ingest.Source) {
	cfg := f.s.cfg
	now := cfg.Now().UTC()
	day := 24 * time.Hour
	first := now.Add(-time.Duration(cfg.BackfillDays) * day).Truncate(day)
	// Up to the day the first deep round reaches into.
	end := now.Add(-cfg.Reread).Truncate(day).Add(day)
	for to := end; to.After(first); to = to.Add(-day) {
		w := ingest.Window{From: to.Add(-day), To: to}
		for {
			if f.soft.Err() != nil {
				return
			}
			if f.chunkDone(w) || f.chunk(src, w) {
				break
			}
			if !f.sleep(f.backoff()) {
				return
			}
		}
	}
	cfg.Logger.Info("backfill done", "org", f.org.Name, "from", first, "to", end)
}

func (f *follower) chunkDone(w ingest.Window) bool {
	ctx, cancel := context.WithTimeout(f.soft, 10*time.Second)
	defer cancel()
	done, err := f.s.cfg.Store.Checkpoints(f.org.Name).Done(ctx, syncjob.JobName(f.org.Provider, w.From, false, time.Time{}), w)
	return err == nil && done
}

// chunk runs one backfill day as a recorded sync job; ok says it worked.
func (f *follower) chunk(src ingest.Source, w ingest.Window) bool {
	release, err := f.s.pool.acquire(f.soft)
	if err != nil {
		return false
	}
	defer release()
	ctx, cancel := context.WithTimeout(f.hard, f.s.cfg.RoundTimeout)
	defer cancel()
	before := f.tr.snapshot()
	_, err = syncjob.Run(ctx, syncjob.Config{Store: f.s.cfg.Store, Source: src, Org: f.org, Window: w, Sink: kafkaSink{f.s.raw},
		Progress: f.progress(), Now: f.s.cfg.Now})
	if err != nil && f.hard.Err() == nil {
		f.failed(err, f.tr.snapshot().since(before), "")
	}
	return err == nil
}

// progress counts the connector's waits for the rate limit.
func (f *follower) progress() ingest.Progress {
	var waiting atomic.Bool
	return ingest.ProgressFunc(func(st ingest.Status) {
		w := st.RateLimitWait()
		if w && !waiting.Swap(true) {
			obs.ServeOrgRateWait(f.label, st.Waiting.Seconds())
			f.mu.Lock()
			f.st.rateWaits++
			f.mu.Unlock()
		} else if !w {
			waiting.Store(false)
		}
	})
}

// backoff is the wait after the org's latest failure: Config.Every
// doubling per consecutive failure up to Config.MaxBackoff, ±20%.
func (f *follower) backoff() time.Duration {
	f.mu.Lock()
	n := f.st.failures
	f.mu.Unlock()
	d := f.s.cfg.Every
	for i := 1; i < n && d < f.s.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, f.s.cfg.MaxBackoff)
	return d + time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
}

// sleep waits d unless the follower is stopped; false when stopped.
func (f *follower) sleep(d time.Duration) bool {
	return ingest.Sleep(f.soft, d) == nil
}
