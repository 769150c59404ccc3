// Package grafanatest is a stand-in for the parts of Grafana's admin HTTP
// API and file provisioning that `phonesignals grafana provision` uses:
// no Grafana server can run in the test environment. It keeps
// organizations, users and memberships, and applies provisioning files the
// way Grafana does (data sources and dashboard providers by orgId, refusing
// an orgId that does not exist).
package grafanatest
