package transform

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// TestKeywordsFold holds the kernel's premise: keywords are lower-case
// ASCII with no k and not ending in i (see kernel.go).
func TestKeywordsFold(t *testing.T) {
	for _, k := range append(append([]string(nil), EscalationKeywords...), ResolutionKeywords...) {
		for _, r := range k {
			if r < 'a' || r > 'z' || r == 'k' {
				t.Errorf("keyword %q: the kernel folds ASCII only; see kernel.go", k)
			}
		}
		if strings.HasSuffix(k, "i") {
			t.Errorf("keyword %q ends in i: strings.ToLower of a dotted capital I would not match it", k)
		}
	}
}

// TestMatchKeywordsMatchesRowRule compares the column kernel with the
// row-at-a-time rule (strings.ToLower per note) on random text built from
// keyword fragments, mixed case, non-ASCII letters and row boundaries that
// cut keywords in two.
func TestMatchKeywordsMatchesRowRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	pieces := []string{"esca", "lat", "ESCALAT", "Urgent", "urg", "ent", "MANAGER", "mana", "ger", "complaint", "REFUND", "ref", "und",
		"resolved", "FiXeD", "satisfied", "sati", "sfied", " ", "\n", "é", "İ", "\u212a", "ß", "x", "the customer", "ÉSCALAT"}
	// Keywords at the very start and end of a row and of the column.
	texts := [][]string{{"Urgent"}, {"refund"}, {"x", "urgent"}, {"fixed"}, {"a manager"}, {"resolved"}, {"SATISFIED"}, {"escalat"}}
	for i := 0; i < 5000; i++ {
		var notes []string
		for n := rng.IntN(4); n > 0; n-- {
			var b strings.Builder
			for p := rng.IntN(6); p > 0; p-- {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
			notes = append(notes, b.String())
		}
		texts = append(texts, notes)
	}
	for _, kws := range [][]string{EscalationKeywords, ResolutionKeywords} {
		bld := array.NewBinaryBuilder(memory.NewGoAllocator(), arrow.BinaryTypes.Binary)
		for _, notes := range texts {
			bld.Append([]byte(strings.Join(notes, "\n")))
		}
		arr := bld.NewBinaryArray()
		// A slice of the array checks that offsets need not start at 0.
		for _, from := range []int{0, 1, 3} {
			sl := array.NewSlice(arr, int64(from), int64(arr.Len())).(*array.Binary)
			got := make([]uint8, sl.Len())
			matchColumn(sl.ValueBytes(), sl.ValueOffsets(), newKeywordSet(kws), got)
			for i := range got {
				if want := containsAny(texts[i+from], kws); (got[i] == 1) != want {
					t.Fatalf("row %d %q: kernel %v, row rule %v", i+from, texts[i+from], got[i], want)
				}
			}
		}
	}
}

func TestAfterHoursKernel(t *testing.T) {
	ts := []int64{0, 7*3600 + 3599, 8 * 3600, 17*3600 + 3599, 18 * 3600, 86399, -1, -16 * 3600, 1785571200}
	out := make([]uint8, len(ts))
	afterHoursKernel(ts, out)
	for i, s := range ts {
		want := AfterHours(unix(s))
		if (out[i] == 1) != want {
			t.Errorf("%d: kernel %d, row rule %v", s, out[i], want)
		}
	}
}
