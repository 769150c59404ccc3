package plugin

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/phonesignals/phonesignals/internal/review"
	"github.com/phonesignals/phonesignals/internal/store"
)

// now is the query's "now": the end of its time range (an alert rule's
// evaluation time), or the wall clock when the query has none.
func now(r request) time.Time {
	if to := r.q.TimeRange.To; !to.IsZero() {
		return to.UTC()
	}
	return time.Now().UTC()
}

// window is [to - hours, to) when hours > 0, else the query's time range.
func window(r request, hours float64) (time.Time, time.Time) {
	to := r.q.TimeRange.To.UTC()
	if hours > 0 {
		return to.Add(-time.Duration(hours * float64(time.Hour))), to
	}
	return r.q.TimeRange.From.UTC(), to
}

// monday is the Monday 00:00 UTC of t's week (the weeks of calls_weekly).
func monday(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// callsWeeklyQuery is a wide time series: one point per week of the time
// range (0 for weeks without calls, so the bars do not skip weeks) and one
// field per direction and outcome, labelled with both.
func callsWeeklyQuery(ctx context.Context, _ *Datasource, r request) (*data.Frame, error) {
	from, to := r.q.TimeRange.From.UTC(), r.q.TimeRange.To.UTC()
	ws, err := r.st.CallsWeekly(ctx, r.org, r.m.Employee, from, to)
	if err != nil {
		return nil, err
	}
	var weeks []time.Time
	index := map[time.Time]int{}
	for w := monday(from); w.Before(to); w = w.AddDate(0, 0, 7) {
		index[w] = len(weeks)
		weeks = append(weeks, w)
	}
	series := map[[2]string][]uint64{}
	for _, w := range ws {
		k := [2]string{w.Direction, w.Outcome}
		if series[k] == nil {
			series[k] = make([]uint64, len(weeks))
		}
		if i, ok := index[w.Week]; ok {
			series[k][i] += w.Calls
		}
	}
	keys := make([][2]string, 0, len(series))
	for k := range series {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+"\x00"+keys[i][1] < keys[j][0]+"\x00"+keys[j][1] })
	fields := []*data.Field{data.NewField("week", nil, weeks)}
	for _, k := range keys {
		fields = append(fields, data.NewField("calls", data.Labels{"direction": k[0], "outcome": k[1]}, series[k]).
			SetConfig(&data.FieldConfig{DisplayNameFromDS: k[0] + " " + k[1]}))
	}
	f := data.NewFrame("calls_weekly", fields...)
	who := "org " + r.org
	if r.m.Employee != "" {
		who = "employee " + r.m.Employee + " of org " + r.org
	}
	f.Meta = &data.FrameMeta{Type: data.FrameTypeTimeSeriesWide, TypeVersion: data.FrameTypeVersion{0, 1},
		PreferredVisualization: data.VisTypeGraph, ExecutedQueryString: "calls per week (Monday 00:00 UTC) of " + who}
	if len(keys) == 0 {
		f.Meta.Notices = []data.Notice{{Severity: data.NoticeSeverityInfo, Text: "no calls in the time range"}}
	}
	return f, nil
}

// hoursSince is now - t in hours rounded to 0.01, nil for a zero t.
func hoursSince(now, t time.Time) *float64 {
	if t.IsZero() {
		return nil
	}
	h := math.Round(now.Sub(t).Hours()*100) / 100
	return &h
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() || t.Unix() <= 0 {
		return nil
	}
	u := t.UTC()
	return &u
}

// syncStatusQuery is one row about the org's syncs: the last run, and the
// last run that finished well.
func syncStatusQuery(ctx context.Context, _ *Datasource, r request) (*data.Frame, error) {
	last, ran, err := r.st.LastRun(ctx, r.org)
	if err != nil {
		return nil, err
	}
	okRuns, lastOK, err := r.st.LastSuccessfulSync(ctx, r.org)
	if err != nil {
		return nil, err
	}
	status := "never synced"
	if ran {
		status = last.Status
	}
	sv, err := serveOwner(ctx, r)
	if err != nil {
		return nil, err
	}
	f := data.NewFrame("sync_status",
		data.NewField("org", nil, []string{r.org}),
		data.NewField("last_run_started", nil, []*time.Time{timePtr(last.Started)}),
		data.NewField("last_run_finished", nil, []*time.Time{timePtr(last.Finished)}),
		data.NewField("last_run_status", nil, []string{status}),
		data.NewField("last_run_error", nil, []string{last.Error}),
		data.NewField("last_run_calls", nil, []uint64{uint64(last.Calls)}),
		data.NewField("last_success", nil, []*time.Time{timePtr(lastOK)}).SetConfig(&data.FieldConfig{
			Description: "When the last sync run with status ok finished.", NoValue: "never"}),
		data.NewField("hours_since_success", nil, []*float64{hoursSince(now(r), lastOK)}).SetConfig(&data.FieldConfig{
			Description: "Hours from the last successful sync to now (the end of the time range).", Unit: "h", NoValue: "never"}),
		data.NewField("successful_runs", nil, []uint64{okRuns}))
	f.Fields = append(f.Fields, sv.fields(now(r))...)
	f.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeTable, ExecutedQueryString: "sync runs of org " + r.org}
	if !ran {
		f.Meta.Notices = []data.Notice{{Severity: data.NoticeSeverityWarning,
			Text: fmt.Sprintf("org %s never synced: run `phonesignals sync --org %s`", r.org, r.org)}}
	}
	return f, nil
}

func deadLettersQuery(ctx context.Context, _ *Datasource, r request) (*data.Frame, error) {
	cs, err := r.st.DeadLettersIn(ctx, r.org, r.q.TimeRange.From, r.q.TimeRange.To)
	if err != nil {
		return nil, err
	}
	n := len(cs)
	reasons, counts, lasts := make([]string, n), make([]uint64, n), make([]time.Time, n)
	for i, c := range cs {
		reasons[i], counts[i], lasts[i] = c.Label, c.N, c.Last
	}
	f := data.NewFrame("dead_letters",
		data.NewField("reason", nil, reasons),
		data.NewField("records", nil, counts).SetConfig(&data.FieldConfig{Description: "Records the transform could not use, kept sealed on the dead-letter topic."}),
		data.NewField("last_at", nil, lasts))
	f.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeTable, ExecutedQueryString: "dead letters of org " + r.org + " in the time range"}
	return f, nil
}

// alertFrame is the shape Grafana alerting reads from a table: string
// label columns and exactly one number.
func alertFrame(name, valueName string, labels map[string][]string, order []string, values []*float64, desc string) *data.Frame {
	fields := make([]*data.Field, 0, len(order)+1)
	for _, l := range order {
		fields = append(fields, data.NewField(l, nil, labels[l]))
	}
	fields = append(fields, data.NewField(valueName, nil, values).SetConfig(&data.FieldConfig{Description: desc}))
	f := data.NewFrame(name, fields...)
	f.Meta = &data.FrameMeta{Type: data.FrameTypeNumericWide, TypeVersion: data.FrameTypeVersion{0, 1}, PreferredVisualization: data.VisTypeTable}
	return f
}

// escalationAvailable says whether the org's calls carry escalations, as
// the store reads their escalation_available column into the cohort
// medians of the org's cycles: false once any cohort's is n/a. An org
// with no cycle yet has nothing that says otherwise. The answer is cached
// once a cycle gave one: an org's calls come from one provider, so it
// does not change, and alert rules ask every evaluation.
func (d *Datasource) escalationAvailable(ctx context.Context, r request) (bool, error) {
	d.mu.Lock()
	known := d.escalation
	d.mu.Unlock()
	if known != nil {
		return *known, nil
	}
	meds, err := r.st.CohortMedians(ctx, r.org)
	if err != nil {
		return false, err
	}
	avail := true
	esc := metricNamed("escalated_calls")
	for _, m := range meds {
		if _, ok := review.CohortMedian(m, esc.Metric); !ok {
			avail = false
		}
	}
	if len(meds) > 0 {
		d.mu.Lock()
		d.escalation = &avail
		d.mu.Unlock()
	}
	return avail, nil
}

func alertEscalatedQuery(ctx context.Context, d *Datasource, r request) (*data.Frame, error) {
	avail, err := d.escalationAvailable(ctx, r)
	if err != nil {
		return nil, err
	}
	if !avail {
		return nil, badRequest("query %s (%s): org %s uses %s, whose call log has no notes or tags: escalation cannot be detected, so there is nothing to alert on (escalated_calls is n/a, never 0)", r.q.RefID, r.m.QueryType, r.org, r.provider)
	}
	from, to := window(r, r.m.Hours)
	cs, err := r.st.EscalatedByEmployee(ctx, r.org, from, to)
	if err != nil {
		return nil, err
	}
	labels := map[string][]string{}
	values := make([]*float64, len(cs))
	for i, c := range cs {
		labels["employee_id"] = append(labels["employee_id"], c.EmployeeID)
		labels["name"] = append(labels["name"], c.Name)
		labels["cohort"] = append(labels["cohort"], c.Cohort)
		v := float64(c.N)
		values[i] = &v
	}
	f := alertFrame("alert_escalated_calls", "escalated_calls", labels, []string{"employee_id", "name", "cohort"}, values,
		"Escalated calls per employee that started in the window ("+metricNamed("escalated_calls").Plain()+")")
	f.Meta.ExecutedQueryString = fmt.Sprintf("escalated calls per employee of org %s started in [%s, %s)", r.org, from.Format(time.RFC3339), to.Format(time.RFC3339))
	return f, nil
}

func alertSyncAgeQuery(ctx context.Context, _ *Datasource, r request) (*data.Frame, error) {
	_, lastOK, err := r.st.LastSuccessfulSync(ctx, r.org)
	if err != nil {
		return nil, err
	}
	f := alertFrame("alert_hours_since_sync", "hours_since_sync", map[string][]string{"org": {r.org}}, []string{"org"},
		[]*float64{hoursSince(now(r), lastOK)}, "Hours from the last sync run that finished with status ok to the rule's evaluation time; null (No Data) when the org never synced.")
	f.Meta.ExecutedQueryString = "hours since the last successful sync of org " + r.org
	return f, nil
}

func alertDeadLettersQuery(ctx context.Context, _ *Datasource, r request) (*data.Frame, error) {
	hours := r.m.Hours
	if hours == 0 {
		hours = 1
	}
	from, to := window(r, hours)
	cs, err := r.st.DeadLettersIn(ctx, r.org, from, to)
	if err != nil {
		return nil, err
	}
	var n float64
	for _, c := range cs {
		n += float64(c.N)
	}
	f := alertFrame("alert_dead_letters", "dead_letters", map[string][]string{"org": {r.org}}, []string{"org"}, []*float64{&n},
		fmt.Sprintf("Dead letters recorded in the last %g hours: records the transform could not use.", hours))
	f.Meta.ExecutedQueryString = fmt.Sprintf("dead letters of org %s recorded in [%s, %s)", r.org, from.Format(time.RFC3339), to.Format(time.RFC3339))
	return f, nil
}

// serveRuns is how many of the org's latest runs serveOwner looks through:
// a serve replica rewrites its run every minute, so its run is among the
// newest unless a burst of manual syncs pushed it down.
const serveRuns = 20

// serveState is the org's newest `phonesignals serve` status run: the
// replica following it (run id serve/REPLICA/SESSION) and its last
// successful round (window_to), as `serve status` shows them.
type serveState struct {
	owner   string
	written time.Time
	success time.Time
	status  string
	err     string
}

// serveOwner finds the org's newest serve status run among its latest
// runs; zero when no serve replica has followed the org.
func serveOwner(ctx context.Context, r request) (serveState, error) {
	runs, err := r.st.RecentRuns(ctx, r.org, serveRuns)
	if err != nil {
		return serveState{}, err
	}
	var best store.Run
	for _, run := range runs {
		rest, ok := strings.CutPrefix(run.ID, "serve/")
		if !ok || !run.Finished.After(best.Finished) {
			continue
		}
		best = run
		best.ID = rest
	}
	if best.ID == "" {
		return serveState{}, nil
	}
	owner := best.ID
	if i := strings.LastIndexByte(owner, '/'); i >= 0 {
		owner = owner[:i]
	}
	return serveState{owner: owner, written: best.Finished, success: best.Window.To, status: best.Status, err: best.Error}, nil
}

// fields are the serve columns of the sync_status frame. The owner is
// shown stale once its status is older than three of serve's one-minute
// status writes (the replica died or is cut off; its orgs move to the
// others after the group's session timeout).
func (s serveState) fields(now time.Time) []*data.Field {
	owner, status := s.owner, s.status
	var behind *float64
	if owner == "" {
		owner, status = "not followed by serve", "-"
	} else {
		b := math.Round(now.Sub(s.success).Seconds())
		behind = &b
		if now.Sub(s.written) > 3*time.Minute {
			owner += " (stale)"
		}
	}
	return []*data.Field{
		data.NewField("owner_replica", nil, []string{owner}).SetConfig(&data.FieldConfig{
			Description: "The serve replica following the org (the Kafka group member holding its partition of phonesignals.orgs); stale when it wrote no status for 3 minutes."}),
		data.NewField("owner_status_at", nil, []*time.Time{timePtr(s.written)}),
		data.NewField("serve_last_success", nil, []*time.Time{timePtr(s.success)}).SetConfig(&data.FieldConfig{
			Description: "Start of the org's last successful serve round: every call created before it was published.", NoValue: "never"}),
		data.NewField("serve_seconds_behind", nil, []*float64{behind}).SetConfig(&data.FieldConfig{
			Description: "Seconds from the org's last successful serve round to now (the end of the time range).", Unit: "s", NoValue: "not followed"}),
		data.NewField("serve_status", nil, []string{status}),
		data.NewField("serve_error", nil, []string{s.err}),
	}
}
