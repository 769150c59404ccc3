package model

import "time"

// CallView is a decoded call laid out for the transform's column
// builders: its byte fields alias the raw body or the view's own scratch
// buffer, so a provider fills it without allocating, and it is valid only
// until the next decode into the same view. Notes and Tags hold every note
// (tag) separated by '\n'; like Call's, they are transient: the transform
// reads them to compute flags and stores neither.
type CallView struct {
	CallID, UserID, Direction, Status, ProviderStatus, MissedReason []byte
	// StartedAt, AnsweredAt, EndedAt are UNIX seconds; the Has flags tell
	// a missing time from the epoch.
	StartedAt, AnsweredAt, EndedAt int64
	HasAnswered, HasEnded          bool
	DurationSec                    uint32
	Notes, Tags                    []byte
	// EscalationAvailable is false where the provider exposes no notes or
	// tags (RingCentral).
	EscalationAvailable bool
	// Connected and Completed are the provider's verdicts, as on Call.
	Connected, Completed bool
	// Missed, Voicemail and AnswerTimeAvailable are as on Call.
	Missed, Voicemail, AnswerTimeAvailable bool
	Deleted                                bool
	Version                                uint64

	scratch []byte
}

// Reset empties v for the next call, keeping its buffers.
func (v *CallView) Reset() {
	s, n, t := v.scratch[:0], v.Notes[:0], v.Tags[:0]
	*v = CallView{scratch: s, Notes: n, Tags: t}
}

// Own copies b into the view's scratch buffer and returns the copy, for
// text the decoder had to rewrite (unescaped, lower-cased). The copy stays
// valid until Reset.
func (v *CallView) Own(b []byte) []byte {
	if cap(v.scratch)-len(v.scratch) < len(b) {
		// A new buffer: earlier copies keep pointing into the old one.
		v.scratch = make([]byte, 0, max(2*cap(v.scratch), len(b), 256))
	}
	n := len(v.scratch)
	v.scratch = append(v.scratch, b...)
	return v.scratch[n:len(v.scratch):len(v.scratch)]
}

// AddNote appends one note (its text, which may be empty).
func (v *CallView) AddNote(text []byte) {
	if len(text) == 0 {
		return
	}
	if len(v.Notes) > 0 {
		v.Notes = append(v.Notes, '\n')
	}
	v.Notes = append(v.Notes, text...)
}

// AddTag appends one tag name.
func (v *CallView) AddTag(text []byte) {
	if len(text) == 0 {
		return
	}
	if len(v.Tags) > 0 {
		v.Tags = append(v.Tags, '\n')
	}
	v.Tags = append(v.Tags, text...)
}

// FromCall fills v from a decoded Call (the slow path of providers that
// decode into Call, and tests). Notes or tags holding a newline would not
// split back the same way; the rules do not care.
func (v *CallView) FromCall(c *Call) {
	v.Reset()
	v.CallID, v.UserID, v.Direction = []byte(c.CallID), []byte(c.UserID), []byte(c.Direction)
	v.Status, v.ProviderStatus, v.MissedReason = []byte(c.Status), []byte(c.ProviderStatus), []byte(c.MissedReason)
	v.StartedAt = c.StartedAt.Unix()
	if c.AnsweredAt != nil {
		v.AnsweredAt, v.HasAnswered = c.AnsweredAt.Unix(), true
	}
	if c.EndedAt != nil {
		v.EndedAt, v.HasEnded = c.EndedAt.Unix(), true
	}
	v.DurationSec = c.DurationSec
	for _, n := range c.Notes {
		v.AddNote([]byte(n))
	}
	for _, t := range c.Tags {
		v.AddTag([]byte(t))
	}
	v.Connected, v.Completed = c.Connected, c.Completed
	v.Missed, v.Voicemail, v.AnswerTimeAvailable = c.Missed, c.Voicemail, c.AnswerTimeAvailable
	v.EscalationAvailable, v.Deleted, v.Version = c.EscalationAvailable, c.Deleted, c.Version
}

// Call turns the view back into a Call (for callers of the row API).
func (v *CallView) Call() Call {
	c := Call{CallID: string(v.CallID), UserID: string(v.UserID), Direction: string(v.Direction),
		Status: string(v.Status), ProviderStatus: string(v.ProviderStatus), MissedReason: string(v.MissedReason),
		StartedAt: time.Unix(v.StartedAt, 0).UTC(), DurationSec: v.DurationSec,
		Connected: v.Connected, Completed: v.Completed, EscalationAvailable: v.EscalationAvailable, Deleted: v.Deleted, Version: v.Version,
		Missed: v.Missed, Voicemail: v.Voicemail, AnswerTimeAvailable: v.AnswerTimeAvailable}
	if v.HasAnswered {
		t := time.Unix(v.AnsweredAt, 0).UTC()
		c.AnsweredAt = &t
	}
	if v.HasEnded {
		t := time.Unix(v.EndedAt, 0).UTC()
		c.EndedAt = &t
	}
	c.Notes = splitLines(v.Notes)
	c.Tags = splitLines(v.Tags)
	return c
}

func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	var out []string
	start := 0
	for i, ch := range b {
		if ch == '\n' {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	return append(out, string(b[start:]))
}
