// Package archtest holds the repository's architecture checks (its tests):
// function size and complexity limits in production packages, and which
// packages a production binary may link. It has no code of its own.
package archtest
