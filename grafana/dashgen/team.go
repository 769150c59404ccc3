package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/phonesignals/phonesignals/grafana/pkg/plugin"
)

// employeeLink opens the employee page of a team table's row, keeping the
// data source and cycle.
const employeeLink = "/d/" + EmployeeUID + "/phonesignals-employee?var-datasource=${datasource}&var-cycle=${cycle}&var-employee=${__data.fields.employee_id}&${__url_time_range}"

// teamReview is one row per employee: each number beside the cohort
// median and the difference, coloured where it is 25% or more off.
func teamReview() *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder("phonesignals: team review").
		Uid(TeamUID).
		Description("Every employee's review numbers in one cycle beside their cohort's median. Click a name for the employee page.").
		Tags([]string{"phonesignals"}).
		Timezone("utc").
		Time("now-90d", "now").
		Readonly().
		WithVariable(datasourceVariable()).
		WithVariable(cycleVariable()).
		Link(dashboard.NewDashboardLinkBuilder("phonesignals").Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{"phonesignals"}).AsDropdown(true).KeepTime(true).IncludeVars(true)).
		WithPanel(teamTable()).
		WithPanel(baselinesTable()).
		WithPanel(coverageTable(12, 16, 12, 7))
}

func teamTable() *table.PanelBuilder {
	fields := []string{"name", "employee_id", "cohort"}
	titles := map[string]string{"name": "Employee", "employee_id": "Id", "cohort": "Cohort"}
	p := newTable().
		Title("Team review, cycle $cycle").
		Description(definitions("One row per employee of the org in the cycle: each review number, the cohort median beside it, and the difference from it in percent (red or green at 25% or more; for after-hours and escalated calls more is red).")).
		Datasource(*dsRef()).
		GridPos(pos(0, 0, 24, 16)).
		WithTarget(ps("A", plugin.QueryModel{QueryType: plugin.QueryTeamReview, Cycle: "$cycle"})).
		Filterable(true).
		OverrideByName("name", []dashboard.DynamicConfigValue{
			prop("links", []map[string]any{{"title": "Employee page of ${__data.fields.name}", "url": employeeLink}}),
		})
	for _, m := range plugin.Metrics {
		fields = append(fields, m.Name, m.Name+"_median", m.Name+"_vs_median")
		titles[m.Name] = m.Title
		titles[m.Name+"_median"] = "median"
		titles[m.Name+"_vs_median"] = "vs median"
		p.OverrideByName(m.Name, metricProps(m, m.Plain()))
		p.OverrideByName(m.Name+"_median", metricProps(m, plugin.MedianDefinition))
		p.OverrideByName(m.Name+"_vs_median", []dashboard.DynamicConfigValue{
			prop("unit", "percent"),
			prop("decimals", 1),
			prop("description", plugin.VsMedianDefinition),
			prop("thresholds", vsMedianThresholds(m.HigherIsWorse)),
			prop("custom.cellOptions", map[string]any{"type": "color-background", "mode": "basic"}),
			prop("noValue", noValue(m)),
		})
	}
	return p.WithTransformation(organize(fields, titles))
}

// metricProps are a metric column's unit, description and n/a handling.
func metricProps(m plugin.Metric, desc string) []dashboard.DynamicConfigValue {
	props := []dashboard.DynamicConfigValue{prop("description", desc)}
	if m.Unit != "" {
		props = append(props, prop("unit", m.Unit))
	}
	if m.NA || desc == plugin.MedianDefinition {
		// A null median is n/a too: the cohort is below the org's floor.
		props = append(props, prop("noValue", "n/a"), prop("mappings", naMapping()))
	}
	return props
}

func noValue(m plugin.Metric) string {
	if m.NA {
		return "n/a"
	}
	return "-"
}

func baselinesTable() *table.PanelBuilder {
	return newTable().
		Title("Cohort baselines, cycle $cycle").
		Description("Per cohort: its size and " + plugin.MedianDefinition + " " + plugin.MedianNADefinition).
		Datasource(*dsRef()).
		GridPos(pos(0, 16, 12, 7)).
		WithTarget(ps("A", plugin.QueryModel{QueryType: plugin.QueryCohortBaselines, Cycle: "$cycle"}))
}
