package chaos

import (
	"net"
	"testing"
	"time"
)

// TestRunFollowsRestartedParts: a continuous `run` keeps loading when the
// local ClickHouse is stopped and started again on other ports (its own
// were taken meanwhile), and when the broker is killed and started again,
// within seconds of each coming back. Before, run retried the old
// ClickHouse port forever.
func TestRunFollowsRestartedParts(t *testing.T) {
	n := newNode(t)
	broker := n.start("broker")
	addr := n.brokerAddr()
	n.ok("migrate")
	run := n.start("run")
	n.publish(1, 11)
	n.waitLoaded(10, 60*time.Second, "first calls", run, broker)

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
	n.publish(11, 21)
	n.waitLoaded(20, 30*time.Second, "after ClickHouse moved to another port", run, broker)
	ln.Close()

	// Stopped and started again: the same ports.
	n.ok("clickhouse", "stop")
	n.ok("clickhouse", "start")
	if again := n.server(); again.TCPPort() != moved.TCPPort() || again.HTTPPort() != moved.HTTPPort() {
		t.Fatalf("restarted on %d/%d, want its ports %d/%d", again.TCPPort(), again.HTTPPort(), moved.TCPPort(), moved.HTTPPort())
	}
	n.publish(21, 31)
	n.waitLoaded(30, 30*time.Second, "after a ClickHouse restart", run, broker)

	// The broker killed and started again: the same address.
	broker.kill()
	time.Sleep(time.Second)
	broker = n.start("broker")
	if got := n.brokerAddr(); got != addr {
		t.Fatalf("the broker came back on %s, want %s", got, addr)
	}
	n.publish(31, 41)
	n.waitLoaded(40, 60*time.Second, "after the broker restarted", run, broker)
	if !run.running() {
		t.Fatalf("run exited:\n%s", run.output())
	}
	if err := run.stop(30 * time.Second); err != nil {
		t.Fatalf("run on SIGTERM: %v\n%s", err, tail(run.output(), 20))
	}
	_ = broker.stop(10 * time.Second)
}
