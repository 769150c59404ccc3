// Command release builds and checks the phonesignals Grafana plugin's
// release archive, the one Grafana's plugin validator
// (github.com/grafana/plugin-validator) and grafana.com accept:
//
//	go run ./grafana/release plugin-json -src grafana/src/plugin.json -package grafana/package.json -out DIST/plugin.json
//	go run ./grafana/release version -package grafana/package.json
//	go run ./grafana/release manifest -root . -out DIST/go_plugin_build_manifest
//	go run ./grafana/release zip -dist grafana/dist [-out FILE.zip] [-platforms all|host] [-source .]
//	go run ./grafana/release check [-platforms all|host] [-source .] FILE.zip
//
// plugin-json fills create-plugin's %VERSION% (package.json's version) and
// %TODAY% (the build's UTC date, or SOURCE_DATE_EPOCH's) placeholders;
// manifest writes the Go SDK's go_plugin_build_manifest; zip packs a built
// dist/ as one folder named by the plugin id and checks it; check runs the
// validator's offline rules (check.go) on an archive. grafana/build.sh and
// `make grafana-zip` run them.
package main
