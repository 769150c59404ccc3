// Package plugin is phonesignals' Grafana data source backend: it serves
// the review metrics of one org per data-source instance (employee metrics,
// cohort baselines, unmapped provider users, review cycles) by calling
// internal/store, the same queries `phonesignals review` runs.
package plugin
