//go:build linux

package chaos

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// webhook delivers a call.ended event for call id to `webhooks serve`,
// retrying as Aircall does until it is answered 200, for up to d.
func webhook(t *testing.T, addr string, id int, d time.Duration) {
	t.Helper()
	at := time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC)
	body := fmt.Sprintf(`{"resource":"call","event":"call.ended","timestamp":%d,"token":"wh-token","data":{"id": %d, "direction": "inbound", "status": "done", "started_at": %d, "answered_at": %d, "ended_at": %d, "duration": 60, "user": {"id": 7}}}`,
		at.Unix()+100, id, at.Unix(), at.Unix()+5, at.Unix()+60)
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(d)
	last := ""
	for time.Now().Before(deadline) {
		resp, err := client.Post("http://"+addr+"/", "application/json", strings.NewReader(body))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("webhook for call %d not accepted within %s: last answer %s", id, d, last)
}

// TestRunFollowsRestartedParts: a continuous `run` and `webhooks serve`
// keep working when the local ClickHouse is stopped and started again on
// other ports (its own were taken meanwhile), and when the broker is killed
// and started again, within seconds of each coming back. Before, both
// retried the old ClickHouse port forever.
func TestRunFollowsRestartedParts(t *testing.T) {
	n := newNode(t)
	broker := n.start("broker")
	addr := n.brokerAddr()
	n.ok("migrate")
	dir := t.TempDir()
	for name, v := range map[string]string{"tok": "tok", "wh": "wh-token"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	n.ok("org", "add", "--org", "acme", "--provider", "aircall")
	n.ok("org", "connect", "--org", "acme", "--api-id", "id", "--api-token-file", filepath.Join(dir, "tok"),
		"--webhook-token-file", filepath.Join(dir, "wh"), "--api-url", "http://127.0.0.1:1/v1", "--no-verify")
	ln0, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	wh := ln0.Addr().String()
	ln0.Close()
	hooks := n.start("webhooks", "serve", "--listen", wh, "--transform=false")
	run := n.start("run")
	n.publish(1, 10)
	webhook(t, wh, 10, 30*time.Second)
	n.waitLoaded(10, 60*time.Second, "first calls", run, broker, hooks)

	// ClickHouse stopped, its port taken meanwhile: it comes back on
	// another one, and run must follow it there.
	old := n.server()
	n.ok("clickhouse", "stop")
	ln, err := net.Listen("tcp", old.Addr())
	if err != nil {
		t.Fatalf("taking the old port %s: %v", old.Addr(), err)
	}
	n.ok("clickhouse", "start")
	moved := n.server()
	if moved.TCPPort() == old.TCPPort() {
		t.Fatal("the server came back on a port another program holds")
	}
	n.publish(11, 20)
	webhook(t, wh, 20, 30*time.Second)
	n.waitLoaded(20, 30*time.Second, "after ClickHouse moved to another port", run, broker, hooks)
	ln.Close()

	// Stopped and started again: the same ports.
	n.ok("clickhouse", "stop")
	n.ok("clickhouse", "start")
	if again := n.server(); again.TCPPort() != moved.TCPPort() || again.HTTPPort() != moved.HTTPPort() {
		t.Fatalf("restarted on %d/%d, want its ports %d/%d", again.TCPPort(), again.HTTPPort(), moved.TCPPort(), moved.HTTPPort())
	}
	n.publish(21, 30)
	webhook(t, wh, 30, 30*time.Second)
	n.waitLoaded(30, 30*time.Second, "after a ClickHouse restart", run, broker, hooks)

	// The broker killed and started again: the same address.
	broker.kill()
	time.Sleep(time.Second)
	broker = n.start("broker")
	if got := n.brokerAddr(); got != addr {
		t.Fatalf("the broker came back on %s, want %s", got, addr)
	}
	n.publish(31, 40)
	webhook(t, wh, 40, 30*time.Second)
	n.waitLoaded(40, 60*time.Second, "after the broker restarted", run, broker, hooks)

	// Killed again, and its port taken meanwhile: the next broker gets
	// another port, and the clients follow it through the data dir.
	broker.kill()
	held, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("taking the broker's port %s: %v", addr, err)
	}
	defer held.Close()
	broker = n.start("broker")
	time.Sleep(500 * time.Millisecond)
	if got := n.brokerAddr(); got == addr {
		t.Fatalf("the broker came back on %s, a port another program holds", got)
	}
	n.publish(41, 50)
	webhook(t, wh, 50, 30*time.Second)
	n.waitLoaded(50, 60*time.Second, "after the broker moved to another port", run, broker, hooks)
	for _, p := range []*proc{run, hooks} {
		if !p.running() {
			t.Fatalf("%s exited:\n%s", p.name, p.output())
		}
	}
	if err := hooks.stop(30 * time.Second); err != nil {
		t.Fatalf("webhooks serve on SIGTERM: %v\n%s", err, tail(hooks.output(), 20))
	}
	if err := run.stop(30 * time.Second); err != nil {
		t.Fatalf("run on SIGTERM: %v\n%s", err, tail(run.output(), 20))
	}
	_ = broker.stop(10 * time.Second)
}
