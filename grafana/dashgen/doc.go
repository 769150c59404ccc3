// Command dashgen writes phonesignals' Grafana dashboards, built with the
// Grafana Foundation SDK, as the JSON Grafana provisions:
//
//	go run ./grafana/dashgen            # writes grafana/dashboards/*.json
//	go run ./grafana/dashgen -out DIR
//
// The JSON is committed; a test regenerates it and fails on any drift.
package main
