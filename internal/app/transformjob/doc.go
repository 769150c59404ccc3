// Package transformjob runs the transform and load stage as the commands
// use it: raw calls from Kafka through the transform into ClickHouse,
// continuously or until everything published so far is loaded, with every
// insert timed for the metrics; and it reports the calls of finished sync
// windows that never arrived.
package transformjob
