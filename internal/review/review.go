// Package review renders an employee's phone numbers as the review block
// of the Perfcopilot seed: "[PHONE DATA]" with one `name:` line per metric,
// the value right-aligned to column 25, then "[BASELINES]".
package review

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/phonesignals/phonesignals/internal/store"
)

// Width is the column the values are right-aligned to.
const Width = 25

// NotAvailable is shown for escalated_calls where the provider cannot
// detect escalations (RingCentral), so nobody reads it as a real zero.
const NotAvailable = "n/a"

// Block is everything a review shows for one employee and cycle.
type Block struct {
	Org      string
	Employee string
	Cycle    string
	Metrics  store.Metrics
	Baseline store.Baseline
	// MinCohort is the org's privacy floor: a cohort smaller shows its
	// median as n/a with the reason. 0 applies none.
	MinCohort int
	// Coverage is the org's coverage of the cycle; nil shows none.
	Coverage *store.Coverage
	// Extended adds the talk-time lines to the text blocks (`review
	// --extended`); JSON and CSV always carry them.
	Extended bool
}

// MedianNAReason is why the cohort median is n/a ("" when shown).
func (b Block) MedianNAReason() string { return store.MedianNA(b.Baseline.Size, b.MinCohort) }

// medianText is the median as the text block shows it.
func (b Block) medianText() string {
	if b.MedianNAReason() != "" {
		return NotAvailable
	}
	return FormatMedian(b.Baseline.MedianTotalCalls)
}

// median is the median as JSON shows it (null when n/a).
func (b Block) median() *float64 {
	if b.MedianNAReason() != "" {
		return nil
	}
	m := b.Baseline.MedianTotalCalls
	return &m
}

// EscapeText makes s safe for one line of text output: control characters
// (newlines, carriage returns, escape sequences) and Unicode line separators
// become Go escapes such as \n and \x1b, so a name cannot forge lines or
// drive the terminal.
func EscapeText(s string) string {
	clean := true
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func line(w *strings.Builder, name, value string) {
	value = EscapeText(value)
	pad := Width - len(name) - 1 - len(value)
	if pad < 1 {
		pad = 1
	}
	fmt.Fprintf(w, "%s:%s%s\n", name, strings.Repeat(" ", pad), value)
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

// FormatMedian prints a median as an integer when whole, else with its .5.
func FormatMedian(m float64) string { return strconv.FormatFloat(m, 'f', -1, 64) }

// Text renders the block as the seed shows it.
func (b Block) Text() string {
	var w strings.Builder
	m := b.Metrics
	w.WriteString("[PHONE DATA]\n")
	line(&w, "total_calls", u(m.TotalCalls))
	line(&w, "inbound_calls", u(m.InboundCalls))
	line(&w, "outbound_calls", u(m.OutboundCalls))
	line(&w, "avg_duration_sec", u(m.AvgDurationSec))
	line(&w, "after_hours_calls", u(m.AfterHoursCalls))
	if m.EscalationAvailable {
		line(&w, "escalated_calls", u(m.EscalatedCalls))
	} else {
		line(&w, "escalated_calls", NotAvailable)
	}
	line(&w, "resolved_calls", u(m.ResolvedCalls))
	b.talkText(&w)
	w.WriteString("\n[BASELINES]\n")
	line(&w, "cohort", b.Baseline.Cohort)
	line(&w, "cohort_size", u(b.Baseline.Size))
	line(&w, "median_total_calls", b.medianText())
	b.talkMediansText(&w)
	w.WriteString(b.coverageText())
	return w.String()
}

// jsonBlock has the same names as the text block. EscalatedCalls is null
// where escalation is not available.
type jsonBlock struct {
	Org              string   `json:"org"`
	EmployeeID       string   `json:"employee_id"`
	CycleID          string   `json:"cycle_id"`
	TotalCalls       uint64   `json:"total_calls"`
	InboundCalls     uint64   `json:"inbound_calls"`
	OutboundCalls    uint64   `json:"outbound_calls"`
	AvgDurationSec   uint64   `json:"avg_duration_sec"`
	AfterHoursCalls  uint64   `json:"after_hours_calls"`
	EscalatedCalls   *uint64  `json:"escalated_calls"`
	EscalationAvail  bool     `json:"escalation_available"`
	ResolvedCalls    uint64   `json:"resolved_calls"`
	Cohort           string   `json:"cohort"`
	CohortSize       uint64   `json:"cohort_size"`
	MedianTotalCalls *float64 `json:"median_total_calls"`
	MinCohort        int      `json:"min_cohort"`
	MedianNAReason   string   `json:"median_na_reason"`
	talkJSON
	Coverage any `json:"coverage"`
}

// JSON renders the block as one JSON object.
func (b Block) JSON() ([]byte, error) {
	m := b.Metrics
	j := jsonBlock{Org: b.Org, EmployeeID: b.Employee, CycleID: b.Cycle,
		TotalCalls: m.TotalCalls, InboundCalls: m.InboundCalls, OutboundCalls: m.OutboundCalls,
		AvgDurationSec: m.AvgDurationSec, AfterHoursCalls: m.AfterHoursCalls, ResolvedCalls: m.ResolvedCalls,
		EscalationAvail: m.EscalationAvailable,
		Cohort:          b.Baseline.Cohort, CohortSize: b.Baseline.Size, MedianTotalCalls: b.median(),
		MinCohort: b.MinCohort, MedianNAReason: b.MedianNAReason(), talkJSON: b.talkJSON()}
	if b.Coverage != nil {
		j.Coverage = CoverageObject(*b.Coverage)
	}
	if m.EscalationAvailable {
		e := m.EscalatedCalls
		j.EscalatedCalls = &e
	}
	return json.MarshalIndent(j, "", "  ")
}

// Write renders the block in format "text" or "json".
func (b Block) Write(w io.Writer, format string) error {
	switch format {
	case "", "text":
		_, err := io.WriteString(w, b.Text())
		return err
	case "json":
		out, err := b.JSON()
		if err != nil {
			return err
		}
		_, err = w.Write(append(out, '\n'))
		return err
	}
	return fmt.Errorf("--format %q: want text or json", format)
}

// Load reads the block of one employee in one cycle. It checks the cycle
// exists first so a typo gets a message naming the fix, not empty numbers.
func Load(ctx context.Context, st *store.Store, org, cycle, employee string) (Block, error) {
	o, err := st.GetOrg(ctx, org)
	if err != nil {
		return Block{}, err
	}
	cy, err := st.GetCycle(ctx, org, cycle)
	if err != nil {
		return Block{}, err
	}
	m, err := st.Review(ctx, org, cycle, employee)
	if err != nil {
		return Block{}, err
	}
	b, err := st.Baseline(ctx, org, cycle, m.Cohort)
	if err != nil {
		return Block{}, err
	}
	cov, err := st.Coverage(ctx, o, cy, time.Now())
	if err != nil {
		return Block{}, err
	}
	return Block{Org: org, Employee: employee, Cycle: cycle, Metrics: m, Baseline: b,
		MinCohort: store.PrivacyOf(o).MinCohort, Coverage: &cov}, nil
}

// LoadCycle reads the blocks of every employee in a cycle with two queries
// (all metrics, all baselines), for exports.
func LoadCycle(ctx context.Context, st *store.Store, org, cycle string) ([]Block, error) {
	o, err := st.GetOrg(ctx, org)
	if err != nil {
		return nil, err
	}
	cy, err := st.GetCycle(ctx, org, cycle)
	if err != nil {
		return nil, err
	}
	cov, err := st.Coverage(ctx, o, cy, time.Now())
	if err != nil {
		return nil, err
	}
	floor := store.PrivacyOf(o).MinCohort
	ms, err := st.CycleMetrics(ctx, org, cycle)
	if err != nil {
		return nil, err
	}
	bs, err := st.CycleBaselines(ctx, org, cycle)
	if err != nil {
		return nil, err
	}
	base := map[string]store.Baseline{}
	for _, b := range bs {
		base[b.Cohort] = b
	}
	out := make([]Block, 0, len(ms))
	for _, m := range ms {
		out = append(out, Block{Org: org, Employee: m.EmployeeID, Cycle: cycle, Metrics: m, Baseline: base[m.Cohort], MinCohort: floor, Coverage: &cov})
	}
	return out, nil
}

// CSVHeader is the header of WriteCSV: the block's names, in its order.
var CSVHeader = append([]string{"org", "cycle_id", "employee_id", "name", "total_calls", "inbound_calls", "outbound_calls",
	"avg_duration_sec", "after_hours_calls", "escalated_calls", "resolved_calls", "cohort", "cohort_size", "median_total_calls",
	"min_cohort", "median_na_reason", "coverage_status", "complete_through", "windows_missing", "windows_failed",
	"dead_letter_calls", "unmapped_calls", "newest_call", "last_webhook"}, TalkCSVHeader...)

// WriteAll renders several blocks: text blocks one after another under a
// header line each, a JSON array, or CSV with one row per employee
// (escalated_calls is empty where not available).
func WriteAll(w io.Writer, blocks []Block, format string) error {
	switch format {
	case "", "text":
		for i, b := range blocks {
			if i > 0 {
				if _, err := io.WriteString(w, "\n"); err != nil {
					return err
				}
			}
			if _, err := fmt.Fprintf(w, "# %s %s (%s, cycle %s)\n%s", EscapeText(b.Employee), EscapeText(b.Metrics.Name), EscapeText(b.Org), EscapeText(b.Cycle), b.Text()); err != nil {
				return err
			}
		}
		return nil
	case "json":
		arr := make([]json.RawMessage, 0, len(blocks))
		for _, b := range blocks {
			j, err := b.JSON()
			if err != nil {
				return err
			}
			arr = append(arr, j)
		}
		out, err := json.MarshalIndent(arr, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(out, '\n'))
		return err
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write(CSVHeader)
		for _, b := range blocks {
			m := b.Metrics
			esc := ""
			if m.EscalationAvailable {
				esc = u(m.EscalatedCalls)
			}
			_ = cw.Write(append([]string{b.Org, b.Cycle, b.Employee, m.Name, u(m.TotalCalls), u(m.InboundCalls), u(m.OutboundCalls),
				u(m.AvgDurationSec), u(m.AfterHoursCalls), esc, u(m.ResolvedCalls), b.Baseline.Cohort, u(b.Baseline.Size),
				b.csvMedian(), strconv.Itoa(b.MinCohort), b.MedianNAReason()}, append(coverageCSV(b.Coverage), b.talkCSV()...)...))
		}
		cw.Flush()
		return cw.Error()
	}
	return fmt.Errorf("--format %q: want text, json or csv", format)
}
