package bus

import (
	"fmt"
	"os"
	"strconv"
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
}

// StartEmbedded starts a one-broker cluster. dataDir "" keeps everything in
// memory; port 0 picks a free port.
func StartEmbedded(dataDir string, port int) (*Embedded, error) {
	return startEmbedded(dataDir, kfake.NumBrokers(1), kfake.Ports(port))
}

// StartEmbeddedBrokers starts an in-memory cluster of n brokers on free
// ports, for tests of clients that must survive a group coordinator or
// partition leader on another broker (the serve replicas).
func StartEmbeddedBrokers(n int) (*Embedded, error) {
	return startEmbedded("", kfake.NumBrokers(n))
}

func startEmbedded(dataDir string, brokers ...kfake.Opt) (*Embedded, error) {
	opts := append(brokers,
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
	return &Embedded{c: c}, nil
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
