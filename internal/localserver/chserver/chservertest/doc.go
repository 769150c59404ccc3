// Package chservertest gives tests a real clickhouse-server 18.16: one
// shared per test binary (Shared), and a private database per test
// (Database). It is a test package: only tests and the demo import it.
package chservertest
