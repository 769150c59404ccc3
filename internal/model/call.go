package model

import (
	"fmt"
	"time"
)

// Sources of a raw record, recorded in the Kafka header "source".
const (
	SourcePoll    = "poll"
	SourceWebhook = "webhook"
)

// CallKey names one call across orgs and providers: the Kafka record key's
// parts and raw_signals' sort key.
type CallKey struct {
	Org, Provider, CallID string
}

// RawCall is one provider call exactly as the provider sent it, plus the
// routing facts the transform needs. Body is the provider's JSON call object
// untouched (it carries notes and tags, so it is encrypted on the topic).
type RawCall struct {
	// Org is the phonesignals org the call belongs to.
	Org string
	// Provider is the provider's id (ingest.Provider.Name).
	Provider string
	// CallID is the provider's call id as a string; it is the Kafka key
	// suffix, so every version of one call lands in one partition.
	CallID string
	// Source is SourcePoll or SourceWebhook.
	Source string
	// Event is the webhook event name ("call.ended"), empty for polls.
	Event string
	// ObservedAt is when the body was true: the poll's fetch time or the
	// webhook envelope's timestamp. It orders versions of one call.
	ObservedAt time.Time
	// UserHint is the provider user the record was listed under, for
	// records whose body does not name it (RingCentral per-extension call
	// logs). Empty when the body is authoritative.
	UserHint string
	// Body is the provider's call object as JSON.
	Body []byte
}

// Call is a decoded provider call, laid out for the transform's column
// builders: its byte fields alias the raw body or the call's own scratch
// buffer, so a provider's decoder fills it without allocating, and it is
// valid only until the next decode into the same Call (copy what must
// outlive it). The routing facts (org, provider, source, event, observed
// at) are the Kafka record's headers, not the body's, so they are not
// here. Notes and Tags hold every note (tag) separated by '\n'; they are
// transient: the transform reads them to compute flags and never writes
// them anywhere.
type Call struct {
	// CallID is the provider's call id; UserID the Aircall user id or
	// RingCentral extension id, empty when nobody took the call
	// (unanswered inbound calls).
	CallID, UserID []byte
	// Direction is "inbound" or "outbound".
	Direction []byte
	// Status is the seed's status: Aircall "done", "missed", "voicemail",
	// "answered", "initial"; RingCentral's result ("Call connected", ...).
	// ProviderStatus is the provider's own status field, untouched
	// (Aircall: initial/answered/done; RingCentral: result). MissedReason
	// is Aircall's missed_call_reason, if any.
	Status, ProviderStatus, MissedReason []byte
	// StartedAt, AnsweredAt, EndedAt are UNIX seconds; the Has flags tell
	// a missing time from the epoch.
	StartedAt, AnsweredAt, EndedAt int64
	HasAnswered, HasEnded          bool
	DurationSec                    uint32
	Notes, Tags                    []byte
	// EscalationAvailable is false where the provider exposes no notes or
	// tags (RingCentral), so a zero is not read as a real zero.
	EscalationAvailable bool
	// Connected says the call was connected to a person (Aircall:
	// answered_at set; RingCentral: result "Call connected" or
	// "Accepted"). Completed says the provider reports the call as
	// finished normally (Aircall: status "done"; RingCentral: a connected
	// result). Set by the provider's decoder, so the rules know no
	// provider.
	Connected, Completed bool
	// Missed says the call reached the user and was not answered, by the
	// provider's own states (Aircall: inbound, ended, no answered_at or a
	// voicemail; RingCentral: an inbound Missed, Voicemail, Rejected,
	// Declined, No Answer or Busy). Voicemail says the caller left one
	// (always also Missed). AnswerTimeAvailable says AnsweredAt and
	// EndedAt are the provider's own answer and end times (Aircall), so
	// talk and time to answer come from them; false where the provider
	// reports no answer time (RingCentral's call log): time to answer is
	// then n/a, never 0, and talk time is the duration of a connected call.
	Missed, Voicemail, AnswerTimeAvailable bool
	// Deleted marks a call the provider reported as deleted.
	Deleted bool
	// Version orders versions of one call: the highest wins in ClickHouse,
	// ties broken by the record offset (StoreVersion). At most MaxVersion.
	Version uint64

	scratch []byte
}

// Reset empties the call for the next call, keeping its buffers.
func (v *Call) Reset() {
	s, n, t := v.scratch[:0], v.Notes[:0], v.Tags[:0]
	*v = Call{scratch: s, Notes: n, Tags: t}
}

// Own copies b into the call's scratch buffer and returns the copy, for
// text the decoder had to rewrite (unescaped, lower-cased). The copy stays
// valid until Reset.
func (v *Call) Own(b []byte) []byte {
	if cap(v.scratch)-len(v.scratch) < len(b) {
		// A new buffer: earlier copies keep pointing into the old one.
		v.scratch = make([]byte, 0, max(2*cap(v.scratch), len(b), 256))
	}
	n := len(v.scratch)
	v.scratch = append(v.scratch, b...)
	return v.scratch[n:len(v.scratch):len(v.scratch)]
}

// AddNote appends one note (its text, which may be empty).
func (v *Call) AddNote(text []byte) {
	if len(text) == 0 {
		return
	}
	if len(v.Notes) > 0 {
		v.Notes = append(v.Notes, '\n')
	}
	v.Notes = append(v.Notes, text...)
}

// AddTag appends one tag name.
func (v *Call) AddTag(text []byte) {
	if len(text) == 0 {
		return
	}
	if len(v.Tags) > 0 {
		v.Tags = append(v.Tags, '\n')
	}
	v.Tags = append(v.Tags, text...)
}

// OwnString is Own for text the decoder has as a string (the tolerant
// paths, which decode with encoding/json).
func (v *Call) OwnString(s string) []byte {
	if cap(v.scratch)-len(v.scratch) < len(s) {
		v.scratch = make([]byte, 0, max(2*cap(v.scratch), len(s), 256))
	}
	n := len(v.scratch)
	v.scratch = append(v.scratch, s...)
	return v.scratch[n:len(v.scratch):len(v.scratch)]
}

// DeadLetter is a raw record the transform could not use: where it sits on
// the dead-letter topic (its body stays sealed there) and why.
type DeadLetter struct {
	Org       string
	Provider  string
	CallID    string
	Topic     string
	Partition int32
	Offset    int64
	Reason    string
}

// The times ClickHouse DateTime columns hold on every supported version:
// DateTime is seconds since 1970 in a UInt32, and ClickHouse 18.16's date
// tables end with 2105. A time outside [MinStoreTime, MaxStoreTime) would
// wrap silently on insert (9999999999 becomes 2014), so it is refused.
var (
	MinStoreTime = time.Unix(0, 0).UTC()
	MaxStoreTime = time.Date(2106, 1, 1, 0, 0, 0, 0, time.UTC)
)

// CheckStoreTime returns an error naming field when t cannot be stored
// without wrapping.
func CheckStoreTime(field string, t time.Time) error {
	if t.Before(MinStoreTime) || !t.Before(MaxStoreTime) {
		return fmt.Errorf("%s %s (unix %d) is outside what ClickHouse DateTime holds (%s to %s); refusing to store a wrapped time",
			field, t.UTC().Format(time.RFC3339), t.Unix(), MinStoreTime.Format(time.DateOnly), MaxStoreTime.Format(time.DateOnly))
	}
	return nil
}

// TieBits is how many low bits of a stored version break ties between
// versions a decoder ranks equal: two webhooks of one call in the same
// second and state (call.ended and call.tagged) carry the same decoded
// Version. The stored version is Version<<TieBits | the record's Kafka
// offset mod 2^TieBits: every version of a call is on one partition, so
// the later record wins, the same on every redelivery (the offset is the
// record's), and argMax and ReplacingMergeTree keep the same row after any
// merge. Two versions still tie only if they share decoded version and
// their offsets differ by a multiple of 16,384.
const TieBits = 14

// MaxVersion bounds a decoded Version: StoreVersion shifts it by TieBits
// within 64 bits. Aircall's rank<<48 | milliseconds and RingCentral's
// milliseconds are far below it.
const MaxVersion = 1<<(64-TieBits) - 1

// StoreVersion returns the raw_signals version of decoded version v
// delivered at offset seq of its Kafka partition; v must not exceed
// MaxVersion.
func StoreVersion(v, seq uint64) uint64 { return v<<TieBits | seq&(1<<TieBits-1) }
