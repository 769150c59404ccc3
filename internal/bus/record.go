package bus

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
)

// Header names of raw-call records.
const (
	HeaderOrg        = "org"
	HeaderProvider   = "provider"
	HeaderCallID     = "call_id"
	HeaderSource     = "source"
	HeaderEvent      = "event"
	HeaderObservedAt = "observed_at"
	HeaderUserHint   = "user_hint"
	HeaderEncoding   = "enc"
	HeaderReason     = "reason"
	// HeaderOrigin, on a dead letter, is the raw record's topic/partition/offset.
	HeaderOrigin = "origin"
	// HeaderReplayOf, on a raw record re-published by `dlq replay`, is the
	// origin of the dead letter it replays.
	HeaderReplayOf = "replay_of"
	encodingV1     = "aes-256-gcm/v1"
)

// Key is the record key of a call: one call always lands in one partition.
func Key(org, provider, callID string) []byte {
	return []byte(org + "/" + provider + "/" + callID)
}

func aad(org, provider, callID string) []byte { return Key(org, provider, callID) }

// This file builds every record layout phonesignals publishes: the raw
// call (Encode), its dead letter (DeadLetter) and a replayed dead letter
// (Replay); no other package sets a header.

// Encode turns a raw call into a Kafka record with a sealed body. The
// sealing binds the body to its org, provider and call id.
func Encode(box *secret.Box, topic string, c model.RawCall) *kgo.Record {
	return &kgo.Record{
		Topic: topic,
		Key:   Key(c.Org, c.Provider, c.CallID),
		Value: box.Seal(c.Body, aad(c.Org, c.Provider, c.CallID)),
		Headers: []kgo.RecordHeader{
			{Key: HeaderOrg, Value: []byte(c.Org)},
			{Key: HeaderProvider, Value: []byte(c.Provider)},
			{Key: HeaderCallID, Value: []byte(c.CallID)},
			{Key: HeaderSource, Value: []byte(c.Source)},
			{Key: HeaderEvent, Value: []byte(c.Event)},
			{Key: HeaderObservedAt, Value: []byte(c.ObservedAt.UTC().Format(time.RFC3339Nano))},
			{Key: HeaderUserHint, Value: []byte(c.UserHint)},
			{Key: HeaderEncoding, Value: []byte(encodingV1)},
		},
	}
}

// DeadLetter is the dead-letter record of r, a raw record the transform
// could not use: r's key, sealed value and headers (so `dlq replay` can
// publish it again unchanged), plus HeaderReason and HeaderOrigin.
func DeadLetter(r *kgo.Record, reason string) *kgo.Record {
	h := make([]kgo.RecordHeader, 0, len(r.Headers)+2)
	h = append(append(h, r.Headers...),
		kgo.RecordHeader{Key: HeaderReason, Value: []byte(reason)},
		kgo.RecordHeader{Key: HeaderOrigin, Value: []byte(Origin(r))})
	return &kgo.Record{Topic: TopicDead, Key: r.Key, Value: r.Value, Headers: h}
}

// Origin is where r sits, as HeaderOrigin and the dead_letters table name
// it: topic/partition/offset.
func Origin(r *kgo.Record) string { return fmt.Sprintf("%s/%d/%d", r.Topic, r.Partition, r.Offset) }

// Replay is dead letter d as a raw record again: same key and sealed value
// (the sealing binds it to org, provider and call id, not to a topic), the
// raw record's headers without the dead letter's, and HeaderReplayOf
// naming root, the origin of the first dead letter of the chain.
func Replay(d *kgo.Record, root string) *kgo.Record {
	out := &kgo.Record{Topic: TopicRaw, Key: d.Key, Value: d.Value}
	for _, h := range d.Headers {
		switch h.Key {
		case HeaderReason, HeaderOrigin, HeaderReplayOf:
			continue
		}
		out.Headers = append(out.Headers, h)
	}
	out.Headers = append(out.Headers, kgo.RecordHeader{Key: HeaderReplayOf, Value: []byte(root)})
	return out
}

// Header returns the value of header k, "" when absent.
func Header(r *kgo.Record, k string) string {
	for _, h := range r.Headers {
		if h.Key == k {
			return string(h.Value)
		}
	}
	return ""
}

// Decode opens a raw-call record. Errors name what is wrong so the record
// can be dead-lettered with a useful reason.
func Decode(box *secret.Box, r *kgo.Record) (model.RawCall, error) {
	c := model.RawCall{
		Org:      Header(r, HeaderOrg),
		Provider: Header(r, HeaderProvider),
		CallID:   Header(r, HeaderCallID),
		Source:   Header(r, HeaderSource),
		Event:    Header(r, HeaderEvent),
		UserHint: Header(r, HeaderUserHint),
	}
	var errs []error
	if c.Org == "" {
		errs = append(errs, errors.New("header org is missing"))
	}
	if c.Provider == "" {
		errs = append(errs, errors.New("header provider is missing"))
	}
	if c.CallID == "" {
		errs = append(errs, errors.New("header call_id is missing"))
	}
	if enc := Header(r, HeaderEncoding); enc != encodingV1 {
		errs = append(errs, fmt.Errorf("header enc is %q, want %q", enc, encodingV1))
	}
	ts, err := time.Parse(time.RFC3339Nano, Header(r, HeaderObservedAt))
	if err != nil {
		errs = append(errs, fmt.Errorf("header observed_at %q is not RFC 3339", Header(r, HeaderObservedAt)))
	}
	c.ObservedAt = ts
	if len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	body, err := box.Open(r.Value, aad(c.Org, c.Provider, c.CallID))
	if err != nil {
		return c, fmt.Errorf("opening body: %w", err)
	}
	c.Body = body
	return c, nil
}

// DecodeTo is Decode for the transform's hot loop: one pass over the
// headers, header strings that alias the record (records are never
// modified after a fetch, and the strings keep them alive), and the body
// opened into buf, which is reused: raw.Body is valid until the next call
// with the same buf. Errors are Decode's.
func DecodeTo(box *secret.Box, r *kgo.Record, buf *[]byte) (model.RawCall, error) {
	var c model.RawCall
	var enc, observed string
	for _, h := range r.Headers {
		v := unsafe.String(unsafe.SliceData(h.Value), len(h.Value))
		switch h.Key {
		case HeaderOrg:
			c.Org = v
		case HeaderProvider:
			c.Provider = v
		case HeaderCallID:
			c.CallID = v
		case HeaderSource:
			c.Source = v
		case HeaderEvent:
			c.Event = v
		case HeaderUserHint:
			c.UserHint = v
		case HeaderEncoding:
			enc = v
		case HeaderObservedAt:
			observed = v
		}
	}
	ts, ok := parseRFC3339UTC(observed)
	if c.Org == "" || c.Provider == "" || c.CallID == "" || enc != encodingV1 || !ok || !hasKey(r.Key, c.Org, c.Provider, c.CallID) {
		// Rare: the general path says what is wrong (or copes with a
		// time offset or a key that is not the usual one).
		return decodeSlow(box, r, buf)
	}
	c.ObservedAt = ts
	body, err := box.OpenTo(*buf, r.Value, r.Key)
	if err != nil {
		return c, fmt.Errorf("opening body: %w", err)
	}
	*buf = body
	c.Body = body
	return c, nil
}

func decodeSlow(box *secret.Box, r *kgo.Record, buf *[]byte) (model.RawCall, error) {
	c, err := Decode(box, r)
	if err == nil {
		*buf = c.Body
	}
	return c, err
}

// hasKey reports whether key is Key(org, provider, callID), which is also
// the body's additional authenticated data.
func hasKey(key []byte, org, provider, callID string) bool {
	if len(key) != len(org)+len(provider)+len(callID)+2 {
		return false
	}
	k := unsafe.String(unsafe.SliceData(key), len(key))
	return k[:len(org)] == org && k[len(org)] == '/' && k[len(org)+1:len(org)+1+len(provider)] == provider &&
		k[len(org)+1+len(provider)] == '/' && k[len(org)+2+len(provider):] == callID
}

// parseRFC3339UTC parses the observed_at Encode writes
// (2006-01-02T15:04:05[.fraction]Z) without time.Parse; ok is false for
// anything else, which Decode then parses.
func parseRFC3339UTC(s string) (time.Time, bool) {
	if len(s) < 20 || s[len(s)-1] != 'Z' || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	var f [6]int
	for i, span := range [6][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}} {
		n, ok := digits(s[span[0]:span[1]])
		if !ok {
			return time.Time{}, false
		}
		f[i] = n
	}
	ns, ok := fraction(s[19 : len(s)-1])
	if !ok || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 59 {
		return time.Time{}, false
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], ns, time.UTC)
	// February 30th and the like normalise into another day.
	return t, t.Day() == f[2]
}

// digits parses an unsigned decimal of ASCII digits only.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// fraction parses "" or ".d" to ".ddddddddd" into nanoseconds.
func fraction(s string) (int, bool) {
	if s == "" {
		return 0, true
	}
	if s[0] != '.' || len(s) < 2 || len(s) > 10 {
		return 0, false
	}
	f, ok := digits(s[1:])
	for i := len(s) - 1; i < 9; i++ {
		f *= 10
	}
	return f, ok
}
