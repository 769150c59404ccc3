package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Client returns a TLS client config trusting the system roots plus the
// PEM certificates in caFile (empty: system roots only, which is what
// ClickHouse Cloud and most managed Kafka need). The server name is taken
// from the address dialed.
func Client(caFile string) (*tls.Config, error) {
	if caFile == "" {
		return ClientPEM("")
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA file: %w", err)
	}
	cfg, err := ClientPEM(string(pem))
	if err != nil {
		return nil, fmt.Errorf("CA file %s: %w", caFile, err)
	}
	return cfg, nil
}

// ClientPEM is Client with the CA certificates given as PEM text (as a
// Grafana data source holds them) instead of a file.
func ClientPEM(caPEM string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if strings.TrimSpace(caPEM) == "" {
		return cfg, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM([]byte(caPEM)) {
		return nil, errors.New("no PEM certificate in it (want -----BEGIN CERTIFICATE-----)")
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// Secret returns the secret in the environment variable env, else the
// content of file (trailing newlines trimmed), else "". Both set is an
// error: which one wins would be a guess.
func Secret(env, file string) (string, error) {
	v, inEnv := os.LookupEnv(env)
	if inEnv && v != "" && file != "" {
		return "", fmt.Errorf("both $%s and a password file (%s) are set; keep one", env, file)
	}
	if inEnv && v != "" {
		return v, nil
	}
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("reading password file: %w", err)
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", errors.New("password file " + file + " is empty")
	}
	return s, nil
}
