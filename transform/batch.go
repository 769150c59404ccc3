package transform

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/phonesignals/phonesignals/internal/model"
)

// Column indexes of Schema; load/ relies on the names, tests on both. A
// column is added here and in columns below, keyed by its constant.
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
	// The talk-time columns (rules.go, Talk), added by migration 013.
	ColAnswered
	ColMissed
	ColVoicemail
	ColTalkSec
	ColAnswerSec
	ColAnswerAvailable
	// numColumns counts the columns; keep it last.
	numColumns
)

var tsType = &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}

// columns are Schema's fields, each keyed by its Col* constant, so the
// indexes and the schema cannot drift apart: a key past the constants does
// not compile, and TestSchemaColumns checks that none is missing or
// repeated. Field names are the raw_signals column names.
var columns = [numColumns]arrow.Field{
	ColOrg:                 {Name: "org", Type: arrow.BinaryTypes.String},
	ColSource:              {Name: "source", Type: arrow.BinaryTypes.String},
	ColEventType:           {Name: "event_type", Type: arrow.BinaryTypes.String},
	ColProvider:            {Name: "provider", Type: arrow.BinaryTypes.String},
	ColCallID:              {Name: "call_id", Type: arrow.BinaryTypes.String},
	ColUserID:              {Name: "user_id", Type: arrow.BinaryTypes.String},
	ColStartedAt:           {Name: "started_at", Type: tsType},
	ColDirection:           {Name: "direction", Type: arrow.BinaryTypes.String},
	ColDurationSec:         {Name: "duration_sec", Type: arrow.PrimitiveTypes.Uint32},
	ColStatus:              {Name: "status", Type: arrow.BinaryTypes.String},
	ColAfterHours:          {Name: "after_hours", Type: arrow.PrimitiveTypes.Uint8},
	ColEscalated:           {Name: "escalated", Type: arrow.PrimitiveTypes.Uint8},
	ColEscalationAvailable: {Name: "escalation_available", Type: arrow.PrimitiveTypes.Uint8},
	ColResolved:            {Name: "resolved", Type: arrow.PrimitiveTypes.Uint8},
	ColDeleted:             {Name: "deleted", Type: arrow.PrimitiveTypes.Uint8},
	ColVersion:             {Name: "version", Type: arrow.PrimitiveTypes.Uint64},
	ColRulesVersion:        {Name: "rules_version", Type: arrow.BinaryTypes.String},
	ColIngestSource:        {Name: "ingest_source", Type: arrow.BinaryTypes.String},
	ColEvent:               {Name: "event", Type: arrow.BinaryTypes.String},
	ColObservedAt:          {Name: "observed_at", Type: tsType},
	ColAnswered:            {Name: "answered", Type: arrow.PrimitiveTypes.Uint8},
	ColMissed:              {Name: "missed", Type: arrow.PrimitiveTypes.Uint8},
	ColVoicemail:           {Name: "voicemail", Type: arrow.PrimitiveTypes.Uint8},
	ColTalkSec:             {Name: "talk_sec", Type: arrow.PrimitiveTypes.Uint32},
	ColAnswerSec:           {Name: "answer_sec", Type: arrow.PrimitiveTypes.Uint32},
	ColAnswerAvailable:     {Name: "answer_available", Type: arrow.PrimitiveTypes.Uint8},
}

// Schema is the Arrow schema of a batch of RawSignal rows.
var Schema = arrow.NewSchema(columns[:], nil)

// BatchBuilder accumulates decoded calls into an Arrow record batch. The
// stored columns are built row by row; the flags are computed when the
// record is cut, by kernels over whole columns: after_hours over
// started_at, escalated and resolved over the transient notes and tags
// columns, which never leave the builder.
type BatchBuilder struct {
	// Hours gives an org's working hours (nil, or a nil schedule: the
	// seed's rule, computed over the whole column by the kernel).
	Hours func(org string) model.Schedule

	mem memory.Allocator
	b   *array.RecordBuilder
	n   int

	lastOrg   string
	lastHours model.Schedule
	custom    []customHours

	org, source, eventType, provider, callID, userID, direction, status *array.StringBuilder
	rulesVersion, ingestSource, event                                   *array.StringBuilder
	startedAt, observedAt                                               *array.TimestampBuilder
	duration, talkSec, answerSec                                        *array.Uint32Builder
	escAvail, deleted                                                   *array.Uint8Builder
	answered, missed, voicemail, answerAvail                            *array.Uint8Builder
	version                                                             *array.Uint64Builder

	// Transient: notes and tags (one string per row, items separated by
	// '\n') and the provider's connected-and-completed verdict.
	notes, tags *array.BinaryBuilder
	completed   []uint8
}

// NewBatchBuilder returns an empty builder.
func NewBatchBuilder(mem memory.Allocator) *BatchBuilder {
	if mem == nil {
		mem = memory.NewGoAllocator()
	}
	b := array.NewRecordBuilder(mem, Schema)
	str := func(i int) *array.StringBuilder { return b.Field(i).(*array.StringBuilder) }
	return &BatchBuilder{mem: mem, b: b,
		org: str(ColOrg), source: str(ColSource), eventType: str(ColEventType), provider: str(ColProvider),
		callID: str(ColCallID), userID: str(ColUserID), direction: str(ColDirection), status: str(ColStatus),
		rulesVersion: str(ColRulesVersion), ingestSource: str(ColIngestSource), event: str(ColEvent),
		startedAt: b.Field(ColStartedAt).(*array.TimestampBuilder), observedAt: b.Field(ColObservedAt).(*array.TimestampBuilder),
		duration: b.Field(ColDurationSec).(*array.Uint32Builder),
		talkSec:  b.Field(ColTalkSec).(*array.Uint32Builder), answerSec: b.Field(ColAnswerSec).(*array.Uint32Builder),
		answered: b.Field(ColAnswered).(*array.Uint8Builder), missed: b.Field(ColMissed).(*array.Uint8Builder),
		voicemail: b.Field(ColVoicemail).(*array.Uint8Builder), answerAvail: b.Field(ColAnswerAvailable).(*array.Uint8Builder),
		escAvail: b.Field(ColEscalationAvailable).(*array.Uint8Builder), deleted: b.Field(ColDeleted).(*array.Uint8Builder),
		version: b.Field(ColVersion).(*array.Uint64Builder),
		notes:   array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary),
		tags:    array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary),
	}
}

// Len is the number of rows added since the last NewRecord.
func (bb *BatchBuilder) Len() int { return bb.n }

func u8(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// callID names v's call in errors.
func callID(rt Route, v *model.Call) string {
	if len(v.CallID) > 0 {
		return string(v.CallID)
	}
	return rt.CallID
}

// Route is what the Kafka record's headers say about a call: they are
// authoritative for routing, so a body cannot move a call to another org.
type Route struct {
	Org, Provider, Source, Event string
	// CallID is used when the body names none.
	CallID     string
	ObservedAt time.Time
	// Seq is the record's offset in its Kafka partition, the tie-breaker
	// of versions a decoder ranks equal (model.StoreVersion); 0 for rows
	// added without a record.
	Seq uint64
}

// storeSeconds are the UNIX seconds ClickHouse DateTime holds.
var minStoreSec, maxStoreSec = model.MinStoreTime.Unix(), model.MaxStoreTime.Unix()

// Add appends one decoded call, routed by rt. Notes and tags are read
// here and go no further. A time the DateTime columns cannot
// hold would wrap to another year: the call is refused with the reason
// (and dead-lettered by the consumer). A zero observed_at means unknown
// and is stored as 1970.
func (bb *BatchBuilder) Add(rt Route, v *model.Call) error {
	observed := rt.ObservedAt.Unix()
	if rt.ObservedAt.IsZero() {
		observed = 0
	}
	if v.StartedAt < minStoreSec || v.StartedAt >= maxStoreSec || observed < minStoreSec || observed >= maxStoreSec {
		err := model.CheckStoreTime("started_at", time.Unix(v.StartedAt, 0))
		if !rt.ObservedAt.IsZero() {
			err = errors.Join(err, model.CheckStoreTime("observed_at", rt.ObservedAt))
		}
		return fmt.Errorf("call %s of org %s: %w", callID(rt, v), rt.Org, err)
	}
	if v.Version > model.MaxVersion {
		return fmt.Errorf("call %s of org %s: version %d is above %d, the largest the store orders (the decoder's version is out of range)",
			callID(rt, v), rt.Org, v.Version, uint64(model.MaxVersion))
	}
	bb.org.Append(rt.Org)
	bb.source.Append("phone")
	bb.eventType.Append("call")
	bb.provider.Append(rt.Provider)
	if len(v.CallID) > 0 {
		bb.callID.BinaryBuilder.Append(v.CallID)
	} else {
		bb.callID.Append(rt.CallID)
	}
	bb.userID.BinaryBuilder.Append(v.UserID)
	bb.startedAt.Append(arrow.Timestamp(v.StartedAt))
	bb.direction.BinaryBuilder.Append(v.Direction)
	bb.duration.Append(v.DurationSec)
	bb.status.BinaryBuilder.Append(v.Status)
	bb.escAvail.Append(u8(v.EscalationAvailable))
	bb.deleted.Append(u8(v.Deleted))
	bb.version.Append(model.StoreVersion(v.Version, rt.Seq))
	bb.rulesVersion.Append(RulesVersion)
	bb.ingestSource.Append(rt.Source)
	bb.event.Append(rt.Event)
	bb.observedAt.Append(arrow.Timestamp(observed))
	bb.addTalk(v)
	if v.EscalationAvailable {
		bb.notes.Append(v.Notes)
		bb.tags.Append(v.Tags)
	} else {
		bb.notes.Append(nil)
		bb.tags.Append(nil)
	}
	bb.completed = append(bb.completed, u8(v.Connected && v.Completed))
	if bb.Hours != nil {
		if rt.Org != bb.lastOrg || bb.n == 0 {
			bb.lastOrg, bb.lastHours = strings.Clone(rt.Org), bb.Hours(rt.Org)
		}
		if bb.lastHours.Custom() {
			bb.custom = append(bb.custom, customHours{row: bb.n, s: bb.lastHours})
		}
	}
	bb.n++
	return nil
}

// addTalk appends v's talk-time columns.
func (bb *BatchBuilder) addTalk(v *model.Call) {
	f := Talk(v)
	bb.answered.Append(u8(f.Answered))
	bb.missed.Append(u8(v.Missed))
	bb.voicemail.Append(u8(v.Voicemail))
	bb.talkSec.Append(f.TalkSec)
	bb.answerSec.Append(f.AnswerSec)
	bb.answerAvail.Append(u8(v.AnswerTimeAvailable))
}

// customHours is a row whose org has its own working hours.
type customHours struct {
	row int
	s   model.Schedule
}

// NewRecord returns the rows added so far as a record batch, with the
// flags computed over whole columns, and resets the builder. The caller
// releases the record.
func (bb *BatchBuilder) NewRecord() arrow.Record {
	n := bb.n
	bb.n = 0
	notes, tags := bb.notes.NewBinaryArray(), bb.tags.NewBinaryArray()
	defer notes.Release()
	defer tags.Release()
	afterHours, escalated, resolved := make([]uint8, n), make([]uint8, n), make([]uint8, n)
	started := bb.startedAt.NewTimestampArray()
	ts := timestampSeconds(started)
	afterHoursKernel(ts, afterHours)
	// Orgs with their own working hours: the rule in effect at each
	// call's start, in its time zone.
	for _, c := range bb.custom {
		afterHours[c.row] = u8(c.s.AfterHours(time.Unix(ts[c.row], 0)))
	}
	bb.custom = bb.custom[:0]
	// Escalation: notes or tags; RingCentral rows have neither (their
	// escalation_available=0 says the zero is not a real zero).
	matchColumn(notes.ValueBytes(), notes.ValueOffsets(), escalationKW, escalated)
	matchColumn(tags.ValueBytes(), tags.ValueOffsets(), escalationKW, escalated)
	matchColumn(notes.ValueBytes(), notes.ValueOffsets(), resolutionKW, resolved)
	for i, c := range bb.completed {
		resolved[i] |= c
	}
	bb.completed = bb.completed[:0]
	cols := make([]arrow.Array, len(Schema.Fields()))
	for i := range cols {
		switch i {
		case ColStartedAt:
			cols[i] = started
		case ColAfterHours:
			cols[i] = uint8Array(bb.mem, afterHours)
		case ColEscalated:
			cols[i] = uint8Array(bb.mem, escalated)
		case ColResolved:
			cols[i] = uint8Array(bb.mem, resolved)
		default:
			cols[i] = bb.b.Field(i).NewArray()
		}
	}
	rec := array.NewRecord(Schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// timestampSeconds views a timestamp array's values as int64 seconds.
func timestampSeconds(a *array.Timestamp) []int64 {
	vals := a.TimestampValues()
	return unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(vals))), len(vals))
}

// uint8Array wraps vals as an Arrow array without copying.
func uint8Array(_ memory.Allocator, vals []uint8) arrow.Array {
	data := array.NewData(arrow.PrimitiveTypes.Uint8, len(vals), []*memory.Buffer{nil, memory.NewBufferBytes(vals)}, nil, 0, 0)
	defer data.Release()
	return array.NewUint8Data(data)
}

// Release frees the builder.
func (bb *BatchBuilder) Release() {
	bb.b.Release()
	bb.notes.Release()
	bb.tags.Release()
}
