package plugin

import (
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/phonesignals/phonesignals/internal/review"
	"github.com/phonesignals/phonesignals/internal/store"
)

// valueFields are the employee_metrics frame's columns of a group of
// metrics, one value per employee, then each availability column of the
// group. Nullable are the numbers that can be n/a and every talk-time
// number (they shipped nullable, issue 20; panels and alert rules read
// those types).
func valueFields(group []Metric, ms []store.Metrics) []*data.Field {
	var out, avail []*data.Field
	for _, mt := range group {
		cfg := &data.FieldConfig{Description: mt.Plain(), Unit: mt.Unit}
		if mt.NA {
			cfg.NoValue = naText
		}
		out = append(out, valueField(mt, ms).SetConfig(cfg))
		if mt.Available != "" {
			avail = append(avail, availableField(mt, ms))
		}
	}
	return append(out, avail...)
}

// valueField is one metric's column: null where it is n/a.
func valueField(mt Metric, ms []store.Metrics) *data.Field {
	if !mt.NA && !mt.Extended {
		vals := make([]uint64, len(ms))
		for i, m := range ms {
			vals[i], _ = review.Value(m, mt.Metric)
		}
		return data.NewField(mt.Name, nil, vals)
	}
	vals := make([]*uint64, len(ms))
	for i, m := range ms {
		if v, ok := review.Value(m, mt.Metric); ok {
			vals[i] = &v
		}
	}
	return data.NewField(mt.Name, nil, vals)
}

// availableField is a metric's availability column, as the store read it.
func availableField(mt Metric, ms []store.Metrics) *data.Field {
	avail := make([]bool, len(ms))
	for i, m := range ms {
		avail[i] = review.Available(m, mt.Metric)
	}
	return data.NewField(mt.Available, nil, avail).SetConfig(&data.FieldConfig{
		Description: "Whether " + mt.Name + " is a number: false (n/a, never a real 0) where the provider's data cannot tell (see " + mt.Name + ")."})
}

// baselineFields are the cohort_baselines frame's medians of a group of
// metrics, null below the org's privacy floor.
func baselineFields(group []Metric, bs []store.Baseline, floor int) []*data.Field {
	var out []*data.Field
	for _, mt := range group {
		if !mt.Baseline {
			continue
		}
		col := make([]*float64, len(bs))
		for i, b := range bs {
			if store.MedianNA(b.Size, floor) == "" {
				v := review.BaselineMedian(b, mt.Metric)
				col[i] = &v
			}
		}
		out = append(out, data.NewField(mt.MedianName(), nil, col).SetConfig(&data.FieldConfig{NoValue: naText, Description: MedianNADefinition}))
	}
	return out
}

// medianNAReasons are the baselines' median_na_reason column.
func medianNAReasons(bs []store.Baseline, floor int) *data.Field {
	reasons := make([]string, len(bs))
	for i, b := range bs {
		reasons[i] = store.MedianNA(b.Size, floor)
	}
	return data.NewField("median_na_reason", nil, reasons)
}
