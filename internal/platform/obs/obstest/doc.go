// Package obstest scrapes a running /metrics endpoint the way Prometheus
// does (text exposition format), for tests that check the numbers after
// real work.
package obstest
