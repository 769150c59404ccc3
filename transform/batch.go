package transform

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/phonesignals/phonesignals/internal/model"
)

// Column indexes of Schema; load/ relies on the names, tests on both.
const (
	ColOrg = iota
	ColSource
	ColEventType
	ColProvider
	ColCallID
	ColUserID
	ColStartedAt
	ColDirection
	ColDurationSec
	ColStatus
	ColAfterHours
	ColEscalated
	ColEscalationAvailable
	ColResolved
	ColDeleted
	ColVersion
	ColRulesVersion
	ColIngestSource
	ColEvent
	ColObservedAt
	ColPayload
)

var tsType = &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}

// Schema is the Arrow schema of a batch of RawSignal rows. Field names are
// the raw_signals column names.
var Schema = arrow.NewSchema([]arrow.Field{
	{Name: "org", Type: arrow.BinaryTypes.String},
	{Name: "source", Type: arrow.BinaryTypes.String},
	{Name: "event_type", Type: arrow.BinaryTypes.String},
	{Name: "provider", Type: arrow.BinaryTypes.String},
	{Name: "call_id", Type: arrow.BinaryTypes.String},
	{Name: "user_id", Type: arrow.BinaryTypes.String},
	{Name: "started_at", Type: tsType},
	{Name: "direction", Type: arrow.BinaryTypes.String},
	{Name: "duration_sec", Type: arrow.PrimitiveTypes.Uint32},
	{Name: "status", Type: arrow.BinaryTypes.String},
	{Name: "after_hours", Type: arrow.PrimitiveTypes.Uint8},
	{Name: "escalated", Type: arrow.PrimitiveTypes.Uint8},
	{Name: "escalation_available", Type: arrow.PrimitiveTypes.Uint8},
	{Name: "resolved", Type: arrow.PrimitiveTypes.Uint8},
	{Name: "deleted", Type: arrow.PrimitiveTypes.Uint8},
	{Name: "version", Type: arrow.PrimitiveTypes.Uint64},
	{Name: "rules_version", Type: arrow.BinaryTypes.String},
	{Name: "ingest_source", Type: arrow.BinaryTypes.String},
	{Name: "event", Type: arrow.BinaryTypes.String},
	{Name: "observed_at", Type: tsType},
	{Name: "payload", Type: arrow.BinaryTypes.String},
}, nil)

// Payload is the JSON stored in raw_signals.payload: the seed's fields and
// call metadata managers may see. It never holds notes, tags or numbers.
type Payload struct {
	CallID      string `json:"call_id"`
	Direction   string `json:"direction"`
	DurationSec uint32 `json:"duration_sec"`
	Status      string `json:"status"`
	AfterHours  bool   `json:"after_hours"`
	// Escalated is null where the provider cannot tell (RingCentral).
	Escalated      *bool   `json:"escalated"`
	Resolved       bool    `json:"resolved"`
	ProviderStatus string  `json:"provider_status,omitempty"`
	UserID         string  `json:"user_id,omitempty"`
	StartedAt      string  `json:"started_at"`
	AnsweredAt     *string `json:"answered_at,omitempty"`
	EndedAt        *string `json:"ended_at,omitempty"`
	MissedReason   string  `json:"missed_call_reason,omitempty"`
	RulesVersion   string  `json:"rules_version"`
}

// BatchBuilder accumulates decoded calls into an Arrow record batch.
type BatchBuilder struct {
	b *array.RecordBuilder
	n int
}

// NewBatchBuilder returns an empty builder.
func NewBatchBuilder(mem memory.Allocator) *BatchBuilder {
	if mem == nil {
		mem = memory.NewGoAllocator()
	}
	return &BatchBuilder{b: array.NewRecordBuilder(mem, Schema)}
}

// Len is the number of rows added since the last NewRecord.
func (bb *BatchBuilder) Len() int { return bb.n }

func fmtTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(time.RFC3339)
	return &s
}

func u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// Add applies the rules to c and appends its row. Notes and tags are read
// here and go no further.
func (bb *BatchBuilder) Add(c *model.Call) error {
	// A time the DateTime columns cannot hold would wrap to another year:
	// the record is dead-lettered with the reason instead.
	// A zero observed_at means unknown and is stored as 1970.
	err := model.CheckStoreTime("started_at", c.StartedAt)
	if !c.ObservedAt.IsZero() {
		err = errors.Join(err, model.CheckStoreTime("observed_at", c.ObservedAt))
	}
	if err != nil {
		return fmt.Errorf("call %s of org %s: %w", c.CallID, c.Org, err)
	}
	observed := c.ObservedAt.Unix()
	if c.ObservedAt.IsZero() {
		observed = 0
	}
	f := Apply(c)
	p := Payload{
		CallID: c.CallID, Direction: c.Direction, DurationSec: c.DurationSec, Status: c.Status,
		AfterHours: f.AfterHours, Resolved: f.Resolved, ProviderStatus: c.ProviderStatus, UserID: c.UserID,
		StartedAt: c.StartedAt.UTC().Format(time.RFC3339), AnsweredAt: fmtTime(c.AnsweredAt), EndedAt: fmtTime(c.EndedAt),
		MissedReason: c.MissedReason, RulesVersion: RulesVersion,
	}
	if c.EscalationAvailable {
		e := f.Escalated
		p.Escalated = &e
	}
	payload, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding payload of call %s: %w", c.CallID, err)
	}
	str := func(i int, v string) { bb.b.Field(i).(*array.StringBuilder).Append(v) }
	flag := func(i int, v bool) { bb.b.Field(i).(*array.Uint8Builder).Append(u8(v)) }
	str(ColOrg, c.Org)
	str(ColSource, "phone")
	str(ColEventType, "call")
	str(ColProvider, c.Provider)
	str(ColCallID, c.CallID)
	str(ColUserID, c.UserID)
	bb.b.Field(ColStartedAt).(*array.TimestampBuilder).Append(arrow.Timestamp(c.StartedAt.Unix()))
	str(ColDirection, c.Direction)
	bb.b.Field(ColDurationSec).(*array.Uint32Builder).Append(c.DurationSec)
	str(ColStatus, c.Status)
	flag(ColAfterHours, f.AfterHours)
	flag(ColEscalated, f.Escalated)
	flag(ColEscalationAvailable, c.EscalationAvailable)
	flag(ColResolved, f.Resolved)
	flag(ColDeleted, c.Deleted)
	bb.b.Field(ColVersion).(*array.Uint64Builder).Append(c.Version)
	str(ColRulesVersion, RulesVersion)
	str(ColIngestSource, c.Source)
	str(ColEvent, c.Event)
	bb.b.Field(ColObservedAt).(*array.TimestampBuilder).Append(arrow.Timestamp(observed))
	str(ColPayload, string(payload))
	bb.n++
	return nil
}

// NewRecord returns the rows added so far as a record batch and resets
// the builder. The caller releases the record.
func (bb *BatchBuilder) NewRecord() arrow.Record {
	bb.n = 0
	return bb.b.NewRecord()
}

// Release frees the builder.
func (bb *BatchBuilder) Release() { bb.b.Release() }
