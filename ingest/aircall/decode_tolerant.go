package aircall

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
)

// statusRank orders Aircall's call states as a call goes through them;
// the rank is the high part of model.Call.Version.
func statusRank(status string) uint64 {
	switch status {
	case "initial":
		return 1
	case "answered":
		return 2
	case "done":
		return 3
	}
	return 0
}

const observedMask = 1<<48 - 1

// EventTranscriptionCreated is the webhook event announcing a transcript.
const EventTranscriptionCreated = "transcription.created"

// wireCall is the subset of Aircall's call object the transform uses, in
// types that accept what the REST API and webhooks send: ids as numbers or
// strings, timestamps as numbers, numeric strings or RFC 3339, and null
// anywhere.
type wireCall struct {
	ID               flexID      `json:"id"`
	Direction        flexStr     `json:"direction"`
	Status           flexStr     `json:"status"`
	StartedAt        flexInt     `json:"started_at"`
	AnsweredAt       flexInt     `json:"answered_at"`
	EndedAt          flexInt     `json:"ended_at"`
	Duration         flexInt     `json:"duration"`
	User             *userRef    `json:"user"`
	Voicemail        flexStr     `json:"voicemail"`
	MissedCallReason flexStr     `json:"missed_call_reason"`
	Comments         []namedItem `json:"comments"`
	Tags             []namedItem `json:"tags"`
}

// decodeTolerant is Decode's fallback: encoding/json into types that
// accept whatever the REST API and webhooks send, for the bodies the fast
// path does not take, and the one place a malformed body's error is
// worded. Its results are Decode's (see Decode for Status and Version).
func decodeTolerant(raw model.RawCall, v *model.Call) error {
	v.Reset()
	w, dir, problem := parseCall(raw)
	if problem != "" {
		return fmt.Errorf("decoding aircall call %q of org %q: %s", raw.CallID, raw.Org, problem)
	}
	v.CallID, v.Direction = v.OwnString(string(w.ID)), v.OwnString(dir)
	v.StartedAt = w.StartedAt.v
	v.MissedReason = v.OwnString(string(w.MissedCallReason))
	v.EscalationAvailable = true
	if w.User != nil {
		v.UserID = v.OwnString(string(w.User.ID))
	}
	v.AnsweredAt, v.HasAnswered = w.AnsweredAt.v, w.AnsweredAt.ok
	v.EndedAt, v.HasEnded = w.EndedAt.v, w.EndedAt.ok
	if w.Duration.ok && w.Duration.v > 0 {
		v.DurationSec = uint32(min(w.Duration.v, math.MaxUint32))
	}
	status := callState(w)
	v.ProviderStatus = v.OwnString(string(w.Status))
	v.Connected = w.AnsweredAt.ok
	v.Completed = string(w.Status) == "done"
	voicemail := strings.TrimSpace(string(w.Voicemail)) != ""
	v.Missed, v.Voicemail = missedVoicemail(dir == "inbound", status == "done", w.AnsweredAt.ok, voicemail)
	v.AnswerTimeAvailable = true
	switch {
	case voicemail:
		v.Status = statusVoicemail
	case status == "done" && !w.AnsweredAt.ok:
		v.Status = statusMissed
	default:
		v.Status = v.OwnString(status)
	}
	addTexts(w.Comments, v.AddNote)
	addTexts(w.Tags, v.AddTag)
	var ms uint64
	if !raw.ObservedAt.IsZero() && raw.ObservedAt.UnixMilli() > 0 {
		ms = uint64(raw.ObservedAt.UnixMilli()) & observedMask
	}
	v.Version = statusRank(status)<<48 | ms
	return nil
}

// missedVoicemail are the talk-time verdicts of an Aircall call: missed
// when an inbound call ended without being answered or with a voicemail
// left (the user it rang is on the call; with none it counts for nobody),
// voicemail when it also left one. Outbound calls are never missed.
func missedVoicemail(inbound, ended, answered, voicemail bool) (missed, vm bool) {
	if !inbound || !ended {
		return false, false
	}
	return !answered || voicemail, voicemail
}

// parseCall reads raw's body and checks the fields every call needs; it
// returns the problem in words when there is one.
func parseCall(raw model.RawCall) (w wireCall, dir, problem string) {
	if raw.Event != "" && !strings.HasPrefix(raw.Event, "call.") {
		return w, "", fmt.Sprintf("record is a %q event, not a call", raw.Event)
	}
	body := bytes.TrimSpace(raw.Body)
	if len(body) == 0 || body[0] != '{' {
		return w, "", "body is not a JSON object"
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return w, "", err.Error()
	}
	if w.ID == "" {
		return w, "", "field id is missing or null"
	}
	if !w.StartedAt.ok {
		return w, "", "field started_at is missing or null"
	}
	dir = strings.ToLower(strings.TrimSpace(string(w.Direction)))
	if dir != "inbound" && dir != "outbound" {
		return w, "", fmt.Sprintf("field direction is %q, want inbound or outbound", string(w.Direction))
	}
	return w, dir, ""
}

// callState is Aircall's state of the call, lower case; some webhook
// payloads omit the status, and then the timestamps tell it.
func callState(w wireCall) string {
	if status := strings.ToLower(strings.TrimSpace(string(w.Status))); status != "" {
		return status
	}
	switch {
	case w.EndedAt.ok:
		return "done"
	case w.AnsweredAt.ok:
		return "answered"
	default:
		return "initial"
	}
}

// addTexts passes the texts of notes or tags to add (which skips empty
// ones).
func addTexts(items []namedItem, add func([]byte)) {
	for _, n := range items {
		add([]byte(n.text))
	}
}

// flexID is an id sent as a JSON number or string; null is "".
type flexID string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexID(strings.TrimSpace(s))
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		s := string(b)
		if strings.ContainsAny(s, ".eE") {
			// 4.000000123e9 from a JS producer is still an integer id.
			v, err := strconv.ParseFloat(s, 64)
			if err == nil && v == math.Trunc(v) && math.Abs(v) < 1<<53 {
				s = strconv.FormatInt(int64(v), 10)
			}
		}
		*f = flexID(s)
	default:
		return fmt.Errorf("id %s is neither a number nor a string", truncate(b))
	}
	return nil
}

// flexInt is an integer (UNIX seconds, durations) sent as a number, a
// numeric string or an RFC 3339 time; ok is false for null or absent.
type flexInt struct {
	v  int64
	ok bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*f = flexInt{}
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	s := string(b)
	if b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil
		}
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			*f = flexInt{v: t.Unix(), ok: true}
			return nil
		}
	}
	if v, err := strconv.ParseInt(s, 10, 64); err == nil {
		*f = flexInt{v: v, ok: true}
		return nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%s is not a number", truncate(b))
	}
	*f = flexInt{v: int64(math.Floor(v)), ok: true}
	return nil
}

// flexStr is a string that may be null (""), or a number or bool rendered
// as its JSON text. Objects and arrays keep their JSON text, so a
// voicemail sent as an object still reads as present.
type flexStr string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexStr) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*f = ""
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexStr(s)
	default:
		*f = flexStr(b)
	}
	return nil
}

// userRef is the call's user: an object with an id, a bare id, or null.
type userRef struct {
	ID flexID
}

// UnmarshalJSON implements json.Unmarshaler.
func (u *userRef) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var o struct {
			ID flexID `json:"id"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return fmt.Errorf("user: %w", err)
		}
		u.ID = o.ID
		return nil
	}
	if err := u.ID.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("user: %w", err)
	}
	return nil
}

// namedItem is a tag ({"name"}) or comment ({"content"}), or a bare string.
type namedItem struct {
	text string
}

// UnmarshalJSON implements json.Unmarshaler.
func (n *namedItem) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		n.text = ""
	case b[0] == '"':
		return json.Unmarshal(b, &n.text)
	case b[0] == '{':
		var o struct {
			Name    flexStr `json:"name"`
			Content flexStr `json:"content"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		n.text = string(o.Content)
		if n.text == "" {
			n.text = string(o.Name)
		}
	default:
		return errors.New("tag or comment is neither an object nor a string")
	}
	return nil
}

// truncate keeps error messages short and free of call content.
func truncate(b []byte) string {
	if len(b) > 24 {
		return string(b[:24]) + "…"
	}
	return string(b)
}
