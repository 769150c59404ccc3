-- Recomputes the user_day_metrics rows of some days ({days}) of one org
-- (@org) from raw_signals, exactly as refresh_days.sql does (same rows),
-- but by grouping ALL of the org's calls and keeping those whose current
-- version starts on one of the days: a call's current version is on a day
-- only if the call has a version there, so no call is missed. Cheaper than
-- refresh_days.sql's subquery once the days hold a large share of the
-- org's calls (a backfill, a stream spread over its whole history): on
-- 18.16 the subquery's set of calls cost as much as the grouping itself.
-- load/aggregate/refresh.go chooses the form per statement. {days} is rendered by
-- queries.RenderDays; @from and @to bound the days.
{refresh_head}
        WHERE org = @org
{refresh_tail}
