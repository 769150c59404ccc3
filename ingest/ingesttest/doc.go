// Package ingesttest holds in-memory doubles of ingest's interfaces for
// tests: a Sink and Checkpoints that keep everything in memory.
package ingesttest
