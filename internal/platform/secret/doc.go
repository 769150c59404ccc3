// Package secret seals and opens small values (provider credentials, raw
// call bodies on the Kafka topic) with AES-256-GCM under the master key.
package secret
