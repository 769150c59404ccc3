package main

import (
	"slices"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/phonesignals/phonesignals/grafana/pkg/plugin"
)

// employeePage is one employee: the seven numbers of the cycle as stat
// panels with the cohort median, a row of the talk-time numbers below
// them, the trend across cycles, and calls per week by direction and
// outcome.
func employeePage() *dashboard.DashboardBuilder {
	b := dashboard.NewDashboardBuilder("phonesignals: employee").
		Uid(EmployeeUID).
		Description("One employee's review numbers in a cycle beside their cohort's median, their trend across cycles, and their calls per week.").
		Tags([]string{"phonesignals"}).
		Timezone("utc").
		Time("now-90d", "now").
		Readonly().
		WithVariable(datasourceVariable()).
		WithVariable(cycleVariable()).
		WithVariable(queryVariable("employee", "Employee", plugin.QueryModel{QueryType: plugin.QueryEmployees}).
			Description("Employees of the org's roster (`phonesignals employees list`).")).
		Link(dashboard.NewDashboardLinkBuilder("Team review").Type(dashboard.DashboardLinkTypeLink).
			Url("/d/" + TeamUID + "/phonesignals-team-review?var-datasource=${datasource}&var-cycle=${cycle}").KeepTime(true))
	for i, m := range plugin.Metrics {
		b.WithPanel(metricStat(m, uint32(i)))
	}
	// Beside the numbers, in the free end of their last row.
	b.WithPanel(coverageStat(18, 5, 6, 5))
	for i, m := range plugin.TalkMetrics {
		b.WithPanel(talkStat(m, uint32(i)))
	}
	return b.WithPanel(trendPanel()).WithPanel(weeklyPanel())
}

// metricStat shows one number and its cohort median side by side.
func metricStat(m plugin.Metric, i uint32) *stat.PanelBuilder {
	w := uint32(24 / 4)
	p := stat.NewPanelBuilder().
		Title(m.Title).
		Description(m.Definition+"\n\n"+plugin.MedianDefinition).
		Datasource(*dsRef()).
		GridPos(pos((i%4)*w, (i/4)*5, w, 5)).
		WithTarget(ps("A", plugin.QueryModel{QueryType: plugin.QueryEmployeeReview, Cycle: "$cycle", Employee: "$employee"})).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false).
			Fields("/^"+m.Name+"(_median)?$/")).
		TextMode(common.BigValueTextModeValueAndName).
		ColorMode(common.BigValueColorModeNone).
		GraphMode(common.BigValueGraphModeNone).
		OverrideByName(m.Name+"_median", []dashboard.DynamicConfigValue{prop("displayName", "cohort median"), prop("noValue", "n/a"), prop("mappings", naMapping())})
	own := []dashboard.DynamicConfigValue{prop("displayName", "${employee}")}
	if m.Unit != "" {
		p.Unit(m.Unit)
	}
	if m.NA {
		p.NoValue("n/a")
		own = append(own, prop("noValue", "n/a"), prop("mappings", naMapping()))
	}
	p.OverrideByName(m.Name, own)
	return p
}

// talkStat is a talk-time number beside its cohort median, the i-th of
// the row below the seven.
func talkStat(m plugin.Metric, i uint32) *stat.PanelBuilder {
	desc := m.Definition
	if m.CohortMedian {
		desc += "\n\n" + plugin.MedianDefinition
	}
	return metricStat(m, 0).Description(desc).GridPos(pos(i*4, 10, 4, 5))
}

func trendPanel() *timeseries.PanelBuilder {
	counts := trendCounts()
	p := timeseries.NewPanelBuilder().
		Title("Trend across cycles").
		Description(definitions("The employee's numbers in every review cycle of the org (a point at each cycle's start), the total calls beside the cohort median.")).
		Datasource(*dsRef()).
		GridPos(pos(0, 15, 24, 9)).
		WithTarget(ps("A", plugin.QueryModel{QueryType: plugin.QueryEmployeeTrend, Employee: "$employee"})).
		DrawStyle(common.GraphDrawStyleLine).
		ShowPoints(common.VisibilityModeAlways).
		PointSize(6).
		SpanNulls(common.BoolOrFloat64{Bool: cog.ToPtr(true)}).
		WithTransformation(dashboard.DataTransformerConfig{Id: "filterFieldsByName", Options: map[string]any{
			"include": map[string]any{"names": trendFields(counts)},
		}}).
		OverrideByName("total_calls_median", []dashboard.DynamicConfigValue{
			prop("displayName", "total calls, cohort median"),
			prop("custom.lineStyle", map[string]any{"fill": "dash", "dash": []int{10, 10}}),
		})
	for _, m := range counts {
		p.OverrideByName(m.Name, []dashboard.DynamicConfigValue{prop("displayName", m.Title)})
	}
	return p
}

// trendCounts are the numbers the trend draws: the counts (one axis of
// calls; the seconds would dwarf them).
func trendCounts() []plugin.Metric {
	var out []plugin.Metric
	for _, m := range append(slices.Clone(plugin.Metrics), plugin.TalkMetrics...) {
		if m.Unit == "" {
			out = append(out, m)
		}
	}
	return out
}

// trendFields are the trend's fields: the time, each count, and beside
// total_calls its cohort median (the dashed line).
func trendFields(counts []plugin.Metric) []string {
	out := []string{"time"}
	for _, m := range counts {
		out = append(out, m.Name)
		if m.Name == "total_calls" {
			out = append(out, m.Name+"_median")
		}
	}
	return out
}

func weeklyPanel() *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Title("Calls per week by direction and outcome").
		Description("Calls of the employee started in each week (Monday 00:00 UTC) of the time range, by direction (inbound, outbound) and outcome (the provider's status: answered, missed, voicemail, ...); deleted calls count nowhere.").
		Datasource(*dsRef()).
		GridPos(pos(0, 24, 24, 9)).
		WithTarget(ps("A", plugin.QueryModel{QueryType: plugin.QueryCallsWeekly, Employee: "$employee"})).
		DrawStyle(common.GraphDrawStyleBars).
		FillOpacity(80).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
		Unit("short")
}
