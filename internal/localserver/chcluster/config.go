package chcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// Name is the remote_servers cluster whose shards hold Replicas replicas
// with internal_replication: the cluster of Distributed tables and of ON
// CLUSTER DDL on Replicated tables.
const Name = "ps"

// AllName is the remote_servers cluster with every node as a shard of one
// replica: 18.16 refuses ALTER ... ON CLUSTER Name on a table that is not
// replicated (code 371), so DDL on Distributed tables goes through it.
const AllName = "ps_all"

// DefaultZooKeeperJar is where Debian's zookeeper package puts the server
// jar; its manifest Class-Path pulls in its dependencies.
const DefaultZooKeeperJar = "/usr/share/java/zookeeper.jar"

// InstallCommand installs what a cluster needs besides clickhouse-server.
const InstallCommand = "apt-get install -y zookeeper"

// ErrZooKeeperNotFound is returned when the ZooKeeper jar or java is missing.
var ErrZooKeeperNotFound = errors.New("chcluster: ZooKeeper not found")

// Config says where a cluster keeps its state and what it runs.
type Config struct {
	// Dir holds every node's config, data and logs (required; a test
	// passes t.TempDir()).
	Dir string
	// Shards is the number of shards (default 2).
	Shards int
	// Replicas is the number of replicas per shard (default 2).
	Replicas int
	// Binary is the clickhouse-server executable (default: found on PATH
	// or /usr/sbin/clickhouse-server).
	Binary string
	// ZooKeeperJar is the ZooKeeper server jar (default
	// DefaultZooKeeperJar); slf4j-simple.jar beside it is added for logs.
	ZooKeeperJar string
	// Java is the java executable (default: java on PATH).
	Java string
	// SessionTimeout is the servers' ZooKeeper session timeout (default
	// 5 s, against ClickHouse's 30 s): a replica killed with kill -9 is
	// seen inactive, and a restarted one reactivates, after it expires.
	SessionTimeout time.Duration
	// StartTimeout bounds the wait for each process to be ready (default 60 s).
	StartTimeout time.Duration
}

// Validate reports every invalid field, each by name.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("chcluster.Config.Dir is empty: set a directory for the cluster's state (a test's t.TempDir())"))
	}
	if c.Shards < 0 || c.Shards > 9 {
		errs = append(errs, fmt.Errorf("chcluster.Config.Shards %d: use 1 to 9 (0 means 2)", c.Shards))
	}
	if c.Replicas < 0 || c.Replicas > 9 {
		errs = append(errs, fmt.Errorf("chcluster.Config.Replicas %d: use 1 to 9 (0 means 2)", c.Replicas))
	}
	if c.SessionTimeout < 0 {
		errs = append(errs, fmt.Errorf("chcluster.Config.SessionTimeout %v is negative: use 0 for 5 s", c.SessionTimeout))
	}
	if c.StartTimeout < 0 {
		errs = append(errs, fmt.Errorf("chcluster.Config.StartTimeout %v is negative: use 0 for 60 s", c.StartTimeout))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Shards == 0 {
		c.Shards = 2
	}
	if c.Replicas == 0 {
		c.Replicas = 2
	}
	if c.SessionTimeout == 0 {
		c.SessionTimeout = 5 * time.Second
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = time.Minute
	}
	if c.ZooKeeperJar == "" {
		c.ZooKeeperJar = DefaultZooKeeperJar
	}
	return c
}

// Available reports why a cluster cannot start here (nil when it can):
// clickhouse-server, java or the ZooKeeper jar missing.
func (c Config) Available() error {
	c = c.withDefaults()
	if _, err := c.binary(); err != nil {
		return err
	}
	_, _, err := c.java()
	return err
}

func (c Config) binary() (string, error) {
	if c.Binary != "" {
		return c.Binary, nil
	}
	if p, err := exec.LookPath("clickhouse-server"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/clickhouse-server"); err == nil {
		return "/usr/sbin/clickhouse-server", nil
	}
	return "", errors.New("chcluster: clickhouse-server not found on PATH or in /usr/sbin: install it (apt-get install -y clickhouse-server), or set chcluster.Config.Binary")
}

// java returns the java executable and the ZooKeeper class path.
func (c Config) java() (javaBin, classPath string, err error) {
	if _, err := os.Stat(c.ZooKeeperJar); err != nil {
		return "", "", fmt.Errorf("%w: %s is missing: install it (as root: %s), or set chcluster.Config.ZooKeeperJar", ErrZooKeeperNotFound, c.ZooKeeperJar, InstallCommand)
	}
	javaBin = c.Java
	if javaBin == "" {
		if javaBin, err = exec.LookPath("java"); err != nil {
			return "", "", fmt.Errorf("%w: java is not on PATH: install it (%s pulls in a JRE), or set chcluster.Config.Java", ErrZooKeeperNotFound, InstallCommand)
		}
	}
	classPath = c.ZooKeeperJar
	if p := filepath.Join(filepath.Dir(c.ZooKeeperJar), "slf4j-simple.jar"); fileExists(p) {
		classPath += ":" + p
	}
	return javaBin, classPath, nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
