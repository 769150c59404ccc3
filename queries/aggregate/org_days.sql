-- The days user_day_metrics holds of each of the given orgs ({orgs},
-- rendered by queries.RenderDayKeys). The refresher (load/aggregate/refresh.go)
-- compares them with an org's dirty days to choose the cheaper form:
-- refresh_org.sql (all of the org's calls) when the dirty days are a large
-- share of them, refresh_days.sql (the calls of those days) otherwise.
-- Reads only the org and day columns, by the sort key's prefix; without
-- the dirty keys listed in the statement, whose parsing took 50 to 70 ms for
-- 1,800 keys on 18.16.
SELECT DISTINCT org, day
FROM user_day_metrics
WHERE org IN ({orgs})
