package secret

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseKey(t *testing.T) {
	k := bytes.Repeat([]byte{7}, 32)
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"base64", base64.StdEncoding.EncodeToString(k), true},
		{"hex", hex.EncodeToString(k), true},
		{"raw url", base64.RawURLEncoding.EncodeToString(k), true},
		{"short", base64.StdEncoding.EncodeToString(k[:16]), false},
		{"empty", "", false},
		{"garbage", "not a key", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseKey(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseKey(%q) err=%v, want ok=%v", tt.in, err, tt.ok)
			}
			if tt.ok && !bytes.Equal(got, k) {
				t.Fatalf("ParseKey decoded the wrong key")
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	b, err := New(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed := b.Seal([]byte("refund please"), []byte("acme|1"))
	if bytes.Contains(sealed, []byte("refund")) {
		t.Fatal("plain text visible in sealed value")
	}
	got, err := b.Open(sealed, []byte("acme|1"))
	if err != nil || string(got) != "refund please" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := b.Open(sealed, []byte("acme|2")); err == nil {
		t.Fatal("Open with another aad succeeded")
	}
	other, _ := New(bytes.Repeat([]byte{2}, 32))
	if _, err := other.Open(sealed, []byte("acme|1")); err == nil || !strings.Contains(err.Error(), "master key") {
		t.Fatalf("Open with another key: %v", err)
	}
	s := b.SealString("token", "org")
	if v, err := b.OpenString(s, "org"); err != nil || v != "token" {
		t.Fatalf("OpenString = %q, %v", v, err)
	}
}

func TestKeyFile(t *testing.T) {
	t.Setenv(EnvKey, "")
	f := filepath.Join(t.TempDir(), "k", "master.key")
	if _, err := FromEnv(f); err == nil {
		t.Fatal("FromEnv with a missing file succeeded")
	}
	if err := EnsureKeyFile(f); err != nil {
		t.Fatal(err)
	}
	b1, err := FromEnv(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := EnsureKeyFile(f); err != nil {
		t.Fatal(err)
	}
	b2, _ := FromEnv(f)
	if _, err := b2.Open(b1.Seal([]byte("x"), nil), nil); err != nil {
		t.Fatal("EnsureKeyFile replaced an existing key")
	}
}

func TestCheckAndWrongKey(t *testing.T) {
	k1, k2 := make([]byte, 32), make([]byte, 32)
	k2[0] = 1
	b1, _ := New(k1)
	b1again, _ := New(k1)
	b2, _ := New(k2)
	if b1.Check() != b1again.Check() || b1.Check() == b2.Check() || len(b1.Check()) != 32 {
		t.Fatalf("checks %q %q %q", b1.Check(), b1again.Check(), b2.Check())
	}
	if _, err := b2.Open(b1.Seal([]byte("x"), []byte("aad")), []byte("aad")); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("open under another key: %v, want ErrWrongKey", err)
	}
}
