package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

// unsatisfiedQuorum is ClickHouse's UNSATISFIED_QUORUM_FOR_PREVIOUS_WRITE:
// before 20.10 (no insert_quorum_parallel) a shard takes one quorum insert
// per table at a time, and refuses another ("Another quorum insert has
// been already started") until the second replica confirmed the first.
// 18.16 refuses it even for a Distributed insert's empty block on a shard
// the rows do not go to, so two refresh statements of different orgs, or
// two loaders, collide.
const unsatisfiedQuorum = 286

// quorumWait bounds how long a statement waits out other quorum inserts:
// each holds the shard for one insert and one replica fetch, milliseconds
// to seconds; a shard still busy after this is an outage.
const quorumWait = 2 * time.Minute

// Exec runs a statement through the Distributed tables, again while a
// shard refuses it for another quorum insert in flight. phonesignals'
// INSERT ... SELECT statements (the refresh, the marks) are idempotent: a
// shard that took the rows before another refused them deduplicates the
// same block, and the versioned reads count a row once.
func (c *routedConn) Exec(ctx context.Context, query string, args ...any) error {
	wait := 20 * time.Millisecond
	deadline := time.Now().Add(quorumWait)
	for attempt := 1; ; attempt++ {
		err := c.Conn.Exec(ctx, query, args...)
		var ex *proto.Exception
		if err == nil || !errors.As(err, &ex) || ex.Code != unsatisfiedQuorum {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("a shard refused the statement for %v (%d attempts) while other quorum inserts were unconfirmed (is a replica of it down or lagging?): %w", quorumWait, attempt, err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}
