// Package tlsconftest makes a throwaway certificate authority and a server
// certificate for 127.0.0.1 and localhost, so tests can run real servers
// (ClickHouse, kfake) over TLS.
package tlsconftest
