package chserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Timeouts for Stop: SIGTERM lets the server flush and release its data
// directory lock; SIGKILL after stopGrace bounds a server stuck shutting down.
const (
	stopGrace    = 10 * time.Second
	killDeadline = 5 * time.Second
)

// Server is a running clickhouse-server on 127.0.0.1.
type Server struct {
	layout layout
	binary string
	pid    int
	// password of user default, "" for none.
	password string

	// exited is closed when the process exits, if it is our child (started
	// by this process); nil for a server Ensure found already running.
	exited  chan struct{}
	waitErr error // set before exited is closed

	// logStart is the size of each log before this start, so errors quote
	// only what this run wrote, not a previous run's failure.
	logStart map[string]int64

	mu       sync.Mutex
	detached bool // Stop leaves the process running
	reused   bool // found running by Ensure, not started here
	stopped  bool
}

// Addr is the native protocol address, for clickhouse.Options.Addr.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.layout.TCPPort)) }

// SecureAddr is the TLS native protocol address, empty without Config.TLS.
func (s *Server) SecureAddr() string {
	if s.layout.SecurePort == 0 {
		return ""
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.layout.SecurePort))
}

// HTTPAddr is the HTTP interface address ("127.0.0.1:PORT").
func (s *Server) HTTPAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.layout.HTTPPort))
}

// TCPPort is the native protocol port, for `clickhouse-client --port N`.
func (s *Server) TCPPort() int { return s.layout.TCPPort }

// HTTPPort is the HTTP interface port.
func (s *Server) HTTPPort() int { return s.layout.HTTPPort }

// User is the user clients connect as.
func (s *Server) User() string { return "default" }

// Password is user default's password, "" for a server without one. Never
// print it: PasswordFile says where a person finds it.
func (s *Server) Password() string { return s.password }

// PasswordFile is the file (mode 0600) holding the password of a server
// Ensure manages, "" for a server without one.
func (s *Server) PasswordFile() string {
	if s.password == "" {
		return ""
	}
	return s.layout.Password
}

// Pid is the server's process id.
func (s *Server) Pid() int { return s.pid }

// Dir is the directory holding the server's config, data and logs.
func (s *Server) Dir() string { return s.layout.Dir }

// LogPath is the server's main log, worth showing a person debugging it.
func (s *Server) LogPath() string { return s.layout.Log }

// ErrorLogPath is the server's error log, quoted in Start's errors.
func (s *Server) ErrorLogPath() string { return s.layout.ErrorLog }

// Detach makes Stop leave the process running, for a server that should
// outlive this program (the demo leaves one for the user to query).
func (s *Server) Detach() {
	s.mu.Lock()
	s.detached = true
	s.mu.Unlock()
}

// Detached reports whether Stop leaves the process running.
func (s *Server) Detached() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.detached
}

// Reused reports whether Ensure found the server already running instead
// of starting it.
func (s *Server) Reused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reused
}

// Start writes a private config under cfg.Dir, starts clickhouse-server in
// its own process group and returns once it answers /ping. The caller owns
// the server: Stop terminates it. If the server does not come up, the
// error quotes the end of its error log.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	return start(ctx, cfg, startOpts{})
}

// StartChild starts a server like Start that the kernel terminates when
// this process dies (Linux parent-death signal), so it never outlives the
// process that owns it: test binaries start theirs this way.
func StartChild(ctx context.Context, cfg Config) (*Server, error) {
	return start(ctx, cfg, startOpts{dieWithParent: true})
}

// EnvSkip names the environment variable that, set to 1, makes tests skip
// instead of fail when no clickhouse-server can run: the explicit opt-out
// for a developer without Debian's clickhouse-server. CI never sets it.
const EnvSkip = "PHONESIGNALS_SKIP_CLICKHOUSE"

type startOpts struct {
	// detached starts the server in its own session, so it outlives this
	// process and ignores the terminal's Ctrl-C.
	detached bool
	// dieWithParent asks the kernel to SIGTERM the server when this process
	// dies, so test servers never outlive the test binary.
	dieWithParent bool
}

func start(ctx context.Context, cfg Config, opts startOpts) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("starting clickhouse-server: %w", err)
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("starting clickhouse-server in %s: %w", cfg.Dir, err)
	}
	bin, err := cfg.binary(ctx)
	if err != nil {
		return nil, fmt.Errorf("starting clickhouse-server in %s: %w", dir, err)
	}
	// A port picked here can be taken by another program before the server
	// binds it; then the start is retried on fresh ports.
	const attempts = 3
	var lastErr error
	for range attempts {
		l := newLayout(dir)
		l.PasswordSHA256 = passwordSHA256(cfg.Password)
		l.TCPPort, l.HTTPPort, err = pickPorts(cfg.TCPPort, cfg.HTTPPort)
		if err != nil {
			return nil, fmt.Errorf("starting clickhouse-server in %s: %w", dir, err)
		}
		if err := l.secure(cfg); err != nil {
			return nil, fmt.Errorf("starting clickhouse-server in %s: %w", dir, err)
		}
		s, err := launch(ctx, bin, l, cfg.startTimeout(), opts)
		if err == nil {
			s.password = cfg.Password
			return s, nil
		}
		lastErr = err
		if ctx.Err() != nil || !errors.Is(err, errExitedEarly) || !lostPickedPort(err, cfg, l) {
			break
		}
	}
	return nil, fmt.Errorf("starting clickhouse-server in %s: %w", dir, lastErr)
}

// lostPickedPort reports whether a failed start's log says a port that
// pickPorts chose (not one the caller fixed) was already in use.
func lostPickedPort(err error, cfg Config, l layout) bool {
	for _, p := range []struct{ asked, used int }{{cfg.TCPPort, l.TCPPort}, {cfg.HTTPPort, l.HTTPPort}} {
		if p.asked == 0 && strings.Contains(err.Error(), "Address already in use: 127.0.0.1:"+strconv.Itoa(p.used)) {
			return true
		}
	}
	return false
}

// errExitedEarly marks a server that exited before answering /ping (bad
// config, port in use, data directory locked), as opposed to one that hung.
var errExitedEarly = errors.New("clickhouse-server exited before it was ready")

func launch(ctx context.Context, bin string, l layout, timeout time.Duration, opts startOpts) (*Server, error) {
	if err := writeConfig(l); err != nil {
		return nil, err
	}
	stdio, err := os.OpenFile(l.Stdio, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", l.Stdio, err)
	}
	defer stdio.Close() // the child has its own copy

	// Not CommandContext: ctx bounds the start, not the server's life.
	cmd := exec.Command(bin, "--config-file="+l.Config)
	cmd.Dir = l.Dir
	cmd.Stdin = nil // /dev/null
	cmd.Stdout = stdio
	cmd.Stderr = stdio
	cmd.SysProcAttr = sysProcAttr(opts.detached, opts.dieWithParent)

	s := &Server{layout: l, binary: bin, exited: make(chan struct{}), detached: opts.detached, logStart: map[string]int64{}}
	for _, p := range []string{l.ErrorLog, l.Stdio} {
		if fi, err := os.Stat(p); err == nil {
			s.logStart[p] = fi.Size()
		}
	}
	started := make(chan error, 1)
	go func() {
		// The kernel's parent-death signal fires when the thread that
		// forked the child exits, not the process; keep this thread for
		// as long as the child lives.
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			runtime.UnlockOSThread()
			started <- err
			return
		}
		started <- nil
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("running %s: %w", bin, err)
	}
	s.pid = cmd.Process.Pid

	if err := s.waitReady(ctx, timeout); err != nil {
		_ = s.kill()
		return nil, fmt.Errorf("%w\n%s", err, s.logTail())
	}
	return s, nil
}

// waitReady polls /ping until the server answers, exits, ctx ends or
// timeout passes.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if ping(ctx, s.HTTPAddr()) == nil {
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("%w (pid %d, %v)", errExitedEarly, s.pid, s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("waiting for clickhouse-server (pid %d) to answer http://%s/ping: %w", s.pid, s.HTTPAddr(), ctx.Err())
		case <-deadline.C:
			return fmt.Errorf("clickhouse-server (pid %d) did not answer http://%s/ping within %v", s.pid, s.HTTPAddr(), timeout)
		case <-tick.C:
		}
	}
}

// logTail quotes the end of the server's error log and of its stdout and
// stderr (where config errors go before the logger is set up).
func (s *Server) logTail() string {
	var b strings.Builder
	for _, p := range []string{s.layout.ErrorLog, s.layout.Stdio} {
		data, err := os.ReadFile(p)
		if off := s.logStart[p]; err == nil && off <= int64(len(data)) {
			data = data[off:]
		}
		if err != nil || len(strings.TrimSpace(string(data))) == 0 {
			continue
		}
		fmt.Fprintf(&b, "--- last lines of %s:\n%s\n", p, tail(string(data), 15))
	}
	if b.Len() == 0 {
		return "(the server wrote no log; see " + s.layout.LogDir + ")"
	}
	return strings.TrimRight(b.String(), "\n")
}

// pingClient opens a new connection per ping: a kept-alive idle connection
// would delay the server's shutdown by its keep-alive timeout.
var pingClient = &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// queryClient serves Server.Query; Terminate closes its idle connections,
// which the server would otherwise wait for before shutting down.
var queryClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 2 * time.Second}}

// ping checks that a ClickHouse server answers on addr's /ping.
func ping(ctx context.Context, addr string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/ping", nil)
	if err != nil {
		return err
	}
	resp, err := pingClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64))
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "Ok." {
		return fmt.Errorf("http://%s/ping answered %d %q instead of \"Ok.\"", addr, resp.StatusCode, body)
	}
	return nil
}

// Ping reports whether the server answers its HTTP /ping.
func (s *Server) Ping(ctx context.Context) error {
	if err := ping(ctx, s.HTTPAddr()); err != nil {
		return fmt.Errorf("pinging clickhouse-server (pid %d): %w", s.pid, err)
	}
	return nil
}

// Query runs one statement through the HTTP interface and returns its
// output (TabSeparated unless the statement says FORMAT). It serves DDL and
// quick checks from tests and the CLI without a driver; use clickhouse-go
// on Addr for real work (the driver's own HTTP mode fails on 18.16).
func (s *Server) Query(ctx context.Context, sql string) (string, error) {
	u := "http://" + s.HTTPAddr() + "/"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(sql))
	if err != nil {
		return "", fmt.Errorf("clickhouse query %q: %w", abbreviate(sql), err)
	}
	// Headers, not the URL, so the password never lands in a log line.
	req.Header.Set("X-ClickHouse-User", s.User())
	if s.password != "" {
		req.Header.Set("X-ClickHouse-Key", s.password)
	}
	resp, err := queryClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("clickhouse query %q: %w", abbreviate(sql), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("clickhouse query %q: reading the answer: %w", abbreviate(sql), err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("clickhouse query %q: HTTP %d: %s", abbreviate(sql), resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return string(body), nil
}

func abbreviate(sql string) string {
	s := strings.Join(strings.Fields(sql), " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// Stop terminates the server (SIGTERM, then SIGKILL after 10 s) unless it
// is detached, in which case it leaves it running for later reuse. Safe to
// call more than once.
func (s *Server) Stop() error {
	if s.Detached() {
		return nil
	}
	return s.Terminate()
}

// Terminate stops the server even if it is detached: SIGTERM to its
// process group, SIGKILL if it has not exited after 10 s. A server Ensure
// recorded also loses its server.json, so the next Ensure starts afresh.
func (s *Server) Terminate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	queryClient.CloseIdleConnections()
	if err := s.signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("stopping clickhouse-server (pid %d): %w", s.pid, err)
	}
	if !s.waitExit(stopGrace) {
		_ = s.signal(syscall.SIGKILL)
		if !s.waitExit(killDeadline) {
			return fmt.Errorf("stopping clickhouse-server (pid %d): still running after SIGTERM and SIGKILL", s.pid)
		}
	}
	s.stopped = true
	s.forgetState()
	return nil
}

// kill ends a server that failed to start, without grace.
func (s *Server) kill() error {
	_ = s.signal(syscall.SIGKILL)
	if !s.waitExit(killDeadline) {
		return fmt.Errorf("killing clickhouse-server (pid %d): still running", s.pid)
	}
	return nil
}

// signal sends sig to the server's process group (the server leads it, as
// it was started with Setpgid or Setsid), falling back to the process.
func (s *Server) signal(sig syscall.Signal) error {
	if pgid, err := syscall.Getpgid(s.pid); err == nil && pgid == s.pid {
		if err := syscall.Kill(-s.pid, sig); err == nil || errors.Is(err, syscall.ESRCH) {
			return nil
		}
	}
	if err := syscall.Kill(s.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// waitExit waits up to d for the process to exit: through Wait for our
// child, by polling for a server we did not start.
func (s *Server) waitExit(d time.Duration) bool {
	if s.exited != nil {
		select {
		case <-s.exited:
			return true
		case <-time.After(d):
			return false
		}
	}
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !ProcessAlive(s.pid) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return !ProcessAlive(s.pid)
}

// secure fills l's TLS port and files, its extra users and its analyst
// user from cfg.
func (l *layout) secure(cfg Config) error {
	l.ExtraUsers = userEntries(cfg.Users)
	l.Analyst, l.DefaultPassword = analystEntryOf(cfg.Analyst), cfg.Password
	if cfg.TLS == nil {
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("picking a free port for TLS: %w", err)
	}
	l.SecurePort = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	for _, f := range []struct {
		dst *string
		src string
	}{{&l.CertFile, cfg.TLS.CertFile}, {&l.KeyFile, cfg.TLS.KeyFile}} {
		abs, err := filepath.Abs(f.src)
		if err != nil {
			return fmt.Errorf("chserver.Config.TLS: %w", err)
		}
		*f.dst = abs
	}
	return nil
}

// pickPorts returns tcp and http, replacing zeros by free loopback ports.
func pickPorts(tcp, http int) (int, int, error) {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	pick := func(p *int) error {
		if *p != 0 {
			return nil
		}
		// Keep each listener open until both are picked so the two differ.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("picking a free port: %w", err)
		}
		held = append(held, l)
		*p = l.Addr().(*net.TCPAddr).Port
		return nil
	}
	if err := pick(&tcp); err != nil {
		return 0, 0, err
	}
	if err := pick(&http); err != nil {
		return 0, 0, err
	}
	if tcp == http {
		return 0, 0, fmt.Errorf("picking free ports: got %d twice", tcp)
	}
	return tcp, http, nil
}
