package syncjob

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/app/progress"
	"github.com/phonesignals/phonesignals/internal/platform/lock"
	"github.com/phonesignals/phonesignals/internal/store"
)

// DefaultSinceDays is the look-back of a sync given no window.
const DefaultSinceDays = 30

// WindowSpec is how a sync's window was asked for: at most one of a cycle,
// a from/to range and a look-back in days. The *Set fields say which were
// given (a flag set to its zero value still counts).
type WindowSpec struct {
	// Cycle is the review cycle id whose [start, end) is synced.
	Cycle    string
	CycleSet bool
	// From and To are RFC 3339 or YYYY-MM-DD (UTC); To is exclusive.
	From, To       string
	FromSet, ToSet bool
	// SinceDays looks back that many days from now. Default
	// DefaultSinceDays.
	SinceDays    int
	SinceDaysSet bool
}

// Window resolves spec at now. For a cycle, the window is empty and
// cycle is the id, read from the store by CycleWindow.
func Window(spec WindowSpec, now time.Time) (w ingest.Window, cycle string, err error) {
	n := 0
	for _, set := range []bool{spec.CycleSet, spec.SinceDaysSet, spec.FromSet || spec.ToSet} {
		if set {
			n++
		}
	}
	if n > 1 {
		return ingest.Window{}, "", errors.New("give only one of --cycle, --from/--to and --since-days")
	}
	switch {
	case spec.CycleSet:
		return ingest.Window{}, spec.Cycle, nil
	case spec.FromSet || spec.ToSet:
		w, err := rangeWindow(spec)
		return w, "", err
	}
	days := DefaultSinceDays
	if spec.SinceDaysSet {
		days = spec.SinceDays
		if days <= 0 {
			return ingest.Window{}, "", fmt.Errorf("--since-days %d: want a positive number of days", days)
		}
	}
	// Day-aligned start, so the finished base windows of a rerun have the
	// same checkpoint keys and are skipped.
	from := now.AddDate(0, 0, -days).Truncate(24 * time.Hour)
	return ingest.Window{From: from, To: now.Truncate(time.Minute)}, "", nil
}

// rangeWindow is the window of spec's From and To.
func rangeWindow(spec WindowSpec) (ingest.Window, error) {
	if !spec.FromSet || !spec.ToSet {
		return ingest.Window{}, errors.New("--from and --to go together")
	}
	from, err1 := ParseTime("from", spec.From)
	to, err2 := ParseTime("to", spec.To)
	if err := errors.Join(err1, err2); err != nil {
		return ingest.Window{}, err
	}
	if !to.After(from) {
		return ingest.Window{}, fmt.Errorf("--to %s must be after --from %s", spec.To, spec.From)
	}
	return ingest.Window{From: from, To: to}, nil
}

// CycleWindow is the [start, end) of org's review cycle id.
func CycleWindow(ctx context.Context, st *store.Store, org, id string) (ingest.Window, error) {
	cy, err := st.GetCycle(ctx, org, id)
	if err != nil {
		return ingest.Window{}, err
	}
	return ingest.Window{From: cy.Start, To: cy.End}, nil
}

// ParseTime accepts RFC 3339 or a UTC date; flag names the value in the
// error.
func ParseTime(flag, v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--%s %q: want RFC 3339 (2026-08-01T00:00:00Z) or YYYY-MM-DD", flag, v)
}

// LockHeldError says another sync of the org runs.
type LockHeldError struct {
	// Org is the org whose sync lock is held.
	Org string
	// Held is the lock's own error: its path and holder.
	Held *lock.HeldError
}

func (e *LockHeldError) Error() string {
	holder := ""
	if e.Held.Holder != "" {
		holder = " (" + e.Held.Holder + ")"
	}
	return fmt.Sprintf("another sync of org %s is running%s: wait for it to finish, or stop it, then run sync again (lock %s)", e.Org, holder, e.Held.Path)
}

func (e *LockHeldError) Unwrap() error { return e.Held }

// Lock takes org's sync lock under dataDir: a second sync of the same org
// at once would spend the provider's API quota twice. It fails with a
// *LockHeldError when another process holds it.
func Lock(dataDir, org string) (release func(), err error) {
	l, err := lock.Try(filepath.Join(dataDir, "locks", "sync-"+lockName(org)+".lock"))
	var he *lock.HeldError
	if errors.As(err, &he) {
		return nil, &LockHeldError{Org: org, Held: he}
	}
	if err != nil {
		return nil, err
	}
	return l.Release, nil
}

// lockName keeps an org name usable as a file name: plain names as they
// are, others hex-encoded.
func lockName(org string) string {
	for _, r := range org {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return "x" + hex.EncodeToString([]byte(org))
		}
	}
	return org
}

// RunReported runs the recorded sync job cfg with a progress display on
// status and prints what it did on out (the commands' sync).
func RunReported(ctx context.Context, cfg Config, out, status io.Writer) error {
	rep := progress.New(status, fmt.Sprintf("sync %s (%s) %s", cfg.Org.Name, cfg.Org.Provider, cfg.Window))
	cfg.Progress = rep
	res, err := Run(ctx, cfg)
	// The summary follows; Done only settles the bar.
	rep.Done("")
	if err != nil {
		return err
	}
	sum, err := Summarize(ctx, cfg.Store, cfg.Org.Name, res)
	if err != nil {
		return err
	}
	Print(out, cfg.Org.Name, cfg.Window, res, sum)
	return nil
}

// Follow keeps polling src for new and updated calls of o every interval
// from end (never the future), re-reading a day so late edits are caught,
// until ctx ends.
func Follow(ctx context.Context, st *store.Store, src ingest.Source, o store.Org, end time.Time, sink ingest.Sink, every time.Duration, status io.Writer) error {
	fmt.Fprintf(status, "following org %s every %s; Ctrl-C to stop\n", o.Name, every)
	users, err := MappedUsers(ctx, st, o.Name)
	if err != nil {
		return err
	}
	if now := time.Now().UTC(); end.After(now) {
		end = now
	}
	req := ingest.SyncRequest{Org: o.Name, Window: ingest.Window{From: end.Add(-24 * time.Hour), To: end}, UserIDs: users}
	if err := src.Follow(ctx, req, sink, every); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
