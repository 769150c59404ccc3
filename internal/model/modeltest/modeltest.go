package modeltest

import (
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
)

// Call is a decoded call as a row, with the routing facts the Kafka
// headers give the transform (Org, Provider, Source, Event, ObservedAt).
// Field meanings are model.Call's.
type Call struct {
	Org, Provider, CallID, UserID string
	StartedAt                     time.Time
	AnsweredAt, EndedAt           *time.Time
	Direction                     string
	DurationSec                   uint32
	Status, ProviderStatus        string
	Connected, Completed          bool
	MissedReason                  string
	Missed, Voicemail             bool
	AnswerTimeAvailable           bool
	Notes, Tags                   []string
	EscalationAvailable           bool
	Deleted                       bool
	Version                       uint64
	Source, Event                 string
	ObservedAt                    time.Time
}

// Fill lays c out as the model.Call v (reset first). Notes or tags
// holding a newline would not split back the same way; the rules do not
// care.
func (c *Call) Fill(v *model.Call) {
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

// Of reads v back as a row, with the routing facts of raw, the record it
// was decoded from.
func Of(raw model.RawCall, v *model.Call) Call {
	c := Call{Org: raw.Org, Provider: raw.Provider, Source: raw.Source, Event: raw.Event, ObservedAt: raw.ObservedAt,
		CallID: string(v.CallID), UserID: string(v.UserID), Direction: string(v.Direction),
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

// Decode runs a provider's decoder (ingest.Provider.Decode) on raw and
// returns the result as a row.
func Decode(decode func(model.RawCall, *model.Call) error, raw model.RawCall) (Call, error) {
	var v model.Call
	if err := decode(raw, &v); err != nil {
		return Call{}, err
	}
	return Of(raw, &v), nil
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
