// Package tlsconf builds the client TLS configs phonesignals uses to reach
// managed ClickHouse and Kafka clusters, and reads secrets (passwords) from
// the environment or a file, never from the command line, where every
// user of the machine can read them in the process list.
package tlsconf
