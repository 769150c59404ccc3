// Package deps opens, once and lazily, what the commands of phonesignals
// run on: the ClickHouse store (migrated, or only checked for commands that
// read), the Kafka broker with its topics, and the verified master-key box.
// Both binaries (phonesignals and phonesignals-demo) build one Deps from
// their flags, so they reach ClickHouse, Kafka and the key the same way.
package deps
