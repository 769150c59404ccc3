package transform

import (
	"math"

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

// The rules, as NewRecord computes them over a batch's columns:
//
//   - after hours: the call started before businessStartHour or at/after
//     businessEndHour UTC, or outside the org's working hours
//     (model.Schedule) where it has its own;
//   - escalated: a note or tag holds an EscalationKeyword (any case), and
//     never where the provider exposes neither (EscalationAvailable=false,
//     stored so the zero is not read as a real zero);
//   - resolved: a note holds a ResolutionKeyword, or the call connected
//     and completed as the provider's decoder read it (model.Call's
//     Connected and Completed).

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
func Talk(v *model.Call) TalkFacts {
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
