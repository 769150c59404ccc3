-- Recomputes the user_day_metrics rows of some days ({days}) of one org
-- (@org) from raw_signals, as absolute values under one new @version: each
-- call's current version (argMax over all of its versions, on any day)
-- counts on its own start day unless deleted. Keys of those days that
-- hold no call any more (a call deleted, moved to another user or day)
-- get explicit zero rows, so the newest version of every key is right.
-- Idempotent: running it again, or after a batch was loaded twice or
-- partly, writes the same numbers. {days} is the literal list rendered by
-- queries.RenderDays; @from and @to bound the days.
--
-- This form reads only the calls with a version on one of the days (the
-- subquery, by the sort key), for a few dirty days of an org with a longer
-- history; refresh_org.sql groups all of the org's calls instead, cheaper
-- once the days hold a large share of them. One GROUP BY over the calls
-- and the zero rows together, without org in the keys (one org per
-- statement): on 18.16 a quarter less time than grouping the per-day
-- counts again with the zero rows, as this file did before.
{refresh_head}
        WHERE org = @org AND (provider, call_id) IN
        (
            SELECT provider, call_id
            FROM raw_signals
            WHERE org = @org AND started_at >= @from AND started_at < @to
                AND toDate(started_at) IN ({days})
        )
{refresh_tail}
