-- Exact per-day aggregates, so a review costs what the org costs.
--
-- One row per (org, UTC day, provider, provider user) with the numbers of
-- the calls whose CURRENT version (argMax over version) started that day
-- and is not deleted; calls with no user are kept under user_id ''. The
-- loader (load/aggregates.go) rewrites every key of each (org, day) a batch
-- touched, after the batch's rows are in raw_signals and before Kafka
-- offsets are committed, with absolute values (never deltas) and a newer
-- version; keys that emptied get explicit zero rows. Rewriting a day from
-- raw_signals is idempotent, so a batch loaded twice, or loaded partly
-- before a crash and then again, leaves the same numbers. Reads take
-- argMax(..., version) per key with `WHERE org = ...` in the innermost
-- read (queries/review.sql and friends); boundary days of cycles that start
-- or end mid-day are computed from raw_signals of that org instead.
-- ORDER BY starts with org: the table can be sharded by org like
-- raw_signals, and a shard recomputes its orgs from its own raw rows.
CREATE TABLE IF NOT EXISTS user_day_metrics
(
    org String,
    day Date,
    provider String,
    user_id String,
    calls UInt64,
    inbound_calls UInt64,
    outbound_calls UInt64,
    duration_sum UInt64,
    after_hours_calls UInt64,
    escalated_calls UInt64,
    resolved_calls UInt64,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (org, day, provider, user_id);

-- Backfill of stores that existed before this migration: every day of every
-- org, from the current versions in raw_signals. The version is the
-- migration's clock in nanoseconds, the loader's unit, so the loader's
-- later refreshes replace these rows. Running it twice writes the same
-- numbers again (same key, same values), which changes no review number.
-- Stop `run` while migrating: a batch loaded by the old binary during the
-- backfill would not be aggregated.
INSERT INTO user_day_metrics (org, day, provider, user_id, calls, inbound_calls, outbound_calls, duration_sum, after_hours_calls, escalated_calls, resolved_calls, version)
SELECT
    org,
    toDate(started_at) AS day,
    provider,
    user_id,
    count() AS calls,
    countIf(direction = 'inbound') AS inbound_calls,
    countIf(direction = 'outbound') AS outbound_calls,
    sum(toUInt64(duration_sec)) AS duration_sum,
    countIf(after_hours = 1) AS after_hours_calls,
    countIf(escalated = 1) AS escalated_calls,
    countIf(resolved = 1) AS resolved_calls,
    toUInt64(now()) * 1000000000 AS version
FROM
(
    SELECT
        org,
        provider,
        call_id,
        argMax(user_id, version) AS user_id,
        argMax(started_at, version) AS started_at,
        argMax(direction, version) AS direction,
        argMax(duration_sec, version) AS duration_sec,
        argMax(after_hours, version) AS after_hours,
        argMax(escalated, version) AS escalated,
        argMax(resolved, version) AS resolved,
        argMax(deleted, version) AS is_deleted
    FROM raw_signals
    GROUP BY org, provider, call_id
) AS current_calls
WHERE is_deleted = 0
GROUP BY org, day, provider, user_id;

-- Days whose aggregates are behind raw_signals. The loader marks every day
-- a batch touched 'loaded' (value: its clock in nanoseconds) before the
-- batch's offsets are committed, and its refresher recomputes marked days
-- in the background, coalescing many batches into one pass per day, then
-- marks them 'refreshed' with the version it wrote. A day is dirty while
-- its newest 'loaded' mark is above its newest 'refreshed' one; the read
-- queries take dirty days from raw_signals, so numbers are exact at any
-- moment, also after a crash (the marks are in ClickHouse, and the next
-- loader refreshes them). ReplacingMergeTree keeps the newest mark of each
-- kind per day.
CREATE TABLE IF NOT EXISTS user_day_dirty
(
    org String,
    day Date,
    kind String,
    value UInt64
)
ENGINE = ReplacingMergeTree(value)
ORDER BY (org, day, kind);

-- employee_cycle_metrics, now from the per-day aggregates: whole UTC days
-- of each cycle from user_day_metrics, and the calls of boundary days (a
-- cycle starting or ending mid-day) from the current versions in
-- raw_signals, as are days the loader has not recomputed yet
-- (user_day_dirty). Same columns and numbers as before; the roster is
-- employees_current (one employee per provider user, migration 005).
-- ClickHouse 18.16 does not push `WHERE org = ...` through a view's joins,
-- so there this view reads every org's aggregates (not every call, as the
-- old one did); for one org on 18.16 run queries/cycle_metrics.sql, which
-- filters on the org in its innermost reads. Current ClickHouse pushes the
-- filter down. cohort_cycle_baselines reads this view and needs no change.
DROP TABLE IF EXISTS employee_cycle_metrics;

CREATE VIEW IF NOT EXISTS employee_cycle_metrics AS
SELECT
    org,
    cycle_id,
    employee_id,
    name,
    cohort,
    provider_user_id,
    period_start,
    period_end,
    total_calls,
    inbound_calls,
    outbound_calls,
    if(total_calls = 0, toUInt64(0), intDiv(2 * duration_sum + total_calls, 2 * greatest(total_calls, toUInt64(1)))) AS avg_duration_sec,
    after_hours_calls,
    escalated_calls,
    resolved_calls,
    if(provider = 'ringcentral', toUInt8(0), toUInt8(1)) AS escalation_available
FROM
(
    SELECT *
    FROM
    (
        SELECT org, cycle_id, period_start, period_end, employee_id, name, cohort, provider_user_id
        FROM
        (
            SELECT org, employee_id, name, cohort, provider_user_id
            FROM employees_current
        ) AS roster
        ALL INNER JOIN
        (
            SELECT org, cycle_id, period_start, period_end
            FROM cycles_current
        ) AS roster_cycles USING (org)
    ) AS employee_cycles
    ALL LEFT JOIN
    (
        SELECT
            org,
            cycle_id,
            user_id AS provider_user_id,
            total_calls,
            inbound_calls,
            outbound_calls,
            duration_sum,
            after_hours_calls,
            escalated_calls,
            resolved_calls
        FROM
        (
            SELECT
                org,
                cycle_id,
                user_id,
                sum(calls) AS total_calls,
                sum(inbound) AS inbound_calls,
                sum(outbound) AS outbound_calls,
                sum(duration) AS duration_sum,
                sum(after_hours) AS after_hours_calls,
                sum(escalated) AS escalated_calls,
                sum(resolved) AS resolved_calls
            FROM
            (
                SELECT org, cycle_id, user_id, calls, inbound, outbound, duration, after_hours, escalated, resolved
                FROM
                (
                    SELECT
                        org,
                        day,
                        user_id,
                        argMax(calls, version) AS calls,
                    argMax(inbound_calls, version) AS inbound,
                    argMax(outbound_calls, version) AS outbound,
                    argMax(duration_sum, version) AS duration,
                    argMax(after_hours_calls, version) AS after_hours,
                    argMax(escalated_calls, version) AS escalated,
                    argMax(resolved_calls, version) AS resolved
                    FROM user_day_metrics
                    WHERE user_id != ''
                        AND (org, day) NOT IN (
                            SELECT org, day
                            FROM user_day_dirty
                            GROUP BY org, day
                            HAVING maxIf(value, kind = 'loaded') > maxIf(value, kind = 'refreshed')
                        )
                    GROUP BY org, day, provider, user_id
                ) AS days
                ALL INNER JOIN
                (
                    SELECT org, cycle_id, argMax(period_start, version) AS period_start, argMax(period_end, version) AS period_end
                    FROM cycles
                    GROUP BY org, cycle_id
                ) AS day_cycles USING (org)
                WHERE day >= toDate(period_start + 86399) AND day < toDate(period_end)
                UNION ALL
                SELECT
                    org,
                    cycle_id,
                    user_id,
                    toUInt64(1) AS calls,
                    toUInt64(direction = 'inbound') AS inbound,
                    toUInt64(direction = 'outbound') AS outbound,
                    toUInt64(duration_sec) AS duration,
                    toUInt64(after_hours = 1) AS after_hours,
                    toUInt64(escalated = 1) AS escalated,
                    toUInt64(resolved = 1) AS resolved
                FROM
                (
                    SELECT
                        org,
                        argMax(user_id, version) AS user_id,
                        argMax(started_at, version) AS started_at,
                        argMax(direction, version) AS direction,
                        argMax(duration_sec, version) AS duration_sec,
                        argMax(after_hours, version) AS after_hours,
                        argMax(escalated, version) AS escalated,
                        argMax(resolved, version) AS resolved,
                        argMax(deleted, version) AS is_deleted
                    FROM raw_signals
                    WHERE (org, provider, call_id) IN
                    (
                        SELECT org, provider, call_id
                        FROM raw_signals
                        WHERE (org, toDate(started_at)) IN
                        (
                            SELECT org, toDate(period_start) FROM (SELECT org, cycle_id, argMax(period_start, version) AS period_start, argMax(period_end, version) AS period_end
                    FROM cycles
                    GROUP BY org, cycle_id) AS starts WHERE toStartOfDay(period_start) != period_start
                            UNION ALL
                            SELECT org, toDate(period_end) FROM (SELECT org, cycle_id, argMax(period_start, version) AS period_start, argMax(period_end, version) AS period_end
                    FROM cycles
                    GROUP BY org, cycle_id) AS ends WHERE toStartOfDay(period_end) != period_end
                            UNION ALL
                            SELECT org, day FROM (
                                SELECT org, day
                                FROM user_day_dirty
                                GROUP BY org, day
                                HAVING maxIf(value, kind = 'loaded') > maxIf(value, kind = 'refreshed')
                            ) AS dirty
                        )
                    )
                    GROUP BY org, provider, call_id
                ) AS boundary_calls
                ALL INNER JOIN
                (
                    SELECT org, cycle_id, argMax(period_start, version) AS period_start, argMax(period_end, version) AS period_end
                    FROM cycles
                    GROUP BY org, cycle_id
                ) AS boundary_cycles USING (org)
                WHERE is_deleted = 0 AND user_id != ''
                    AND started_at >= period_start AND started_at < period_end
                    AND (started_at < toStartOfDay(period_start + 86399) OR started_at >= toStartOfDay(period_end)
                        OR (org, toDate(started_at)) IN (
                            SELECT org, day
                            FROM user_day_dirty
                            GROUP BY org, day
                            HAVING maxIf(value, kind = 'loaded') > maxIf(value, kind = 'refreshed')
                        ))
            ) AS cycle_parts
            GROUP BY org, cycle_id, user_id
        ) AS user_totals
    ) AS call_counts USING (org, cycle_id, provider_user_id)
) AS employee_counts
ANY LEFT JOIN
(
    SELECT org, provider
    FROM orgs_current
) AS org_providers USING (org);
