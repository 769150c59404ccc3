// Package bus is phonesignals' Kafka layer: topic names, the record format
// of raw calls (headers plus an AES-GCM sealed body, since bodies carry call
// notes), the producer that implements ingest.Sink, and the embedded kfake
// broker used by `demo`, the CLI's defaults and tests. The same code runs
// against Kafka or Redpanda given a broker list.
package bus
