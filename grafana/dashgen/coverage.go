package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"

	"github.com/phonesignals/phonesignals/grafana/pkg/plugin"
)

// coverageFields are the coverage columns a manager reads, in order.
var coverageFields = []string{"status", "complete_through", "windows_missing", "windows_failed", "dead_letter_calls",
	"unmapped_calls", "newest_call", "last_webhook", "problems"}

// coverageColour colours the status: complete green, in progress blue,
// anything else red.
func coverageColour() []map[string]any {
	return []map[string]any{{"type": "value", "options": map[string]any{
		"complete":    map[string]any{"color": "green", "index": 0},
		"in_progress": map[string]any{"color": "blue", "index": 1},
		"incomplete":  map[string]any{"color": "red", "index": 2},
		"expired":     map[string]any{"color": "orange", "index": 3},
	}}}
}

// coverageTable is the cycle's coverage beside the team's numbers: every
// count, and each gap with the command that fixes it.
func coverageTable(x, y, w, h uint32) *table.PanelBuilder {
	titles := map[string]string{"status": "Coverage", "complete_through": "Complete through", "windows_missing": "Windows missing",
		"windows_failed": "Windows failed", "dead_letter_calls": "Dead-lettered calls", "unmapped_calls": "Unmapped calls",
		"newest_call": "Newest call", "last_webhook": "Last webhook", "problems": "Problems and fixes"}
	return newTable().
		Title("Coverage of cycle $cycle").
		Description(plugin.CoverageDefinition).
		Datasource(*dsRef()).
		GridPos(pos(x, y, w, h)).
		WithTarget(ps("A", plugin.QueryModel{QueryType: plugin.QueryCoverage, Cycle: "$cycle"})).
		WithTransformation(organize(coverageFields, titles)).
		OverrideByName("status", []dashboard.DynamicConfigValue{
			prop("mappings", coverageColour()),
			prop("custom.cellOptions", map[string]any{"type": "color-background", "mode": "basic"}),
		}).
		OverrideByName("complete_through", []dashboard.DynamicConfigValue{prop("unit", "dateTimeAsIso"), prop("noValue", "n/a")}).
		OverrideByName("newest_call", []dashboard.DynamicConfigValue{prop("unit", "dateTimeAsIso"), prop("noValue", "n/a")}).
		OverrideByName("last_webhook", []dashboard.DynamicConfigValue{prop("unit", "dateTimeAsIso"), prop("noValue", "n/a")}).
		OverrideByName("problems", []dashboard.DynamicConfigValue{prop("custom.cellOptions", map[string]any{"type": "auto", "wrapText": true})})
}

// coverageStat is the coverage as tiles beside an employee's numbers.
func coverageStat(x, y, w, h uint32) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title("Coverage of cycle $cycle").
		Description(plugin.CoverageDefinition).
		Datasource(*dsRef()).
		GridPos(pos(x, y, w, h)).
		WithTarget(ps("A", plugin.QueryModel{QueryType: plugin.QueryCoverage, Cycle: "$cycle"})).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false).
			Fields("/^(status|complete_through|windows_missing|dead_letter_calls|unmapped_calls)$/")).
		TextMode(common.BigValueTextModeValueAndName).
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).
		OverrideByName("status", []dashboard.DynamicConfigValue{prop("mappings", coverageColour())}).
		OverrideByName("complete_through", []dashboard.DynamicConfigValue{prop("unit", "dateTimeAsIso"), prop("noValue", "n/a"), prop("color", map[string]any{"mode": "fixed", "fixedColor": "transparent"})}).
		OverrideByName("windows_missing", []dashboard.DynamicConfigValue{prop("thresholds", map[string]any{"mode": "absolute", "steps": []map[string]any{{"value": nil, "color": "green"}, {"value": 1, "color": "red"}}})}).
		OverrideByName("dead_letter_calls", []dashboard.DynamicConfigValue{prop("thresholds", map[string]any{"mode": "absolute", "steps": []map[string]any{{"value": nil, "color": "green"}, {"value": 1, "color": "orange"}}})}).
		OverrideByName("unmapped_calls", []dashboard.DynamicConfigValue{prop("thresholds", map[string]any{"mode": "absolute", "steps": []map[string]any{{"value": nil, "color": "green"}, {"value": 1, "color": "orange"}}})})
}
