package plugin

import (
	"context"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/review"
	"github.com/phonesignals/phonesignals/internal/store"
)

// CoverageDefinition explains the coverage panel, as the README does.
const CoverageDefinition = "How complete the cycle's data is, as `phonesignals review` says in [COVERAGE]: complete_through is the time up to " +
	"which every sync window of the cycle has finished and had its calls loaded; windows_missing counts the stretches no sync finished, " +
	"windows_failed the syncs that failed or were killed there plus finished windows whose calls never reached ClickHouse; " +
	"dead_letter_calls are calls the transform refused, unmapped_calls calls of provider users mapped to no employee (neither counts in " +
	"any number); newest_call and last_webhook say how fresh the data is. problems names each gap with the command that fixes it."

// MedianNADefinition explains a median shown as n/a.
const MedianNADefinition = model.MedianNADefinition

// coverageOf computes the coverage of the request's cycle now.
func coverageOf(ctx context.Context, r request) (store.Coverage, error) {
	o, err := r.st.GetOrg(ctx, r.org)
	if err != nil {
		return store.Coverage{}, err
	}
	cy, err := r.st.GetCycle(ctx, r.org, r.m.Cycle)
	if err != nil {
		return store.Coverage{}, err
	}
	return r.st.Coverage(ctx, o, cy, time.Now())
}

// withCoverage puts the cycle's coverage in f's meta (custom "coverage",
// the object of `review --format json`) and a notice per problem, so a
// panel of the numbers shows how complete they are.
func withCoverage(ctx context.Context, r request, f *data.Frame) error {
	c, err := coverageOf(ctx, r)
	if err != nil {
		return err
	}
	if f.Meta == nil {
		f.Meta = &data.FrameMeta{}
	}
	f.Meta.Custom = map[string]any{"coverage": review.CoverageObject(c)}
	for _, p := range review.Problems(c) {
		sev := data.NoticeSeverityWarning
		if c.Status == store.CoverageInProgress && strings.HasPrefix(p, "in progress") {
			sev = data.NoticeSeverityInfo
		}
		f.Meta.Notices = append(f.Meta.Notices, data.Notice{Severity: sev, Text: p})
	}
	return nil
}

// coverageQuery is one row: the cycle's coverage.
func coverageQuery(ctx context.Context, _ *Datasource, r request) (*data.Frame, error) {
	c, err := coverageOf(ctx, r)
	if err != nil {
		return nil, err
	}
	f := coverageFrame(c)
	f.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeTable, ExecutedQueryString: "coverage of cycle " + r.m.Cycle + " of org " + r.org,
		Custom: map[string]any{"coverage": review.CoverageObject(c)}}
	for _, p := range review.Problems(c) {
		f.Meta.Notices = append(f.Meta.Notices, data.Notice{Severity: data.NoticeSeverityWarning, Text: p})
	}
	return f, nil
}

func optTime(t time.Time) []*time.Time {
	if t.IsZero() {
		return []*time.Time{nil}
	}
	u := t.UTC()
	return []*time.Time{&u}
}

// coverageFrame is the coverage as one table row.
func coverageFrame(c store.Coverage) *data.Frame {
	var lastWebhook []*time.Time
	if c.Webhooks {
		lastWebhook = optTime(c.LastWebhook)
	} else {
		lastWebhook = []*time.Time{nil}
	}
	fix := ""
	if c.Status == store.CoverageIncomplete || c.Status == store.CoverageInProgress {
		fix = c.SyncFix()
	}
	desc := func(s string) *data.FieldConfig { return &data.FieldConfig{Description: s} }
	return data.NewFrame("coverage",
		data.NewField("cycle_id", nil, []string{c.Cycle}),
		data.NewField("status", nil, []string{c.Status}).SetConfig(desc("complete, in_progress (the cycle has not ended), incomplete, or expired (older than the org's retention).")),
		data.NewField("complete_through", nil, optTime(c.CompleteThrough)).SetConfig(&data.FieldConfig{NoValue: naText,
			Description: "Every sync window of the cycle up to this time has finished and had its calls loaded."}),
		data.NewField("windows_missing", nil, []uint64{uint64(len(c.Missing))}).SetConfig(desc("Stretches of the cycle (up to now) no sync finished.")),
		data.NewField("windows_failed", nil, []uint64{uint64(review.WindowsFailed(c))}).SetConfig(desc("Syncs that failed or were killed over a missing stretch, plus finished windows whose calls never reached ClickHouse.")),
		data.NewField("dead_letter_calls", nil, []uint64{c.DeadLetterCalls}).SetConfig(desc("Calls of the cycle the transform refused, not counted anywhere.")),
		data.NewField("unmapped_calls", nil, []uint64{c.UnmappedCalls}).SetConfig(desc("Calls of the cycle by provider users mapped to no employee, not counted for anyone.")),
		data.NewField("unmapped_users", nil, []uint64{uint64(c.UnmappedUsers)}),
		data.NewField("calls_seen", nil, []uint64{c.CallsSeen}),
		data.NewField("newest_call", nil, optTime(c.NewestCall)).SetConfig(&data.FieldConfig{NoValue: naText, Description: "Start of the newest call of the cycle."}),
		data.NewField("last_webhook", nil, lastWebhook).SetConfig(&data.FieldConfig{NoValue: naText, Description: "The org's last webhook delivery accepted; n/a without webhooks."}),
		data.NewField("problems", nil, []string{strings.Join(review.Problems(c), "\n")}).SetConfig(desc("Each gap, with the command that fixes it.")),
		data.NewField("fix", nil, []string{fix}),
	)
}

// minCohort is the org's privacy floor, read on every query so a change
// applies at once.
func minCohort(ctx context.Context, r request) (int, error) {
	o, err := r.st.GetOrg(ctx, r.org)
	if err != nil {
		return 0, err
	}
	return store.PrivacyOf(o).MinCohort, nil
}

// floorRows marks the rows whose cohort is below the org's floor: their
// medians show as n/a.
func floorRows(ctx context.Context, r request, rows []reviewRow) error {
	floor, err := minCohort(ctx, r)
	if err != nil {
		return err
	}
	for i := range rows {
		if rows[i].medians != nil {
			rows[i].medianNA = store.MedianNA(rows[i].medians.Size, floor)
		}
	}
	return nil
}

// medianNAField says per row why its medians are n/a ("" when shown).
func medianNAField(rows []reviewRow) *data.Field {
	reasons := make([]string, len(rows))
	for i, r := range rows {
		reasons[i] = r.medianNA
	}
	return data.NewField("median_na_reason", nil, reasons).SetConfig(&data.FieldConfig{Description: MedianNADefinition})
}
