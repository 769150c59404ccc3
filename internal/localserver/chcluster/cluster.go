package chcluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Node is one clickhouse-server of a cluster.
type Node struct {
	// Shard and Replica are the node's macros, from 1.
	Shard, Replica int
	// TCPPort and HTTPPort are the native and HTTP ports on 127.0.0.1.
	TCPPort, HTTPPort int
	// Dir holds the node's config, data and logs.
	Dir string

	interPort int
	cmd       *exec.Cmd
	done      chan struct{}
	killedAt  time.Time
}

// Name is the node's label, "s1r2" for shard 1 replica 2.
func (n *Node) Name() string { return fmt.Sprintf("s%dr%d", n.Shard, n.Replica) }

// Addr is the node's native protocol address.
func (n *Node) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.TCPPort)) }

// LogPath is the node's server log.
func (n *Node) LogPath() string { return filepath.Join(n.Dir, "log", "server.log") }

func (n *Node) config() string { return filepath.Join(n.Dir, "config.xml") }

// Cluster is a running ZooKeeper and its ClickHouse nodes.
type Cluster struct {
	cfg    Config
	zkPort int
	zk     *exec.Cmd
	zkDone chan struct{}
	nodes  []*Node
	mu     sync.Mutex
}

// New checks cfg and picks the cluster's ports; Start runs it.
func New(cfg Config) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	n := cfg.Shards * cfg.Replicas
	ports, err := freePorts(1 + 3*n)
	if err != nil {
		return nil, fmt.Errorf("picking the cluster's ports: %w", err)
	}
	c := &Cluster{cfg: cfg, zkPort: ports[0]}
	for i := 0; i < n; i++ {
		c.nodes = append(c.nodes, &Node{
			Shard: i/cfg.Replicas + 1, Replica: i%cfg.Replicas + 1,
			TCPPort: ports[1+3*i], HTTPPort: ports[2+3*i], interPort: ports[3+3*i],
			Dir: filepath.Join(cfg.Dir, fmt.Sprintf("n%d", i+1)),
		})
	}
	return c, nil
}

// freePorts asks the kernel for n distinct free loopback ports, holding
// them all open until it has them, so none is handed out twice.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Nodes returns the nodes, shard by shard: Nodes()[0] and [1] are shard 1.
func (c *Cluster) Nodes() []*Node { return c.nodes }

// Shards returns the number of shards.
func (c *Cluster) Shards() int { return c.cfg.Shards }

// Addrs returns every node's native address, shard by shard.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.Addr()
	}
	return out
}

// ZooKeeperAddr is ZooKeeper's client address.
func (c *Cluster) ZooKeeperAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.zkPort))
}

func (c *Cluster) zkConfig() string { return filepath.Join(c.cfg.Dir, "zk", "zoo.cfg") }

// Start writes the configs and starts ZooKeeper, then every node, and
// returns once ZooKeeper reports "Mode: standalone" and every node
// answers a query that reads ZooKeeper. On error what started is stopped.
func (c *Cluster) Start(ctx context.Context) error {
	if err := c.writeConfigs(); err != nil {
		return err
	}
	if err := c.startZooKeeper(ctx); err != nil {
		return err
	}
	for _, n := range c.nodes {
		if err := c.startNode(n); err != nil {
			_ = c.Close()
			return err
		}
	}
	for _, n := range c.nodes {
		if err := c.waitNode(ctx, n); err != nil {
			_ = c.Close()
			return err
		}
	}
	return nil
}

func (c *Cluster) startZooKeeper(ctx context.Context) error {
	javaBin, cp, err := c.cfg.java()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(c.cfg.Dir, "zk", "zk.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening the ZooKeeper log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(javaBin, "-Xms64m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", cp,
		"org.apache.zookeeper.server.quorum.QuorumPeerMain", c.zkConfig())
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting ZooKeeper (%s): %w", javaBin, err)
	}
	c.zk, c.zkDone = cmd, waitDone(cmd)
	if err := c.waitZooKeeper(ctx); err != nil {
		c.stop(c.zk, c.zkDone, syscall.SIGKILL)
		return err
	}
	return nil
}

func waitDone(cmd *exec.Cmd) chan struct{} {
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	return done
}

// waitZooKeeper polls srvr until ZooKeeper accepts sessions.
func (c *Cluster) waitZooKeeper(ctx context.Context) error {
	return c.poll(ctx, "ZooKeeper on "+c.ZooKeeperAddr(), c.zkDone, func() error {
		conn, err := net.DialTimeout("tcp", c.ZooKeeperAddr(), time.Second)
		if err != nil {
			return err
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
		if _, err := conn.Write([]byte("srvr")); err != nil {
			return err
		}
		b, _ := io.ReadAll(conn)
		if !strings.Contains(string(b), "Mode: standalone") {
			return fmt.Errorf("srvr answered %q", b)
		}
		return nil
	})
}

func (c *Cluster) startNode(n *Node) error {
	bin, err := c.cfg.binary()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(n.Dir, "log", "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening node %s's log: %w", n.Name(), err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--config-file="+n.config())
	cmd.Dir = n.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting node %s (%s): %w", n.Name(), bin, err)
	}
	n.cmd, n.done = cmd, waitDone(cmd)
	return nil
}

// waitNode polls over HTTP until the node answers and its ZooKeeper
// session is up: a node answers SELECT 1 before it, and 18.16 crashed
// (SIGSEGV in zkutil::ZooKeeper::createImpl) on an ON CLUSTER statement
// sent in between.
func (c *Cluster) waitNode(ctx context.Context, n *Node) error {
	u := fmt.Sprintf("http://127.0.0.1:%d/?query=%s", n.HTTPPort, url.QueryEscape("SELECT count() > 0 FROM system.zookeeper WHERE path = '/'"))
	return c.poll(ctx, "node "+n.Name()+" on "+n.Addr()+" (log "+n.LogPath()+")", n.done, func() error {
		resp, err := http.Get(u) //nolint:noctx // bounded by the poll's deadline
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(b)) != "1" {
			return fmt.Errorf("the ZooKeeper probe answered %d %q", resp.StatusCode, b)
		}
		return nil
	})
}

// poll runs check every 50 ms until it succeeds, the process exits, ctx
// ends or StartTimeout passes.
func (c *Cluster) poll(ctx context.Context, what string, exited chan struct{}, check func() error) error {
	deadline := time.Now().Add(c.cfg.StartTimeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("waiting for %s: the process exited (%v)", what, err)
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", what, ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: not ready after %v: %w", what, c.cfg.StartTimeout, err)
		}
	}
}

// Kill stops node i with SIGKILL, as a crash would: its ZooKeeper session
// lingers until SessionTimeout, so its peer sees it active until then.
func (c *Cluster) Kill(i int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.nodes[i]
	if n.cmd == nil {
		return fmt.Errorf("killing node %s: it is not running", n.Name())
	}
	c.stop(n.cmd, n.done, syscall.SIGKILL)
	n.cmd, n.killedAt = nil, time.Now()
	return nil
}

// Restart starts node i again (stopping it with SIGTERM first when it
// runs) and waits for SELECT 1. After a Kill it first waits out the old
// ZooKeeper session: a replica restarted before that stays inactive
// until the server's restart thread retries, about 10 s later.
func (c *Cluster) Restart(ctx context.Context, i int) error {
	c.mu.Lock()
	n := c.nodes[i]
	if n.cmd != nil {
		c.stop(n.cmd, n.done, syscall.SIGTERM)
		n.cmd = nil
	} else if wait := time.Until(n.killedAt.Add(c.cfg.SessionTimeout + time.Second)); wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			c.mu.Unlock()
			return fmt.Errorf("restarting node %s: %w", n.Name(), ctx.Err())
		}
	}
	err := c.startNode(n)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.waitNode(ctx, n)
}

// RestartZooKeeper stops ZooKeeper with SIGTERM and starts it again on
// the same port and data. While it is down, inserts into Replicated
// tables fail ("Table is in readonly mode") and reads work.
func (c *Cluster) RestartZooKeeper(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stop(c.zk, c.zkDone, syscall.SIGTERM)
	return c.startZooKeeper(ctx)
}

// StopZooKeeper stops ZooKeeper with SIGTERM, for a test of what works
// without it; RestartZooKeeper starts it again.
func (c *Cluster) StopZooKeeper() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stop(c.zk, c.zkDone, syscall.SIGTERM)
}

// stop signals a process and waits for it, escalating to SIGKILL after 10 s.
func (c *Cluster) stop(cmd *exec.Cmd, done chan struct{}, sig syscall.Signal) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// Close stops every node with SIGKILL (test data is thrown away), then
// ZooKeeper.
func (c *Cluster) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nodes {
		c.stop(n.cmd, n.done, syscall.SIGKILL)
		n.cmd = nil
	}
	c.stop(c.zk, c.zkDone, syscall.SIGKILL)
	c.zk = nil
	return nil
}
