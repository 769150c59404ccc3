//go:build linux

package chaos

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"github.com/phonesignals/phonesignals/internal/testkit/fixture"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/bus"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/platform/secret"
	"github.com/phonesignals/phonesignals/internal/store"
)

var masterKey = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0x3c}, 32))

var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// binary builds cmd/phonesignals once per test binary.
func binary(t *testing.T) string {
	t.Helper()
	if os.Getenv(chserver.EnvSkip) == "1" {
		t.Skip(chserver.EnvSkip + "=1: these tests run the local ClickHouse server")
	}
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "phonesignals-chaos-bin-")
		if built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "phonesignals")
		out, err := exec.Command("go", "build", "-o", built.bin, "../../../cmd/phonesignals").CombinedOutput()
		if err != nil {
			built.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// node is one data dir driven through the CLI, as a person would.
type node struct {
	t       *testing.T
	bin     string
	dataDir string
	logDir  string
}

func newNode(t *testing.T) *node {
	t.Helper()
	n := &node{t: t, bin: binary(t), dataDir: filepath.Join(t.TempDir(), "data"), logDir: t.TempDir()}
	t.Cleanup(func() {
		// The local server is detached by design; stop it for good.
		if s, _ := chserver.Lookup(context.Background(), n.chDir()); s != nil {
			_ = s.Terminate()
		}
	})
	return n
}

func (n *node) chDir() string { return filepath.Join(n.dataDir, "clickhouse") }

func (n *node) command(args ...string) *exec.Cmd {
	cmd := exec.Command(n.bin, append([]string{"--data-dir", n.dataDir, "--log-level", "warn"}, args...)...)
	env := []string{"PHONESIGNALS_MASTER_KEY=" + masterKey}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PHONESIGNALS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	// Its own process group, so a SIGKILL hits the command and not the
	// test; and killed with the test binary, so a test killed on timeout
	// leaves no broker or run behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// ok runs a command to completion and fails the test if it fails.
func (n *node) ok(args ...string) string {
	n.t.Helper()
	out, err := n.run(2*time.Minute, args...)
	if err != nil {
		n.t.Fatalf("phonesignals %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (n *node) run(timeout time.Duration, args ...string) (string, error) {
	cmd := n.command(args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(timeout):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		return out.String(), fmt.Errorf("still running after %s", timeout)
	}
}

// proc is a long-running command.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  string
}

var procSeq struct {
	sync.Mutex
	n int
}

// start runs a long-running command in the background, its output in a
// log file of the test.
func (n *node) start(args ...string) *proc {
	n.t.Helper()
	procSeq.Lock()
	procSeq.n++
	seq := procSeq.n
	procSeq.Unlock()
	p := &proc{name: args[0], cmd: n.command(args...), done: make(chan struct{}),
		log: filepath.Join(n.logDir, fmt.Sprintf("%03d-%s.log", seq, args[0]))}
	f, err := os.Create(p.log)
	if err != nil {
		n.t.Fatal(err)
	}
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		f.Close()
		n.t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		f.Close()
		close(p.done)
	}()
	n.t.Cleanup(func() { p.kill() })
	return p
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the exit.
func (p *proc) kill() {
	if p.running() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-p.done
}

// stop sends SIGTERM and waits up to d for a clean exit.
func (p *proc) stop(d time.Duration) error {
	if !p.running() {
		return p.err
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(d):
		p.kill()
		return fmt.Errorf("%s did not exit within %s of SIGTERM", p.name, d)
	}
}

func (p *proc) output() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// brokerAddr waits for the embedded broker's address file.
func (n *node) brokerAddr() string {
	n.t.Helper()
	path := filepath.Join(n.dataDir, "kafka.addr")
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), ":") {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(100 * time.Millisecond)
	}
	n.t.Fatalf("no embedded broker address in %s after 30s", path)
	return ""
}

// server is the local ClickHouse server as the CLI left it.
func (n *node) server() *chserver.Server {
	n.t.Helper()
	s, err := chserver.Lookup(context.Background(), n.chDir())
	if err != nil {
		n.t.Fatalf("local clickhouse-server: %v", err)
	}
	return s
}

// storeOf opens the CLI's database on the local server with its password.
func (n *node) storeOf() *store.Store {
	n.t.Helper()
	s := n.server()
	st, err := store.Open(context.Background(), store.Config{Addr: s.Addr(), Username: s.User(), Password: s.Password(), NoCreate: true})
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() { st.Close() })
	return st
}

// loadedCalls counts distinct calls in raw_signals, 0 while the server or
// table is not there.
func (n *node) loadedCalls() uint64 {
	s, err := chserver.Lookup(context.Background(), n.chDir())
	if err != nil {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := s.Query(ctx, "SELECT uniqExact(call_id) FROM phonesignals.raw_signals")
	if err != nil {
		return 0
	}
	var v uint64
	fmt.Sscan(strings.TrimSpace(out), &v)
	return v
}

// waitLoaded waits up to d for want distinct calls in raw_signals.
func (n *node) waitLoaded(want uint64, d time.Duration, why string, procs ...*proc) {
	n.t.Helper()
	deadline := time.Now().Add(d)
	var got uint64
	for time.Now().Before(deadline) {
		if got = n.loadedCalls(); got >= want {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	var logs strings.Builder
	for _, p := range procs {
		fmt.Fprintf(&logs, "--- %s (running %v):\n%s\n", p.name, p.running(), tail(p.output(), 30))
	}
	n.t.Fatalf("%s: %d calls loaded after %s, want %d\n%s", why, got, d, want, logs.String())
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// publisher publishes raw Aircall calls to the node's broker as `sync`
// would, sealed with the node's master key.
func (n *node) publish(from, to int) {
	n.t.Helper()
	key, _ := base64.StdEncoding.DecodeString(masterKey)
	box, err := secret.New(key)
	if err != nil {
		n.t.Fatal(err)
	}
	pub, err := bus.NewPublisher(bus.Config{Brokers: []string{n.brokerAddr()}}, box, bus.TopicRaw)
	if err != nil {
		n.t.Fatal(err)
	}
	defer pub.Close()
	at := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)
	var calls []model.RawCall
	for i := from; i < to; i++ {
		calls = append(calls, model.RawCall{Org: "acme", Provider: fixture.Aircall, CallID: fmt.Sprint(i),
			Source: model.SourcePoll, ObservedAt: at,
			Body: []byte(fmt.Sprintf(`{"id": %d, "direction": "inbound", "status": "done", "started_at": %d, "answered_at": %d, "ended_at": %d, "duration": 60, "user": {"id": 7}}`,
				i, at.Unix(), at.Unix()+5, at.Unix()+60))})
	}
	if err := pub.Publish(context.Background(), calls); err != nil {
		n.t.Fatal(err)
	}
}

// killPid sends SIGKILL to a process we did not start (the detached
// ClickHouse server).
func killPid(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
