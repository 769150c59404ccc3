package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/phonesignals/phonesignals/internal/store"
)

// Query types. The dashboards use all of them; alert rules only the
// alert_* ones (see alertTypes).
const (
	QueryEmployeeMetrics = "employee_metrics"
	QueryCohortBaselines = "cohort_baselines"
	QueryUnmappedUsers   = "unmapped_users"
	QueryCycles          = "cycles"
	QueryEmployees       = "employees"
	QueryTeamReview      = "team_review"
	QueryEmployeeReview  = "employee_review"
	QueryEmployeeTrend   = "employee_trend"
	QueryCallsWeekly     = "calls_weekly"
	QuerySyncStatus      = "sync_status"
	QueryDeadLetters     = "dead_letters"
	QueryRecordsBehind   = "records_behind"
	// QueryCoverage is how complete a cycle's data is (coverage_frames.go).
	QueryCoverage = "coverage"
	// Alert-shaped: a table of string labels and exactly one number.
	QueryAlertEscalated  = "alert_escalated_calls"
	QueryAlertSyncAge    = "alert_hours_since_sync"
	QueryAlertDeadLetter = "alert_dead_letters"
)

// queryNeeds says what a query type reads from the query model.
type queryNeeds struct {
	cycle, employee, timeRange, optionalEmployee, alert bool
}

// queryTypes lists every query type in the order errors name them.
var queryTypes = []string{QueryEmployeeMetrics, QueryCohortBaselines, QueryUnmappedUsers, QueryCycles,
	QueryEmployees, QueryTeamReview, QueryEmployeeReview, QueryEmployeeTrend, QueryCallsWeekly,
	QuerySyncStatus, QueryDeadLetters, QueryRecordsBehind, QueryCoverage, QueryAlertEscalated, QueryAlertSyncAge, QueryAlertDeadLetter}

var needs = map[string]queryNeeds{
	QueryEmployeeMetrics: {cycle: true},
	QueryCohortBaselines: {cycle: true},
	QueryUnmappedUsers:   {timeRange: true},
	QueryCycles:          {},
	QueryEmployees:       {},
	QueryTeamReview:      {cycle: true},
	QueryEmployeeReview:  {cycle: true, employee: true},
	QueryEmployeeTrend:   {employee: true},
	QueryCallsWeekly:     {timeRange: true, optionalEmployee: true},
	QuerySyncStatus:      {},
	QueryDeadLetters:     {timeRange: true},
	QueryRecordsBehind:   {},
	QueryCoverage:        {cycle: true},
	QueryAlertEscalated:  {timeRange: true, alert: true},
	QueryAlertSyncAge:    {timeRange: true, alert: true},
	QueryAlertDeadLetter: {timeRange: true, alert: true},
}

// AlertQueryTypes are the query types whose frames Grafana alerting
// accepts; alert rules on any other type are refused with this list.
func AlertQueryTypes() []string {
	var out []string
	for _, t := range queryTypes {
		if needs[t].alert {
			out = append(out, t)
		}
	}
	return out
}

// QueryModel is a query's JSON. It has no org: the instance's
// jsonData.org is the only org it can read.
type QueryModel struct {
	QueryType string `json:"queryType"`
	// Cycle is the review cycle id, required by employee_metrics,
	// cohort_baselines, team_review and employee_review.
	Cycle string `json:"cycle"`
	// Employee is an employee id, required by employee_review and
	// employee_trend; calls_weekly reads the whole org without it.
	Employee string `json:"employee"`
	// Hours is the window of alert_escalated_calls and alert_dead_letters:
	// the last Hours before the end of the query's time range (the rule's
	// evaluation time). 0 (the default) means the query's whole time range
	// for alert_escalated_calls and 1 hour for alert_dead_letters.
	Hours float64 `json:"hours"`
	// NewestFirst lists cycles newest first (the dashboards' cycle
	// variable, so it opens on the newest cycle); default oldest first.
	NewestFirst bool `json:"newestFirst"`
}

// naText is what a number or median that is n/a shows as.
const naText = "n/a"

// QueryData answers every query on its own: one failing query returns its
// error in its own response and never fails the others.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp := backend.NewQueryDataResponse()
	fromAlert := req.Headers[backend.FromAlertHeaderName] != ""
	for _, q := range req.Queries {
		resp.Responses[q.RefID] = d.query(ctx, q, fromAlert)
	}
	return resp, nil
}

// queryError is a query failure with the status Grafana shows.
type queryError struct {
	status backend.Status
	source backend.ErrorSource
	msg    string
}

func (e *queryError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &queryError{status: backend.StatusBadRequest, source: backend.ErrorSourceDownstream, msg: fmt.Sprintf(format, args...)}
}

func (d *Datasource) query(ctx context.Context, q backend.DataQuery, fromAlert bool) backend.DataResponse {
	frames, err := d.frames(ctx, q, fromAlert)
	if err != nil {
		var qe *queryError
		switch {
		case errors.As(err, &qe):
			return backend.ErrDataResponseWithSource(qe.status, qe.source, qe.msg)
		case errors.Is(err, store.ErrNotFound):
			return backend.ErrDataResponseWithSource(backend.StatusNotFound, backend.ErrorSourceDownstream, err.Error())
		case errors.Is(err, context.DeadlineExceeded):
			return backend.ErrDataResponseWithSource(backend.StatusTimeout, backend.ErrorSourceDownstream, err.Error())
		case d.settingsErr != nil && errors.Is(err, d.settingsErr):
			return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, err.Error())
		}
		return backend.ErrDataResponseWithSource(backend.StatusBadGateway, backend.ErrorSourceDownstream, err.Error())
	}
	return backend.DataResponse{Frames: frames}
}

// ParseQuery decodes and checks a query's JSON.
func ParseQuery(q backend.DataQuery) (QueryModel, error) {
	var m QueryModel
	raw := map[string]json.RawMessage{}
	if len(q.JSON) > 0 {
		if err := json.Unmarshal(q.JSON, &raw); err != nil {
			return m, badRequest("query %s: not a JSON object: %v", q.RefID, err)
		}
		if err := json.Unmarshal(q.JSON, &m); err != nil {
			return m, badRequest("query %s: want {\"queryType\": %q, \"cycle\": \"CYCLE\", \"employee\": \"ID\", \"hours\": N}: %v", q.RefID, strings.Join(queryTypes, "|"), err)
		}
	}
	if o, ok := raw["org"]; ok && string(o) != "null" && string(o) != `""` {
		return m, badRequest("query %s: queries carry no org: this data source reads only the org in its settings (jsonData.org); remove \"org\" from the query, or use the data source of the other org", q.RefID)
	}
	if m.QueryType == "" {
		m.QueryType = q.QueryType
	}
	m.QueryType = strings.TrimSpace(m.QueryType)
	m.Cycle = strings.TrimSpace(m.Cycle)
	m.Employee = strings.TrimSpace(m.Employee)
	n, ok := needs[m.QueryType]
	switch {
	case m.QueryType == "":
		return m, badRequest("query %s: queryType is empty: want one of %s", q.RefID, strings.Join(queryTypes, ", "))
	case !ok:
		return m, badRequest("query %s: unknown queryType %q: want one of %s", q.RefID, m.QueryType, strings.Join(queryTypes, ", "))
	}
	return m, checkModel(q, m, n)
}

// checkModel checks the fields the query type needs.
func checkModel(q backend.DataQuery, m QueryModel, n queryNeeds) error {
	if n.cycle {
		if m.Cycle == "" {
			return badRequest("query %s (%s): cycle is empty: pick a review cycle (the dashboard's $cycle variable lists them), or add one with `phonesignals cycles add --org ORG --cycle ID --start YYYY-MM-DD --end YYYY-MM-DD`", q.RefID, m.QueryType)
		}
		if strings.HasPrefix(m.Cycle, "$") {
			return badRequest("query %s (%s): cycle %q is an unresolved dashboard variable: create a `cycle` variable of query type %q on this data source", q.RefID, m.QueryType, m.Cycle, QueryCycles)
		}
	}
	if n.employee && m.Employee == "" {
		return badRequest("query %s (%s): employee is empty: pick an employee id (the dashboard's $employee variable lists them; `phonesignals employees list --org ORG` too)", q.RefID, m.QueryType)
	}
	if (n.employee || n.optionalEmployee) && strings.HasPrefix(m.Employee, "$") {
		return badRequest("query %s (%s): employee %q is an unresolved dashboard variable: create an `employee` variable of query type %q on this data source", q.RefID, m.QueryType, m.Employee, QueryEmployees)
	}
	if m.Hours < 0 || m.Hours > 24*366 {
		return badRequest("query %s (%s): hours %v: want 0 (the default window) up to %d", q.RefID, m.QueryType, m.Hours, 24*366)
	}
	return nil
}

// checkTimeRange refuses an empty time range for the types that read one.
func checkTimeRange(q backend.DataQuery, m QueryModel) error {
	from, to := q.TimeRange.From.UTC(), q.TimeRange.To.UTC()
	if needs[m.QueryType].timeRange && (from.IsZero() || to.IsZero() || !to.After(from)) {
		return badRequest("query %s (%s): time range %s to %s is empty: pick a dashboard time range", q.RefID, m.QueryType, from.Format("2006-01-02 15:04:05"), to.Format("2006-01-02 15:04:05"))
	}
	return nil
}

// request is one parsed query with what answering it needs.
type request struct {
	q        backend.DataQuery
	m        QueryModel
	st       *store.Store
	org      string
	provider string
}

func (d *Datasource) frames(ctx context.Context, q backend.DataQuery, fromAlert bool) (data.Frames, error) {
	m, err := ParseQuery(q)
	if err != nil {
		return nil, err
	}
	if err := checkTimeRange(q, m); err != nil {
		return nil, err
	}
	if fromAlert && !needs[m.QueryType].alert {
		return nil, badRequest("query %s: an alert rule cannot use queryType %q: Grafana alerting accepts only a time series or a table of string labels and one number; alert on %s", q.RefID, m.QueryType, strings.Join(AlertQueryTypes(), ", "))
	}
	st, err := d.store(ctx)
	if err != nil {
		return nil, err
	}
	provider, err := d.org(ctx, st)
	if err != nil {
		return nil, err
	}
	r := request{q: q, m: m, st: st, org: d.settings.Org, provider: provider}
	if needs[m.QueryType].cycle {
		if err := d.checkCycle(ctx, st, m.Cycle); err != nil {
			return nil, err
		}
	}
	if m.Employee != "" {
		if err := checkEmployee(ctx, r); err != nil {
			return nil, err
		}
	}
	f, err := handlers[m.QueryType](ctx, d, r)
	if err != nil {
		return nil, err
	}
	return data.Frames{f}, nil
}

// handlers answer each query type with one frame.
var handlers map[string]func(context.Context, *Datasource, request) (*data.Frame, error)

func init() {
	handlers = map[string]func(context.Context, *Datasource, request) (*data.Frame, error){
		QueryEmployeeMetrics: func(ctx context.Context, _ *Datasource, r request) (*data.Frame, error) {
			ms, err := r.st.CycleMetrics(ctx, r.org, r.m.Cycle)
			if err != nil {
				return nil, err
			}
			return metricsFrame(r.org, r.provider, r.m.Cycle, ms), nil
		},
		QueryCohortBaselines: func(ctx context.Context, _ *Datasource, r request) (*data.Frame, error) {
			bs, err := r.st.CycleBaselines(ctx, r.org, r.m.Cycle)
			if err != nil {
				return nil, err
			}
			floor, err := minCohort(ctx, r)
			if err != nil {
				return nil, err
			}
			return baselinesFrame(r.org, r.m.Cycle, bs, floor), nil
		},
		QueryUnmappedUsers: func(ctx context.Context, _ *Datasource, r request) (*data.Frame, error) {
			us, err := r.st.UnmappedUsers(ctx, r.org, r.q.TimeRange.From.UTC(), r.q.TimeRange.To.UTC())
			if err != nil {
				return nil, err
			}
			return unmappedFrame(r.org, us), nil
		},
		QueryCycles: func(ctx context.Context, _ *Datasource, r request) (*data.Frame, error) {
			cs, err := r.st.Cycles(ctx, r.org)
			if err != nil {
				return nil, err
			}
			if r.m.NewestFirst {
				slices.Reverse(cs)
			}
			return cyclesFrame(r.org, cs), nil
		},
		QueryEmployees:       employeesQuery,
		QueryTeamReview:      teamReviewQuery,
		QueryEmployeeReview:  employeeReviewQuery,
		QueryEmployeeTrend:   employeeTrendQuery,
		QueryCallsWeekly:     callsWeeklyQuery,
		QuerySyncStatus:      syncStatusQuery,
		QueryDeadLetters:     deadLettersQuery,
		QueryRecordsBehind:   recordsBehindQuery,
		QueryCoverage:        coverageQuery,
		QueryAlertEscalated:  alertEscalatedQuery,
		QueryAlertSyncAge:    alertSyncAgeQuery,
		QueryAlertDeadLetter: alertDeadLettersQuery,
	}
}

// checkCycle turns a cycle that does not exist into an error naming the
// known cycles and the command that adds it (the metric views would
// otherwise answer an empty table).
func (d *Datasource) checkCycle(ctx context.Context, st *store.Store, cycle string) error {
	_, err := st.GetCycle(ctx, d.settings.Org, cycle)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return err
	}
	cs, lerr := st.Cycles(ctx, d.settings.Org)
	if lerr != nil || len(cs) == 0 {
		return fmt.Errorf("%w; org %s has no cycles yet", err, d.settings.Org)
	}
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return fmt.Errorf("%w; known cycles: %s", err, strings.Join(ids, ", "))
}

func metricsFrame(org, provider, cycle string, ms []store.Metrics) *data.Frame {
	n := len(ms)
	ids, names, cohorts := make([]string, n), make([]string, n), make([]string, n)
	for i, m := range ms {
		ids[i], names[i], cohorts[i] = m.EmployeeID, m.Name, m.Cohort
	}
	f := data.NewFrame("employee_metrics",
		data.NewField("employee_id", nil, ids),
		data.NewField("name", nil, names),
		data.NewField("cohort", nil, cohorts),
	)
	f.Fields = append(append(f.Fields, valueFields(Metrics, ms)...), valueFields(TalkMetrics, ms)...)
	meta := &data.FrameMeta{PreferredVisualization: data.VisTypeTable, ExecutedQueryString: fmt.Sprintf("employee_cycle_metrics of org %s, cycle %s", org, cycle)}
	meta.Notices = naNotices(provider, ms)
	if n == 0 {
		meta.Notices = append(meta.Notices, data.Notice{Severity: data.NoticeSeverityWarning,
			Text: fmt.Sprintf("org %s has no employees: import them with `phonesignals employees import --org %s employees.csv`", org, org)})
	}
	f.Meta = meta
	return f
}

func baselinesFrame(org, cycle string, bs []store.Baseline, floor int) *data.Frame {
	n := len(bs)
	cohorts, sizes := make([]string, n), make([]uint64, n)
	for i, b := range bs {
		cohorts[i], sizes[i] = b.Cohort, b.Size
	}
	f := data.NewFrame("cohort_baselines",
		data.NewField("cohort", nil, cohorts),
		data.NewField("cohort_size", nil, sizes),
	)
	f.Fields = append(append(append(f.Fields, baselineFields(Metrics, bs, floor)...), medianNAReasons(bs, floor)), baselineFields(TalkMetrics, bs, floor)...)
	f.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeTable, ExecutedQueryString: fmt.Sprintf("cohort_cycle_baselines of org %s, cycle %s", org, cycle)}
	return f
}

func unmappedFrame(org string, us []store.UserCalls) *data.Frame {
	n := len(us)
	users, calls := make([]string, n), make([]uint64, n)
	for i, u := range us {
		users[i], calls[i] = u.UserID, u.Calls
	}
	f := data.NewFrame("unmapped_users",
		data.NewField("user_id", nil, users).SetConfig(&data.FieldConfig{
			Description: "Provider user with calls and no employee mapping; empty for calls nobody took (unanswered inbound calls).",
		}),
		data.NewField("calls", nil, calls),
	)
	f.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeTable, ExecutedQueryString: "unmapped provider users of org " + org}
	return f
}

func cyclesFrame(org string, cs []store.Cycle) *data.Frame {
	n := len(cs)
	ids := make([]string, n)
	starts, ends := make([]time.Time, n), make([]time.Time, n)
	for i, c := range cs {
		ids[i], starts[i], ends[i] = c.ID, c.Start.UTC(), c.End.UTC()
	}
	f := data.NewFrame("cycles",
		data.NewField("cycle_id", nil, ids),
		data.NewField("period_start", nil, starts),
		data.NewField("period_end", nil, ends),
	)
	f.Meta = &data.FrameMeta{PreferredVisualization: data.VisTypeTable, ExecutedQueryString: "review cycles of org " + org}
	if n == 0 {
		f.Meta.Notices = []data.Notice{{Severity: data.NoticeSeverityWarning,
			Text: fmt.Sprintf("org %s has no review cycles: add one with `phonesignals cycles add --org %s --cycle ID --start YYYY-MM-DD --end YYYY-MM-DD`", org, org)}}
	}
	return f
}
