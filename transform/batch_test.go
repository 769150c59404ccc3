package transform

import (
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/phonesignals/phonesignals/internal/model"
)

func TestBatchBuilder(t *testing.T) {
	ans := at("2026-08-03T18:00:05Z")
	calls := []model.Call{
		{Org: "acme", Provider: model.ProviderAircall, CallID: "1", UserID: "7", StartedAt: at("2026-08-03T18:00:00Z"), AnsweredAt: &ans,
			Direction: "inbound", DurationSec: 120, Status: "done", ProviderStatus: "done", Connected: true, Completed: true, Notes: []string{"customer wants a REFUND"},
			Tags: []string{"Secret tag"}, EscalationAvailable: true, Version: 9, Source: "poll", ObservedAt: time.Unix(100, 0)},
		{Org: "globex", Provider: model.ProviderRingCentral, CallID: "RC1", UserID: "62", StartedAt: at("2026-08-03T09:00:00Z"),
			Direction: "outbound", DurationSec: 30, Status: "Call connected", ProviderStatus: "Call connected", Connected: true, Completed: true, Deleted: true, Version: 5},
	}
	bb := NewBatchBuilder(nil)
	defer bb.Release()
	for i := range calls {
		if err := bb.Add(&calls[i]); err != nil {
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
