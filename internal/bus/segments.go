package bus

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// SegmentDamage is a record batch of the embedded broker's data dir that
// is whole on disk but does not check out: the broker would drop it and
// every record after it in the segment, silently.
type SegmentDamage struct {
	// File is the segment file.
	File string
	// Pos is the byte position of the damaged batch.
	Pos int
	// Lost is how many bytes from Pos on the broker would drop.
	Lost int
	// Why says what is wrong.
	Why string
}

func (d SegmentDamage) String() string {
	return fmt.Sprintf("%s at byte %d: %s (%d bytes from there on would be dropped)", d.File, d.Pos, d.Why, d.Lost)
}

// ErrCorruptData says the embedded broker's data dir holds damaged records.
var ErrCorruptData = errors.New("embedded kafka data is corrupt")

// CheckSegments reads every segment of the embedded broker's data dir and
// reports batches that are whole but damaged (CRC mismatch, impossible
// length). A batch cut short at the end of a segment is the torn last
// write of a killed broker, not damage: the broker drops it and the
// producer was never acknowledged, so nothing acknowledged is lost.
func CheckSegments(dataDir string) ([]SegmentDamage, error) {
	files, err := filepath.Glob(filepath.Join(dataDir, "partitions", "*", "*.dat"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []SegmentDamage
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading kafka segment %s: %w", f, err)
		}
		if d, ok := checkSegment(raw); ok {
			d.File = f
			out = append(out, d)
		}
	}
	return out, nil
}

// checkSegment walks the RecordBatches of one segment (base offset 8
// bytes, length 4, then length bytes with the CRC-32C at 17..21 of the
// batch covering the bytes after it).
func checkSegment(raw []byte) (SegmentDamage, bool) {
	pos := 0
	for pos+12 <= len(raw) {
		n := int(int32(binary.BigEndian.Uint32(raw[pos+8 : pos+12])))
		if allZero(raw[pos:]) {
			return SegmentDamage{}, false // preallocated tail of a killed write
		}
		if n < 49 || n > 1<<30 {
			return SegmentDamage{Pos: pos, Lost: len(raw) - pos, Why: fmt.Sprintf("batch length %d is impossible", n)}, true
		}
		end := pos + 12 + n
		if end > len(raw) {
			return SegmentDamage{}, false // torn last write
		}
		stored := binary.BigEndian.Uint32(raw[pos+17 : pos+21])
		if crc32.Checksum(raw[pos+21:end], castagnoli) != stored {
			return SegmentDamage{Pos: pos, Lost: len(raw) - pos, Why: "record batch CRC mismatch"}, true
		}
		pos = end
	}
	return SegmentDamage{}, false
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
