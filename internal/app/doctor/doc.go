// Package doctor diagnoses an org: it runs the troubleshooting list for
// real (credentials with one provider request, employee mapping, zero
// calls per cycle and why, the last sync, webhooks, transcripts and dead
// letters) and returns what it found, each finding with its fix.
package doctor
