// Package provision generates Grafana provisioning that keeps phonesignals
// orgs apart on open-source Grafana: data source permissions are an
// Enterprise feature, so every Viewer of a Grafana organization can query
// every data source in it. Each phonesignals org therefore gets its own
// Grafana organization holding exactly one phonesignals data source (scoped
// to that org) and the dashboards; a manager is a member of their org's
// Grafana organization only.
package provision
