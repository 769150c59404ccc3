// Package dlq re-drives dead letters: raw call records the transform could
// not use, kept sealed on the dead-letter topic with their reason. After
// the cause is fixed (a decoder bug, a wrong master key in an old version),
// Replay publishes them to the raw topic again, once each: the replays are
// recorded in ClickHouse by the raw record's position, so replaying twice
// publishes nothing the second time, and the versioned views count a call
// once even if it was loaded before.
package dlq
