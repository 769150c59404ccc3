package ingest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Connecting to a provider: a provider that cannot be reached at all (the
// address refuses, does not resolve, or does not speak TLS) is named as
// such within seconds, instead of being retried like a 5xx for minutes.
const (
	// DialTimeout bounds one TCP connect and one TLS handshake to a
	// provider. 5s: a provider answers a handshake in well under a second,
	// and two attempts plus the retry wait stay under 15 s.
	DialTimeout = 5 * time.Second
	// ConnectRetries is how many times a request that could not connect is
	// retried before it fails with a *ConnectError (1: a blip is ridden
	// out, a dead address is named within 15 s). Failures after the
	// connection was made (a reset mid-answer, a 5xx) keep the connector's
	// longer retries.
	ConnectRetries = 1
	// ConnectRetryDelay is the wait before the retry of a connect failure.
	ConnectRetryDelay = time.Second
)

// WaitRateLimit is Status.WaitReason while a connector waits for the
// provider's rate limit (also what an empty WaitReason means).
const WaitRateLimit = "rate limit"

// Transport is the HTTP transport of provider requests when the caller
// gives none: http.DefaultTransport with DialTimeout on connects and TLS
// handshakes (the default waits 30 s for a connect to a silent address).
var Transport http.RoundTripper = newTransport()

func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}
	t.DialContext = d.DialContext
	t.TLSHandshakeTimeout = DialTimeout
	return t
}

// ConnectError is a request that never reached the provider's API: the
// connection to Addr was refused or timed out, the name did not resolve,
// or the TLS handshake failed.
type ConnectError struct {
	// Provider is the provider's title ("Aircall").
	Provider string
	// Addr is the scheme and host connected to ("https://api.aircall.io").
	Addr string
	// Attempts is how many times the connect was tried.
	Attempts int
	Err      error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("cannot connect to %s at %s (%d attempts): %v: check the network (proxy, firewall, DNS) and the org's API URL (`phonesignals org connect --api-url`)",
		e.Provider, e.Addr, e.Attempts, e.Err)
}

func (e *ConnectError) Unwrap() error { return e.Err }

// IsConnect reports whether err is a *ConnectError.
func IsConnect(err error) bool {
	var c *ConnectError
	return errors.As(err, &c)
}

// ConnectFailure returns err as a *ConnectError for a request to rawURL
// when err is a failure to connect (dial, DNS, TLS handshake), else nil.
func ConnectFailure(provider, rawURL string, err error) *ConnectError {
	if err == nil || !isConnectFailure(err) {
		return nil
	}
	addr := rawURL
	if u, perr := url.Parse(rawURL); perr == nil && u.Host != "" {
		addr = u.Scheme + "://" + u.Host
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // the URL, with its query, is not worth repeating
	}
	return &ConnectError{Provider: provider, Addr: addr, Attempts: 1, Err: err}
}

func isConnectFailure(err error) bool {
	var dns *net.DNSError
	var op *net.OpError
	var rec tls.RecordHeaderError
	var verify *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var host x509.HostnameError
	switch {
	case errors.As(err, &dns), errors.As(err, &rec), errors.As(err, &verify),
		errors.As(err, &unknownCA), errors.As(err, &host):
		return true
	case errors.As(err, &op) && op.Op == "dial":
		return true
	}
	// net/http's handshake timeout and its reading of a plain HTTP answer
	// to a TLS hello have no exported types.
	msg := err.Error()
	return strings.Contains(msg, "TLS handshake timeout") || strings.Contains(msg, "server gave HTTP response to HTTPS client")
}
