package store

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
	"github.com/phonesignals/phonesignals/internal/platform/tlsconf"
	"github.com/phonesignals/phonesignals/internal/platform/tlsconf/tlsconftest"
)

// startTLSServer runs a ClickHouse 18.16 of its own serving the native
// protocol over TLS with a self-signed certificate, plus a user with a
// password, as ClickHouse Cloud does on 9440.
func startTLSServer(t *testing.T) (*chserver.Server, tlsconftest.Files) {
	t.Helper()
	if os.Getenv(chserver.EnvSkip) == "1" {
		t.Skip(chserver.EnvSkip + "=1")
	}
	certs := tlsconftest.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv, err := chserver.Start(ctx, chserver.Config{
		Dir:   t.TempDir(),
		TLS:   &chserver.TLS{CertFile: certs.Cert, KeyFile: certs.Key},
		Users: []chserver.User{{Name: "analyst", Password: "s3cret pass"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	return srv, certs
}

func TestOpenOverTLS(t *testing.T) {
	srv, certs := startTLSServer(t)
	withCA, err := tlsconf.Client(certs.CA)
	if err != nil {
		t.Fatal(err)
	}
	systemOnly, err := tlsconf.Client("")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"tls, CA file, user and password", Config{Addr: srv.SecureAddr(), Username: "analyst", Password: "s3cret pass", TLS: withCA}, ""},
		{"tls, default user", Config{Addr: srv.SecureAddr(), TLS: withCA}, ""},
		{"tls without the CA", Config{Addr: srv.SecureAddr(), TLS: systemOnly}, "--clickhouse-ca-file"},
		{"plain TCP to the TLS port", Config{Addr: srv.SecureAddr(), DialTimeout: 3 * time.Second}, "connecting to clickhouse"},
		{"wrong password", Config{Addr: srv.SecureAddr(), Username: "analyst", Password: "nope", TLS: withCA}, "analyst"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tc.cfg.Database = "tls_" + strings.NewReplacer(" ", "_", ",", "").Replace(tc.name)
			st, err := Open(ctx, tc.cfg)
			if tc.wantErr != "" {
				if err == nil {
					st.Close()
					t.Fatalf("Open succeeded; want an error containing %q", tc.wantErr)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %q; want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			applied, err := st.Migrate(ctx)
			if err != nil || len(applied) == 0 {
				t.Fatalf("migrating over TLS: applied %v, %v", applied, err)
			}
			var user string
			// 18.16 has no currentUser(): this query finds itself.
			q := "SELECT any(user) FROM system.processes WHERE query LIKE '%tls-whoami%'"
			if err := st.Conn().QueryRow(ctx, q).Scan(&user); err != nil {
				t.Fatal(err)
			}
			want := tc.cfg.Username
			if want == "" {
				want = "default"
			}
			if user != want {
				t.Fatalf("connected as %q, want %q", user, want)
			}
		})
	}
}

func TestValidateSecurePortWithoutTLS(t *testing.T) {
	err := Config{Addr: "abc.clickhouse.cloud:9440"}.Validate()
	if err == nil || !strings.Contains(err.Error(), "--clickhouse-tls") {
		t.Fatalf("Validate: %v; want the error to name --clickhouse-tls", err)
	}
	tlsCfg, _ := tlsconf.Client("")
	if err := (Config{Addr: "abc.clickhouse.cloud:9440", TLS: tlsCfg}).Validate(); err != nil {
		t.Fatal(err)
	}
}
