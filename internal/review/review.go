// Package review renders an employee's phone numbers as the review block
// of the Perfcopilot seed: "[PHONE DATA]" with one `name:` line per metric,
// the value right-aligned to column 25, then "[BASELINES]".
package review

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

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
}

func line(w *strings.Builder, name, value string) {
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
	w.WriteString("\n[BASELINES]\n")
	line(&w, "cohort", b.Baseline.Cohort)
	line(&w, "cohort_size", u(b.Baseline.Size))
	line(&w, "median_total_calls", FormatMedian(b.Baseline.MedianTotalCalls))
	return w.String()
}

// jsonBlock has the same names as the text block. EscalatedCalls is null
// where escalation is not available.
type jsonBlock struct {
	Org              string  `json:"org"`
	EmployeeID       string  `json:"employee_id"`
	CycleID          string  `json:"cycle_id"`
	TotalCalls       uint64  `json:"total_calls"`
	InboundCalls     uint64  `json:"inbound_calls"`
	OutboundCalls    uint64  `json:"outbound_calls"`
	AvgDurationSec   uint64  `json:"avg_duration_sec"`
	AfterHoursCalls  uint64  `json:"after_hours_calls"`
	EscalatedCalls   *uint64 `json:"escalated_calls"`
	EscalationAvail  bool    `json:"escalation_available"`
	ResolvedCalls    uint64  `json:"resolved_calls"`
	Cohort           string  `json:"cohort"`
	CohortSize       uint64  `json:"cohort_size"`
	MedianTotalCalls float64 `json:"median_total_calls"`
}

// JSON renders the block as one JSON object.
func (b Block) JSON() ([]byte, error) {
	m := b.Metrics
	j := jsonBlock{Org: b.Org, EmployeeID: b.Employee, CycleID: b.Cycle,
		TotalCalls: m.TotalCalls, InboundCalls: m.InboundCalls, OutboundCalls: m.OutboundCalls,
		AvgDurationSec: m.AvgDurationSec, AfterHoursCalls: m.AfterHoursCalls, ResolvedCalls: m.ResolvedCalls,
		EscalationAvail: m.EscalationAvailable,
		Cohort:          b.Baseline.Cohort, CohortSize: b.Baseline.Size, MedianTotalCalls: b.Baseline.MedianTotalCalls}
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
	if _, err := st.GetOrg(ctx, org); err != nil {
		return Block{}, err
	}
	if _, err := st.GetCycle(ctx, org, cycle); err != nil {
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
	return Block{Org: org, Employee: employee, Cycle: cycle, Metrics: m, Baseline: b}, nil
}
