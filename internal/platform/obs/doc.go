// Package obs holds phonesignals' operations conventions: the Prometheus
// metrics every stage reports through small hooks, the /metrics, /healthz
// and /readyz server of the long-running commands (run, webhooks serve,
// sync --follow), the client side of `phonesignals healthcheck`, and the
// log handler chosen by --log-format.
//
// Metrics live in one registry of the process (Registry); the hooks are
// plain functions so a stage adds one line, and cost a few atomic adds
// when nobody scrapes.
package obs
