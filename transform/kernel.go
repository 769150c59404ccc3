package transform

// The rules over Arrow arrays: the notes and tags columns are folded to
// lower case once, in place of one strings.ToLower per note, and searched
// row by row for all keywords at once (keywordSet). Keywords are lower-case ASCII (TestKeywordsFold), so
// ASCII case folding finds what strings.ToLower would: the only non-ASCII
// letters that lower-case into ASCII are the Kelvin sign (to k) and the
// dotted capital I (to i plus a combining dot), and no keyword holds a k or
// ends in i.

var (
	escalationKW = newKeywordSet(EscalationKeywords)
	resolutionKW = newKeywordSet(ResolutionKeywords)
)

// keywordSet is a list of keywords searched with Wu-Manber's shift table
// over byte pairs: the window is as long as the shortest keyword, and the
// pair ending it says how far the window may jump; most pairs of ordinary
// text let it jump most of its length, so most bytes are never looked at.
type keywordSet struct {
	kws   [][]byte
	m     int
	shift [1 << 16]uint8
}

// pair is the table index of two adjacent bytes.
func pair(a, b byte) uint16 { return uint16(a) | uint16(b)<<8 }

func newKeywordSet(ss []string) *keywordSet {
	k := &keywordSet{m: 255}
	for _, s := range ss {
		if len(s) < 2 {
			panic("transform: keyword " + s + " is shorter than two bytes")
		}
		k.kws = append(k.kws, []byte(s))
		k.m = min(k.m, len(s))
	}
	for i := range k.shift {
		k.shift[i] = uint8(k.m - 1)
	}
	for _, kw := range k.kws {
		for j := 1; j < k.m; j++ {
			h := pair(kw[j-1], kw[j])
			k.shift[h] = min(k.shift[h], uint8(k.m-1-j))
		}
	}
	return k
}

// contains reports whether folded text t holds a keyword.
func (k *keywordSet) contains(t []byte) bool {
	for pos := k.m - 1; pos < len(t); {
		s := k.shift[pair(t[pos-1], t[pos])]
		if s > 0 {
			pos += int(s)
			continue
		}
		if k.startsAt(t[pos-k.m+1:]) {
			return true
		}
		pos++
	}
	return false
}

// startsAt reports whether a keyword starts t.
func (k *keywordSet) startsAt(t []byte) bool {
	for _, kw := range k.kws {
		if len(t) >= len(kw) && string(t[:len(kw)]) == string(kw) {
			return true
		}
	}
	return false
}

// foldASCII writes src lower-cased (ASCII letters only) into dst, eight
// bytes at a time, and returns dst.
func foldASCII(dst, src []byte) []byte {
	dst = append(dst[:0], src...)
	const ones = 0x0101010101010101
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		w := uint64(dst[i]) | uint64(dst[i+1])<<8 | uint64(dst[i+2])<<16 | uint64(dst[i+3])<<24 |
			uint64(dst[i+4])<<32 | uint64(dst[i+5])<<40 | uint64(dst[i+6])<<48 | uint64(dst[i+7])<<56
		// Bytes in 'A'..'Z' (and below 0x80) get bit 5 set.
		heptets := w & (0x7f * ones)
		geA := heptets + (0x80-'A')*ones
		gtZ := heptets + (0x80-'Z'-1)*ones
		upper := geA &^ gtZ &^ w & (0x80 * ones)
		w |= upper >> 2
		dst[i], dst[i+1], dst[i+2], dst[i+3] = byte(w), byte(w>>8), byte(w>>16), byte(w>>24)
		dst[i+4], dst[i+5], dst[i+6], dst[i+7] = byte(w>>32), byte(w>>40), byte(w>>48), byte(w>>56)
	}
	for ; i < len(dst); i++ {
		if c := dst[i]; c >= 'A' && c <= 'Z' {
			dst[i] = c + 'a' - 'A'
		}
	}
	return dst
}

// foldColumn folds a string column's text to lower case (ASCII) into
// folded, scratch space reused across calls; values and offsets are as
// Arrow's ValueBytes and ValueOffsets give them (values starts at
// offsets[0]).
func foldColumn(values []byte, offsets []int32, folded []byte) []byte {
	if len(offsets) < 2 {
		return folded[:0]
	}
	return foldASCII(folded, values[:int(offsets[len(offsets)-1])-int(offsets[0])])
}

// matchFolded sets out[i] to 1 for every row i of a folded column whose
// text holds a keyword of set. It allocates nothing.
func matchFolded(folded []byte, offsets []int32, set *keywordSet, out []uint8) {
	if len(offsets) < 2 {
		return
	}
	base := int(offsets[0])
	for i := range len(offsets) - 1 {
		lo, hi := int(offsets[i])-base, int(offsets[i+1])-base
		if out[i] == 0 && hi-lo >= set.m && set.contains(folded[lo:hi]) {
			out[i] = 1
		}
	}
}

// matchKeywords is foldColumn then matchFolded.
func matchKeywords(values []byte, offsets []int32, set *keywordSet, out []uint8, folded []byte) []byte {
	folded = foldColumn(values, offsets, folded)
	matchFolded(folded, offsets, set, out)
	return folded
}

// afterHoursKernel sets out[i] when the UNIX second ts[i] falls before
// businessStartHour or at/after businessEndHour, UTC.
func afterHoursKernel(ts []int64, out []uint8) {
	for i, t := range ts {
		s := t % 86400
		if s < 0 {
			s += 86400
		}
		h := s / 3600
		out[i] = u8(h < businessStartHour || h >= businessEndHour)
	}
}
