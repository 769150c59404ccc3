// Package transformtest writes test calls into the transform's batches row
// by row, for the tests of the stages after it (load, the end-to-end
// tests): the product decodes into model.Call and adds it with its Kafka
// record's route; tests write modeltest.Call rows instead.
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
