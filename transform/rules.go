// Package transform turns raw provider calls from Kafka into Arrow record
// batches of RawSignal rows, applying the seed's rules. The rules live in
// this file, versioned: RulesVersion is stored on every row, so a change of
// rules is visible in the data and a reload can be targeted.
package transform

import (
	"math"
	"strings"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
)

// RulesVersion identifies the rule set below. Bump it whenever a rule or a
// keyword list changes. 2026.12-1 adds the talk-time facts (Talk): rows of
// earlier versions carry the values migration 013 derived for them.
const RulesVersion = "2026.12-1"

// Business hours in UTC: a call is after hours when it starts before 08:00
// or at/after 18:00 UTC.
const (
	businessStartHour = 8
	businessEndHour   = 18
)

// EscalationKeywords are matched case-insensitively as substrings of the
// call's notes and tag names ("escalat" catches escalate, escalated,
// escalation).
var EscalationKeywords = []string{"escalat", "urgent", "manager", "complaint", "refund"}

// ResolutionKeywords are matched case-insensitively as substrings of the
// notes only (tags do not resolve a call).
var ResolutionKeywords = []string{"resolved", "fixed", "satisfied"}

// Flags are the rule results for one call.
type Flags struct {
	AfterHours bool
	Escalated  bool
	Resolved   bool
}

// AfterHours reports whether a call starting at t started outside business
// hours (UTC).
func AfterHours(t time.Time) bool {
	h := t.UTC().Hour()
	return h < businessStartHour || h >= businessEndHour
}

// Escalated reports whether notes or tags contain an escalation keyword.
// It is always false where the provider exposes neither (its decoder sets
// EscalationAvailable=false, stored so it is not read as a real zero).
func Escalated(c *model.Call) bool {
	if !c.EscalationAvailable {
		return false
	}
	return containsAny(c.Notes, EscalationKeywords) || containsAny(c.Tags, EscalationKeywords)
}

// Completed reports whether the call connected and completed, as the
// provider's decoder read it (model.Call.Connected and Completed).
func Completed(c *model.Call) bool {
	return c.Connected && c.Completed
}

// Resolved reports whether the notes contain a resolution keyword or the
// call connected and completed.
func Resolved(c *model.Call) bool {
	return containsAny(c.Notes, ResolutionKeywords) || Completed(c)
}

// Apply computes every flag of c.
func Apply(c *model.Call) Flags {
	return Flags{AfterHours: AfterHours(c.StartedAt), Escalated: Escalated(c), Resolved: Resolved(c)}
}

// TalkFacts are a call's talk-time columns (README, The review block).
type TalkFacts struct {
	// Answered: the call connected to a person (Connected) and left no
	// voicemail.
	Answered bool
	// TalkSec is answered to ended where the provider gives answer times
	// (0 until the call ended, and 0 if it ended before it was answered);
	// elsewhere the duration of an answered call. 0 for others.
	TalkSec uint32
	// AnswerSec is answered minus started for an answered call with
	// answer times (0 if answered at or before the start); 0 otherwise.
	AnswerSec uint32
}

// Talk computes v's talk-time facts from the neutral fields its
// provider's decoder set: Connected, Voicemail, AnswerTimeAvailable and
// the times. The review counts AnswerSec over inbound calls only.
func Talk(v *model.CallView) TalkFacts {
	if !v.Connected || v.Voicemail {
		return TalkFacts{}
	}
	f := TalkFacts{Answered: true}
	if !v.AnswerTimeAvailable {
		f.TalkSec = v.DurationSec
		return f
	}
	if v.HasAnswered && v.HasEnded && v.EndedAt > v.AnsweredAt {
		f.TalkSec = seconds(v.EndedAt - v.AnsweredAt)
	}
	if v.HasAnswered && v.AnsweredAt > v.StartedAt {
		f.AnswerSec = seconds(v.AnsweredAt - v.StartedAt)
	}
	return f
}

// seconds is d (positive) as a UInt32 column holds it, capped.
func seconds(d int64) uint32 { return uint32(min(d, math.MaxUint32)) }

func containsAny(texts, keywords []string) bool {
	for _, t := range texts {
		l := strings.ToLower(t)
		for _, k := range keywords {
			if strings.Contains(l, k) {
				return true
			}
		}
	}
	return false
}
