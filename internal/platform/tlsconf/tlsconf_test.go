package tlsconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phonesignals/phonesignals/internal/platform/tlsconf/tlsconftest"
)

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	if err := os.WriteFile(file, []byte("from-file\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const env = "PHONESIGNALS_TLSCONF_TEST_PW"
	cases := []struct {
		name, env, file, want, wantErr string
	}{
		{"env", "from-env", "", "from-env", ""},
		{"file, newline trimmed", "", file, "from-file", ""},
		{"neither", "", "", "", ""},
		{"both", "from-env", file, "", "both $" + env},
		{"missing file", "", filepath.Join(dir, "nope"), "", "reading password file"},
		{"empty file", "", empty, "", "is empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(env, tc.env)
			got, err := Secret(env, tc.file)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v; want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Secret = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestClientCAFile(t *testing.T) {
	certs := tlsconftest.New(t)
	cfg, err := Client(certs.CA)
	if err != nil || cfg.RootCAs == nil {
		t.Fatalf("Client(CA) = %+v, %v", cfg, err)
	}
	if _, err := Client(certs.Key); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("Client(key file) = %v; want an error naming the missing certificate", err)
	}
	if cfg, err := Client(""); err != nil || cfg.RootCAs != nil {
		t.Fatalf("Client(\"\") = %+v, %v; want system roots", cfg, err)
	}
}
