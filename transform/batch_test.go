package transform

import (
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/model/modeltest"
)

// addRow appends the row c, routed by its own routing fields (as
// transformtest.Add does for other packages' tests).
func (bb *BatchBuilder) addRow(c *modeltest.Call) error {
	var v model.Call
	c.Fill(&v)
	return bb.Add(Route{Org: c.Org, Provider: c.Provider, Source: c.Source, Event: c.Event, ObservedAt: c.ObservedAt}, &v)
}

func TestBatchBuilder(t *testing.T) {
	ans := at("2026-08-03T18:00:05Z")
	calls := []modeltest.Call{
		{Org: "acme", Provider: fixture.Aircall, CallID: "1", UserID: "7", StartedAt: at("2026-08-03T18:00:00Z"), AnsweredAt: &ans,
			Direction: "inbound", DurationSec: 120, Status: "done", ProviderStatus: "done", Connected: true, Completed: true, Notes: []string{"customer wants a REFUND"},
			Tags: []string{"Secret tag"}, EscalationAvailable: true, Version: 9, Source: "poll", ObservedAt: time.Unix(100, 0)},
		{Org: "globex", Provider: fixture.RingCentral, CallID: "RC1", UserID: "62", StartedAt: at("2026-08-03T09:00:00Z"),
			Direction: "outbound", DurationSec: 30, Status: "Call connected", ProviderStatus: "Call connected", Connected: true, Completed: true, Deleted: true, Version: 5},
	}
	bb := NewBatchBuilder(nil)
	defer bb.Release()
	for i := range calls {
		if err := bb.addRow(&calls[i]); err != nil {
			t.Fatal(err)
		}
	}
	rec := bb.NewRecord()
	defer rec.Release()
	if rec.NumRows() != 2 || !rec.Schema().Equal(Schema) {
		t.Fatalf("rows %d schema %v", rec.NumRows(), rec.Schema())
	}
	u8 := func(col, row int) uint8 { return rec.Column(col).(*array.Uint8).Value(row) }
	if u8(ColAfterHours, 0) != 1 || u8(ColEscalated, 0) != 1 || u8(ColResolved, 0) != 1 || u8(ColEscalationAvailable, 0) != 1 {
		t.Fatal("aircall flags wrong")
	}
	if u8(ColAfterHours, 1) != 0 || u8(ColEscalated, 1) != 0 || u8(ColEscalationAvailable, 1) != 0 || u8(ColResolved, 1) != 1 || u8(ColDeleted, 1) != 1 {
		t.Fatal("ringcentral flags wrong")
	}
	if got := rec.Column(ColSource).(*array.String).Value(0); got != "phone" {
		t.Fatalf("source %q", got)
	}
	if got := rec.Column(ColEventType).(*array.String).Value(1); got != "call" {
		t.Fatalf("event_type %q", got)
	}
	// Notes and tags never reach a stored column.
	for c := 0; c < int(rec.NumCols()); c++ {
		if col, ok := rec.Column(c).(*array.String); ok {
			for i := 0; i < col.Len(); i++ {
				if v := col.Value(i); strings.Contains(strings.ToLower(v), "refund") || strings.Contains(v, "Secret tag") {
					t.Fatalf("column %s leaks notes or tags: %q", Schema.Field(c).Name, v)
				}
			}
		}
	}
	if bb.Len() != 0 {
		t.Fatal("builder not reset")
	}
}

// The talk-time columns (rules.go, Talk) from the neutral fields the
// decoders set: answer times where the provider has them, the duration
// of a connected call where it has none, zeros otherwise.
func TestBatchTalkColumns(t *testing.T) {
	start := at("2026-08-03T10:00:00Z")
	ans, end, early := start.Add(12*time.Second), start.Add(200*time.Second), start.Add(-5*time.Second)
	calls := []modeltest.Call{
		// Aircall, answered inbound: talk 188 s, answered after 12 s.
		{CallID: "1", StartedAt: start, AnsweredAt: &ans, EndedAt: &end, Direction: "inbound", DurationSec: 200, Connected: true, AnswerTimeAvailable: true},
		// Aircall, still talking: answered, no talk time yet.
		{CallID: "2", StartedAt: start, AnsweredAt: &ans, Direction: "outbound", Connected: true, AnswerTimeAvailable: true},
		// Aircall, ended before the answer time (clock skew): 0, never negative.
		{CallID: "3", StartedAt: start, AnsweredAt: &ans, EndedAt: &early, Direction: "inbound", Connected: true, AnswerTimeAvailable: true},
		// Aircall voicemail with answered_at: missed, not answered.
		{CallID: "4", StartedAt: start, AnsweredAt: &ans, EndedAt: &end, Direction: "inbound", Connected: true, Missed: true, Voicemail: true, AnswerTimeAvailable: true},
		// RingCentral, connected: talk is the duration, no answer time.
		{CallID: "RC1", StartedAt: start, EndedAt: &end, Direction: "inbound", DurationSec: 200, Connected: true},
		// RingCentral, missed.
		{CallID: "RC2", StartedAt: start, EndedAt: &end, Direction: "inbound", DurationSec: 9, Missed: true},
	}
	bb := NewBatchBuilder(nil)
	defer bb.Release()
	for i := range calls {
		calls[i].Org, calls[i].Provider = "acme", "p"
		if err := bb.addRow(&calls[i]); err != nil {
			t.Fatal(err)
		}
	}
	rec := bb.NewRecord()
	defer rec.Release()
	type row struct {
		answered, missed, voicemail uint8
		talk, answer                uint32
		avail                       uint8
	}
	want := []row{{1, 0, 0, 188, 12, 1}, {1, 0, 0, 0, 12, 1}, {1, 0, 0, 0, 12, 1}, {0, 1, 1, 0, 0, 1}, {1, 0, 0, 200, 0, 0}, {0, 1, 0, 0, 0, 0}}
	u8 := func(col, i int) uint8 { return rec.Column(col).(*array.Uint8).Value(i) }
	u32 := func(col, i int) uint32 { return rec.Column(col).(*array.Uint32).Value(i) }
	for i, w := range want {
		got := row{u8(ColAnswered, i), u8(ColMissed, i), u8(ColVoicemail, i), u32(ColTalkSec, i), u32(ColAnswerSec, i), u8(ColAnswerAvailable, i)}
		if got != w {
			t.Errorf("call %s: got %+v, want %+v", calls[i].CallID, got, w)
		}
	}
}
