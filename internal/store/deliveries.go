package store

import (
	"context"
	"fmt"
	"github.com/phonesignals/phonesignals/queries"
	"sync"
	"time"
)

// DeliveryBuffer records webhook deliveries in batches: one ClickHouse
// insert per delivery would make a part per webhook, which ClickHouse
// punishes ("too many parts"). Deliveries are flushed every second and on
// Close; a delivery is only diagnostics, so losing the last second on a
// crash loses no call.
type DeliveryBuffer struct {
	s    *Store
	mu   sync.Mutex
	rows [][]any
	stop chan struct{}
	done chan struct{}
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
				_ = b.Flush(context.Background())
			}
		}
	}()
	return b
}

// RecordDelivery queues one delivery (never its body).
func (b *DeliveryBuffer) RecordDelivery(_ context.Context, org, event string, status int, reason string) error {
	b.mu.Lock()
	b.rows = append(b.rows, []any{org, event, uint16(status), reason, time.Now().UTC()})
	b.mu.Unlock()
	return nil
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
		return fmt.Errorf("recording %d webhook deliveries: %w", len(rows), err)
	}
	return nil
}

// Close stops the flusher and writes what is queued.
func (b *DeliveryBuffer) Close(ctx context.Context) error {
	close(b.stop)
	<-b.done
	return b.Flush(ctx)
}
