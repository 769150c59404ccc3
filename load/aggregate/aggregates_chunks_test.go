package aggregate

import (
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
)

// TestOrgChunks checks that the refresh's statements each cover one org,
// at most max keys, and together every key exactly once in order.
func TestOrgChunks(t *testing.T) {
	day := func(org string, d int) model.DayKey {
		return model.DayKey{Org: org, Day: time.Date(2026, 9, d, 0, 0, 0, 0, time.UTC)}
	}
	keys := []model.DayKey{day("a", 1), day("a", 2), day("a", 3), day("b", 1), day("c", 1), day("c", 2)}
	tests := []struct {
		name  string
		keys  []model.DayKey
		max   int
		sizes []int
	}{
		{"none", nil, 2, nil},
		{"by org", keys, 10, []int{3, 1, 2}},
		{"by org and size", keys, 2, []int{2, 1, 1, 2}},
		{"one key each", keys, 1, []int{1, 1, 1, 1, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			chunks := orgChunks(tc.keys, tc.max)
			if len(chunks) != len(tc.sizes) {
				t.Fatalf("%d chunks, want %d: %v", len(chunks), len(tc.sizes), chunks)
			}
			var all []model.DayKey
			for i, c := range chunks {
				if len(c) != tc.sizes[i] {
					t.Fatalf("chunk %d has %d keys, want %d", i, len(c), tc.sizes[i])
				}
				for _, k := range c {
					if k.Org != c[0].Org {
						t.Fatalf("chunk %d mixes orgs %s and %s", i, c[0].Org, k.Org)
					}
				}
				all = append(all, c...)
			}
			for i := range all {
				if all[i] != tc.keys[i] {
					t.Fatalf("key %d is %v, want %v", i, all[i], tc.keys[i])
				}
			}
		})
	}
}
