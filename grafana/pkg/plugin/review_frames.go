package plugin

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/review"
	"github.com/phonesignals/phonesignals/internal/store"
)

// Metric is a review metric as the frames and dashboards show it: its one
// definition in model.ReviewMetrics.
type Metric struct {
	model.Metric
	// NA says the number can be n/a (null, its availability column false):
	// shown as n/a, never 0.
	NA bool
}

// pluginMetrics are model.ReviewMetrics' seed group or the others.
func pluginMetrics(extended bool) []Metric {
	var out []Metric
	for _, m := range model.ReviewMetrics {
		if m.Extended == extended {
			out = append(out, Metric{Metric: m, NA: m.NA()})
		}
	}
	return out
}

// Metrics are the seed's seven review numbers in the seed's order;
// TalkMetrics the talk-time numbers beside them (model.ReviewMetrics).
// The review frames carry each with its cohort median and difference.
var Metrics, TalkMetrics = pluginMetrics(false), pluginMetrics(true)

// metricNamed is the metric called name.
func metricNamed(name string) Metric {
	for _, m := range slices.Concat(Metrics, TalkMetrics) {
		if m.Name == name {
			return m
		}
	}
	panic("no review metric " + name)
}

// MedianDefinition explains the cohort median beside every number.
const MedianDefinition = model.MedianDefinition

// VsMedianDefinition explains the difference columns.
const VsMedianDefinition = "Difference from the cohort median in percent: (value - median) / median x 100; empty when the median is 0."

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
		v, ok := review.Value(r.metrics, mt.Metric)
		if !ok {
			continue // n/a: all three stay null
		}
		vals[i] = &v
		if r.medians == nil || r.medianNA != "" {
			continue
		}
		if med, ok := review.CohortMedian(*r.medians, mt.Metric); ok {
			meds[i] = &med
			diffs[i] = vsMedian(v, med)
		}
	}
	cfg := func(desc, unit string) *data.FieldConfig {
		c := &data.FieldConfig{Description: desc, Unit: unit}
		if mt.NA {
			c.NoValue = naText
		}
		return c
	}
	return []*data.Field{
		data.NewField(mt.Name, nil, vals).SetConfig(cfg(mt.Plain(), mt.Unit)),
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

func reviewMeta(f *data.Frame, r request, what string, rows []reviewRow) *data.Frame {
	f.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeTable, ExecutedQueryString: what + " of org " + r.org}
	ms := make([]store.Metrics, len(rows))
	for i, row := range rows {
		ms[i] = row.metrics
	}
	f.Meta.Notices = append(f.Meta.Notices, naNotices(r.provider, ms)...)
	return f
}

// naReasons say why a number is n/a where its availability column is
// false, for the frames' notices; a column missing here gets none (time
// to answer is n/a employee by employee, which the field shows).
var naReasons = map[string]string{
	model.EscalationAvailable: "escalated_calls is n/a for %s: its call log has no notes or tags, so escalation cannot be detected (not a real zero)",
}

// naNotices are one notice per availability column that is false in any
// of the rows, as the store read it: never decided by a provider's name.
func naNotices(provider string, ms []store.Metrics) []data.Notice {
	var out []data.Notice
	for _, mt := range model.ReviewMetrics {
		reason, ok := naReasons[mt.Available]
		if !ok {
			continue
		}
		if slices.ContainsFunc(ms, func(m store.Metrics) bool { return !review.Available(m, mt) }) {
			out = append(out, data.Notice{Severity: data.NoticeSeverityInfo, Text: fmt.Sprintf(reason, provider)})
		}
	}
	return out
}

func teamReviewQuery(ctx context.Context, _ *Datasource, r request) (*data.Frame, error) {
	rows, err := cycleRows(ctx, r, "")
	if err != nil {
		return nil, err
	}
	f := reviewMeta(reviewFrame("team_review", rows, false), r, "team review of cycle "+r.m.Cycle, rows)
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
	f := reviewMeta(reviewFrame("employee_review", rows, false), r, "review of employee "+r.m.Employee+" in cycle "+r.m.Cycle, rows)
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
	f := reviewMeta(reviewFrame("employee_trend", rows, true), r, "trend of employee "+r.m.Employee+" across cycles", rows)
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
