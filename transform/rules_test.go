package transform

import (
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/phonesignals/phonesignals/ingest/aircall"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/model/modeltest"
	"github.com/phonesignals/phonesignals/internal/testkit/callgen"
)

// The rules row at a time: their definition, which the column kernels of
// NewRecord (kernel.go) are tested against here and in kernel_test.go.
// The product computes them only as kernels.

// flags are the rule results for one call.
type flags struct {
	AfterHours bool
	Escalated  bool
	Resolved   bool
}

// AfterHours reports whether a call starting at t started outside business
// hours (UTC).
func AfterHours(t time.Time) bool {
	h := t.UTC().Hour()
	return h < businessStartHour || h >= businessEndHour
}

// Escalated reports whether notes or tags contain an escalation keyword.
// It is always false where the provider exposes neither.
func Escalated(c *modeltest.Call) bool {
	if !c.EscalationAvailable {
		return false
	}
	return containsAny(c.Notes, EscalationKeywords) || containsAny(c.Tags, EscalationKeywords)
}

// Completed reports whether the call connected and completed, as the
// provider's decoder read it.
func Completed(c *modeltest.Call) bool { return c.Connected && c.Completed }

// Resolved reports whether the notes contain a resolution keyword or the
// call connected and completed.
func Resolved(c *modeltest.Call) bool {
	return containsAny(c.Notes, ResolutionKeywords) || Completed(c)
}

// Apply computes every flag of c.
func Apply(c *modeltest.Call) flags {
	return flags{AfterHours: AfterHours(c.StartedAt), Escalated: Escalated(c), Resolved: Resolved(c)}
}

func containsAny(texts, keywords []string) bool {
	for _, t := range texts {
		l := strings.ToLower(t)
		for _, k := range keywords {
			if strings.Contains(l, k) {
				return true
			}
		}
	}
	return false
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestAfterHours(t *testing.T) {
	tests := []struct {
		at   string
		want bool
	}{
		{"2026-08-03T07:59:59Z", true},
		{"2026-08-03T08:00:00Z", false},
		{"2026-08-03T12:00:00Z", false},
		{"2026-08-03T17:59:59Z", false},
		{"2026-08-03T18:00:00Z", true},
		{"2026-08-03T23:59:59Z", true},
		{"2026-08-03T00:00:00Z", true},
		// Local offsets are converted: 09:30+02:00 is 07:30 UTC.
		{"2026-08-03T09:30:00+02:00", true},
		{"2026-08-03T19:30:00+02:00", false},
	}
	for _, tt := range tests {
		if got := AfterHours(at(tt.at)); got != tt.want {
			t.Errorf("AfterHours(%s) = %v, want %v", tt.at, got, tt.want)
		}
	}
}

func TestEscalated(t *testing.T) {
	tests := []struct {
		name  string
		prov  string
		notes []string
		tags  []string
		want  bool
	}{
		{"none", fixture.Aircall, nil, nil, false},
		{"escalated note mixed case", fixture.Aircall, []string{"ESCALATED to tier 2"}, nil, true},
		{"escalation tag", fixture.Aircall, nil, []string{"Escalation"}, true},
		{"urgent", fixture.Aircall, []string{"urgent: outage"}, nil, true},
		{"manager", fixture.Aircall, []string{"wants the Manager"}, nil, true},
		{"complaint tag", fixture.Aircall, nil, []string{"Complaint"}, true},
		{"refund", fixture.Aircall, []string{"asked for a REFUND"}, nil, true},
		{"near miss manage", fixture.Aircall, []string{"We will manage it"}, []string{"Sales"}, false},
		{"keyword in second note", fixture.Aircall, []string{"hello", "refunded"}, nil, true},
		{"ringcentral never", fixture.RingCentral, []string{"urgent"}, []string{"refund"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &modeltest.Call{Provider: tt.prov, Notes: tt.notes, Tags: tt.tags, EscalationAvailable: tt.prov == fixture.Aircall}
			if got := Escalated(c); got != tt.want {
				t.Fatalf("Escalated = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestResolved(t *testing.T) {
	// Connected and Completed are set by the providers' decoders (their
	// tests pin which provider statuses set them); the rule knows no
	// provider.
	tests := []struct {
		name                 string
		connected, completed bool
		notes                []string
		tags                 []string
		want                 bool
	}{
		{"connected and completed", true, true, nil, nil, true},
		{"completed, never connected", false, true, nil, nil, false},
		{"connected, not completed", true, false, nil, nil, false},
		{"missed with resolved note", false, true, []string{"Issue Resolved"}, nil, true},
		{"fixed", false, false, []string{"password reset, FIXED"}, nil, true},
		{"satisfied", false, false, []string{"customer satisfied"}, nil, true},
		{"keyword only in tag does not resolve", false, true, nil, []string{"resolved"}, false},
		{"nothing", false, false, nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &modeltest.Call{Connected: tt.connected, Completed: tt.completed, Notes: tt.notes, Tags: tt.tags}
			if got := Resolved(c); got != tt.want {
				t.Fatalf("Resolved = %v, want %v", got, tt.want)
			}
		})
	}
}

func unix(s int64) time.Time { return time.Unix(s, 0) }

// TestNewRecordMatchesApply holds the column kernels of NewRecord to the
// row-at-a-time rules over generated Aircall calls (notes, tags, every
// hour of the day) and rows without escalation (as RingCentral's).
func TestNewRecordMatchesApply(t *testing.T) {
	gen := callgen.NewGenerator(3, 20, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	var calls []modeltest.Call
	var v model.Call
	for len(calls) < 3000 {
		raw, _, bad := gen.Next()
		if bad {
			continue
		}
		if err := aircall.Decode(raw, &v); err != nil {
			t.Fatal(err)
		}
		c := modeltest.Of(raw, &v)
		if len(calls)%5 == 0 {
			// No notes, and tags that must not count: a provider that
			// cannot tell escalation gives no notes to resolve by.
			c.EscalationAvailable, c.Notes = false, nil
		}
		calls = append(calls, c)
	}
	bb := NewBatchBuilder(nil)
	defer bb.Release()
	for i := range calls {
		if err := bb.addRow(&calls[i]); err != nil {
			t.Fatal(err)
		}
	}
	rec := bb.NewRecord()
	defer rec.Release()
	col := func(c, i int) bool { return rec.Column(c).(*array.Uint8).Value(i) == 1 }
	seen := flags{}
	for i := range calls {
		want := Apply(&calls[i])
		got := flags{AfterHours: col(ColAfterHours, i), Escalated: col(ColEscalated, i), Resolved: col(ColResolved, i)}
		if got != want {
			t.Fatalf("call %d: kernels %+v, row rules %+v (notes %q tags %q)", i, got, want, calls[i].Notes, calls[i].Tags)
		}
		seen.AfterHours, seen.Escalated, seen.Resolved = seen.AfterHours || got.AfterHours, seen.Escalated || got.Escalated, seen.Resolved || got.Resolved
	}
	if seen != (flags{true, true, true}) {
		t.Fatalf("the workload never sets some flag (%+v): the comparison proves little", seen)
	}
}
