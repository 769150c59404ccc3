package store

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/phonesignals/phonesignals/queries"
)

// MaxPendingDeliveries bounds the deliveries a DeliveryBuffer keeps while
// ClickHouse is down: past it the oldest are dropped, counted and logged,
// so a long outage cannot exhaust memory.
const MaxPendingDeliveries = 100_000

// DeliveryBuffer records webhook deliveries in batches: one ClickHouse
// insert per delivery would make a part per webhook, which ClickHouse
// punishes ("too many parts"). Deliveries are flushed every second and on
// Close; a failed flush keeps its rows for the next one (up to
// MaxPendingDeliveries) and logs the failure, so a ClickHouse outage delays
// the records instead of dropping them silently. A delivery is only
// diagnostics, so losing the last second on a crash loses no call.
type DeliveryBuffer struct {
	s       *Store
	mu      sync.Mutex
	rows    [][]any
	dropped int
	stop    chan struct{}
	done    chan struct{}
}

// NewDeliveryBuffer starts a buffer that flushes every interval (default 1s).
func (s *Store) NewDeliveryBuffer(interval time.Duration) *DeliveryBuffer {
	if interval <= 0 {
		interval = time.Second
	}
	b := &DeliveryBuffer{s: s, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				if err := b.Flush(context.Background()); err != nil {
					slog.Warn("webhook deliveries kept for the next flush", "err", err)
				}
			}
		}
	}()
	return b
}

// RecordDelivery queues one delivery (never its body).
func (b *DeliveryBuffer) RecordDelivery(_ context.Context, org, event string, status int, reason string) error {
	b.mu.Lock()
	b.rows = append(b.rows, []any{org, event, uint16(status), reason, time.Now().UTC()})
	b.trimLocked()
	b.mu.Unlock()
	return nil
}

// trimLocked drops the oldest rows past MaxPendingDeliveries, counting them.
func (b *DeliveryBuffer) trimLocked() {
	if over := len(b.rows) - MaxPendingDeliveries; over > 0 {
		b.rows = append(b.rows[:0:0], b.rows[over:]...)
		b.dropped += over
	}
}

// Pending returns the deliveries queued, and how many were dropped since
// the last successful flush because the queue was full.
func (b *DeliveryBuffer) Pending() (queued, dropped int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.rows), b.dropped
}

// Flush writes the queued deliveries in one insert.
func (b *DeliveryBuffer) Flush(ctx context.Context) error {
	b.mu.Lock()
	rows := b.rows
	b.rows = nil
	b.mu.Unlock()
	if len(rows) == 0 {
		return nil
	}
	if err := b.s.insert(ctx, queries.InsertWebhookDeliveries, rows...); err != nil {
		// Put them back ahead of what arrived meanwhile, for the next flush.
		b.mu.Lock()
		b.rows = append(rows, b.rows...)
		b.trimLocked()
		n, dropped := len(b.rows), b.dropped
		b.mu.Unlock()
		return fmt.Errorf("recording %d webhook deliveries (%d queued for retry, %d dropped while ClickHouse is unreachable): %w", len(rows), n, dropped, err)
	}
	b.mu.Lock()
	if b.dropped > 0 {
		slog.Warn("webhook delivery records dropped while ClickHouse was unreachable (the calls themselves are in Kafka)", "dropped", b.dropped)
		b.dropped = 0
	}
	b.mu.Unlock()
	return nil
}

// Close stops the flusher and writes what is queued.
func (b *DeliveryBuffer) Close(ctx context.Context) error {
	close(b.stop)
	<-b.done
	return b.Flush(ctx)
}
