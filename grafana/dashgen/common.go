package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/phonesignals/phonesignals/grafana/pkg/plugin"
)

// Dashboard uids, also the file names under grafana/dashboards.
const (
	TeamUID      = "phonesignals-team"
	EmployeeUID  = "phonesignals-employee"
	FreshnessUID = "phonesignals-freshness"
)

// dsVar is the dashboards' data source variable: every panel reads
// ${datasource}, so the same JSON works in every Grafana organization,
// each with its own phonesignals data source.
const dsVar = "${datasource}"

func dsRef() *common.DataSourceRef {
	return &common.DataSourceRef{Type: cog.ToPtr(plugin.ID), Uid: cog.ToPtr(dsVar)}
}

func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder("datasource").
		Label("Data source").
		Type(plugin.ID).
		Description("The phonesignals data source of this Grafana organization: it reads exactly one phonesignals org.")
}

func queryVariable(name, label string, m plugin.QueryModel) *dashboard.QueryVariableBuilder {
	raw, _ := json.Marshal(map[string]any{"refId": name, "queryType": m.QueryType, "newestFirst": m.NewestFirst})
	var q map[string]any
	_ = json.Unmarshal(raw, &q)
	if !m.NewestFirst {
		delete(q, "newestFirst")
	}
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(*dsRef()).
		Query(dashboard.StringOrMap{Map: q}).
		Definition(m.QueryType).
		Refresh(dashboard.VariableRefreshOnDashboardLoad).
		Sort(dashboard.VariableSortDisabled)
}

// cycleVariable lists the cycles newest first: with no saved selection
// Grafana takes the first option, so the dashboards open on the newest
// cycle.
func cycleVariable() *dashboard.QueryVariableBuilder {
	return queryVariable("cycle", "Review cycle", plugin.QueryModel{QueryType: plugin.QueryCycles, NewestFirst: true}).
		Description("Review cycles of the org, newest first; a call belongs to the cycle its start time falls in ([period_start, period_end) in UTC).")
}

func pos(x, y, w, h uint32) dashboard.GridPos { return dashboard.GridPos{X: x, Y: y, W: w, H: h} }

func prop(id string, v any) dashboard.DynamicConfigValue {
	return dashboard.DynamicConfigValue{Id: id, Value: v}
}

// steps are threshold steps from a base colour, then value:colour pairs.
func steps(base string, pairs ...any) *dashboard.ThresholdsConfigBuilder {
	s := []dashboard.Threshold{{Color: base}}
	for i := 0; i+1 < len(pairs); i += 2 {
		v := pairs[i].(float64)
		s = append(s, dashboard.Threshold{Value: &v, Color: pairs[i+1].(string)})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(s)
}

// vsMedianThresholds colour a difference from the cohort median: 25% or
// more on the bad side red, on the good side green.
func vsMedianThresholds(higherIsWorse bool) map[string]any {
	bad, good := "red", "green"
	if higherIsWorse {
		bad, good = good, bad
	}
	return map[string]any{"mode": "absolute", "steps": []map[string]any{
		{"value": nil, "color": bad}, {"value": -25, "color": "transparent"}, {"value": 25, "color": good}}}
}

// naMapping shows a null number (a metric that can be n/a, a median
// below the privacy floor) as n/a, never 0.
func naMapping() []map[string]any {
	return []map[string]any{{"type": "special", "options": map[string]any{"match": "null", "result": map[string]any{"text": "n/a", "index": 0}}}}
}

// definitions is the panel description listing each metric's meaning.
func definitions(intro string) string {
	var b strings.Builder
	b.WriteString(intro)
	b.WriteString("\n\n")
	for _, m := range plugin.Metrics {
		fmt.Fprintf(&b, "- **%s** (`%s`): %s\n", m.Title, m.Name, m.Definition)
	}
	b.WriteString("- **median**: " + plugin.MedianDefinition + "\n")
	b.WriteString("- **vs median**: " + plugin.VsMedianDefinition + "\n")
	return b.String()
}

// organize keeps and renames fields in order (Grafana's organize
// transformation); fields not listed are hidden.
func organize(fields []string, titles map[string]string) dashboard.DataTransformerConfig {
	index := map[string]int{}
	for i, f := range fields {
		index[f] = i
	}
	return dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
		"indexByName":  index,
		"renameByName": titles,
		"includeByName": func() map[string]bool {
			m := map[string]bool{}
			for _, f := range fields {
				m[f] = true
			}
			return m
		}(),
	}}
}

// newTable is a table panel whose footer has an empty reducer list (the
// SDK's default null trips Grafana when a manager turns the footer on).
func newTable() *table.PanelBuilder {
	return table.NewPanelBuilder().Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{}))
}
