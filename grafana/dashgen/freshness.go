package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"

	"github.com/phonesignals/phonesignals/grafana/pkg/plugin"
)

// freshness says whether the numbers are current: the last sync, the serve
// replica following the org and how far behind it is, what the transform
// has not loaded yet, dead letters, and unmapped users.
func freshness() *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder("phonesignals: data freshness").
		Uid(FreshnessUID).
		Description("Whether the review numbers are current: the org's last sync, records the transform has not loaded, dead letters and provider users with calls but no employee.").
		Tags([]string{"phonesignals"}).
		Timezone("utc").
		Time("now-7d", "now").
		Refresh("5m").
		Readonly().
		WithVariable(datasourceVariable()).
		WithPanel(freshStat("Hours since the last successful sync", plugin.QuerySyncStatus, "hours_since_success", "h",
			"Hours from the end of the last sync run with status ok to now; `never` when the org never synced. Orange after 2 hours, red after 24.", 0,
			steps("green", 2.0, "orange", 24.0, "red"))).
		WithPanel(freshStat("Records behind", plugin.QueryRecordsBehind, "records_behind", "short",
			"Raw call records of this org on Kafka that the transform has not loaded into ClickHouse yet. Needs jsonData.kafka on the data source.", 6,
			steps("green", 1000.0, "orange", 10000.0, "red"))).
		WithPanel(freshStat("Dead letters in the time range", plugin.QueryDeadLetters, "records", "short",
			"Records the transform could not use in the time range (sealed on the dead-letter topic, listed with their reason below).", 12,
			steps("green", 1.0, "red"))).
		WithPanel(freshStat("Successful sync runs", plugin.QuerySyncStatus, "successful_runs", "short",
			"Sync runs of the org that finished with status ok.", 18, steps("blue"))).
		WithPanel(serveStat("Followed by (serve replica)", "owner_replica", "none",
			"The `phonesignals serve` replica following the org: the member of the Kafka group phonesignals.serve holding its partition of phonesignals.orgs, as `serve status` shows it. `(stale)` when it wrote no status for 3 minutes (dead or cut off: its orgs move after the group's session timeout).", 0,
			steps("blue"))).
		WithPanel(serveStat("Seconds behind (serve)", "serve_seconds_behind", "s",
			"Seconds from the start of the org's last successful serve round to now: every call created before it was published. A healthy org stays under two rounds (serve --every, 1 min). Orange after 5 minutes, red after 30.", 8,
			steps("green", 300.0, "orange", 1800.0, "red"))).
		WithPanel(serveStat("Serve status", "serve_status", "none",
			"The status the owner replica recorded for the org: running, ok, error or auth_error; the error and its fix are in the Last sync table (serve_error).", 16,
			steps("blue"))).
		WithPanel(newTable().
			Title("Last sync").
			Description("The org's latest sync run (`phonesignals sync status`): when it started and finished, its status and error, and the last run that finished well; then the serve replica following it, when it last wrote the org's status, its last successful round, seconds behind, status and error (`phonesignals serve status`).").
			Datasource(*dsRef()).
			GridPos(pos(0, 9, 24, 5)).
			WithTarget(ps("A", plugin.QueryModel{QueryType: plugin.QuerySyncStatus}))).
		WithPanel(newTable().
			Title("Dead letters by reason").
			Description("Dead letters recorded in the time range, by reason, with when each reason was last seen. The bodies stay sealed on the dead-letter topic.").
			Datasource(*dsRef()).
			GridPos(pos(0, 14, 12, 9)).
			WithTarget(ps("A", plugin.QueryModel{QueryType: plugin.QueryDeadLetters}))).
		WithPanel(newTable().
			Title("Unmapped users with calls").
			Description("Provider users with calls started in the time range and no employee mapping: map them with `phonesignals employees import` (their calls are kept and count once mapped). An empty user is calls nobody took.").
			Datasource(*dsRef()).
			GridPos(pos(12, 14, 12, 9)).
			WithTarget(ps("A", plugin.QueryModel{QueryType: plugin.QueryUnmappedUsers})))
}

func freshStat(title, queryType, field, unit, desc string, x uint32, th *dashboard.ThresholdsConfigBuilder) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(*dsRef()).
		GridPos(pos(x, 0, 6, 5)).
		WithTarget(ps("A", plugin.QueryModel{QueryType: queryType})).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"sum"}).Values(false).Fields("/^" + field + "$/")).
		Unit(unit).
		NoValue("never").
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).
		Thresholds(th)
}

// serveStat is a stat of the org's serve status (the sync_status query's
// owner columns) in the second row; the last value, so a replica's name
// shows as text.
func serveStat(title, field, unit, desc string, x uint32, th *dashboard.ThresholdsConfigBuilder) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Title(title).
		Description(desc).
		Datasource(*dsRef()).
		GridPos(pos(x, 5, 8, 4)).
		WithTarget(ps("A", plugin.QueryModel{QueryType: plugin.QuerySyncStatus})).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false).Fields("/^" + field + "$/")).
		Unit(unit).
		NoValue("not followed by serve").
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).
		Thresholds(th)
}
