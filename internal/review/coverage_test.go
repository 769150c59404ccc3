package review

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/store"
)

var (
	sep1  = time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	oct1  = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	sep14 = time.Date(2026, 9, 14, 0, 0, 0, 0, time.UTC)
)

// seedBlocks is the seed's [PHONE DATA] and [BASELINES] text of 187 calls
// in a cohort of 14 with median 180.5.
const seedBlocks = `[PHONE DATA]
total_calls:          187
inbound_calls:        112
outbound_calls:        75
avg_duration_sec:     243
after_hours_calls:     14
escalated_calls:        8
resolved_calls:       149

[BASELINES]
cohort:           support
cohort_size:           14
median_total_calls: 180.5
`

func seedBlock() Block {
	return Block{Org: "acme", Employee: "E001", Cycle: "2026-09", MinCohort: 3,
		Metrics: store.Metrics{TotalCalls: 187, InboundCalls: 112, OutboundCalls: 75, AvgDurationSec: 243,
			AfterHoursCalls: 14, EscalatedCalls: 8, ResolvedCalls: 149, EscalationAvailable: true},
		Baseline: store.Baseline{Cohort: "support", Size: 14, MedianTotalCalls: 180.5}}
}

func complete() *store.Coverage {
	return &store.Coverage{Org: "acme", Cycle: "2026-09", Start: sep1, End: oct1, AsOf: oct1.AddDate(0, 0, 3), Status: store.CoverageComplete,
		CompleteThrough: oct1, CallsSeen: 2000, NewestCall: oct1.Add(-7 * time.Minute), Webhooks: true, LastWebhook: oct1.Add(-5 * time.Minute)}
}

func killed() *store.Coverage {
	c := complete()
	c.Status, c.CompleteThrough, c.Webhooks, c.LastWebhook = store.CoverageIncomplete, sep14, false, time.Time{}
	c.Missing = []store.Gap{{From: sep14, To: oct1, Cause: "sync did not finish: killed, or still running"}}
	c.FailedRuns = []store.FailedRun{{ID: "r1", Started: oct1, Window: model.Window{From: sep1, To: oct1}, Status: "running"}}
	c.DeadLetterCalls, c.UnmappedCalls, c.UnmappedUsers = 4, 31, 2
	return c
}

// TestCoverageBlock renders the [COVERAGE] block after the seed's blocks,
// which stay byte for byte as they were, and the privacy floor's n/a.
func TestCoverageBlock(t *testing.T) {
	small := seedBlock()
	small.Baseline.Size = 2
	open := complete()
	open.Status, open.AsOf, open.CompleteThrough = store.CoverageInProgress, sep14.Add(time.Hour), sep14
	open.Missing = []store.Gap{{From: sep14, To: sep14.Add(time.Hour), Cause: "not synced"}}
	tests := []struct {
		name  string
		block Block
		cov   *store.Coverage
		// seed says the seed's blocks come first, unchanged.
		seed bool
	}{
		{"coverage_complete", seedBlock(), complete(), true},
		{"coverage_killed", seedBlock(), killed(), true},
		{"coverage_in_progress", seedBlock(), open, true},
		{"floor_below", small, complete(), false},
		{"floor_off", func() Block { b := small; b.MinCohort = 1; return b }(), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.block
			b.Coverage = tt.cov
			for _, format := range []string{"text", "json"} {
				var buf bytes.Buffer
				if err := b.Write(&buf, format); err != nil {
					t.Fatal(err)
				}
				checkGolden(t, tt.name+"_"+format, buf.Bytes())
				if format == "text" && tt.seed && !strings.HasPrefix(buf.String(), seedBlocks+"\n[COVERAGE]\n") {
					t.Errorf("the seed's blocks changed or [COVERAGE] does not follow them:\n%s", buf.String())
				}
			}
		})
	}
}

// TestFloorShowsNA checks the n/a and its reason in every format: text,
// JSON (null and median_na_reason) and CSV (empty and the reason).
func TestFloorShowsNA(t *testing.T) {
	for _, tt := range []struct {
		size, floor int
		na          bool
	}{{2, 3, true}, {3, 3, false}, {1, 1, false}, {4, 5, true}, {0, 3, true}} {
		b := seedBlock()
		b.Baseline.Size, b.MinCohort = uint64(tt.size), tt.floor
		text := b.Text()
		gotNA := strings.Contains(text, "median_total_calls:   n/a\n")
		if gotNA != tt.na || strings.Contains(text, "median_total_calls is n/a: cohort of") != tt.na {
			t.Errorf("size %d floor %d: text n/a %v, want %v:\n%s", tt.size, tt.floor, gotNA, tt.na, text)
		}
		raw, err := b.JSON()
		if err != nil {
			t.Fatal(err)
		}
		var j struct {
			Median *float64 `json:"median_total_calls"`
			Reason string   `json:"median_na_reason"`
			Floor  int      `json:"min_cohort"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			t.Fatal(err)
		}
		if (j.Median == nil) != tt.na || (j.Reason != "") != tt.na || j.Floor != tt.floor {
			t.Errorf("size %d floor %d: json %s", tt.size, tt.floor, raw)
		}
		var csvOut bytes.Buffer
		if err := WriteAll(&csvOut, []Block{b}, "csv"); err != nil {
			t.Fatal(err)
		}
		row := strings.Split(strings.TrimSpace(csvOut.String()), "\n")[1]
		if strings.Contains(row, ",180.5,") == tt.na || strings.Contains(row, "is below the minimum cohort size") != tt.na {
			t.Errorf("size %d floor %d: csv row %s", tt.size, tt.floor, row)
		}
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden := filepath.Join("..", "..", "testdata", "review", name+".golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("reading golden (run go test -update once): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}
