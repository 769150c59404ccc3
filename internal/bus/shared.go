package bus

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Shared is the embedded broker of a data dir as seen by one process:
// either this process owns it (it started the broker and holds the lock),
// or another phonesignals process does and this one is only a client.
// kfake's data dir must have one owner, so `sync --follow` in one terminal
// and `run` in another share one broker instead of corrupting the dir.
type Shared struct {
	// Config reaches the broker.
	Config Config
	// Owned is true when this process runs the broker.
	Owned bool
	emb   *Embedded
	lock  *os.File
	addrF string
}

// OpenShared returns the embedded broker of dataDir: the one another
// process already runs there, or a new one this process owns. port 0
// picks a free port.
func OpenShared(ctx context.Context, dataDir string, port int) (*Shared, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dataDir, err)
	}
	lockPath := filepath.Join(dataDir, "kafka.lock")
	addrPath := filepath.Join(dataDir, "kafka.addr")
	deadline := time.Now().Add(15 * time.Second)
	for {
		f, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o600)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", lockPath, err)
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			emb, err := StartEmbedded(filepath.Join(dataDir, "kafka"), port)
			if err != nil {
				f.Close()
				return nil, err
			}
			if err := os.WriteFile(addrPath, []byte(strings.Join(emb.Addrs(), ",")+"\n"), 0o600); err != nil {
				emb.Close()
				f.Close()
				return nil, fmt.Errorf("writing %s: %w", addrPath, err)
			}
			return &Shared{Config: emb.Config(), Owned: true, emb: emb, lock: f, addrF: addrPath}, nil
		}
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("locking %s: %w", lockPath, err)
		}
		// Another process owns the broker: use it once it is reachable.
		if b, err := os.ReadFile(addrPath); err == nil {
			cfg := Config{Brokers: strings.Split(strings.TrimSpace(string(b)), ",")}
			if cfg.Validate() == nil && WaitReachable(ctx, cfg, 2*time.Second) == nil {
				return &Shared{Config: cfg}, nil
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("another process holds the embedded broker of %s but it does not answer; stop that process, or give --brokers", dataDir)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Close stops the broker if this process owns it.
func (s *Shared) Close() {
	if !s.Owned {
		return
	}
	_ = os.Remove(s.addrF)
	s.emb.Close()
	s.lock.Close()
}
