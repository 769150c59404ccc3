package plugin_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/phonesignals/phonesignals/grafana/pkg/plugin"
)

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type override struct {
	Matcher struct {
		ID      string `json:"id"`
		Options string `json:"options"`
	} `json:"matcher"`
	Properties []struct {
		ID    string          `json:"id"`
		Value json.RawMessage `json:"value"`
	} `json:"properties"`
}

type panel struct {
	ID              int               `json:"id"`
	Type            string            `json:"type"`
	Title           string            `json:"title"`
	Description     string            `json:"description"`
	Datasource      dsRef             `json:"datasource"`
	Targets         []json.RawMessage `json:"targets"`
	Transformations []struct {
		ID      string          `json:"id"`
		Options json.RawMessage `json:"options"`
	} `json:"transformations"`
	FieldConfig struct {
		Overrides []override `json:"overrides"`
	} `json:"fieldConfig"`
	Options struct {
		ReduceOptions struct {
			Fields string `json:"fields"`
		} `json:"reduceOptions"`
	} `json:"options"`
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource *dsRef          `json:"datasource"`
	Current    json.RawMessage `json:"current"`
}

type dashboard struct {
	file       string
	raw        string
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

// provisionedDashboards reads every dashboard Grafana provisions.
func provisionedDashboards(t *testing.T) []dashboard {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(grafanaDir, "dashboards", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in grafana/dashboards (%v)", err)
	}
	var out []dashboard
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d := dashboard{file: filepath.Base(f), raw: string(raw)}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, d)
	}
	return out
}

func (d dashboard) variable(name string) (variable, bool) {
	for _, v := range d.Templating.List {
		if v.Name == name {
			return v, true
		}
	}
	return variable{}, false
}

// TestDashboardsShape checks what a manager relies on without a server:
// the data source comes from a variable, cycles open on the newest, every
// panel is described, escalation shows n/a, and the team table drills down.
func TestDashboardsShape(t *testing.T) {
	want := dsRef{Type: plugin.ID, UID: "${datasource}"}
	byUID := map[string]dashboard{}
	for _, d := range provisionedDashboards(t) {
		byUID[d.UID] = d
		if strings.Contains(d.raw, "phonesignals-acme") || strings.Contains(d.raw, "rawSql") {
			t.Errorf("%s hard-codes a data source uid or SQL", d.file)
		}
		if v, ok := d.variable("datasource"); !ok || v.Type != "datasource" || string(v.Query) != `"`+plugin.ID+`"` {
			t.Errorf("%s: no datasource variable of our plugin (%+v)", d.file, v)
		}
		if v, ok := d.variable("cycle"); ok {
			var q plugin.QueryModel
			if json.Unmarshal(v.Query, &q) != nil || q.QueryType != plugin.QueryCycles || !q.NewestFirst || v.Datasource == nil || *v.Datasource != want {
				t.Errorf("%s: cycle variable %s on %+v, want cycles newest first on $datasource", d.file, v.Query, v.Datasource)
			}
			if len(v.Current) > 0 && string(v.Current) != "{}" && string(v.Current) != "null" {
				t.Errorf("%s: cycle variable has a saved selection %s: it would not open on the newest cycle", d.file, v.Current)
			}
		}
		for _, p := range d.Panels {
			if p.Datasource != want {
				t.Errorf("%s panel %q: datasource %+v, want %+v", d.file, p.Title, p.Datasource, want)
			}
			if len(p.Description) < 40 {
				t.Errorf("%s panel %q: no description defining what it shows", d.file, p.Title)
			}
			for _, raw := range p.Targets {
				var tg struct {
					Datasource dsRef `json:"datasource"`
				}
				if json.Unmarshal(raw, &tg) != nil || tg.Datasource != want {
					t.Errorf("%s panel %q target %s: datasource, want %+v", d.file, p.Title, raw, want)
				}
				if strings.Contains(string(raw), "escalated") || strings.Contains(string(raw), plugin.QueryTeamReview) || strings.Contains(string(raw), plugin.QueryEmployeeReview) {
					checkNA(t, d.file, p)
				}
			}
		}
	}
	team, emp, fresh := byUID["phonesignals-team"], byUID["phonesignals-employee"], byUID["phonesignals-freshness"]
	if team.UID == "" || emp.UID == "" || fresh.UID == "" {
		t.Fatalf("dashboards %v: want phonesignals-team, phonesignals-employee and phonesignals-freshness", keys(byUID))
	}
	if !strings.Contains(team.raw, "/d/phonesignals-employee/") || !strings.Contains(team.raw, "var-employee=${__data.fields.employee_id}") {
		t.Error("the team table does not link each employee to the employee page")
	}
	for _, m := range plugin.Metrics {
		if !strings.Contains(team.raw, m.Definition[:30]) {
			t.Errorf("team review does not define %s", m.Name)
		}
		var stat bool
		for _, p := range emp.Panels {
			stat = stat || (p.Type == "stat" && strings.Contains(p.Options.ReduceOptions.Fields, m.Name+"(_median)?"))
		}
		if !stat {
			t.Errorf("employee page has no stat panel of %s with its cohort median", m.Name)
		}
	}
	// The talk-time numbers: a stat panel each on the employee page; time
	// to answer shows n/a, never 0, where the provider has no answer time.
	for _, m := range plugin.TalkMetrics {
		var stat bool
		for _, p := range emp.Panels {
			if p.Type != "stat" || !strings.Contains(p.Options.ReduceOptions.Fields, m.Name+"(_median)?") {
				continue
			}
			stat = true
			if m.NA && !strings.Contains(string(mustJSON(t, p.FieldConfig.Overrides)), `"n/a"`) {
				t.Errorf("employee page panel %q does not show a null %s as n/a", p.Title, m.Name)
			}
		}
		if !stat {
			t.Errorf("employee page has no stat panel of %s", m.Name)
		}
	}
	for _, qt := range []string{plugin.QueryEmployeeTrend, plugin.QueryCallsWeekly} {
		if !strings.Contains(emp.raw, `"queryType": "`+qt+`"`) {
			t.Errorf("employee page has no %s panel", qt)
		}
	}
	for _, qt := range []string{plugin.QuerySyncStatus, plugin.QueryRecordsBehind, plugin.QueryDeadLetters, plugin.QueryUnmappedUsers} {
		if !strings.Contains(fresh.raw, `"queryType": "`+qt+`"`) {
			t.Errorf("data freshness has no %s panel", qt)
		}
	}
}

// checkNA fails a panel that could show RingCentral's missing escalation
// as a number: every escalated_calls field it shows needs noValue n/a.
func checkNA(t *testing.T, file string, p panel) {
	t.Helper()
	for _, o := range p.FieldConfig.Overrides {
		if o.Matcher.Options != "escalated_calls" {
			continue
		}
		for _, pr := range o.Properties {
			if pr.ID == "noValue" && string(pr.Value) == `"n/a"` {
				return
			}
		}
	}
	if p.Type == "timeseries" {
		return // a null point is a gap, never 0
	}
	if strings.Contains(p.Options.ReduceOptions.Fields, "escalated") || p.Type == "table" {
		t.Errorf("%s panel %q does not show a null escalated_calls as n/a", file, p.Title)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// varValues resolves a dashboard's query variables the way Grafana does
// on load: it runs the variable's query and takes the first option (the
// __value field when the frame has one, else the first string field).
func varValues(t *testing.T, p runningPlugin, ds backend.PluginContext, d dashboard, tr backend.TimeRange) map[string]string {
	t.Helper()
	vals := map[string]string{}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q map[string]any
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatalf("%s variable %s: %v", d.file, v.Name, err)
		}
		f := frame(t, p.queryData(t, ds, query("var", q, tr)), "var")
		field := firstString(f)
		if field == nil || field.Len() == 0 {
			t.Fatalf("%s variable %s has no options", d.file, v.Name)
		}
		vals[v.Name] = field.At(0).(string)
	}
	return vals
}

func firstString(f *data.Frame) *data.Field {
	if fl, i := f.FieldByName("__value"); i >= 0 {
		return fl
	}
	for _, fl := range f.Fields {
		if fl.Type() == data.FieldTypeString {
			return fl
		}
	}
	return nil
}

var varRe = regexp.MustCompile(`\$\{?(\w+)\}?`)

// checkDashboards runs every target of every panel of every provisioned
// dashboard through the plugin, with the variables resolved as Grafana
// would, and fails a panel that errors, returns no frame (or no rows when
// requireRows), or names a field its frame lacks.
func checkDashboards(t *testing.T, p runningPlugin, ds backend.PluginContext, tr backend.TimeRange, requireRows bool) map[string]map[string]string {
	resolved := map[string]map[string]string{}
	for _, d := range provisionedDashboards(t) {
		vals := varValues(t, p, ds, d, tr)
		resolved[d.UID] = vals
		for _, panel := range d.Panels {
			for i, raw := range panel.Targets {
				s := varRe.ReplaceAllStringFunc(string(raw), func(m string) string {
					if v, ok := vals[varRe.FindStringSubmatch(m)[1]]; ok {
						return v
					}
					return m
				})
				var q map[string]any
				if err := json.Unmarshal([]byte(s), &q); err != nil {
					t.Fatal(err)
				}
				refID, _ := q["refId"].(string)
				resp := p.queryData(t, ds, query(refID, q, tr))
				r := resp.Responses[refID]
				if r.Error != nil || len(r.Frames) == 0 {
					t.Errorf("%s panel %q target %d: error %v, %d frames", d.file, panel.Title, i, r.Error, len(r.Frames))
					continue
				}
				f := r.Frames[0]
				if (requireRows && f.Rows() == 0) || len(f.Fields) < 2 {
					t.Errorf("%s panel %q target %d: %d rows, %d fields", d.file, panel.Title, i, f.Rows(), len(f.Fields))
				}
				checkPanelFields(t, d.file, panel, f)
			}
		}
	}
	return resolved
}

// checkPanelFields fails a panel whose options name a field the frame
// does not have (a typo there shows an empty panel, not an error).
func checkPanelFields(t *testing.T, file string, panel panel, f *data.Frame) {
	t.Helper()
	has := func(n string) bool { _, i := f.FieldByName(n); return i >= 0 }
	for _, o := range panel.FieldConfig.Overrides {
		if o.Matcher.ID == "byName" && !has(o.Matcher.Options) {
			t.Errorf("%s panel %q overrides field %s, which the frame lacks", file, panel.Title, o.Matcher.Options)
		}
	}
	for _, tf := range panel.Transformations {
		var opt struct {
			IndexByName map[string]int `json:"indexByName"`
			Include     struct {
				Names []string `json:"names"`
			} `json:"include"`
		}
		_ = json.Unmarshal(tf.Options, &opt)
		for n := range opt.IndexByName {
			if !has(n) {
				t.Errorf("%s panel %q organizes field %s, which the frame lacks", file, panel.Title, n)
			}
		}
		for _, n := range opt.Include.Names {
			if !has(n) {
				t.Errorf("%s panel %q keeps field %s, which the frame lacks", file, panel.Title, n)
			}
		}
	}
	if re := panel.Options.ReduceOptions.Fields; re != "" {
		rx := regexp.MustCompile(strings.Trim(re, "/"))
		var n int
		for _, fl := range f.Fields {
			if rx.MatchString(fl.Name) {
				n++
			}
		}
		if n == 0 {
			t.Errorf("%s panel %q shows fields %s: the frame has none", file, panel.Title, re)
		}
	}
}

// TestPluginJSON checks plugin.json against what Grafana and main.go need.
func TestPluginJSON(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(grafanaDir, "src", "plugin.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pj struct {
		ID         string `json:"id"`
		Type       string `json:"type"`
		Backend    bool   `json:"backend"`
		Executable string `json:"executable"`
		Alerting   bool   `json:"alerting"`
		Metrics    bool   `json:"metrics"`
		Info       struct {
			Description string            `json:"description"`
			Logos       map[string]string `json:"logos"`
		} `json:"info"`
		Dependencies struct {
			GrafanaDependency string `json:"grafanaDependency"`
		} `json:"dependencies"`
	}
	if err := json.Unmarshal(raw, &pj); err != nil {
		t.Fatalf("plugin.json: %v", err)
	}
	if pj.ID != plugin.ID || pj.Type != "datasource" || !pj.Backend || pj.Executable != "gpx_phonesignals" || !pj.Alerting || !pj.Metrics {
		t.Errorf("plugin.json %+v", pj)
	}
	if pj.Dependencies.GrafanaDependency == "" || pj.Info.Description == "" {
		t.Errorf("plugin.json: grafanaDependency %q, description %q", pj.Dependencies.GrafanaDependency, pj.Info.Description)
	}
	for _, logo := range pj.Info.Logos {
		if _, err := os.Stat(filepath.Join(grafanaDir, "src", logo)); err != nil {
			t.Errorf("logo %s: %v", logo, err)
		}
	}
	main, err := os.ReadFile(filepath.Join("..", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(main), `datasource.Manage("`+plugin.ID+`"`) {
		t.Errorf("main.go does not call datasource.Manage with %q", plugin.ID)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
