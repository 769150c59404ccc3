//go:build linux

package scaleout

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/localserver/chserver"
)

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
func binary(t testing.TB) string {
	t.Helper()
	if os.Getenv(chserver.EnvSkip) == "1" {
		t.Skip(chserver.EnvSkip + "=1: these tests run the local ClickHouse server")
	}
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "phonesignals-scaleout-bin-")
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

// member is one `phonesignals run` process.
type member struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
	log  string
}

// command is the binary with the rig's broker list, the given ClickHouse
// address and the rig's database and key; no PHONESIGNALS_ setting of the
// environment leaks in.
func (r *rig) command(chAddr string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary(r.t), append([]string{"--clickhouse", chAddr, "--database", r.target.Database,
		"--brokers", strings.Join(r.emb.Addrs(), ","), "--data-dir", filepath.Join(r.t.TempDir(), "data"), "--log-level", "info"}, args...)...)
	env := []string{"PHONESIGNALS_MASTER_KEY=" + r.key}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PHONESIGNALS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	// Its own process group, so a SIGKILL hits the command and not the
	// test; killed with the test binary, so a test killed on timeout
	// leaves no run behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// start runs `run` against ClickHouse at chAddr (a proxy or the server),
// its output in a log file of the test.
func (r *rig) start(name, chAddr string) *member {
	r.t.Helper()
	m := &member{name: name, cmd: r.command(chAddr, "run", "--max-batch", "400", "--max-wait", "200ms"), done: make(chan struct{}),
		log: filepath.Join(r.t.TempDir(), name+".log")}
	f, err := os.Create(m.log)
	if err != nil {
		r.t.Fatal(err)
	}
	m.cmd.Stdout, m.cmd.Stderr = f, f
	if err := m.cmd.Start(); err != nil {
		f.Close()
		r.t.Fatal(err)
	}
	go func() {
		m.err = m.cmd.Wait()
		f.Close()
		close(m.done)
	}()
	r.t.Cleanup(m.kill)
	r.logs = append(r.logs, func() string {
		// The whole log outlives the test's directory, for reading.
		kept := filepath.Join(os.TempDir(), fmt.Sprintf("scaleout-%d-%s.log", os.Getpid(), name))
		if b, err := os.ReadFile(m.log); err == nil {
			_ = os.WriteFile(kept, b, 0o600)
		}
		return fmt.Sprintf("\n--- %s (running %v, whole log in %s):\n%s", m.name, m.running(), kept, m.tail())
	})
	return m
}

func (m *member) pid() int { return m.cmd.Process.Pid }

func (m *member) running() bool {
	select {
	case <-m.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the exit.
func (m *member) kill() {
	if m.running() {
		_ = syscall.Kill(-m.pid(), syscall.SIGKILL)
	}
	<-m.done
}

// stop sends SIGTERM and waits up to d for a clean exit (the loader's
// Close refreshes what is still dirty).
func (m *member) stop(d time.Duration) error {
	if !m.running() {
		return fmt.Errorf("%s exited before it was stopped: %v\n%s", m.name, m.err, m.tail())
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
		if m.err != nil {
			return fmt.Errorf("%s on SIGTERM: %v\n%s", m.name, m.err, m.tail())
		}
		return nil
	case <-time.After(d):
		m.kill()
		return fmt.Errorf("%s did not exit within %s of SIGTERM\n%s", m.name, d, m.tail())
	}
}

func (m *member) tail() string {
	b, _ := os.ReadFile(m.log)
	l := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(l[max(0, len(l)-25):], "\n")
}

// cli runs a command to completion against the server itself.
func (r *rig) cli(args ...string) (string, error) {
	cmd := r.command(r.target.Addr, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
