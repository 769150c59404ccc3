package plugin_test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/phonesignals/phonesignals/grafana/pkg/plugin"
)

const provisionedUID = "phonesignals-acme"

type dsRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type dashboard struct {
	UID        string `json:"uid"`
	Templating struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Datasource dsRef           `json:"datasource"`
			Query      json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		ID              int                `json:"id"`
		Type            string             `json:"type"`
		Title           string             `json:"title"`
		Datasource      dsRef              `json:"datasource"`
		Targets         []json.RawMessage  `json:"targets"`
		Transformations []json.RawMessage  `json:"transformations"`
		FieldConfig     fieldConfigSection `json:"fieldConfig"`
		Options         map[string]any     `json:"options"`
	} `json:"panels"`
}

type fieldConfigSection struct {
	Overrides []struct {
		Matcher struct {
			ID      string `json:"id"`
			Options string `json:"options"`
		} `json:"matcher"`
		Properties []struct {
			ID    string          `json:"id"`
			Value json.RawMessage `json:"value"`
		} `json:"properties"`
	} `json:"overrides"`
}

func readDashboard(t *testing.T) (dashboard, string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(grafanaDir, "dashboards", "phonesignals-review.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	return d, string(raw)
}

// TestDashboardAndProvisioning checks the files Grafana provisions: the
// data source settings validate, and the dashboard reads only our plugin.
func TestDashboardAndProvisioning(t *testing.T) {
	d, raw := readDashboard(t)
	for _, bad := range []string{"grafana-clickhouse-datasource", "rawSql", "phonesignals-clickhouse"} {
		if strings.Contains(raw, bad) {
			t.Errorf("dashboard still refers to the official ClickHouse plugin (%s)", bad)
		}
	}
	want := dsRef{Type: plugin.ID, UID: provisionedUID}
	var cycleVar bool
	for _, v := range d.Templating.List {
		if v.Name != "cycle" {
			continue
		}
		cycleVar = true
		var q map[string]any
		if v.Type != "query" || v.Datasource != want || json.Unmarshal(v.Query, &q) != nil || q["queryType"] != "cycles" {
			t.Errorf("cycle variable: type %s datasource %+v query %s, want a query variable of queryType cycles on %+v", v.Type, v.Datasource, v.Query, want)
		}
	}
	if !cycleVar {
		t.Error("dashboard has no cycle variable")
	}
	kinds := map[string]int{}
	for _, p := range d.Panels {
		if p.Datasource != want {
			t.Errorf("panel %q datasource %+v, want %+v", p.Title, p.Datasource, want)
		}
		for _, raw := range p.Targets {
			var tg struct {
				Datasource dsRef  `json:"datasource"`
				QueryType  string `json:"queryType"`
			}
			if err := json.Unmarshal(raw, &tg); err != nil || tg.Datasource != want {
				t.Errorf("panel %q target %s: datasource %+v, want %+v", p.Title, raw, tg.Datasource, want)
			}
			kinds[p.Type+"/"+tg.QueryType]++
		}
		if p.Type == "table" && strings.Contains(string(mustJSON(p.Targets)), "employee_metrics") {
			if !hasNAOverride(p.FieldConfig) {
				t.Errorf("panel %q does not show a null escalated_calls as n/a", p.Title)
			}
		}
	}
	for _, k := range []string{"table/employee_metrics", "table/cohort_baselines", "barchart/employee_metrics", "table/unmapped_users"} {
		if kinds[k] == 0 {
			t.Errorf("dashboard has no %s panel (has %v)", k, kinds)
		}
	}

	// The provisioned data source: our plugin, uid, and settings that
	// pass the plugin's own validation.
	ds := readProvisionedDatasource(t)
	if ds["type"] != plugin.ID || ds["uid"] != provisionedUID {
		t.Errorf("provisioned data source type %q uid %q, want %s %s", ds["type"], ds["uid"], plugin.ID, provisionedUID)
	}
	jd := map[string]string{}
	for k, v := range ds {
		if k, ok := strings.CutPrefix(k, "jsonData."); ok {
			jd[k] = v
		}
	}
	if jd["clickhouse"] != "clickhouse:9000" || jd["org"] != "acme" {
		t.Errorf("provisioned jsonData %v, want clickhouse: clickhouse:9000 and org: acme", jd)
	}
	rawJD, _ := json.Marshal(jd)
	if _, err := plugin.LoadSettings(backend.DataSourceInstanceSettings{JSONData: rawJD}); err != nil {
		t.Errorf("provisioned settings do not validate: %v", err)
	}
	if _, err := os.Stat(filepath.Join(grafanaDir, "provisioning", "datasources", "clickhouse.yaml")); err == nil {
		t.Error("the official plugin's provisioning file is still there")
	}
	dp, err := os.ReadFile(filepath.Join(grafanaDir, "provisioning", "dashboards", "phonesignals.yaml"))
	if err != nil || !strings.Contains(string(dp), "type: file") || !strings.Contains(string(dp), "path: /var/lib/grafana/dashboards") {
		t.Errorf("dashboard provider: want a file provider on /var/lib/grafana/dashboards (%v)", err)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func hasNAOverride(fc fieldConfigSection) bool {
	for _, o := range fc.Overrides {
		if o.Matcher.Options != "escalated_calls" {
			continue
		}
		for _, p := range o.Properties {
			if (p.ID == "noValue" || p.ID == "mappings") && strings.Contains(string(p.Value), "n/a") {
				return true
			}
		}
	}
	return false
}

// readProvisionedDatasource reads the first data source of the
// provisioning file as flat keys (name, uid, jsonData.org, ...); the file
// is simple YAML: one "key: value" per line.
func readProvisionedDatasource(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(grafanaDir, "provisioning", "datasources", "phonesignals.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		trim := strings.TrimSpace(line)
		if trim == "" || strings.HasPrefix(trim, "#") {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		trim = strings.TrimPrefix(trim, "- ")
		k, v, ok := strings.Cut(trim, ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch {
		case indent <= 2:
			section = ""
			if k == "name" && out["name"] != "" {
				return out // the next data source
			}
		case indent == 4 && v == "":
			section = k + "."
			continue
		case indent == 4:
			section = ""
		}
		if indent >= 2 && v != "" {
			out[section+k] = strings.Trim(v, `"'`)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkDashboard runs every query of the dashboard (with $cycle set to
// cycle) through the plugin, as Grafana would after interpolation.
func checkDashboard(t *testing.T, p runningPlugin, ds backend.PluginContext, cycle string, tr backend.TimeRange) {
	d, _ := readDashboard(t)
	for _, v := range d.Templating.List {
		if v.Name != "cycle" {
			continue
		}
		var q map[string]any
		if err := json.Unmarshal(v.Query, &q); err != nil {
			t.Fatal(err)
		}
		f := frame(t, p.queryData(t, ds, query("var", q, tr)), "var")
		// Grafana takes a variable's options from the first string field.
		var found bool
		for _, fl := range f.Fields {
			if fl.Type() == data.FieldTypeString {
				for i := 0; i < fl.Len(); i++ {
					found = found || fl.At(i) == cycle
				}
				break
			}
		}
		if !found {
			t.Errorf("the cycle variable's options do not include %s", cycle)
		}
	}
	for _, panel := range d.Panels {
		for i, raw := range panel.Targets {
			var q map[string]any
			if err := json.Unmarshal([]byte(strings.ReplaceAll(string(raw), "$cycle", cycle)), &q); err != nil {
				t.Fatal(err)
			}
			refID, _ := q["refId"].(string)
			f := frame(t, p.queryData(t, ds, query(refID, q, tr)), refID)
			if f.Rows() == 0 {
				t.Errorf("panel %q target %d returned no rows", panel.Title, i)
			}
			// Fields the panel's transformations and options name exist.
			for _, tf := range panel.Transformations {
				var spec struct {
					Options struct {
						Include struct {
							Names []string `json:"names"`
						} `json:"include"`
					} `json:"options"`
				}
				_ = json.Unmarshal(tf, &spec)
				for _, n := range spec.Options.Include.Names {
					if _, idx := f.FieldByName(n); idx < 0 {
						t.Errorf("panel %q keeps field %s, which the frame lacks", panel.Title, n)
					}
				}
			}
			if x, ok := panel.Options["xField"].(string); ok {
				if _, idx := f.FieldByName(x); idx < 0 {
					t.Errorf("panel %q xField %s is not a field", panel.Title, x)
				}
			}
			for _, o := range panel.FieldConfig.Overrides {
				if o.Matcher.ID == "byName" {
					if _, idx := f.FieldByName(o.Matcher.Options); idx < 0 {
						t.Errorf("panel %q overrides field %s, which the frame lacks", panel.Title, o.Matcher.Options)
					}
				}
			}
		}
	}
}

// TestPluginJSON checks plugin.json against what Grafana and main.go need.
func TestPluginJSON(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(grafanaDir, "plugin.json"))
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
			Description string `json:"description"`
			Version     string `json:"version"`
			Author      struct {
				Name string `json:"name"`
			} `json:"author"`
			Logos map[string]string `json:"logos"`
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
	if pj.Info.Version != "0.1.0" || pj.Info.Author.Name != "phonesignals" || pj.Info.Description == "" {
		t.Errorf("plugin.json info %+v", pj.Info)
	}
	if pj.Dependencies.GrafanaDependency != ">=11.0.0" {
		t.Errorf("grafanaDependency %q", pj.Dependencies.GrafanaDependency)
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

// TestFrontendModule runs grafana/src/module.test.js, the checks of the
// hand-written frontend module (query interpolation, editors), with node.
func TestFrontendModule(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: skipping grafana/src/module.test.js")
	}
	cmd := exec.Command(node, "--test", filepath.Join(grafanaDir, "src", "module.test.js"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("node --test grafana/src/module.test.js: %v\n%s", err, out)
	}
}
