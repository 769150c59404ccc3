package model

import (
	"sort"
	"time"
)

// DayKey is one org's UTC day, the unit user_day_metrics is recomputed in
// (load/aggregate) and the unit its dirty marks name.
type DayKey struct {
	Org string
	Day time.Time // midnight UTC
}

// DayOf returns the UTC day t falls on, as midnight UTC.
func DayOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// SortDayKeys orders keys by org, then day, and drops duplicates.
func SortDayKeys(keys []DayKey) []DayKey {
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Org != keys[j].Org {
			return keys[i].Org < keys[j].Org
		}
		return keys[i].Day.Before(keys[j].Day)
	})
	out := keys[:0]
	for i, k := range keys {
		if i == 0 || k != keys[i-1] {
			out = append(out, k)
		}
	}
	return out
}
