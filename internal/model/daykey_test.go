package model

import (
	"reflect"
	"testing"
	"time"
)

func TestDayOf(t *testing.T) {
	paris := time.FixedZone("CEST", 2*3600)
	tests := []struct {
		in   time.Time
		want time.Time
	}{
		{time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 9, 1, 23, 59, 59, 999, time.UTC), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)},
		// 01:30 in Paris is still the previous UTC day.
		{time.Date(2026, 9, 2, 1, 30, 0, 0, paris), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		if got := DayOf(tt.in); !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("DayOf(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestSortDayKeys(t *testing.T) {
	d := func(n int) time.Time { return time.Date(2026, 9, n, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name string
		in   []DayKey
		want []DayKey
	}{
		{"by org then day", []DayKey{{"b", d(1)}, {"a", d(2)}, {"a", d(1)}}, []DayKey{{"a", d(1)}, {"a", d(2)}, {"b", d(1)}}},
		{"duplicates dropped", []DayKey{{"a", d(2)}, {"a", d(1)}, {"a", d(2)}, {"a", d(1)}}, []DayKey{{"a", d(1)}, {"a", d(2)}}},
	}
	for _, tt := range tests {
		got := SortDayKeys(tt.in)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
