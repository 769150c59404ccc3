package callgen

import (
	"testing"
	"time"
)

// TestGeneratorSizes keeps the workload what the issue measured: 650
// bytes per body on average, 60% of calls with notes.
func TestGeneratorSizes(t *testing.T) {
	g := NewGenerator(1, 20, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	const n = 20000
	total := 0
	for i := 0; i < n; i++ {
		raw, _, _ := g.Next()
		total += len(raw.Body)
	}
	if avg := total / n; avg < 600 || avg > 700 {
		t.Fatalf("average body %d bytes, want 650 ± 50", avg)
	}
}
