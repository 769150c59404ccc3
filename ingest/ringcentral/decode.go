package ringcentral

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
)

// wireRecord is the part of a call-log record the transform needs. Pointers
// tell a missing or null field from a zero one.
type wireRecord struct {
	ID         json.RawMessage `json:"id"`
	StartTime  *string         `json:"startTime"`
	Duration   *float64        `json:"duration"`
	DurationMs *float64        `json:"durationMs"`
	Direction  *string         `json:"direction"`
	Result     *string         `json:"result"`
	Extension  *struct {
		ID json.RawMessage `json:"id"`
	} `json:"extension"`
	LastModifiedTime *string `json:"lastModifiedTime"`
	Deleted          *bool   `json:"deleted"`
}

// Decode decodes a raw RingCentral call-log record into c,
// Provider.Decode. The user is the record's extension.id, else
// raw.UserHint (per-extension call logs do not name the extension). Status
// and ProviderStatus are both the result. RingCentral exposes no notes or
// tags, so EscalationAvailable is false and Notes/Tags are empty:
// escalated is "not available", never a real zero. Version is
// lastModifiedTime in Unix ms, else ObservedAt's. A missing id or
// startTime, a direction other than Inbound/Outbound, or a field of the
// wrong type is an error naming the field; the transform dead-letters it.
// Call logs arrive by polling, far fewer than the transform decodes, so
// encoding/json is fast enough: this is the one decode path.
func Decode(raw model.RawCall, c *model.Call) error {
	c.Reset()
	var r wireRecord
	if err := json.Unmarshal(raw.Body, &r); err != nil {
		return fmt.Errorf("decoding ringcentral call %q: %w", raw.CallID, describeJSONError(err))
	}
	id := jsonID(r.ID)
	if id == "" {
		return fmt.Errorf("decoding ringcentral call %q: missing id", raw.CallID)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("decoding ringcentral call %q: "+format, append([]any{id}, args...)...)
	}
	if r.StartTime == nil || *r.StartTime == "" {
		return fail("missing startTime")
	}
	start, err := parseTime(*r.StartTime)
	if err != nil {
		return fail("startTime %q is not an ISO 8601 time", *r.StartTime)
	}
	direction, problem := parseDirection(r.Direction)
	if problem != "" {
		return fail("%s", problem)
	}
	c.CallID, c.Direction, c.StartedAt = c.OwnString(id), c.OwnString(direction), start.Unix()
	user := raw.UserHint
	if r.Extension != nil {
		if ext := jsonID(r.Extension.ID); ext != "" {
			user = ext
		}
	}
	c.UserID = c.OwnString(user)
	dur, ok := r.duration()
	if dur < 0 || dur.Seconds() > math.MaxUint32 {
		return fail("duration %v is out of range", dur)
	}
	c.DurationSec = uint32(dur.Round(time.Second) / time.Second)
	if ok {
		c.EndedAt, c.HasEnded = start.Add(dur).Unix(), true
	}
	if r.Result != nil {
		c.Status = c.OwnString(*r.Result)
		c.ProviderStatus = c.Status
		// Only these results mean the call connected and ended normally.
		c.Connected = *r.Result == "Call connected" || *r.Result == "Accepted"
		c.Completed = c.Connected
		c.Missed = direction == "inbound" && missedResults[*r.Result]
		c.Voicemail = direction == "inbound" && *r.Result == "Voicemail"
	}
	if r.Deleted != nil {
		c.Deleted = *r.Deleted
	}
	c.Version = unixMilli(raw.ObservedAt)
	if r.LastModifiedTime != nil && *r.LastModifiedTime != "" {
		t, err := parseTime(*r.LastModifiedTime)
		if err != nil {
			// A garbled version would let an older body win in ClickHouse.
			return fail("lastModifiedTime %q is not an ISO 8601 time", *r.LastModifiedTime)
		}
		c.Version = unixMilli(t)
	}
	return nil
}

// missedResults are the results of an inbound call that rang the
// extension (or was refused by it) and was not answered: the caller was
// not taken, went to voicemail, was rejected or declined, not answered, or
// found the line busy. Hang Up and Abandoned (the caller gave up, in a
// queue or menu before an extension took it), Blocked, Call Failed,
// Stopped and the like are not missed calls of the employee. The call log
// has no answer time: AnswerTimeAvailable stays false, so time to answer
// is n/a and talk time is the duration of a connected call.
var missedResults = map[string]bool{
	"Missed": true, "Voicemail": true, "Rejected": true, "Declined": true, "No Answer": true, "Busy": true,
}

// parseDirection maps RingCentral's direction; problem says what is wrong.
func parseDirection(d *string) (direction, problem string) {
	switch {
	case d == nil || *d == "":
		return "", "missing direction"
	case strings.EqualFold(*d, "Inbound"):
		return "inbound", ""
	case strings.EqualFold(*d, "Outbound"):
		return "outbound", ""
	default:
		return "", fmt.Sprintf("direction %q is neither Inbound nor Outbound", *d)
	}
}

// duration is the call's length: duration is whole seconds; durationMs is
// the fallback when a record carries only that. ok is false when the
// record has neither (the call has not ended).
func (r wireRecord) duration() (d time.Duration, ok bool) {
	switch {
	case r.Duration != nil:
		return time.Duration(*r.Duration * float64(time.Second)), true
	case r.DurationMs != nil:
		return time.Duration(*r.DurationMs * float64(time.Millisecond)), true
	}
	return 0, false
}

func unixMilli(t time.Time) uint64 {
	if t.IsZero() || t.UnixMilli() < 0 {
		return 0
	}
	return uint64(t.UnixMilli())
}

// describeJSONError names the field of a type mismatch.
func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Errorf("field %s: %s is not a %s", te.Field, te.Value, te.Type)
	}
	return fmt.Errorf("body is not a JSON call object: %w", err)
}
