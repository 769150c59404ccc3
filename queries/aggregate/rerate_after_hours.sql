-- Re-rates the after-hours flag of one org's (@org) stored calls that
-- started in [@from, @to) under the working hours that now apply to them:
-- a call is business-hours when one of the rule's business intervals (UNIX
-- seconds [start, end), listed in {starts} and {ends} by
-- model.WorkingHours.BusinessIntervals, Go's time zone database) holds its
-- start. A mutation (ClickHouse 18.16 has no lightweight update); `org set`
-- waits for it, then recomputes the days' aggregates.
ALTER TABLE raw_signals
UPDATE after_hours = toUInt8(NOT arrayExists((s, e) -> toUInt32(started_at) >= s AND toUInt32(started_at) < e, [{starts}], [{ends}]))
WHERE org = @org AND started_at >= @from AND started_at < @to
