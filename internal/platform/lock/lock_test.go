package lock

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestTryExcludesAndReleases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locks", "sync-acme.lock")
	l, err := Try(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Try(path)
	var he *HeldError
	if !errors.As(err, &he) || !errors.Is(err, ErrHeld) {
		t.Fatalf("second Try: %v, want a HeldError", err)
	}
	if !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("error %q does not name the holder", err)
	}
	l.Release()
	l2, err := Try(path)
	if err != nil {
		t.Fatalf("Try after Release: %v", err)
	}
	l2.Release()
}
