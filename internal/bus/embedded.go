package bus

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// EmbeddedSegmentBytes is the segment size of the embedded broker's
// topics (Kafka's default is 1 GiB, kfake's 100 MiB).
const EmbeddedSegmentBytes = 16 << 20

// EmbeddedRawRetention is how long the embedded broker keeps raw calls
// (a real cluster keeps them 30 days): kfake is meant for one machine, and
// a reload of older calls can sync them again from the provider.
const EmbeddedRawRetention = 7 * 24 * time.Hour

// Embedded is an in-process Kafka broker (franz-go kfake) that speaks the
// real protocol, for the demo, the CLI's defaults and tests. With a data
// dir it keeps topics, records and committed offsets across restarts, so
// `sync` and `run` can be separate processes.
type Embedded struct {
	c *kfake.Cluster
	// lns are the brokers' listeners in start order (broker i is node i),
	// tracked so StopBroker can cut the connections already open.
	lns []*trackedListener
	mu  sync.Mutex // guards lns
}

// StartEmbedded starts a one-broker cluster. dataDir "" keeps everything in
// memory; port 0 picks a free port.
func StartEmbedded(dataDir string, port int) (*Embedded, error) {
	return startEmbedded(dataDir, kfake.NumBrokers(1), kfake.Ports(port))
}

// StartEmbeddedBrokers starts an in-memory cluster of n brokers on free
// ports, for tests of clients that must survive a group coordinator or
// partition leader on another broker (the serve replicas) or a broker
// stopped under them (StopBroker). Topics created with the default
// replication factor (EnsureTopics) list min(3, n) replicas, all in sync:
// kfake keeps one log per partition that every broker serves.
func StartEmbeddedBrokers(n int) (*Embedded, error) {
	return startEmbedded("", kfake.NumBrokers(n))
}

func startEmbedded(dataDir string, brokers ...kfake.Opt) (*Embedded, error) {
	e := &Embedded{}
	listen := func(network, addr string) (net.Listener, error) {
		ln, err := net.Listen(network, addr)
		if err != nil {
			return nil, err
		}
		t := &trackedListener{Listener: ln, conns: map[*trackedConn]struct{}{}}
		e.mu.Lock()
		e.lns = append(e.lns, t)
		e.mu.Unlock()
		return t, nil
	}
	opts := append(brokers, kfake.ListenFn(listen),
		kfake.DefaultNumPartitions(rawPartitions),
		kfake.GroupMinSessionTimeout(time.Second),
		kfake.BrokerConfigs(map[string]string{
			// kfake reads every segment of its data dir when it starts:
			// small segments keep that read (and the memory it takes at
			// once) small, and let retention drop old calls sooner.
			"log.segment.bytes": strconv.Itoa(EmbeddedSegmentBytes),
			// Retention runs every minute instead of every hour.
			"log.cleaner.backoff.ms": "60000",
		}),
	)
	if dataDir != "" {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("creating kafka data dir %s: %w", dataDir, err)
		}
		// The broker truncates a damaged segment at the damage and goes on
		// without it; refuse to start instead, so lost records surface.
		damage, err := CheckSegments(dataDir)
		if err != nil {
			return nil, err
		}
		if len(damage) > 0 {
			return nil, corruptError(dataDir, damage)
		}
		opts = append(opts, kfake.DataDir(dataDir))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting embedded kafka broker (data dir %q): %w", dataDir, err)
	}
	e.c = c
	return e, nil
}

func corruptError(dataDir string, damage []SegmentDamage) error {
	var lines string
	for _, d := range damage {
		lines += "\n  " + d.String()
	}
	return fmt.Errorf("%w under %s; the broker would drop the damaged records and those after them:%s\n"+
		"restore the data dir from a backup, or move each damaged segment file away to start without its records; "+
		"then `phonesignals sync` fetches again the windows whose calls never reached ClickHouse (`phonesignals doctor --org ORG` lists them)",
		ErrCorruptData, dataDir, lines)
}

// Config is a client config pointing at the embedded broker.
func (e *Embedded) Config() Config { return Config{Brokers: e.c.ListenAddrs()} }

// Addrs are the broker addresses.
func (e *Embedded) Addrs() []string { return e.c.ListenAddrs() }

// Close stops the broker, flushing its data dir.
func (e *Embedded) Close() { e.c.Close() }

// RestartBroker starts broker i, stopped by StopBroker, again on its old
// address, as a broker coming back after a crash; the leadership of every
// partition is shuffled over the brokers again.
func (e *Embedded) RestartBroker(i int) error {
	if i < 0 || i >= len(e.lns) {
		return fmt.Errorf("restarting embedded broker %d: there are brokers 0 to %d", i, len(e.lns)-1)
	}
	_, port, err := net.SplitHostPort(e.lns[i].Addr().String())
	if err != nil {
		return fmt.Errorf("restarting embedded broker %d: %w", i, err)
	}
	p, _ := strconv.Atoi(port)
	if _, _, err := e.c.AddNode(int32(i), p); err != nil {
		return fmt.Errorf("restarting embedded broker %d on port %d: %w", i, p, err)
	}
	// The new listener went to the end of lns; it is broker i's now.
	e.mu.Lock()
	e.lns[i] = e.lns[len(e.lns)-1]
	e.lns = e.lns[:len(e.lns)-1]
	e.mu.Unlock()
	return nil
}

// CoordinatorNode is the broker coordinating group (or a transactional
// id), -1 if there is none.
func (e *Embedded) CoordinatorNode(group string) int { return int(e.c.CoordinatorFor(group)) }

// LeaderNode is the broker leading partition of topic, -1 if the partition
// does not exist.
func (e *Embedded) LeaderNode(topic string, partition int32) int {
	return int(e.c.LeaderFor(topic, partition))
}

// Cluster is the kfake cluster underneath, for tests that hold or fail
// chosen requests (kfake's Control, ControlKey and Fault) to stop a
// client at a chosen point of its protocol.
func (e *Embedded) Cluster() *kfake.Cluster { return e.c }

// StopBroker stops broker i (0-based, in the order of Addrs at start) as
// a crash would: its port stops accepting, every connection open to it is
// cut, and the leadership of its partitions and the group and transaction
// coordinators it held move to the brokers left, which already hold every
// record (kfake's replicas are always in sync). The last broker cannot be
// stopped.
func (e *Embedded) StopBroker(i int) error {
	if i < 0 || i >= len(e.lns) {
		return fmt.Errorf("stopping embedded broker %d: there are brokers 0 to %d", i, len(e.lns)-1)
	}
	if err := e.c.RemoveNode(int32(i)); err != nil {
		return fmt.Errorf("stopping embedded broker %d: %w", i, err)
	}
	e.mu.Lock()
	ln := e.lns[i]
	e.mu.Unlock()
	ln.cut()
	return nil
}

// trackedListener remembers the connections it accepted, so a stopped
// broker can cut them: kfake's RemoveNode only closes the listener, and
// clients would go on talking to a broker that is gone.
type trackedListener struct {
	net.Listener
	mu     sync.Mutex
	conns  map[*trackedConn]struct{}
	closed bool
}

// Accept hands out connections and remembers them; once cut, it refuses.
func (l *trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		c.Close()
		return nil, errors.New("embedded broker stopped")
	}
	tc := &trackedConn{Conn: c, l: l}
	l.conns[tc] = struct{}{}
	return tc, nil
}

// trackedConn forgets itself when closed, so a long-running broker does
// not keep every connection it ever accepted.
type trackedConn struct {
	net.Conn
	l *trackedListener
}

// Close closes the connection and forgets it.
func (c *trackedConn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// cut closes the listener and every connection it accepted.
func (l *trackedListener) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	_ = l.Listener.Close()
	for c := range l.conns {
		_ = c.Conn.Close()
	}
	l.conns = map[*trackedConn]struct{}{}
}
