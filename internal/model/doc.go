// Package model holds the provider-neutral shapes that pass between the
// pipeline stages: a raw provider record as published to Kafka, and the
// decoded call the transform rules run over (one layout, Call; tests
// write calls row by row with model/modeltest).
package model
