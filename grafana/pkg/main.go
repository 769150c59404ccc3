package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/phonesignals/phonesignals/grafana/pkg/plugin"
)

func main() {
	// The id must match plugin.json (plugin.ID; a test checks both).
	if err := datasource.Manage("phonesignals-phonesignals-datasource", plugin.NewDatasource, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error("phonesignals data source stopped", "error", err.Error())
		os.Exit(1)
	}
}
