package review

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/phonesignals/phonesignals/internal/store"
)

// CoverageWidth is the column the [COVERAGE] block's values are
// right-aligned to: wide enough for a timestamp.
const CoverageWidth = 40

// stamp formats a coverage time; zero is n/a.
func stamp(t time.Time) string {
	if t.IsZero() {
		return NotAvailable
	}
	return t.UTC().Format(time.RFC3339)
}

func coverageLine(w *strings.Builder, name, value string) {
	value = EscapeText(value)
	pad := CoverageWidth - len(name) - 1 - len(value)
	if pad < 1 {
		pad = 1
	}
	fmt.Fprintf(w, "%s:%s%s\n", name, strings.Repeat(" ", pad), value)
}

// WindowsFailed counts the sync runs that failed or never finished over a
// stretch still missing, and the finished windows whose calls did not all
// reach ClickHouse.
func WindowsFailed(c store.Coverage) int { return len(c.FailedRuns) + c.UnloadedWindows }

// coverageText is the [COVERAGE] block: the coverage, and why the median
// is n/a when the privacy floor hides it.
func (b Block) coverageText() string {
	c, reason := b.Coverage, b.MedianNAReason()
	if c == nil && reason == "" {
		return ""
	}
	var w strings.Builder
	w.WriteString("\n[COVERAGE]\n")
	if c != nil {
		w.WriteString(coverageLines(*c))
	}
	if reason != "" {
		fmt.Fprintf(&w, "median_total_calls is n/a: %s (the org's privacy floor; `phonesignals org privacy --org %s --min-cohort N` changes it)\n", EscapeText(reason), EscapeText(b.Org))
	}
	return w.String()
}

// coverageLines are the numbers of the [COVERAGE] block, then one line per
// problem naming its fix.
func coverageLines(c store.Coverage) string {
	var w strings.Builder
	coverageLine(&w, "status", c.Status)
	coverageLine(&w, "complete_through", stamp(c.CompleteThrough))
	coverageLine(&w, "windows_missing", strconv.Itoa(len(c.Missing)))
	coverageLine(&w, "windows_failed", strconv.Itoa(WindowsFailed(c)))
	coverageLine(&w, "dead_letter_calls", u(c.DeadLetterCalls))
	coverageLine(&w, "unmapped_calls", u(c.UnmappedCalls))
	coverageLine(&w, "newest_call", stamp(c.NewestCall))
	if c.Webhooks {
		coverageLine(&w, "last_webhook", stamp(c.LastWebhook))
	} else {
		coverageLine(&w, "last_webhook", NotAvailable+" (no webhooks)")
	}
	if len(c.WorkingHours) > 0 {
		coverageLine(&w, "working_hours", strings.Join(c.WorkingHours, "; then "))
	}
	for _, l := range Problems(c) {
		w.WriteString(EscapeText(l) + "\n")
	}
	return w.String()
}

// Problems are the coverage's problems, one line each naming its fix;
// none for a complete cycle with no dead letters or unmapped calls.
func Problems(c store.Coverage) []string {
	var out []string
	switch c.Status {
	case store.CoverageIncomplete:
		if len(c.Missing) > 0 {
			out = append(out, fmt.Sprintf("incomplete: %s; fix: %s", describeGaps(c.Missing), c.SyncFix()))
		}
	case store.CoverageInProgress:
		out = append(out, fmt.Sprintf("in progress: the cycle ends %s and is complete through %s; `%s` brings it up to now",
			stamp(c.End), stamp(c.CompleteThrough), c.SyncFix()))
	case store.CoverageExpired:
		out = append(out, fmt.Sprintf("expired: calls started before %s are deleted by org %s's retention: this cycle's numbers lack them",
			stamp(c.RetentionCutoff), c.Org))
	}
	if c.UnloadedWindows > 0 {
		out = append(out, fmt.Sprintf("incomplete: %d calls of %d finished sync windows are not loaded; fix: phonesignals run --until-idle (calls lost from Kafka: %s fetches them again)",
			c.UnloadedCalls, c.UnloadedWindows, c.SyncFix()))
	}
	if c.DeadLetterCalls > 0 {
		out = append(out, fmt.Sprintf("%d calls were dead-lettered and are not counted; fix: phonesignals dlq list --org %s, then phonesignals dlq replay --org %s once the cause is fixed",
			c.DeadLetterCalls, c.Org, c.Org))
	}
	if c.UnmappedCalls > 0 {
		out = append(out, fmt.Sprintf("%d calls of %d provider users mapped to no employee are not counted; fix: map them with phonesignals employees import --org %s (phonesignals doctor --org %s lists them)",
			c.UnmappedCalls, c.UnmappedUsers, c.Org, c.Org))
	}
	return out
}

// describeGaps names the missing stretches: the first one and its cause,
// and how many more.
func describeGaps(gaps []store.Gap) string {
	g := gaps[0]
	s := fmt.Sprintf("%s to %s missing (%s)", stamp(g.From), stamp(g.To), g.Cause)
	if len(gaps) > 1 {
		s += fmt.Sprintf(" (and %d more stretches)", len(gaps)-1)
	}
	return s
}

// coverageJSON is the coverage object of the JSON and the frames' meta.
type coverageJSON struct {
	Status          string       `json:"status"`
	PeriodStart     string       `json:"period_start"`
	PeriodEnd       string       `json:"period_end"`
	AsOf            string       `json:"as_of"`
	CompleteThrough *string      `json:"complete_through"`
	WindowsMissing  int          `json:"windows_missing"`
	WindowsFailed   int          `json:"windows_failed"`
	Missing         []gapJSON    `json:"missing"`
	FailedRuns      []failedJSON `json:"failed_runs"`
	UnloadedWindows int          `json:"unloaded_windows"`
	UnloadedCalls   uint64       `json:"unloaded_calls"`
	DeadLetterCalls uint64       `json:"dead_letter_calls"`
	UnmappedCalls   uint64       `json:"unmapped_calls"`
	UnmappedUsers   int          `json:"unmapped_users"`
	CallsSeen       uint64       `json:"calls_seen"`
	NewestCall      *string      `json:"newest_call"`
	Webhooks        bool         `json:"webhooks"`
	LastWebhook     *string      `json:"last_webhook"`
	RetentionCutoff *string      `json:"retention_cutoff"`
	WorkingHours    []string     `json:"working_hours"`
	Problems        []string     `json:"problems"`
	Fix             string       `json:"fix"`
}

type gapJSON struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Cause string `json:"cause"`
}

type failedJSON struct {
	RunID      string `json:"run_id"`
	StartedAt  string `json:"started_at"`
	WindowFrom string `json:"window_from"`
	WindowTo   string `json:"window_to"`
	Status     string `json:"status"`
	Error      string `json:"error"`
}

func optStamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := stamp(t)
	return &s
}

// CoverageObject is the coverage as the JSON review and the Grafana frames
// carry it (a value json.Marshal renders with the documented names).
func CoverageObject(c store.Coverage) any {
	j := coverageJSON{Status: c.Status, PeriodStart: stamp(c.Start), PeriodEnd: stamp(c.End), AsOf: stamp(c.AsOf),
		CompleteThrough: optStamp(c.CompleteThrough), WindowsMissing: len(c.Missing), WindowsFailed: WindowsFailed(c),
		Missing: []gapJSON{}, FailedRuns: []failedJSON{}, UnloadedWindows: c.UnloadedWindows, UnloadedCalls: c.UnloadedCalls,
		DeadLetterCalls: c.DeadLetterCalls, UnmappedCalls: c.UnmappedCalls, UnmappedUsers: c.UnmappedUsers, CallsSeen: c.CallsSeen,
		NewestCall: optStamp(c.NewestCall), Webhooks: c.Webhooks, LastWebhook: optStamp(c.LastWebhook),
		RetentionCutoff: optStamp(c.RetentionCutoff), WorkingHours: c.WorkingHours, Problems: Problems(c)}
	if j.WorkingHours == nil {
		j.WorkingHours = []string{}
	}
	if j.Problems == nil {
		j.Problems = []string{}
	}
	for _, g := range c.Missing {
		j.Missing = append(j.Missing, gapJSON{From: stamp(g.From), To: stamp(g.To), Cause: g.Cause})
	}
	for _, r := range c.FailedRuns {
		j.FailedRuns = append(j.FailedRuns, failedJSON{RunID: r.ID, StartedAt: stamp(r.Started), WindowFrom: stamp(r.Window.From),
			WindowTo: stamp(r.Window.To), Status: r.Status, Error: r.Error})
	}
	if c.Status == store.CoverageIncomplete || c.Status == store.CoverageInProgress {
		j.Fix = c.SyncFix()
	}
	return j
}

// coverageCSV are the coverage columns of a CSV row.
func coverageCSV(c *store.Coverage) []string {
	if c == nil {
		return make([]string, coverageColumns)
	}
	last := ""
	if c.Webhooks {
		last = csvStamp(c.LastWebhook)
	}
	return []string{c.Status, csvStamp(c.CompleteThrough), strconv.Itoa(len(c.Missing)), strconv.Itoa(WindowsFailed(*c)),
		u(c.DeadLetterCalls), u(c.UnmappedCalls), csvStamp(c.NewestCall), last}
}

func csvStamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return stamp(t)
}

// coverageColumns is how many coverage columns CSV rows end with (the
// same on every row of an org and cycle; times empty when n/a).
const coverageColumns = 8
