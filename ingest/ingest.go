// Package ingest defines the small interface every phone provider connector
// implements (ingest/aircall, ingest/ringcentral) and the pieces they share:
// sync windows, checkpoints for resumable backfills, progress reporting and
// the Kafka sink raw calls are published to.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
)

// Window is a half-open range [From, To) of call start (creation) times.
// It lives in model so the store records windows without importing ingest.
type Window = model.Window

// Sink receives raw provider calls. Publish returns only once every call is
// durable (acknowledged by Kafka), so a connector may checkpoint after it.
type Sink interface {
	Publish(ctx context.Context, calls []model.RawCall) error
}

// Checkpoints records the windows a backfill has finished, so a backfill
// killed at any point resumes from its last finished window.
type Checkpoints interface {
	// Done reports whether window w of job was finished already.
	Done(ctx context.Context, job string, w Window) (bool, error)
	// MarkDone records w of job as finished after n calls were published.
	MarkDone(ctx context.Context, job string, w Window, n int) error
}

// Status is a snapshot of a running sync, for progress displays.
type Status struct {
	Calls        int
	Requests     int
	WindowsDone  int
	WindowsTotal int
	// Window is the window being fetched now.
	Window Window
	// Waiting is non-zero while the connector waits: for the rate limit,
	// or before retrying a failed request (WaitReason says which).
	Waiting time.Duration
	// WaitReason is what Waiting waits for: WaitRateLimit (or "") for the
	// provider's rate limit, else the failure being retried, such as
	// "connection error" or "HTTP 503", so a back-off is never shown as a
	// rate-limit wait.
	WaitReason string
}

// RateLimitWait reports whether Waiting is a wait for the rate limit
// (not the back-off of a failed request).
func (s Status) RateLimitWait() bool {
	return s.Waiting > 0 && (s.WaitReason == "" || s.WaitReason == WaitRateLimit)
}

// Progress receives status updates; implementations must be cheap.
type Progress interface {
	Update(Status)
}

// ProgressFunc adapts a function to Progress.
type ProgressFunc func(Status)

// Update calls f.
func (f ProgressFunc) Update(s Status) { f(s) }

// NoProgress discards updates.
var NoProgress Progress = ProgressFunc(func(Status) {})

// SyncRequest says what to extract.
type SyncRequest struct {
	// Org is the phonesignals org; it is stamped on every RawCall.
	Org string
	// Window is the range of call start times to fetch.
	Window Window
	// UserIDs are the mapped provider user ids (Aircall user ids or
	// RingCentral extension ids), used by per-user listing modes.
	UserIDs []string
	// Job names the checkpoint series; a rerun with the same Job resumes.
	// Empty disables checkpoints.
	Job string
}

// SyncResult says what a sync did.
type SyncResult struct {
	Calls          int
	Requests       int
	Windows        int
	SkippedWindows int
	// RefetchedWindows were finished by an earlier sync but fetched again
	// because UnloadedCalls of their calls never reached ClickHouse (set by
	// the sync job, not by connectors).
	RefetchedWindows, UnloadedCalls int
	// PerUser counts published calls per provider user id ("" for calls
	// with no user), so unmapped users can be shown to an admin.
	PerUser map[string]int
}

// Source is one provider connector bound to one org's credentials.
type Source interface {
	// Sync extracts every call started in req.Window and publishes it to
	// sink, checkpointing finished windows in cp (nil: no checkpoints).
	Sync(ctx context.Context, req SyncRequest, sink Sink, cp Checkpoints, p Progress) (SyncResult, error)
	// Follow polls for new and updated calls until ctx ends, starting
	// from req.Window.From.
	Follow(ctx context.Context, req SyncRequest, sink Sink, every time.Duration) error
}

// AuthError is returned when the provider rejects the org's credentials.
// Hint tells the operator what to check.
type AuthError struct {
	Org      string
	Provider string
	Status   int
	Hint     string
	Err      error
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("%s rejected the credentials of org %q (HTTP %d): %s", e.Provider, e.Org, e.Status, e.Hint)
}

func (e *AuthError) Unwrap() error { return e.Err }

// IsAuth reports whether err is an AuthError.
func IsAuth(err error) bool {
	var a *AuthError
	return errors.As(err, &a)
}

// CountSink is a Sink that keeps nothing and counts the calls published:
// a probe (doctor) fetches for real without publishing anything.
type CountSink struct{ n atomic.Int64 }

// Publish implements Sink.
func (s *CountSink) Publish(_ context.Context, calls []model.RawCall) error {
	s.n.Add(int64(len(calls)))
	return nil
}

// Count is the number of calls published so far.
func (s *CountSink) Count() int64 { return s.n.Load() }

// Sleep waits d or until ctx ends, whichever comes first; it is the
// default sleeper of the connectors' rate-limit pacing.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
