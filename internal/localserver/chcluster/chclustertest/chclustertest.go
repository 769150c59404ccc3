// Package chclustertest starts a chcluster cluster for a test.

package chclustertest

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/localserver/chcluster"
)

// EnvCI names the environment variable CI systems set: with it, a test
// that needs a cluster fails when ZooKeeper is missing instead of skipping.
const EnvCI = "CI"

// ForTest starts a cluster of 2 shards × 2 replicas in t.TempDir() and
// stops it when t ends. Without the ZooKeeper jar it skips with the
// install command, except under CI, where it fails: CI must run the
// cluster tests (.ci/run installs ZooKeeper).
func ForTest(t testing.TB) *chcluster.Cluster {
	t.Helper()
	cfg := chcluster.Config{Dir: t.TempDir()}
	if err := cfg.Available(); err != nil {
		if errors.Is(err, chcluster.ErrZooKeeperNotFound) && os.Getenv(EnvCI) == "" {
			t.Skipf("this test needs a ClickHouse cluster: %v", err)
		}
		t.Fatalf("this test needs a ClickHouse cluster: %v", err)
	}
	c, err := chcluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("starting the cluster: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
