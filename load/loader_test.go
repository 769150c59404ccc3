package load

import (
	"context"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/model/modeltest"
	"github.com/phonesignals/phonesignals/load/aggregate/aggregatetest"
	"github.com/phonesignals/phonesignals/transform"
	"github.com/phonesignals/phonesignals/transform/transformtest"
)

// TestWriteRoundTrip loads an Arrow batch and reads every column back.
func TestWriteRoundTrip(t *testing.T) {
	ctx := context.Background()
	st := aggregatetest.MigratedStore(ctx, t)
	started := time.Date(2026, 8, 31, 23, 59, 59, 0, time.UTC)
	calls := []modeltest.Call{
		{Org: "acme", Provider: fixture.Aircall, CallID: "1", UserID: "7", StartedAt: started, Direction: "inbound",
			DurationSec: 4294967295, Status: "done", ProviderStatus: "done", EscalationAvailable: true, Notes: []string{"urgent"},
			Version: model.MaxVersion - 12345, Source: model.SourcePoll, ObservedAt: started.Add(time.Hour)},
		{Org: "acme", Provider: fixture.Aircall, CallID: "2", StartedAt: started.Add(time.Second), Direction: "outbound",
			Status: "missed", ProviderStatus: "done", EscalationAvailable: true, Deleted: true, Version: 7, Source: model.SourceWebhook, Event: "call.ended"},
	}
	bb := transform.NewBatchBuilder(nil)
	defer bb.Release()
	for i := range calls {
		if err := transformtest.Add(bb, &calls[i]); err != nil {
			t.Fatal(err)
		}
	}
	rec := bb.NewRecord()
	defer rec.Release()
	loaded := time.Date(2026, 11, 1, 2, 3, 4, 0, time.UTC)
	ld, err := New(Config{Conn: st.Conn(), Now: func() time.Time { return loaded }})
	if err != nil {
		t.Fatal(err)
	}
	if err := ld.Write(ctx, rec); err != nil {
		t.Fatal(err)
	}
	rows, err := st.Conn().Query(ctx, "SELECT call_id, user_id, started_at, duration_sec, escalated, deleted, version, event, loaded_at, source, event_type FROM raw_signals ORDER BY call_id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var id, user, event, source, et string
		var at, lat time.Time
		var dur uint32
		var esc, del uint8
		var ver uint64
		if err := rows.Scan(&id, &user, &at, &dur, &esc, &del, &ver, &event, &lat, &source, &et); err != nil {
			t.Fatal(err)
		}
		c := calls[i]
		if id != c.CallID || user != c.UserID || !at.Equal(c.StartedAt) || dur != c.DurationSec || ver != model.StoreVersion(c.Version, 0) ||
			(del == 1) != c.Deleted || event != c.Event || !lat.Equal(loaded) || source != "phone" || et != "call" {
			t.Errorf("row %d: %s %s %s %d %d %d %s %s %s %s", i, id, user, at, dur, ver, del, event, lat, source, et)
		}
		if i == 0 && esc != 1 {
			t.Error("escalated flag lost")
		}
		i++
	}
	if i != 2 {
		t.Fatalf("%d rows read back, want 2", i)
	}
	if err := ld.Write(ctx, bb.NewRecord()); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without a connection succeeded")
	}
}
