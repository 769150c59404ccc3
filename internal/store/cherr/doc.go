// Package cherr sorts ClickHouse failures into transient ones (an outage,
// an overloaded server: wait and retry) and permanent ones (schema drift, a
// rejected statement, a missing grant: stop and say why), for the loader
// and the transform consumer.
package cherr
