package scaleout

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/ingest/providers"
	"github.com/phonesignals/phonesignals/internal/app/transformjob"
	"github.com/phonesignals/phonesignals/internal/bus"
)

// TestStream streams the fixture org's calls and edits (a backfill, webhooks
// duplicated and out of order, a final sync) through the real producers,
// a 3-broker Kafka and transform instances of one consumer group in this
// process, each with its own loader clock. Once idle every review number
// equals fixture.Truth and the per-day aggregates are exact.
func TestStream(t *testing.T) {
	for _, tc := range []struct {
		name string
		// skews are the loaders' clocks, off the real one; one instance
		// per entry.
		skews []time.Duration
		// stop stops a broker midway (the group's coordinator unless it
		// is the controller, which kfake cannot move) and starts it again
		// after the webhooks.
		stop bool
	}{
		{name: "clocks 5s apart", skews: []time.Duration{2500 * time.Millisecond, -2500 * time.Millisecond}},
		{name: "broker stopped", skews: []time.Duration{0, 0}, stop: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, calls(t))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var wg sync.WaitGroup
			errs := make([]error, len(tc.skews))
			for i, skew := range tc.skews {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = transformjob.Run(ctx, transformjob.Config{Providers: providers.Registry(), Bus: r.emb.Config(), Box: r.box,
						Store: r.st, MaxBatch: 400, MaxWait: 200 * time.Millisecond, Now: func() time.Time { return time.Now().Add(skew) }})
				}()
			}
			stopped := r.produce(ctx, tc.stop)
			r.waitIdle(3*time.Minute, "after the stream")
			cancel()
			wg.Wait()
			for i, err := range errs {
				if err != nil && !errors.Is(err, context.Canceled) {
					t.Errorf("transform instance %d: %v", i, err)
				}
			}
			if tc.stop && stopped < 0 {
				t.Fatal("no broker was stopped")
			}
			r.verify(tc.name)
		})
	}
}

// produce runs the three phases of the stream; with stop, a broker is
// stopped after the backfill's first windows and started again after the
// webhooks. It returns the broker stopped, -1 for none.
func (r *rig) produce(ctx context.Context, stop bool) int {
	r.t.Helper()
	stopped := -1
	backfill := make(chan error, 1)
	go func() { backfill <- r.syncEarly(ctx) }()
	if stop {
		// Midway through the backfill: once the group has loaded some of it.
		r.waitLoaded(ctx, 200)
		stopped = r.stopBroker()
	}
	if err := <-backfill; err != nil {
		r.t.Fatalf("backfill (broker %d stopped): %v", stopped, err)
	}
	if err := r.webhooks(ctx); err != nil {
		r.t.Fatalf("webhooks (broker %d stopped): %v", stopped, err)
	}
	if stopped >= 0 {
		if err := r.emb.RestartBroker(stopped); err != nil {
			r.t.Fatal(err)
		}
	}
	if err := r.syncFinal(ctx); err != nil {
		r.t.Fatalf("final sync: %v", err)
	}
	return stopped
}

// stopBroker stops the transform group's coordinator, or, when that is
// the controller (the last broker, which kfake cannot move), broker 0.
func (r *rig) stopBroker() int {
	r.t.Helper()
	victim := r.emb.CoordinatorNode(bus.GroupTransform)
	if victim < 0 || victim == len(r.emb.Addrs())-1 {
		victim = 0
	}
	if err := r.emb.StopBroker(victim); err != nil {
		r.t.Fatal(err)
	}
	r.t.Logf("stopped broker %d (group coordinator: %d)", victim, r.emb.CoordinatorNode(bus.GroupTransform))
	return victim
}

// waitLoaded waits until raw_signals holds at least n rows of the org.
func (r *rig) waitLoaded(ctx context.Context, n uint64) {
	r.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		var got uint64
		if err := r.st.Conn().QueryRow(ctx, "SELECT count() FROM raw_signals WHERE org = ?", r.o.Name).Scan(&got); err == nil && got >= n {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.t.Fatal(fmt.Sprintf("fewer than %d rows loaded after 2 minutes", n))
}
