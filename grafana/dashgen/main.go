// Command dashgen writes phonesignals' Grafana dashboards, built with the
// Grafana Foundation SDK, as the JSON Grafana provisions:
//
//	go run ./grafana/dashgen            # writes grafana/dashboards/*.json
//	go run ./grafana/dashgen -out DIR
//
// The JSON is committed; a test regenerates it and fails on any drift.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("out", "grafana/dashboards", "directory the dashboard JSON files are written to")
	flag.Parse()
	files, err := Write(*out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dashgen:", err)
		os.Exit(1)
	}
	for _, f := range files {
		fmt.Println("wrote", f)
	}
}
