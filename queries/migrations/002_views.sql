-- Current state views. argMax over version picks each key's latest row;
-- it gives the same answer before and after background merges, unlike a
-- plain SELECT on a ReplacingMergeTree.
CREATE VIEW IF NOT EXISTS calls_current AS
SELECT
    org,
    provider,
    call_id,
    argMax(user_id, version) AS user_id,
    argMax(started_at, version) AS started_at,
    argMax(direction, version) AS direction,
    argMax(duration_sec, version) AS duration_sec,
    argMax(status, version) AS status,
    argMax(after_hours, version) AS after_hours,
    argMax(escalated, version) AS escalated,
    argMax(escalation_available, version) AS escalation_available,
    argMax(resolved, version) AS resolved,
    argMax(deleted, version) AS deleted,
    max(version) AS current_version,
    -- rows still stored for the call: background merges fold versions,
    -- so this is a diagnostic, never a review number
    count() AS versions_seen
FROM raw_signals
GROUP BY org, provider, call_id;

CREATE VIEW IF NOT EXISTS orgs_current AS
SELECT
    org,
    argMax(provider, version) AS provider,
    argMax(api_url, version) AS api_url,
    argMax(account_id, version) AS account_id,
    argMax(transcripts, version) AS transcripts
FROM orgs
GROUP BY org;

CREATE VIEW IF NOT EXISTS employees_current AS
SELECT org, employee_id, name, email, cohort, provider_user_id
FROM
(
    SELECT
        org,
        employee_id,
        argMax(name, version) AS name,
        argMax(email, version) AS email,
        argMax(cohort, version) AS cohort,
        argMax(provider_user_id, version) AS provider_user_id,
        argMax(deleted, version) AS is_deleted
    FROM employees
    GROUP BY org, employee_id
)
WHERE is_deleted = 0;

CREATE VIEW IF NOT EXISTS cycles_current AS
SELECT
    org,
    cycle_id,
    argMax(period_start, version) AS period_start,
    argMax(period_end, version) AS period_end
FROM cycles
GROUP BY org, cycle_id;

-- Per org, cycle and employee. A call belongs to the cycle its start time
-- falls in ([period_start, period_end)) and to the employee mapped to its
-- provider user at query time; calls with no user belong to nobody.
-- Employees with no calls appear with zeros (the LEFT JOIN fills defaults).
-- Every joined subquery has an alias: current ClickHouse rejects joins of
-- unaliased subqueries (ALIAS_REQUIRED); 18.16 accepts both.
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
            count() AS total_calls,
            countIf(direction = 'inbound') AS inbound_calls,
            countIf(direction = 'outbound') AS outbound_calls,
            sum(toUInt64(duration_sec)) AS duration_sum,
            countIf(after_hours = 1) AS after_hours_calls,
            countIf(escalated = 1) AS escalated_calls,
            countIf(resolved = 1) AS resolved_calls
        FROM
        (
            SELECT org, call_id, user_id, started_at, direction, duration_sec, after_hours, escalated, resolved
            FROM calls_current
            WHERE deleted = 0 AND user_id != ''
        ) AS live_calls
        ALL INNER JOIN
        (
            SELECT org, cycle_id, period_start, period_end
            FROM cycles_current
        ) AS call_cycles USING (org)
        WHERE started_at >= period_start AND started_at < period_end
        GROUP BY org, cycle_id, provider_user_id
    ) AS call_counts USING (org, cycle_id, provider_user_id)
) AS employee_counts
ANY LEFT JOIN
(
    SELECT org, provider
    FROM orgs_current
) AS org_providers USING (org);

-- Per org, cohort and cycle: the exact median of total_calls over the
-- cohort's employees (zeros included), the mean of the two middle values
-- when the count is even. Sorting the array keeps it exact and the same on
-- every ClickHouse version (median() is sampled, medianExact() does not
-- average the middle pair).
CREATE VIEW IF NOT EXISTS cohort_cycle_baselines AS
SELECT
    org,
    cycle_id,
    cohort,
    cohort_size,
    if(cohort_size % 2 = 1,
        toFloat64(sorted[intDiv(cohort_size, 2) + 1]),
        (toFloat64(sorted[intDiv(cohort_size, 2)]) + toFloat64(sorted[intDiv(cohort_size, 2) + 1])) / 2) AS median_total_calls
FROM
(
    SELECT
        org,
        cycle_id,
        cohort,
        count() AS cohort_size,
        arraySort(groupArray(total_calls)) AS sorted
    FROM employee_cycle_metrics
    GROUP BY org, cycle_id, cohort
);
