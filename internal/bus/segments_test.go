package bus

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// writeSegments produces n single-record batches to one partition of a
// broker with a data dir and returns the segment file.
func writeSegments(t *testing.T, dir string, n int) string {
	t.Helper()
	emb, err := StartEmbedded(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := EnsureTopics(ctx, emb.Config()); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(append(emb.Config().Opts(), kgo.DefaultProduceTopic(TopicDead),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: []byte(strings.Repeat("x", 100))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	emb.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "partitions", TopicDead+"-0", "*.dat"))
	if len(segs) != 1 {
		t.Fatalf("segments %v, want one", segs)
	}
	return segs[0]
}

// Damaged broker data is an error at start, naming the file, instead of
// records dropped silently; a torn last write (a killed broker) is not.
func TestEmbeddedRefusesCorruptSegments(t *testing.T) {
	dir := t.TempDir()
	seg := writeSegments(t, dir, 20)
	raw, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	// A torn last write: the broker starts.
	if err := os.WriteFile(seg, raw[:len(raw)-7], 0o644); err != nil {
		t.Fatal(err)
	}
	emb, err := StartEmbedded(dir, 0)
	if err != nil {
		t.Fatalf("start after a torn last write: %v", err)
	}
	emb.Close()

	dir2 := t.TempDir()
	seg = writeSegments(t, dir2, 20)
	raw, _ = os.ReadFile(seg)
	mid := len(raw) / 2
	for i := mid; i < mid+32; i++ {
		raw[i] ^= 0xff
	}
	if err := os.WriteFile(seg, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = StartEmbedded(dir2, 0)
	if !errors.Is(err, ErrCorruptData) || !strings.Contains(err.Error(), seg) || !strings.Contains(err.Error(), "phonesignals sync") {
		t.Fatalf("start on a damaged segment: %v, want ErrCorruptData naming %s and the fix", err, seg)
	}
	// Nothing was truncated: the damage is still there for a restore.
	if after, _ := os.ReadFile(seg); len(after) != len(raw) {
		t.Fatalf("segment went from %d to %d bytes", len(raw), len(after))
	}
}
