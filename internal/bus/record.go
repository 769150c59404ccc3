package bus

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/secret"
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
