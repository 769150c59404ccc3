package bus

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/tlsconf"
	"github.com/phonesignals/phonesignals/internal/platform/tlsconf/tlsconftest"
)

// A managed cluster as kfake plays it: TLS with a private CA and SASL with
// one user per mechanism.
func secureCluster(t *testing.T, certs tlsconftest.Files) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.EnableSASL(),
		kfake.Superuser(SASLPlain, "plain-user", "plain-pass"),
		kfake.Superuser(SASLScramSHA256, "scram256-user", "scram256-pass"),
		kfake.Superuser(SASLScramSHA512, "scram512-user", "scram512-pass"),
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{certs.Server}, MinVersion: tls.VersionTLS12}),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestSecureClusterSASLAndTLS(t *testing.T) {
	certs := tlsconftest.New(t)
	c := secureCluster(t, certs)
	withCA, err := tlsconf.Client(certs.CA)
	if err != nil {
		t.Fatal(err)
	}
	systemOnly, _ := tlsconf.Client("")
	box := testBox(t, 9)
	cases := []struct {
		name    string
		tls     *tls.Config
		sasl    SASL
		wantErr bool
	}{
		{"PLAIN over TLS", withCA, SASL{Mechanism: SASLPlain, User: "plain-user", Password: "plain-pass"}, false},
		{"SCRAM-SHA-256 over TLS", withCA, SASL{Mechanism: SASLScramSHA256, User: "scram256-user", Password: "scram256-pass"}, false},
		{"scram-sha-512 (any case) over TLS", withCA, SASL{Mechanism: "scram-sha-512", User: "scram512-user", Password: "scram512-pass"}, false},
		{"wrong password", withCA, SASL{Mechanism: SASLScramSHA256, User: "scram256-user", Password: "nope"}, true},
		{"no SASL", withCA, SASL{}, true},
		{"untrusted certificate", systemOnly, SASL{Mechanism: SASLPlain, User: "plain-user", Password: "plain-pass"}, true},
		{"plaintext", nil, SASL{Mechanism: SASLPlain, User: "plain-user", Password: "plain-pass"}, true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Brokers: c.ListenAddrs(), TLS: tc.tls, SASL: tc.sasl}
			if err := cfg.Validate(); err != nil && !tc.wantErr {
				t.Fatal(err)
			}
			// kfake drops a connection that failed SASL where Kafka answers
			// SaslAuthenticationFailed, so the client retries until the deadline.
			d := 10 * time.Second
			if tc.wantErr {
				d = 2 * time.Second
			}
			ctx, cancel := context.WithTimeout(context.Background(), d)
			defer cancel()
			err := EnsureTopics(ctx, cfg)
			if tc.wantErr {
				if err == nil {
					t.Fatal("EnsureTopics succeeded; want a failure")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// A round trip through the producer phonesignals uses and a
			// consumer built from the same options.
			pub, err := NewPublisher(cfg, box, TopicDead)
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			id := strings.Repeat("x", i+1)
			if err := pub.Publish(ctx, []model.RawCall{{Org: "acme", Provider: "aircall", CallID: id, Body: []byte(`{}`)}}); err != nil {
				t.Fatal(err)
			}
			cl, err := kgo.NewClient(append(cfg.Opts(), kgo.ConsumeTopics(TopicDead))...)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			for {
				fs := cl.PollFetches(ctx)
				if err := ctx.Err(); err != nil {
					t.Fatalf("record %s not read back: %v", id, err)
				}
				found := false
				fs.EachRecord(func(r *kgo.Record) { found = found || Header(r, HeaderCallID) == id })
				if found {
					return
				}
			}
		})
	}
}

func TestSASLValidate(t *testing.T) {
	for _, tc := range []struct {
		sasl SASL
		want []string
	}{
		{SASL{Mechanism: "GSSAPI", User: "u", Password: "p"}, []string{"GSSAPI", "SCRAM-SHA-512"}},
		{SASL{Mechanism: SASLPlain}, []string{"--kafka-user", "PHONESIGNALS_KAFKA_PASSWORD"}},
	} {
		err := Config{Brokers: []string{"k:9092"}, SASL: tc.sasl}.Validate()
		for _, w := range tc.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("Validate(%+v) = %v; want it to name %s", tc.sasl, err, w)
			}
		}
	}
}
