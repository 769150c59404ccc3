-- The [PHONE DATA] numbers of one employee in one cycle.
-- Named parameters (clickhouse-go `clickhouse.Named`): @org, @cycle, @employee, @dirty.
-- Every read filters on the org in its innermost query, so the cost is the
-- org's employees x days, whatever other orgs the store holds and however
-- many calls the org has: whole UTC days come from the exact per-day
-- aggregates (user_day_metrics, kept by the loader); the boundary days of
-- a cycle that starts or ends mid-day, and the days the loader has not
-- recomputed yet, from raw_signals. @dirty lists those days of the org
-- ('YYYY-MM-DD,...', '' for none; queries/aggregate/dirty_days_of_org.sql),
-- read once by the caller so every part of the query agrees on them even
-- while a refresh completes. A provider
-- user counts for one employee (migration 005's rule). ClickHouse 18.16
-- does not push a WHERE through a view's joins: this file, not the
-- employee_cycle_metrics view, is what to run there for one org.
SELECT
    name,
    cohort,
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
        SELECT *
        FROM
        (
            SELECT org, employee_id, name, cohort, if(provider_user_id = '' OR owner = employee_id, provider_user_id, '') AS user_id
            FROM
            (
                SELECT org, employee_id, name, cohort, provider_user_id, owner
                FROM
                (
                    SELECT org, employee_id, name, cohort, provider_user_id
                    FROM
                    (
                        SELECT
                            org,
                            employee_id,
                            argMax(name, version) AS name,
                            argMax(cohort, version) AS cohort,
                            argMax(provider_user_id, version) AS provider_user_id,
                            argMax(deleted, version) AS is_deleted
                        FROM employees
                        WHERE org = @org AND employee_id = @employee
                        GROUP BY org, employee_id
                    ) AS latest
                    WHERE is_deleted = 0
                ) AS roster
                ALL LEFT JOIN
                (
                    SELECT org, provider_user_id, min(employee_id) AS owner
                    FROM
                    (
                        SELECT org, employee_id, provider_user_id, row_version, top_version
                        FROM
                        (
                            SELECT
                                org,
                                employee_id,
                                argMax(provider_user_id, version) AS provider_user_id,
                                argMax(deleted, version) AS is_deleted,
                                max(version) AS row_version
                            FROM employees
                            WHERE org = @org
                            GROUP BY org, employee_id
                        ) AS mapped
                        ALL INNER JOIN
                        (
                            SELECT org, provider_user_id, max(row_version) AS top_version
                            FROM
                            (
                                SELECT
                                    org,
                                    employee_id,
                                    argMax(provider_user_id, version) AS provider_user_id,
                                    argMax(deleted, version) AS is_deleted,
                                    max(version) AS row_version
                                FROM employees
                                WHERE org = @org
                                GROUP BY org, employee_id
                            ) AS mapped_again
                            WHERE is_deleted = 0 AND provider_user_id != ''
                            GROUP BY org, provider_user_id
                        ) AS newest USING (org, provider_user_id)
                        WHERE is_deleted = 0 AND row_version = top_version
                    ) AS candidates
                    GROUP BY org, provider_user_id
                ) AS owners USING (org, provider_user_id)
            ) AS mapped_roster
        ) AS roster
        ALL INNER JOIN
        (
            SELECT org
            FROM cycles
            WHERE org = @org AND cycle_id = @cycle
            GROUP BY org
        ) AS cycle_row USING (org)
    ) AS roster_in_cycle
    ALL LEFT JOIN
    (
        SELECT
            org,
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
            SELECT
                org,
                user_id,
                argMax(calls, version) AS calls,
                argMax(inbound_calls, version) AS inbound,
                argMax(outbound_calls, version) AS outbound,
                argMax(duration_sum, version) AS duration,
                argMax(after_hours_calls, version) AS after_hours,
                argMax(escalated_calls, version) AS escalated,
                argMax(resolved_calls, version) AS resolved
            FROM user_day_metrics
            WHERE org = @org AND user_id != ''
                AND day >= toDate((SELECT argMax(period_start, version) FROM cycles WHERE org = @org AND cycle_id = @cycle) + 86399)
                AND day < toDate((SELECT argMax(period_end, version) FROM cycles WHERE org = @org AND cycle_id = @cycle))
                AND day NOT IN (
                    SELECT toDate(arrayJoin(arrayFilter(x -> x != '', splitByChar(',', @dirty))))
                )
            GROUP BY org, day, provider, user_id
            UNION ALL
            SELECT
                org,
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
                WHERE org = @org AND (provider, call_id) IN
                (
                    SELECT provider, call_id
                    FROM raw_signals
                    WHERE org = @org
                        AND started_at >= (SELECT argMax(period_start, version) FROM cycles WHERE org = @org AND cycle_id = @cycle)
                            AND started_at < (SELECT argMax(period_end, version) FROM cycles WHERE org = @org AND cycle_id = @cycle)
                            AND (started_at < toStartOfDay((SELECT argMax(period_start, version) FROM cycles WHERE org = @org AND cycle_id = @cycle) + 86399)
                                OR started_at >= toStartOfDay((SELECT argMax(period_end, version) FROM cycles WHERE org = @org AND cycle_id = @cycle))
                                OR toDate(started_at) IN (
                                    SELECT toDate(arrayJoin(arrayFilter(x -> x != '', splitByChar(',', @dirty))))
                                ))
                )
                GROUP BY org, provider, call_id
            ) AS boundary_calls
            WHERE is_deleted = 0 AND user_id != ''
                AND started_at >= (SELECT argMax(period_start, version) FROM cycles WHERE org = @org AND cycle_id = @cycle)
                    AND started_at < (SELECT argMax(period_end, version) FROM cycles WHERE org = @org AND cycle_id = @cycle)
                    AND (started_at < toStartOfDay((SELECT argMax(period_start, version) FROM cycles WHERE org = @org AND cycle_id = @cycle) + 86399)
                        OR started_at >= toStartOfDay((SELECT argMax(period_end, version) FROM cycles WHERE org = @org AND cycle_id = @cycle))
                        OR toDate(started_at) IN (
                            SELECT toDate(arrayJoin(arrayFilter(x -> x != '', splitByChar(',', @dirty))))
                        ))
        ) AS cycle_parts
        GROUP BY org, user_id
    ) AS user_totals USING (org, user_id)
) AS employee_counts
ANY LEFT JOIN
(
    SELECT org, argMax(provider, version) AS provider
    FROM orgs
    WHERE org = @org
    GROUP BY org
) AS org_provider USING (org)
