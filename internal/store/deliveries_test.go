package store

import (
	"testing"
	"time"
)

func TestDeliveryBufferBatches(t *testing.T) {
	ts := newTestStore(t)
	ctx := testCtx(t)
	// A long interval: only Close may flush, so everything lands in one insert.
	b := ts.NewDeliveryBuffer(time.Hour)
	for i := 0; i < 50; i++ {
		status := 200
		if i%10 == 0 {
			status = 401
		}
		if err := b.RecordDelivery(ctx, "acme", "call.ended", status, "r"); err != nil {
			t.Fatal(err)
		}
	}
	if got := ts.query(t, "SELECT count() FROM "+ts.db+".webhook_deliveries"); got != "0" {
		t.Fatalf("%s deliveries written before a flush", got)
	}
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	stats, err := ts.WebhookStats(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 2 || stats[0].Label != "HTTP 200" || stats[0].N != 45 || stats[1].N != 5 {
		t.Fatalf("stats %+v", stats)
	}
	// One insert: one part (merges cannot have run yet on 18.16 that fast,
	// and current versions report the same).
	if got := ts.query(t, "SELECT count() FROM system.parts WHERE database = '"+ts.db+"' AND table = 'webhook_deliveries' AND active"); got != "1" {
		t.Fatalf("%s parts, want 1 insert", got)
	}

	// The ticker flushes on its own.
	b2 := ts.NewDeliveryBuffer(50 * time.Millisecond)
	defer b2.Close(ctx)
	_ = b2.RecordDelivery(ctx, "beta", "call.created", 200, "")
	waitFor(t, func() bool {
		return ts.query(t, "SELECT count() FROM "+ts.db+".webhook_deliveries WHERE org = 'beta'") == "1"
	})
}

// A flush that fails (here: the table is gone, as in a ClickHouse outage)
// keeps its deliveries, and the next flush writes them.
func TestDeliveryBufferKeepsRowsWhenClickHouseFails(t *testing.T) {
	ts := newTestStore(t)
	ctx := testCtx(t)
	b := ts.NewDeliveryBuffer(time.Hour)
	defer b.Close(ctx)
	_ = b.RecordDelivery(ctx, "acme", "call.ended", 200, "")
	ts.query(t, "RENAME TABLE "+ts.db+".webhook_deliveries TO "+ts.db+".webhook_deliveries_away")
	if err := b.Flush(ctx); err == nil {
		t.Fatal("flush into a missing table succeeded")
	}
	_ = b.RecordDelivery(ctx, "acme", "call.created", 200, "")
	if q, _ := b.Pending(); q != 2 {
		t.Fatalf("%d deliveries queued after a failed flush, want 2", q)
	}
	ts.query(t, "RENAME TABLE "+ts.db+".webhook_deliveries_away TO "+ts.db+".webhook_deliveries")
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := ts.query(t, "SELECT count() FROM "+ts.db+".webhook_deliveries WHERE org = 'acme'"); got != "2" {
		t.Fatalf("%s deliveries stored after the outage, want 2", got)
	}
}
