package model

import "time"

// Window is a half-open range [From, To) of call start (creation) times.
type Window struct {
	From time.Time
	To   time.Time
}

// String formats the window for logs and checkpoint keys.
func (w Window) String() string {
	return w.From.UTC().Format(time.RFC3339) + "/" + w.To.UTC().Format(time.RFC3339)
}

// Duration is To-From.
func (w Window) Duration() time.Duration { return w.To.Sub(w.From) }
