package bus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
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
	if err := os.Chmod(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("restricting %s to its owner: %w", dataDir, err)
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
			emb, err := startOnKnownPort(dataDir, port)
			if err != nil {
				f.Close()
				return nil, err
			}
			if err := os.WriteFile(addrPath, []byte(strings.Join(emb.Addrs(), ",")+"\n"), 0o600); err != nil {
				emb.Close()
				f.Close()
				return nil, fmt.Errorf("writing %s: %w", addrPath, err)
			}
			cfg := emb.Config()
			cfg.Dial = FollowAddrFile(addrPath)
			cfg.RawRetention = EmbeddedRawRetention
			return &Shared{Config: cfg, Owned: true, emb: emb, lock: f, addrF: addrPath}, nil
		}
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("locking %s: %w", lockPath, err)
		}
		// Another process owns the broker: use it once it is reachable.
		if b, err := os.ReadFile(addrPath); err == nil {
			cfg := Config{Brokers: strings.Split(strings.TrimSpace(string(b)), ","), Dial: FollowAddrFile(addrPath), RawRetention: EmbeddedRawRetention}
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

// portFile, in the data dir, keeps the embedded broker's port across
// restarts, so clients of a broker that exited find the next one where
// they left the last.
const portFile = "kafka.port"

// startOnKnownPort starts the data dir's broker on port, or else on the
// port its last broker used while it is free, or else on a fresh one, and
// records the port it got.
func startOnKnownPort(dataDir string, port int) (*Embedded, error) {
	kafkaDir := filepath.Join(dataDir, "kafka")
	pf := filepath.Join(dataDir, portFile)
	var emb *Embedded
	if port == 0 {
		if b, err := os.ReadFile(pf); err == nil {
			if known, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && known > 0 {
				// Taken by another program meanwhile: a fresh port below.
				emb, _ = StartEmbedded(kafkaDir, known)
			}
		}
	}
	if emb == nil {
		var err error
		if emb, err = StartEmbedded(kafkaDir, port); err != nil {
			return nil, err
		}
	}
	addrs := emb.Addrs()
	if len(addrs) > 0 {
		if _, p, err := net.SplitHostPort(addrs[0]); err == nil {
			if err := os.WriteFile(pf, []byte(p+"\n"), 0o600); err != nil {
				emb.Close()
				return nil, fmt.Errorf("writing %s: %w", pf, err)
			}
		}
	}
	return emb, nil
}

// FollowAddrFile returns a dialer for Config.Dial that connects to the
// address the embedded broker of a data dir has now (its kafka.addr file),
// whatever address the client asked for: a client outlives the broker's
// owner, and the next owner may have had to take another port. Without the
// file it dials the address asked for.
func FollowAddrFile(path string) func(ctx context.Context, network, host string) (net.Conn, error) {
	return func(ctx context.Context, network, host string) (net.Conn, error) {
		if b, err := os.ReadFile(path); err == nil {
			if first, _, _ := strings.Cut(strings.TrimSpace(string(b)), ","); strings.Contains(first, ":") {
				host = first
			}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, host)
	}
}
