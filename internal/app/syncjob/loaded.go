package syncjob

import (
	"context"
	"log/slog"
	"sync"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/store"
)

// loadedCheckpoints counts a window as done only while the calls it
// published are in ClickHouse. It sits between the connector and both the
// sink (to learn each window's call ids) and the checkpoints: a window
// whose calls were lost with the Kafka data before `run` loaded them (a
// wiped or corrupt broker data dir) is fetched again instead of skipped.
// Connectors publish a window's calls, then mark it done, one window at a
// time.
type loadedCheckpoints struct {
	sink ingest.Sink
	cp   *store.Checkpoints
	st   *store.Store
	org  string

	mu      sync.Mutex
	pending []string
	// unloaded are the finished windows with missing calls, read once.
	unloaded map[string]int
	// Refetched counts done windows fetched again.
	Refetched int
	// Missing counts the calls those windows were missing.
	Missing int
}

func windowKey(job string, w model.Window) string {
	return job + "|" + w.From.UTC().String() + "|" + w.To.UTC().String()
}

// Publish implements ingest.Sink.
func (l *loadedCheckpoints) Publish(ctx context.Context, calls []model.RawCall) error {
	if err := l.sink.Publish(ctx, calls); err != nil {
		return err
	}
	l.mu.Lock()
	for _, c := range calls {
		l.pending = append(l.pending, c.CallID)
	}
	l.mu.Unlock()
	return nil
}

// Done implements ingest.Checkpoints.
func (l *loadedCheckpoints) Done(ctx context.Context, job string, w model.Window) (bool, error) {
	done, err := l.cp.Done(ctx, job, w)
	if err != nil || !done {
		return false, err
	}
	if l.unloaded == nil {
		ws, err := l.st.UnloadedWindows(ctx, l.org)
		if err != nil {
			return false, err
		}
		l.unloaded = map[string]int{}
		for _, u := range ws {
			l.unloaded[windowKey(u.Job, u.Window)] = u.Missing
		}
	}
	if n, ok := l.unloaded[windowKey(job, w)]; ok {
		l.Refetched++
		l.Missing += n
		slog.Warn("sync window was finished but its calls never reached ClickHouse; fetching it again",
			"org", l.org, "window", w.String(), "missing_calls", n)
		return false, nil
	}
	return true, nil
}

// MarkDone implements ingest.Checkpoints: the window's call ids first, so
// a crash in between leaves the window not done.
func (l *loadedCheckpoints) MarkDone(ctx context.Context, job string, w model.Window, n int) error {
	l.mu.Lock()
	ids := l.pending
	l.pending = nil
	l.mu.Unlock()
	if err := l.cp.RecordWindowCalls(ctx, job, w, ids); err != nil {
		return err
	}
	return l.cp.MarkDone(ctx, job, w, n)
}
