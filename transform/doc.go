// Package transform turns raw provider calls from Kafka into Arrow record
// batches of RawSignal rows, applying the seed's rules. The rules are
// defined in rules.go, versioned: RulesVersion is stored on every row, so
// a change of rules is visible in the data and a reload can be targeted.
// They run over whole columns (kernel.go, BatchBuilder.NewRecord); their
// row-at-a-time definition, which the kernels are tested against, is in
// rules_test.go.
package transform
