package queries_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/queries"
)

// TestListedCalls checks that ListedCalls counts exactly the ids
// RenderCallKeys lists one by one, so a lookup sent whole stays within
// the AST limits its caller sets.
func TestListedCalls(t *testing.T) {
	calls := func(org, provider string, n int) []model.CallKey {
		out := make([]model.CallKey, n)
		for i := range out {
			out[i] = model.CallKey{Org: org, Provider: provider, CallID: fmt.Sprintf("c%06d", i)}
		}
		return out
	}
	tests := []struct {
		name string
		keys []model.CallKey
		want int
	}{
		{"one small group", calls("o1", "aircall", 3), 3},
		{"one group at the limit", calls("o1", "aircall", 200), 200},
		{"one group over the limit: a range", calls("o1", "aircall", 201), 0},
		{"mixed", append(calls("o1", "aircall", 5000), calls("o2", "ringcentral", 7)...), 7},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := queries.ListedCalls(tc.keys); got != tc.want {
				t.Fatalf("ListedCalls = %d, want %d", got, tc.want)
			}
			sql := queries.RenderCallKeys(queries.TouchedDays, tc.keys)
			listed := countInLists(sql)
			if listed != tc.want {
				t.Fatalf("RenderCallKeys lists %d ids, ListedCalls says %d:\n%.300s", listed, tc.want, sql)
			}
		})
	}
}

// countInLists counts the quoted ids inside the "call_id IN (...)" lists
// of a rendered lookup.
func countInLists(sql string) int {
	n := 0
	for _, part := range strings.Split(sql, "call_id IN (")[1:] {
		list := part[:strings.Index(part, ")")]
		n += strings.Count(list, ",") + 1
	}
	return n
}
