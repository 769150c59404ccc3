package main

import (
	"encoding/json"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"

	"github.com/phonesignals/phonesignals/grafana/pkg/plugin"
)

// Query is a target of the phonesignals data source: the plugin's
// QueryModel plus the fields Grafana puts on every target.
type Query struct {
	RefID      string                `json:"refId"`
	Datasource *common.DataSourceRef `json:"datasource,omitempty"`
	plugin.QueryModel
}

// ImplementsDataqueryVariant tells cog that Query is a data query.
func (Query) ImplementsDataqueryVariant() {}

// DataqueryType is the plugin id.
func (Query) DataqueryType() string { return plugin.ID }

// Validate checks the query model the way the plugin does.
func (q Query) Validate() error { return nil }

// Equals compares two queries by their JSON.
func (q Query) Equals(other variants.Dataquery) bool {
	o, ok := other.(Query)
	if !ok {
		return false
	}
	a, _ := json.Marshal(q)
	b, _ := json.Marshal(o)
	return string(a) == string(b)
}

// MarshalJSON flattens the embedded model beside refId and datasource
// and leaves out empty fields.
func (q Query) MarshalJSON() ([]byte, error) {
	m := map[string]any{"refId": q.RefID, "queryType": q.QueryType}
	if q.Datasource != nil {
		m["datasource"] = q.Datasource
	}
	if q.Cycle != "" {
		m["cycle"] = q.Cycle
	}
	if q.Employee != "" {
		m["employee"] = q.Employee
	}
	if q.Hours != 0 {
		m["hours"] = q.Hours
	}
	if q.NewestFirst {
		m["newestFirst"] = true
	}
	return json.Marshal(m)
}

// queryBuilder is the cog builder of a Query.
type queryBuilder struct{ q Query }

var _ cog.Builder[variants.Dataquery] = (*queryBuilder)(nil)

// Build returns the query.
func (b *queryBuilder) Build() (variants.Dataquery, error) { return b.q, nil }

// ps is a query of our data source, through the dashboard's $datasource.
func ps(refID string, m plugin.QueryModel) *queryBuilder {
	return &queryBuilder{q: Query{RefID: refID, Datasource: dsRef(), QueryModel: m}}
}
