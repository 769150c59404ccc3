// Package review renders an employee's phone numbers as the review block
// of the Perfcopilot seed: "[PHONE DATA]" with one `name:` line per metric,
// the value right-aligned to column 25, then "[BASELINES]".
package review
