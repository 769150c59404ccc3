// Command gpx_phonesignals is the backend of phonesignals' Grafana data
// source. Grafana starts it (grafana/dist/gpx_phonesignals_linux_amd64, see
// grafana/build.sh) and talks to it over gRPC.
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
