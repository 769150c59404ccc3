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
