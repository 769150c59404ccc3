// Command gpx_phonesignals is the backend of phonesignals' Grafana data
// source. Grafana starts it (grafana/dist/gpx_phonesignals_linux_amd64, see
// grafana/build.sh) and talks to it over gRPC.
package main
