package chserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// stateFile, in Config.Dir, records the detached server Ensure started so
// a later process (the next CLI run) finds and reuses it.
const stateFile = "server.json"

// portsFile, in Config.Dir, records the ports of the last server Ensure
// started there. Unlike server.json it survives a stop, so a restarted
// server comes back on the same ports and long-running clients reconnect.
const portsFile = "ports.json"

// passwordFile, in Config.Dir, holds user default's password (mode 0600),
// generated at the first start.
const passwordFile = "password"

// state is the content of server.json.
type state struct {
	Pid       int       `json:"pid"`
	TCPPort   int       `json:"tcp_port"`
	HTTPPort  int       `json:"http_port"`
	Binary    string    `json:"binary"`
	Config    string    `json:"config"`
	StartedAt time.Time `json:"started_at"`
}

// ErrNotRunning is returned by Lookup when Dir has no live server.
var ErrNotRunning = errors.New("no clickhouse-server running")

// Ensure returns the server recorded in cfg.Dir/server.json if it is alive
// and answers /ping (and listens on cfg's ports, where those are set);
// otherwise it starts a detached server and records it. Either way the
// server is detached: Stop leaves it running after this process exits, so
// the demo can hand it to a person; Terminate stops it for good.
//
// A server.json whose pid is dead, recycled by another program, or whose
// server no longer answers is replaced, and fresh ports are picked, so a
// reboot or a port taken meanwhile never blocks the next run. Concurrent
// Ensure calls on one Dir, from any process, start at most one server.
func Ensure(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ensuring clickhouse-server: %w", err)
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("ensuring clickhouse-server in %s: %w", cfg.Dir, err)
	}
	cfg.Dir = dir
	if err := ownerOnlyDir(dir); err != nil {
		return nil, fmt.Errorf("ensuring clickhouse-server in %s: %w", dir, err)
	}
	l := newLayout(dir)
	unlock, err := lockFile(ctx, l.Lock)
	if err != nil {
		return nil, fmt.Errorf("ensuring clickhouse-server in %s: %w", dir, err)
	}
	defer unlock()
	pw, created, err := readOrCreatePassword(l.Password)
	if err != nil {
		return nil, fmt.Errorf("ensuring clickhouse-server in %s: %w", dir, err)
	}
	cfg.Password = pw
	if cfg.Analyst, err = ensureAnalyst(cfg); err != nil {
		return nil, fmt.Errorf("ensuring clickhouse-server in %s: %w", dir, err)
	}

	s, err := lookup(ctx, dir)
	switch {
	case err == nil && !created && s.onPorts(cfg) && hasAnalyst(l.Users, cfg.Analyst):
		return s, nil
	case err == nil || errors.Is(err, ErrNotResponding):
		// Ours, but on other ports than asked for, not answering, or
		// started without the password just created: replace it rather
		// than run two servers on one data directory.
		if terr := s.Terminate(); terr != nil {
			return nil, fmt.Errorf("ensuring clickhouse-server in %s: replacing the old server: %w", dir, terr)
		}
	case errors.Is(err, ErrNotRunning):
	default:
		return nil, fmt.Errorf("ensuring clickhouse-server in %s: %w", dir, err)
	}
	if err := os.Remove(l.State); err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("ensuring clickhouse-server in %s: removing stale %s: %w", dir, l.State, err)
	}

	s, err = startOnKnownPorts(ctx, cfg, l)
	if err != nil {
		return nil, err
	}
	st := state{Pid: s.pid, TCPPort: s.TCPPort(), HTTPPort: s.HTTPPort(), Binary: s.binary, Config: l.Config, StartedAt: time.Now().UTC()}
	data, err := json.MarshalIndent(st, "", "  ")
	if err == nil {
		err = writeFileAtomic(l.State, append(data, '\n'))
	}
	if err != nil {
		_ = s.Terminate()
		return nil, fmt.Errorf("ensuring clickhouse-server in %s: recording it: %w", dir, err)
	}
	return s, nil
}

// analystPasswordFile, in Config.Dir, holds the analyst user's password
// of an Ensure server with Config.AnalystDatabase.
const analystPasswordFile = "analyst.password"

// ensureAnalyst is cfg.Analyst, or for Config.AnalystDatabase the analyst
// user with its password from Dir/analyst.password (generated once).
func ensureAnalyst(cfg Config) (*Analyst, error) {
	if cfg.AnalystDatabase == "" || cfg.Analyst != nil {
		return cfg.Analyst, nil
	}
	pw, _, err := readOrCreatePassword(filepath.Join(cfg.Dir, analystPasswordFile))
	if err != nil {
		return nil, fmt.Errorf("analyst password: %w", err)
	}
	return &Analyst{Password: pw, Database: cfg.AnalystDatabase}, nil
}

// hasAnalyst reports whether the users.xml at path has analyst a (nil:
// none is needed): a server started before the analyst user existed is
// restarted, since config.xml's loopback cluster needs a restart.
func hasAnalyst(path string, a *Analyst) bool {
	if a == nil {
		return true
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	e := analystEntryOf(a)
	return bytes.Contains(data, []byte(e.SHA256)) && bytes.Contains(data, []byte("<database>"+e.Database+"</database>"))
}

// ownerOnlyDir creates dir, or restricts an existing one, to its owner.
func ownerOnlyDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("restricting it to its owner: %w", err)
	}
	return nil
}

// onPorts reports whether s listens on the ports cfg asks for (0: any).
func (s *Server) onPorts(cfg Config) bool {
	return (cfg.TCPPort == 0 || cfg.TCPPort == s.TCPPort()) && (cfg.HTTPPort == 0 || cfg.HTTPPort == s.HTTPPort())
}

// Lookup returns the live server Ensure recorded in dir, detached (Stop
// leaves it running; Terminate stops it), or an error wrapping
// ErrNotRunning, or the Server and ErrNotResponding for a hung one. It
// never starts one: it serves a CLI's status and stop
// commands.
func Lookup(ctx context.Context, dir string) (*Server, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("looking up clickhouse-server in %s: %w", dir, err)
	}
	s, err := lookup(ctx, abs)
	if errors.Is(err, ErrNotResponding) {
		return s, err
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// ErrNotResponding is returned, together with the Server, by Lookup when
// the recorded server is alive but does not answer /ping, so a caller can
// Terminate it (Ensure does so and starts a fresh one).
var ErrNotResponding = errors.New("clickhouse-server is running but does not answer /ping")

func lookup(ctx context.Context, dir string) (*Server, error) {
	l := newLayout(dir)
	data, err := os.ReadFile(l.State)
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("%w in %s (no %s)", ErrNotRunning, dir, stateFile)
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", l.State, err)
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil || st.Pid <= 0 {
		return nil, fmt.Errorf("%w in %s (%s is unreadable: %v)", ErrNotRunning, dir, l.State, err)
	}
	if !ProcessAlive(st.Pid) {
		return nil, fmt.Errorf("%w in %s (pid %d in %s has exited)", ErrNotRunning, dir, st.Pid, stateFile)
	}
	if !runsConfig(st.Pid, l.Config) {
		return nil, fmt.Errorf("%w in %s (pid %d in %s is now another program)", ErrNotRunning, dir, st.Pid, stateFile)
	}
	l.TCPPort, l.HTTPPort = st.TCPPort, st.HTTPPort
	s := &Server{layout: l, binary: st.Binary, pid: st.Pid, detached: true, reused: true}
	if pw, err := os.ReadFile(l.Password); err == nil {
		s.password = strings.TrimSpace(string(pw))
	}
	// A server restarting or under load may miss one ping; give it a moment.
	var perr error
	for i := 0; i < 10; i++ {
		if perr = ping(ctx, s.HTTPAddr()); perr == nil {
			return s, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("looking up clickhouse-server in %s: %w", dir, ctx.Err())
		}
		time.Sleep(200 * time.Millisecond)
	}
	return s, fmt.Errorf("%w (pid %d in %s: %v)", ErrNotResponding, st.Pid, dir, perr)
}

// forgetState removes server.json if it records this server, so the next
// Ensure does not even try it.
func (s *Server) forgetState() {
	data, err := os.ReadFile(s.layout.State)
	if err != nil {
		return
	}
	var st state
	if json.Unmarshal(data, &st) == nil && st.Pid == s.pid {
		_ = os.Remove(s.layout.State)
	}
}

// lockFile takes an exclusive flock on path, waiting for other holders
// (another process running Ensure on the same Dir) until ctx ends.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening lock %s: %w", path, err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("locking %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the lock %s (another process is starting a server there): %w", path, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// CurrentAddr is the native protocol address of the server Ensure runs in
// dir now, or last ran there (its ports are kept for the next start),
// read from the files alone: cheap enough for every new connection.
func CurrentAddr(dir string) (string, error) {
	l := newLayout(dir)
	var st state
	if data, err := os.ReadFile(l.State); err == nil && json.Unmarshal(data, &st) == nil && st.TCPPort > 0 {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(st.TCPPort)), nil
	}
	if p, ok := readPorts(l.Ports); ok {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(p.TCP)), nil
	}
	return "", fmt.Errorf("%w in %s", ErrNotRunning, dir)
}

// startOnKnownPorts starts a detached server on the ports cfg asks for, or
// else on those of the last server of the directory while they are free,
// or else on fresh ones; and records the ports it got.
func startOnKnownPorts(ctx context.Context, cfg Config, l layout) (*Server, error) {
	var s *Server
	var err error
	if p, ok := readPorts(l.Ports); ok && cfg.TCPPort == 0 && cfg.HTTPPort == 0 && portsFree(p.TCP, p.HTTP) {
		known := cfg
		known.TCPPort, known.HTTPPort = p.TCP, p.HTTP
		s, err = start(ctx, known, startOpts{detached: true})
		if err != nil && !strings.Contains(err.Error(), "Address already in use") {
			return nil, err
		}
	}
	if s == nil {
		if s, err = start(ctx, cfg, startOpts{detached: true}); err != nil {
			return nil, err
		}
	}
	data, _ := json.Marshal(ports{TCP: s.TCPPort(), HTTP: s.HTTPPort()})
	if err := writeFileAtomic(l.Ports, append(data, '\n')); err != nil {
		_ = s.Terminate()
		return nil, fmt.Errorf("recording the ports of clickhouse-server in %s: %w", l.Dir, err)
	}
	return s, nil
}

// ports is the content of ports.json.
type ports struct {
	TCP  int `json:"tcp_port"`
	HTTP int `json:"http_port"`
}

func readPorts(path string) (ports, bool) {
	var p ports
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &p) != nil || p.TCP <= 0 || p.HTTP <= 0 || p.TCP == p.HTTP {
		return ports{}, false
	}
	return p, true
}

// portsFree reports whether every port can be bound on loopback now.
func portsFree(ps ...int) bool {
	for _, p := range ps {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}

// readOrCreatePassword returns the password in path, generating a random
// one (mode 0600) when the file is missing; created says it was just made.
func readOrCreatePassword(path string) (pw string, created bool, err error) {
	data, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(data))) > 0 {
		if err := os.Chmod(path, 0o600); err != nil {
			return "", false, fmt.Errorf("restricting %s to its owner: %w", path, err)
		}
		return strings.TrimSpace(string(data)), false, nil
	}
	if err != nil && !os.IsNotExist(err) {
		return "", false, fmt.Errorf("reading the clickhouse password: %w", err)
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", false, fmt.Errorf("generating the clickhouse password: %w", err)
	}
	pw = hex.EncodeToString(b)
	if err := writeFileAtomic(path, []byte(pw+"\n")); err != nil {
		return "", false, fmt.Errorf("storing the clickhouse password: %w", err)
	}
	return pw, true, nil
}

// passwordSHA256 is what users.xml stores instead of the password.
func passwordSHA256(pw string) string {
	if pw == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(pw))
	return hex.EncodeToString(sum[:])
}
