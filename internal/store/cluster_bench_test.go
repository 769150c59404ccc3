package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/phonesignals/phonesignals/internal/localserver/chcluster"
	"github.com/phonesignals/phonesignals/internal/localserver/chcluster/chclustertest"
	"github.com/phonesignals/phonesignals/internal/localserver/chserver/chservertest"
	"github.com/phonesignals/phonesignals/internal/store"
	aggregates "github.com/phonesignals/phonesignals/load/aggregate"
)

// BenchmarkClusterReviewScale measures, in one run on ClickHouse 18.16,
// an org's review (one employee with its cohort baseline, and every
// employee with the cohort baselines) on a cluster of 2 shards × 2
// replicas holding 4M calls of 50 other orgs, over the same review on a
// single server holding that org alone (cluster_x, target <= 1.5). The
// numbers must be identical. Calls are generated as BenchmarkReviewScale
// generates them, through the Distributed tables on the cluster.
func BenchmarkClusterReviewScale(b *testing.B) {
	ctx := context.Background()
	c := chclustertest.ForTest(b)
	aug := time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)

	single := openScaleStore(ctx, b, store.Config{Addr: chservertest.Shared(b).Addr(), Database: chservertest.Database(b, chservertest.Shared(b))})
	genRoster(ctx, b, single, "acme", 42)
	genCalls(ctx, b, single, "'acme'", 52000, 45, 0, aug, 90)
	aggregateWith(ctx, b, single, "org = 'acme'")
	settle(ctx, b, single)

	cl := openScaleStore(ctx, b, store.Config{Addr: c.Nodes()[0].Addr(), Cluster: chcluster.Name, ClusterAll: chcluster.AllName})
	genRoster(ctx, b, cl, "acme", 42)
	genCalls(ctx, b, cl, "'acme'", 52000, 45, 0, aug, 90)
	genCalls(ctx, b, cl, "concat('o', toString(number % 50))", 4_000_000, 100, 100_000_000, aug, 90)
	aggregateWith(ctx, b, cl, "org = 'acme' OR org LIKE 'o%'")
	settleCluster(ctx, b, c)

	one := func(st *store.Store) func() error {
		return func() error {
			m, err := st.Review(ctx, "acme", scaleCycle.ID, "E1")
			if err != nil {
				return err
			}
			_, err = st.Baseline(ctx, "acme", scaleCycle.ID, m.Cohort)
			return err
		}
	}
	all := func(st *store.Store) func() error {
		return func() error {
			if _, err := st.CycleMetrics(ctx, "acme", scaleCycle.ID); err != nil {
				return err
			}
			_, err := st.CycleBaselines(ctx, "acme", scaleCycle.ID)
			return err
		}
	}
	sameReviews(ctx, b, single, cl)
	const reps = 9
	singleOne, clusterOne := timeIt(b, reps, one(single)), timeIt(b, reps, one(cl))
	singleAll, clusterAll := timeIt(b, reps, all(single)), timeIt(b, reps, all(cl))

	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(singleOne), "single_ms")
	b.ReportMetric(ms(clusterOne), "cluster_4M_ms")
	b.ReportMetric(float64(clusterOne)/float64(singleOne), "cluster_x")
	b.ReportMetric(float64(clusterAll)/float64(singleAll), "all_employees_cluster_x")
	b.Logf("acme's review+baseline of one employee (best of %d): single server %v, cluster with 4M other calls %v; all employees: %v -> %v",
		reps, singleOne, clusterOne, singleAll, clusterAll)
}

func openScaleStore(ctx context.Context, b *testing.B, cfg store.Config) *store.Store {
	b.Helper()
	st, err := store.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return st
}

func aggregateWith(ctx context.Context, b *testing.B, st *store.Store, orgs string) {
	b.Helper()
	agg, err := aggregates.New(st.Conn(), nil)
	if err != nil {
		b.Fatal(err)
	}
	aggregate(ctx, b, st, agg, orgs)
}

// sameReviews fails unless both stores give acme identical numbers, for
// every employee and cohort.
func sameReviews(ctx context.Context, b *testing.B, single, cl *store.Store) {
	b.Helper()
	for _, st := range []*store.Store{single, cl} {
		if m, err := st.Review(ctx, "acme", scaleCycle.ID, "E1"); err != nil || m.TotalCalls == 0 {
			b.Fatalf("acme's review of E1: %+v, %v (want calls)", m, err)
		}
	}
	ms, err := single.CycleMetrics(ctx, "acme", scaleCycle.ID)
	if err != nil {
		b.Fatal(err)
	}
	mc, err := cl.CycleMetrics(ctx, "acme", scaleCycle.ID)
	if err != nil {
		b.Fatal(err)
	}
	if !reflect.DeepEqual(ms, mc) {
		b.Fatalf("acme's cycle metrics differ: single server %d rows %+v, cluster %d rows %+v", len(ms), ms[:min(2, len(ms))], len(mc), mc[:min(2, len(mc))])
	}
	bs, err := single.CycleBaselines(ctx, "acme", scaleCycle.ID)
	if err != nil {
		b.Fatal(err)
	}
	bc, err := cl.CycleBaselines(ctx, "acme", scaleCycle.ID)
	if err != nil {
		b.Fatal(err)
	}
	if !reflect.DeepEqual(bs, bc) {
		b.Fatalf("acme's cohort baselines differ: single server %+v, cluster %+v", bs, bc)
	}
}

// settleCluster waits (up to three minutes) until no node merges or
// fetches parts.
func settleCluster(ctx context.Context, b *testing.B, c *chcluster.Cluster) {
	b.Helper()
	for _, n := range c.Nodes() {
		st, err := store.Open(ctx, store.Config{Addr: n.Addr(), NoCreate: true})
		if err != nil {
			b.Fatal(err)
		}
		for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			var busy uint64
			if err := st.Conn().QueryRow(ctx, "SELECT (SELECT count() FROM system.merges) + (SELECT count() FROM system.replication_queue)").Scan(&busy); err != nil {
				b.Fatal(err)
			}
			if busy == 0 {
				break
			}
		}
		st.Close()
	}
}
