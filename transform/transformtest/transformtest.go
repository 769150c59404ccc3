package transformtest

import (
	"github.com/phonesignals/phonesignals/internal/model"
	"github.com/phonesignals/phonesignals/internal/model/modeltest"
	"github.com/phonesignals/phonesignals/transform"
)

// Add appends the row c to bb, routed by c's own org, provider, source,
// event and observed-at (the headers' part of a record).
func Add(bb *transform.BatchBuilder, c *modeltest.Call) error {
	var v model.Call
	c.Fill(&v)
	return bb.Add(transform.Route{Org: c.Org, Provider: c.Provider, Source: c.Source, Event: c.Event, ObservedAt: c.ObservedAt}, &v)
}
