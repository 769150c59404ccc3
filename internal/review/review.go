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

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/store"
)

// Width is the column the values are right-aligned to.
const Width = 25

// NotAvailable is shown for a number that does not exist for the employee
// (its model.Metric.Available column is false) and for a median below the
// privacy floor, so nobody reads it as a real zero.
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

// Text renders the block as the seed shows it: the seed's metrics, then
// under Extended the others, each group's medians in [BASELINES] likewise.
func (b Block) Text() string {
	var w strings.Builder
	shown := seedMetrics
	if b.Extended {
		shown = model.ReviewMetrics
	}
	w.WriteString("[PHONE DATA]\n")
	for _, mt := range shown {
		line(&w, mt.Name, b.valueText(mt, NotAvailable))
	}
	w.WriteString("\n[BASELINES]\n")
	line(&w, "cohort", b.Baseline.Cohort)
	line(&w, "cohort_size", u(b.Baseline.Size))
	for _, mt := range Baselines(shown) {
		line(&w, mt.MedianName(), b.medianText(mt, NotAvailable))
	}
	w.WriteString(b.coverageText())
	return w.String()
}

// valueText is the metric's value as text, na where it is n/a.
func (b Block) valueText(mt model.Metric, na string) string {
	v, ok := Value(b.Metrics, mt)
	if !ok {
		return na
	}
	return u(v)
}

// medianText is the metric's cohort median as text, na below the floor.
func (b Block) medianText(mt model.Metric, na string) string {
	if b.MedianNAReason() != "" {
		return na
	}
	return FormatMedian(BaselineMedian(b.Baseline, mt))
}

// jsonValues are a group's values, each availability column after its
// value (a value is null where n/a).
func (b Block) jsonValues(o object, ms []model.Metric) object {
	for _, mt := range ms {
		var val any
		if v, ok := Value(b.Metrics, mt); ok {
			val = v
		}
		o = append(o, field{mt.Name, val})
		if mt.Available != "" {
			o = append(o, field{mt.Available, Available(b.Metrics, mt)})
		}
	}
	return o
}

// jsonMedians are a group's baseline medians, null below the floor.
func (b Block) jsonMedians(o object, ms []model.Metric) object {
	for _, mt := range Baselines(ms) {
		var val any
		if b.MedianNAReason() == "" {
			val = BaselineMedian(b.Baseline, mt)
		}
		o = append(o, field{mt.MedianName(), val})
	}
	return o
}

// JSON renders the block as one JSON object with the text block's names:
// the seed's metrics and baseline, then the others and their medians.
func (b Block) JSON() ([]byte, error) {
	o := object{{"org", b.Org}, {"employee_id", b.Employee}, {"name", b.Metrics.Name}, {"cycle_id", b.Cycle}}
	o = b.jsonValues(o, seedMetrics)
	o = append(o, field{"cohort", b.Baseline.Cohort}, field{"cohort_size", b.Baseline.Size})
	o = b.jsonMedians(o, seedMetrics)
	o = append(o, field{"min_cohort", b.MinCohort}, field{"median_na_reason", b.MedianNAReason()})
	o = b.jsonMedians(b.jsonValues(o, extendedMetrics), extendedMetrics)
	var cov any
	if b.Coverage != nil {
		cov = CoverageObject(*b.Coverage)
	}
	return json.MarshalIndent(append(o, field{"coverage", cov}), "", "  ")
}

// field is one key of an object.
type field struct {
	key string
	val any
}

// object is a JSON object whose keys keep their order.
type object []field

// MarshalJSON writes the keys in order.
func (o object) MarshalJSON() ([]byte, error) {
	out := []byte{'{'}
	for i, f := range o {
		if i > 0 {
			out = append(out, ',')
		}
		k, err := json.Marshal(f.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(f.val)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", f.key, err)
		}
		out = append(append(append(out, k...), ':'), v...)
	}
	return append(out, '}'), nil
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

// CSVHeader is the header of WriteCSV: the block's names, in its order
// (the seed's metrics and baseline, the coverage, then the others and
// their medians).
var CSVHeader = csvHeader()

func csvHeader() []string {
	h := []string{"org", "cycle_id", "employee_id", "name"}
	names := func(ms []model.Metric) {
		for _, mt := range ms {
			h = append(h, mt.Name)
		}
	}
	medians := func(ms []model.Metric) {
		for _, mt := range Baselines(ms) {
			h = append(h, mt.MedianName())
		}
	}
	names(seedMetrics)
	h = append(h, "cohort", "cohort_size")
	medians(seedMetrics)
	h = append(h, "min_cohort", "median_na_reason", "coverage_status", "complete_through", "windows_missing", "windows_failed",
		"dead_letter_calls", "unmapped_calls", "newest_call", "last_webhook")
	names(extendedMetrics)
	medians(extendedMetrics)
	return h
}

// csvRow is the block's CSV row, in CSVHeader's order. n/a values and
// medians are written "n/a", as in the text block: an empty cell reads
// as 0 in a spreadsheet's sum, which is the misreading n/a exists to stop.
func (b Block) csvRow() []string {
	m := b.Metrics
	row := []string{b.Org, b.Cycle, b.Employee, m.Name}
	values := func(ms []model.Metric) {
		for _, mt := range ms {
			row = append(row, b.valueText(mt, NotAvailable))
		}
	}
	medians := func(ms []model.Metric) {
		for _, mt := range Baselines(ms) {
			row = append(row, b.medianText(mt, NotAvailable))
		}
	}
	values(seedMetrics)
	row = append(row, b.Baseline.Cohort, u(b.Baseline.Size))
	medians(seedMetrics)
	row = append(append(row, strconv.Itoa(b.MinCohort), b.MedianNAReason()), coverageCSV(b.Coverage)...)
	values(extendedMetrics)
	medians(extendedMetrics)
	return row
}

// WriteAll renders several blocks: text blocks one after another under a
// header line each, a JSON array, or CSV with one row per employee
// (a number or median "n/a" where n/a; JSON has null there).
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
			_ = cw.Write(b.csvRow())
		}
		cw.Flush()
		return cw.Error()
	}
	return fmt.Errorf("--format %q: want text, json or csv", format)
}
