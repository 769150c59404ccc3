package syncjob

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/store"
)

// Config is one sync job. Zero fields take the defaults noted.
type Config struct {
	// Store records the run and holds the checkpoints. Required.
	Store *store.Store
	// Source is the org's connector. Required.
	Source ingest.Source
	// Org is the org synced. Required.
	Org store.Org
	// Window is the range of call start times; its end is clipped to now.
	Window ingest.Window
	// Restart ignores the checkpoints of earlier runs over the same start.
	Restart bool
	// Sink receives the raw calls. Required.
	Sink ingest.Sink
	// Progress receives status updates. Default ingest.NoProgress.
	Progress ingest.Progress
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Validate reports every missing field, each named.
func (c Config) Validate() error {
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("sync job: Store is nil"))
	}
	if c.Source == nil {
		errs = append(errs, errors.New("sync job: Source is nil"))
	}
	if c.Org.Name == "" {
		errs = append(errs, errors.New("sync job: Org.Name is empty"))
	}
	if c.Sink == nil {
		errs = append(errs, errors.New("sync job: Sink is nil"))
	}
	return errors.Join(errs...)
}

// JobName names the checkpoint series of a sync starting at from. The
// checkpoint keys are the base windows themselves, so a job named by its
// start alone lets any later run over the same start skip the base windows
// already finished (the last, partial one differs and is fetched). A
// restart gets a series of its own.
func JobName(provider string, from time.Time, restart bool, now time.Time) string {
	job := fmt.Sprintf("%s:%s", provider, from.UTC().Format(time.RFC3339))
	if restart {
		job += fmt.Sprintf("#%d", now.UnixNano())
	}
	return job
}

// Run syncs cfg.Window and records the run: "running" first, then "ok",
// "auth_error" or "error" with the error text, even when ctx was cancelled.
func Run(ctx context.Context, cfg Config) (ingest.SyncResult, error) {
	if err := cfg.Validate(); err != nil {
		return ingest.SyncResult{}, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	progress := cmp.Or(cfg.Progress, ingest.NoProgress)
	o, w, st := cfg.Org, cfg.Window, cfg.Store
	users, err := MappedUsers(ctx, st, o.Name)
	if err != nil {
		return ingest.SyncResult{}, err
	}
	// Never fetch the future: a window checkpointed as finished before its
	// calls happened would be skipped for good by the next run.
	if n := now().UTC().Truncate(time.Minute); w.To.After(n) {
		w.To = n
	}
	if !w.To.After(w.From) {
		return ingest.SyncResult{}, fmt.Errorf("the window %s starts in the future: nothing to sync yet", w)
	}
	job := JobName(o.Provider, w.From, cfg.Restart, now())
	run := store.Run{ID: strconv.FormatInt(now().UnixNano(), 10), Org: o.Name, Provider: o.Provider, Started: now(), Window: w, Status: "running"}
	if err := st.RecordRun(ctx, run); err != nil {
		return ingest.SyncResult{}, err
	}
	lc := &loadedCheckpoints{sink: cfg.Sink, cp: st.Checkpoints(o.Name), st: st, org: o.Name}
	res, syncErr := cfg.Source.Sync(ctx, ingest.SyncRequest{Org: o.Name, Window: w, UserIDs: users, Job: job}, lc, lc, progress)
	res.RefetchedWindows, res.UnloadedCalls = lc.Refetched, lc.Missing
	run.Finished, run.Calls, run.Requests, run.Status = now(), res.Calls, res.Requests, "ok"
	if syncErr != nil {
		run.Status, run.Error = "error", syncErr.Error()
		if ingest.IsAuth(syncErr) {
			run.Status = "auth_error"
		}
	}
	// Record with a fresh context: an interrupted sync is still recorded.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := st.RecordRun(rctx, run); err != nil && syncErr == nil {
		return res, err
	}
	if syncErr != nil {
		return res, fmt.Errorf("syncing org %s: %w", o.Name, syncErr)
	}
	return res, nil
}

// MappedUsers are the provider user ids of org's employees, for the
// per-user (Aircall) and per-extension (RingCentral) listing modes.
func MappedUsers(ctx context.Context, st *store.Store, org string) ([]string, error) {
	emps, err := st.Employees(ctx, org)
	if err != nil {
		return nil, err
	}
	var users []string
	for _, e := range emps {
		if e.ProviderUserID != "" {
			users = append(users, e.ProviderUserID)
		}
	}
	return users, nil
}

// Summary splits a sync's calls by whether their user is mapped.
type Summary struct {
	// MappedCalls are the calls of users mapped to an employee.
	MappedCalls int
	// NoUser are the calls with no user (unanswered; they count for nobody).
	NoUser int
	// Unmapped lists "USER (N calls)" for users with calls but no
	// employee, sorted.
	Unmapped []string
}

// Summarize splits res by the org's current employee mapping.
func Summarize(ctx context.Context, st *store.Store, org string, res ingest.SyncResult) (Summary, error) {
	emps, err := st.Employees(ctx, org)
	if err != nil {
		return Summary{}, err
	}
	mapped := map[string]bool{}
	for _, e := range emps {
		mapped[e.ProviderUserID] = true
	}
	var s Summary
	for u, n := range res.PerUser {
		switch {
		case u == "":
			s.NoUser = n
		case mapped[u]:
			s.MappedCalls += n
		default:
			s.Unmapped = append(s.Unmapped, fmt.Sprintf("%s (%d calls)", u, n))
		}
	}
	sort.Strings(s.Unmapped)
	return s, nil
}

// Print writes what a sync did and its summary, for the operator.
func Print(out io.Writer, org string, w ingest.Window, res ingest.SyncResult, s Summary) {
	fmt.Fprintf(out, "synced org %s %s: %d calls published in %d requests, %d windows (%d already done)\n",
		org, w, res.Calls, res.Requests, res.Windows, res.SkippedWindows)
	if res.RefetchedWindows > 0 {
		fmt.Fprintf(out, "  %d windows finished earlier were fetched again: %d of their calls never reached ClickHouse (Kafka data lost, or `phonesignals run` not run yet)\n",
			res.RefetchedWindows, res.UnloadedCalls)
	}
	fmt.Fprintf(out, "  %d calls of mapped users, %d with no user (unanswered, count for nobody)\n", s.MappedCalls, s.NoUser)
	if len(s.Unmapped) > 0 {
		fmt.Fprintf(out, "  %d provider users have calls but no employee mapping (kept; map them with `phonesignals employees import`): %s\n",
			len(s.Unmapped), strings.Join(s.Unmapped, ", "))
	}
}
