package progress

import (
	"log/slog"
	"strings"
	"time"
)

// Events is the status writer for machine-read logs (--log-format json),
// where a line of text in the middle would break every parser. Handed to
// New in place of a terminal or file, it makes the Reporter log each status
// it would print as a plain line as a "sync progress" record of Logger,
// with the figures as numbers, under the same throttle; any other text
// written to it (a command's one-line notices) is logged line by line as
// records' messages.
type Events struct {
	// Logger receives the records. Required.
	Logger *slog.Logger
}

// Write logs each non-empty line of p as an info record.
func (e Events) Write(p []byte) (int, error) {
	for _, line := range strings.Split(string(p), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			e.Logger.Info(line)
		}
	}
	return len(p), nil
}

// logStatus logs the current status as one record; mu is held. The
// attributes are the figures of the plain line, unformatted.
func (r *Reporter) logStatus(now time.Time) {
	s := r.st
	elapsed := now.Sub(r.start)
	attrs := []any{"task", r.label, "windows_done", s.WindowsDone}
	if s.WindowsTotal > 0 {
		attrs = append(attrs, "windows_total", s.WindowsTotal, "percent", percent(s))
	}
	attrs = append(attrs, "calls", s.Calls, "requests", s.Requests, "elapsed", elapsed.Round(time.Millisecond))
	if elapsed >= time.Second {
		attrs = append(attrs, "calls_per_second", float64(s.Calls)/elapsed.Seconds())
	}
	if eta, ok := r.eta(elapsed); ok {
		attrs = append(attrs, "eta", eta.Round(time.Second))
	}
	if !s.Window.From.IsZero() {
		attrs = append(attrs, "window", s.Window.String())
	}
	if w := r.remainingWait(now); w > 0 {
		if s.RateLimitWait() {
			attrs = append(attrs, "waiting_for_rate_limit", w.Round(time.Second))
		} else {
			attrs = append(attrs, "retrying_in", w.Round(time.Second), "retrying_after", s.WaitReason)
		}
	}
	r.events.Info("sync progress", attrs...)
}
