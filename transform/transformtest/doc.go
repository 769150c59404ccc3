// Package transformtest writes test calls into the transform's batches row
// by row, for the tests of the stages after it (load, the end-to-end
// tests): the product decodes into model.Call and adds it with its Kafka
// record's route; tests write modeltest.Call rows instead.
package transformtest
