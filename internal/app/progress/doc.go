// Package progress shows how far a long provider sync (a backfill of
// months of calls, hours of rate-limited requests) has got, so the person
// running it can tell working from stuck and knows when it will finish.
//
// On a terminal a Reporter redraws one status line in place; anywhere else
// (CI logs, files, pipes) it prints a plain line now and then, so logs stay
// readable and small. Handed an Events (for --log-format json), it logs
// the same figures, under the same throttle, as slog records instead, so
// a JSON log stays JSON.
package progress
