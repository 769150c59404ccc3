package main

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/urfave/cli/v2"

	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
	"github.com/phonesignals/phonesignals/internal/platform/tlsconf/tlsconftest"
)

// TestSecureConnections runs the real CLI against ClickHouse 18.16 serving
// TLS with a self-signed certificate and a password user (ClickHouse Cloud
// on 9440 in miniature) and a kfake cluster with TLS and SCRAM, the way a
// managed Kafka is reached; passwords come from a file and the environment.
func TestSecureConnections(t *testing.T) {
	if os.Getenv(chserver.EnvSkip) == "1" {
		t.Skip(chserver.EnvSkip + "=1")
	}
	certs := tlsconftest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := chserver.Start(ctx, chserver.Config{
		Dir: t.TempDir(), TLS: &chserver.TLS{CertFile: certs.Cert, KeyFile: certs.Key},
		Users: []chserver.User{{Name: "ingest", Password: "ch-pass"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.EnableSASL(),
		kfake.Superuser("SCRAM-SHA-512", "pipeline", "kafka-pass"),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{certs.Server}}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kc.Close)
	pwFile := filepath.Join(t.TempDir(), "ch.pw")
	if err := os.WriteFile(pwFile, []byte("ch-pass\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PHONESIGNALS_MASTER_KEY", testMasterKey)
	for _, k := range []string{"PHONESIGNALS_CLICKHOUSE", "PHONESIGNALS_BROKERS", "PHONESIGNALS_DATABASE", envClickHousePassword} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv(envKafkaPassword, "kafka-pass")
	base := []string{"phonesignals", "--data-dir", t.TempDir(), "--log-level", "warn", "--database", "secure",
		"--clickhouse", srv.SecureAddr(), "--clickhouse-tls", "--clickhouse-ca-file", certs.CA,
		"--clickhouse-user", "ingest", "--clickhouse-password-file", pwFile,
		"--brokers", strings.Join(kc.ListenAddrs(), ","), "--kafka-tls", "--kafka-ca-file", certs.CA,
		"--kafka-sasl-mechanism", "SCRAM-SHA-512", "--kafka-user", "pipeline"}
	runCtx := func(ctx context.Context, args ...string) (string, error) {
		app := newApp()
		app.ExitErrHandler = func(*cli.Context, error) {}
		var err error
		out := captureStdout(t, func() { err = app.RunContext(ctx, append(append([]string{}, base...), args...)) })
		return out, err
	}
	run := func(args ...string) (string, error) { return runCtx(ctx, args...) }
	out, err := run("migrate")
	if err != nil || !strings.Contains(out, "applied migrations") {
		t.Fatalf("migrate over TLS as ingest: %q, %v", out, err)
	}
	// run commits through Kafka transactions over TLS and SCRAM, and
	// loads into ClickHouse over TLS.
	out, err = run("run", "--until-idle")
	if err != nil || !strings.Contains(out, "loaded 0 rows") {
		t.Fatalf("run over TLS and SASL: %q, %v", out, err)
	}
	// Wrong Kafka password: refused. (kfake drops the connection where
	// Kafka answers SaslAuthenticationFailed, so the client retries: bound it.)
	t.Setenv(envKafkaPassword, "wrong")
	short, cancelShort := context.WithTimeout(ctx, 3*time.Second)
	defer cancelShort()
	if out, err := runCtx(short, "run", "--until-idle"); err == nil || strings.Contains(out, "loaded") {
		t.Fatalf("run with a wrong Kafka password: %q, %v; want a failure", out, err)
	}
	// A password is never a flag value.
	for _, flag := range []string{"--clickhouse-password", "--kafka-password"} {
		app := newApp()
		app.ExitErrHandler = func(*cli.Context, error) {}
		err := app.RunContext(ctx, []string{"phonesignals", flag, "x", "migrate"})
		if err == nil || !strings.Contains(err.Error(), "flag provided but not defined") {
			t.Errorf("%s accepted on the command line (%v): passwords in argv are visible to every user", flag, err)
		}
	}
}
