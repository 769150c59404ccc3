package review

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phonesignals/phonesignals/internal/store"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestBlock(t *testing.T) {
	seed := store.Metrics{TotalCalls: 187, InboundCalls: 112, OutboundCalls: 75, AvgDurationSec: 243,
		AfterHoursCalls: 14, EscalatedCalls: 8, ResolvedCalls: 149, EscalationAvailable: true,
		Talk: store.Talk{AnsweredCalls: 140, MissedCalls: 9, VoicemailCalls: 3, TalkTimeSec: 31234, AvgTalkSec: 223, AvgAnswerSec: 11, AnswerTimeAvailable: true}}
	rc := seed
	rc.EscalationAvailable = false
	rc.EscalatedCalls = 0
	rc.AvgAnswerSec, rc.AnswerTimeAvailable = 0, false
	medians := store.TalkMedians{AnsweredCalls: 120.5, MissedCalls: 7, VoicemailCalls: 2, TalkTimeSec: 27000.5, AvgTalkSec: 201}
	seedBase := store.Baseline{Cohort: "support", Size: 14, MedianTotalCalls: 180.5, TalkMedians: medians}
	rcBase := store.Baseline{Cohort: "sdr", Size: 5, MedianTotalCalls: 190, TalkMedians: medians}
	tests := []struct {
		name   string
		format string
		b      Block
	}{
		{"seed_text", "text", Block{Org: "acme", Employee: "E001", Cycle: "2026-08", Metrics: seed, Baseline: seedBase}},
		{"seed_json", "json", Block{Org: "acme", Employee: "E001", Cycle: "2026-08", Metrics: seed, Baseline: seedBase}},
		{"ringcentral_text", "text", Block{Org: "globex", Employee: "E002", Cycle: "2026-08", Metrics: rc, Baseline: rcBase}},
		{"ringcentral_json", "json", Block{Org: "globex", Employee: "E002", Cycle: "2026-08", Metrics: rc, Baseline: rcBase}},
		// --extended: the talk-time lines after the seed's in each block;
		// avg_answer_sec n/a for RingCentral, medians n/a below the floor.
		{"seed_extended_text", "text", Block{Org: "acme", Employee: "E001", Cycle: "2026-08", Metrics: seed, Baseline: seedBase, Extended: true}},
		{"ringcentral_extended_text", "text", Block{Org: "globex", Employee: "E002", Cycle: "2026-08", Metrics: rc, Baseline: rcBase, Extended: true}},
		{"floor_below_extended_text", "text", Block{Org: "globex", Employee: "E002", Cycle: "2026-08", Metrics: rc, Baseline: rcBase, MinCohort: 6, Extended: true}},
		{"floor_below_extended_json", "json", Block{Org: "globex", Employee: "E002", Cycle: "2026-08", Metrics: rc, Baseline: rcBase, MinCohort: 6, Extended: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tt.b.Write(&buf, tt.format); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("..", "..", "testdata", "review", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden (run go test -update once): %v", err)
			}
			if buf.String() != string(want) {
				t.Fatalf("got:\n%s\nwant:\n%s", buf.String(), want)
			}
		})
	}
}

// The seed's block, verbatim: every value ends at column 25.
func TestSeedLayout(t *testing.T) {
	seed := `[PHONE DATA]
total_calls:          187
inbound_calls:        112
outbound_calls:        75
avg_duration_sec:     243
after_hours_calls:     14
escalated_calls:        8
resolved_calls:       149
`
	b := Block{Metrics: store.Metrics{TotalCalls: 187, InboundCalls: 112, OutboundCalls: 75, AvgDurationSec: 243,
		AfterHoursCalls: 14, EscalatedCalls: 8, ResolvedCalls: 149, EscalationAvailable: true}}
	if got := b.Text(); !strings.HasPrefix(got, seed) {
		t.Fatalf("block does not match the seed:\n%s", got)
	}
	for _, l := range strings.Split(strings.TrimSpace(b.Text()), "\n") {
		if strings.Contains(l, ":") && len(l) != Width {
			t.Errorf("line %q is %d wide, want %d", l, len(l), Width)
		}
	}
	if err := b.Write(&bytes.Buffer{}, "yaml"); err == nil {
		t.Fatal("format yaml accepted")
	}
}

func TestWriteAll(t *testing.T) {
	ac := store.Metrics{EmployeeID: "E001", Name: "Ada, \"A\"", Cohort: "support", TotalCalls: 3, InboundCalls: 2, OutboundCalls: 1,
		AvgDurationSec: 61, AfterHoursCalls: 1, EscalatedCalls: 1, ResolvedCalls: 2, EscalationAvailable: true}
	rc := store.Metrics{EmployeeID: "E002", Name: "Ben", Cohort: "sdr", TotalCalls: 0}
	blocks := []Block{
		{Org: "acme", Employee: "E001", Cycle: "2026-08", Metrics: ac, Baseline: store.Baseline{Cohort: "support", Size: 2, MedianTotalCalls: 1.5}},
		{Org: "acme", Employee: "E002", Cycle: "2026-08", Metrics: rc, Baseline: store.Baseline{Cohort: "sdr", Size: 1, MedianTotalCalls: 0}},
	}
	for _, format := range []string{"text", "json", "csv"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteAll(&buf, blocks, format); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("..", "..", "testdata", "review", "all_"+format+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden (run go test -update once): %v", err)
			}
			if buf.String() != string(want) {
				t.Fatalf("got:\n%s\nwant:\n%s", buf.String(), want)
			}
		})
	}
	if err := WriteAll(&bytes.Buffer{}, blocks, "xml"); err == nil {
		t.Fatal("format xml accepted")
	}
}

// A newline or terminal escape in a stored name or cohort cannot forge
// lines of the text review.
func TestTextEscapesControlCharacters(t *testing.T) {
	b := Block{Org: "acme", Employee: "E001", Cycle: "2026-09",
		Metrics:  store.Metrics{Name: "Ann\ntotal_calls:          999", EscalationAvailable: true},
		Baseline: store.Baseline{Cohort: "sup\rport\x1b[2J\u2028x"}}
	var buf bytes.Buffer
	if err := WriteAll(&buf, []Block{b}, "text"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if n := strings.Count("\n"+out, "\ntotal_calls:"); n != 1 {
		t.Fatalf("%d total_calls lines, want 1:\n%s", n, out)
	}
	for _, bad := range []string{"\r", "\x1b", "\u2028"} {
		if strings.Contains(out, bad) {
			t.Fatalf("output holds %q:\n%s", bad, out)
		}
	}
	for _, want := range []string{`# E001 Ann\ntotal_calls:          999 (acme, cycle 2026-09)`, `cohort: sup\rport\x1b[2J\u2028x`} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
}
