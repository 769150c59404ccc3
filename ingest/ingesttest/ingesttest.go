package ingesttest

import (
	"context"
	"sync"

	"github.com/phonesignals/phonesignals/ingest"
	"github.com/phonesignals/phonesignals/internal/model"
)

// MemCheckpoints is an in-memory ingest.Checkpoints for tests.
type MemCheckpoints struct {
	mu   sync.Mutex
	done map[string]int
}

// Done implements ingest.Checkpoints.
func (m *MemCheckpoints) Done(_ context.Context, job string, w ingest.Window) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.done[job+"|"+w.String()]
	return ok, nil
}

// MarkDone implements ingest.Checkpoints.
func (m *MemCheckpoints) MarkDone(_ context.Context, job string, w ingest.Window, n int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done == nil {
		m.done = map[string]int{}
	}
	m.done[job+"|"+w.String()] = n
	return nil
}

// Len is the number of finished windows recorded.
func (m *MemCheckpoints) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.done)
}

// MemSink is an in-memory ingest.Sink for tests: it keeps every call published.
type MemSink struct {
	mu    sync.Mutex
	Calls []model.RawCall
	// Fail, when set, is returned by Publish instead of storing.
	Fail error
}

// Publish implements ingest.Sink.
func (s *MemSink) Publish(_ context.Context, calls []model.RawCall) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Fail != nil {
		return s.Fail
	}
	s.Calls = append(s.Calls, calls...)
	return nil
}

// Snapshot returns a copy of the calls published so far.
func (s *MemSink) Snapshot() []model.RawCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]model.RawCall(nil), s.Calls...)
}
