// Package syncjob runs one sync of an org as a recorded job: it names the
// checkpoint series so a killed backfill resumes where it stopped, records
// the run (and its error) for `doctor` and `sync status`, and sums up which
// provider users have calls but no employee.
package syncjob
