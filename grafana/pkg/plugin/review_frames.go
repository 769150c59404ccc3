package plugin

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/phonesignals/phonesignals/internal/store"
)

// Metric is one of the seed's seven review numbers, with the definition
// the dashboards show in panel and field descriptions.
type Metric struct {
	// Name is the field name, as in `phonesignals review`.
	Name string
	// Title is the short label a manager reads.
	Title string
	// Unit is Grafana's unit id ("" for plain counts).
	Unit string
	// Definition says exactly what is counted.
	Definition string
	// HigherIsWorse colours a value above the cohort median as a warning.
	HigherIsWorse bool
	// NA says the number can be n/a (null; escalated_calls is, below,
	// by its name): shown as n/a, never 0.
	NA bool
}

// Metrics are the seven review numbers in the seed's order.
var Metrics = []Metric{
	{Name: "total_calls", Title: "Total calls", Definition: "Calls of the employee that started in the cycle ([period_start, period_end) in UTC), through the provider user mapped to them now; deleted calls count nowhere."},
	{Name: "inbound_calls", Title: "Inbound calls", Definition: "Calls in total_calls whose direction is inbound."},
	{Name: "outbound_calls", Title: "Outbound calls", Definition: "Calls in total_calls whose direction is outbound."},
	{Name: "avg_duration_sec", Title: "Average duration", Unit: "s", Definition: "Mean duration in seconds over the calls in total_calls, rounded half away from zero; 0 with no calls."},
	{Name: "after_hours_calls", Title: "After-hours calls", HigherIsWorse: true, Definition: "Calls in total_calls that started before 08:00 or at/after 18:00 UTC."},
	{Name: "escalated_calls", Title: "Escalated calls", HigherIsWorse: true, Definition: "Calls whose Aircall notes or tag names contain escalat, urgent, manager, complaint or refund (case-insensitive). n/a for RingCentral: its call log has no notes or tags, so escalation cannot be detected (never a real 0)."},
	{Name: "resolved_calls", Title: "Resolved calls", Definition: "Calls whose notes contain resolved, fixed or satisfied, or that connected and completed (Aircall done with answered_at; RingCentral Call connected / Accepted)."},
}

// MedianDefinition explains the cohort median beside every number.
const MedianDefinition = "Cohort median: the exact median of the number over the employees of the same cohort in the cycle, those with no calls counting as 0; the mean of the two middle values when the count is even."

// VsMedianDefinition explains the difference columns.
const VsMedianDefinition = "Difference from the cohort median in percent: (value - median) / median x 100; empty when the median is 0."

// value returns the metric's number in m; ok is false when it is n/a.
func metricValue(m store.Metrics, name string) (v uint64, ok bool) {
	if v, ok, known := talkValue(m, name); known {
		return v, ok
	}
	switch name {
	case "total_calls":
		return m.TotalCalls, true
	case "inbound_calls":
		return m.InboundCalls, true
	case "outbound_calls":
		return m.OutboundCalls, true
	case "avg_duration_sec":
		return m.AvgDurationSec, true
	case "after_hours_calls":
		return m.AfterHoursCalls, true
	case "escalated_calls":
		return m.EscalatedCalls, m.EscalationAvailable
	default:
		return m.ResolvedCalls, true
	}
}

func medianValue(c store.CohortMedians, name string) (float64, bool) {
	if v, ok, known := talkMedian(c, name); known {
		return v, ok
	}
	switch name {
	case "total_calls":
		return c.TotalCalls, true
	case "inbound_calls":
		return c.InboundCalls, true
	case "outbound_calls":
		return c.OutboundCalls, true
	case "avg_duration_sec":
		return c.AvgDurationSec, true
	case "after_hours_calls":
		return c.AfterHoursCalls, true
	case "escalated_calls":
		return c.EscalatedCalls, c.EscalationAvailable
	default:
		return c.ResolvedCalls, true
	}
}

// reviewRow is one employee in one cycle with their cohort's medians.
type reviewRow struct {
	cycle   store.Cycle
	metrics store.Metrics
	medians *store.CohortMedians
	// medianNA is why the medians are n/a (the org's privacy floor), "".
	medianNA string
}

// vsMedian is (v - med) / med in percent, rounded to 0.1; nil when the
// median is 0 and the value is not.
func vsMedian(v uint64, med float64) *float64 {
	if med == 0 {
		if v == 0 {
			z := 0.0
			return &z
		}
		return nil
	}
	p := math.Round((float64(v)-med)/med*1000) / 10
	return &p
}

// reviewFrame is one row per reviewRow: who, and each metric beside its
// cohort median and the difference. withTime adds the cycle's start as the
// frame's time field, for trends.
func reviewFrame(name string, rows []reviewRow, withTime bool) *data.Frame {
	n := len(rows)
	times := make([]time.Time, n)
	cycles, ids, names, cohorts := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	sizes := make([]uint64, n)
	var fields []*data.Field
	for i, r := range rows {
		times[i], cycles[i] = r.cycle.Start.UTC(), r.cycle.ID
		ids[i], names[i], cohorts[i] = r.metrics.EmployeeID, r.metrics.Name, r.metrics.Cohort
		if r.medians != nil {
			sizes[i] = r.medians.Size
		}
	}
	if withTime {
		fields = append(fields, data.NewField("time", nil, times))
	}
	fields = append(fields,
		data.NewField("cycle_id", nil, cycles),
		data.NewField("employee_id", nil, ids),
		data.NewField("name", nil, names),
		data.NewField("cohort", nil, cohorts),
		data.NewField("cohort_size", nil, sizes).SetConfig(&data.FieldConfig{Description: "Employees in the cohort in the cycle."}))
	for _, mt := range slices.Concat(Metrics, TalkMetrics) {
		fields = append(fields, metricFields(mt, rows)...)
	}
	fields = append(fields, medianNAField(rows))
	return data.NewFrame(name, fields...)
}

// metricFields are a metric's value, median and difference columns.
func metricFields(mt Metric, rows []reviewRow) []*data.Field {
	n := len(rows)
	vals, meds, diffs := make([]*uint64, n), make([]*float64, n), make([]*float64, n)
	for i, r := range rows {
		v, ok := metricValue(r.metrics, mt.Name)
		if !ok {
			continue // n/a: all three stay null
		}
		vals[i] = &v
		if r.medians == nil || r.medianNA != "" {
			continue
		}
		if med, ok := medianValue(*r.medians, mt.Name); ok {
			meds[i] = &med
			diffs[i] = vsMedian(v, med)
		}
	}
	cfg := func(desc, unit string) *data.FieldConfig {
		c := &data.FieldConfig{Description: desc, Unit: unit}
		if mt.Name == "escalated_calls" || mt.NA {
			c.NoValue = naText
		}
		return c
	}
	return []*data.Field{
		data.NewField(mt.Name, nil, vals).SetConfig(cfg(mt.Definition, mt.Unit)),
		data.NewField(mt.Name+"_median", nil, meds).SetConfig(cfg(MedianDefinition, mt.Unit)),
		data.NewField(mt.Name+"_vs_median", nil, diffs).SetConfig(cfg(VsMedianDefinition, "percent")),
	}
}

// mediansBy indexes medians by cycle and cohort.
func mediansBy(ms []store.CohortMedians) map[[2]string]*store.CohortMedians {
	out := make(map[[2]string]*store.CohortMedians, len(ms))
	for i := range ms {
		out[[2]string{ms[i].CycleID, ms[i].Cohort}] = &ms[i]
	}
	return out
}

// cycleRows joins a cycle's employee metrics with their cohort medians,
// keeping only employee when it is not "".
func cycleRows(ctx context.Context, r request, employee string) ([]reviewRow, error) {
	c, err := r.st.GetCycle(ctx, r.org, r.m.Cycle)
	if err != nil {
		return nil, err
	}
	ms, err := r.st.CycleMetrics(ctx, r.org, r.m.Cycle)
	if err != nil {
		return nil, err
	}
	meds, err := r.st.CohortMedians(ctx, r.org)
	if err != nil {
		return nil, err
	}
	by := mediansBy(meds)
	var rows []reviewRow
	for _, m := range ms {
		if employee == "" || m.EmployeeID == employee {
			rows = append(rows, reviewRow{cycle: c, metrics: m, medians: by[[2]string{c.ID, m.Cohort}]})
		}
	}
	return rows, floorRows(ctx, r, rows)
}

func reviewMeta(f *data.Frame, r request, what string) *data.Frame {
	f.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeTable, ExecutedQueryString: what + " of org " + r.org}
	if r.provider != "aircall" {
		f.Meta.Notices = append(f.Meta.Notices, data.Notice{Severity: data.NoticeSeverityInfo,
			Text: "escalated_calls is n/a for " + r.provider + ": its call log has no notes or tags, so escalation cannot be detected (not a real zero)"})
	}
	return f
}

func teamReviewQuery(ctx context.Context, _ *Datasource, r request) (*data.Frame, error) {
	rows, err := cycleRows(ctx, r, "")
	if err != nil {
		return nil, err
	}
	f := reviewMeta(reviewFrame("team_review", rows, false), r, "team review of cycle "+r.m.Cycle)
	if err := withCoverage(ctx, r, f); err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		f.Meta.Notices = append(f.Meta.Notices, data.Notice{Severity: data.NoticeSeverityWarning,
			Text: fmt.Sprintf("org %s has no employees: import them with `phonesignals employees import --org %s employees.csv`", r.org, r.org)})
	}
	return f, nil
}

func employeeReviewQuery(ctx context.Context, _ *Datasource, r request) (*data.Frame, error) {
	rows, err := cycleRows(ctx, r, r.m.Employee)
	if err != nil {
		return nil, err
	}
	f := reviewMeta(reviewFrame("employee_review", rows, false), r, "review of employee "+r.m.Employee+" in cycle "+r.m.Cycle)
	return f, withCoverage(ctx, r, f)
}

func employeeTrendQuery(ctx context.Context, _ *Datasource, r request) (*data.Frame, error) {
	trend, err := r.st.EmployeeTrend(ctx, r.org, r.m.Employee)
	if err != nil {
		return nil, err
	}
	meds, err := r.st.CohortMedians(ctx, r.org)
	if err != nil {
		return nil, err
	}
	by := mediansBy(meds)
	rows := make([]reviewRow, len(trend))
	for i, t := range trend {
		rows[i] = reviewRow{cycle: t.Cycle, metrics: t.Metrics, medians: by[[2]string{t.Cycle.ID, t.Cohort}]}
	}
	if err := floorRows(ctx, r, rows); err != nil {
		return nil, err
	}
	f := reviewMeta(reviewFrame("employee_trend", rows, true), r, "trend of employee "+r.m.Employee+" across cycles")
	f.Meta.PreferredVisualization = data.VisTypeGraph
	return f, nil
}

// checkEmployee turns an employee id that is not on the roster into an
// error naming the command that lists the roster.
func checkEmployee(ctx context.Context, r request) error {
	emps, err := r.st.Employees(ctx, r.org)
	if err != nil {
		return err
	}
	for _, e := range emps {
		if e.ID == r.m.Employee {
			return nil
		}
	}
	return fmt.Errorf("employee %q of org %s: %w; `phonesignals employees list --org %s` lists the roster", r.m.Employee, r.org, store.ErrNotFound, r.org)
}

func employeesQuery(ctx context.Context, _ *Datasource, r request) (*data.Frame, error) {
	emps, err := r.st.Employees(ctx, r.org)
	if err != nil {
		return nil, err
	}
	n := len(emps)
	ids, texts, names, cohorts := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, e := range emps {
		ids[i], names[i], cohorts[i] = e.ID, e.Name, e.Cohort
		texts[i] = strings.TrimSpace(e.Name + " (" + e.ID + ")")
	}
	// __value and __text are what Grafana's query variables read.
	f := data.NewFrame("employees",
		data.NewField("employee_id", nil, ids),
		data.NewField("name", nil, names),
		data.NewField("cohort", nil, cohorts),
		data.NewField("__value", nil, ids),
		data.NewField("__text", nil, texts))
	f.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeTable, ExecutedQueryString: "roster of org " + r.org}
	return f, nil
}
