// Package store is phonesignals' access to ClickHouse for everything but
// the bulk call load (load/): the migration runner, orgs and their sealed
// credentials, employees, review cycles, sync checkpoints and run records,
// and the read queries behind `review` and `doctor`. Every SQL statement
// comes from the queries package.
package store
