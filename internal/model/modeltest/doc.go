// Package modeltest is the row-at-a-time reference of model.Call for
// tests: a decoded call one Go value per fact (strings, times, slices of
// notes), which tests write calls in and compare decoders' results by.
// The product has one call model, model.Call; this is only its test twin,
// so it may stay simple rather than fast.
package modeltest
