-- Privacy: the erasure log, its staging table, and the cohort baselines an
-- analyst may publish (issue 20, section 5).
--
-- erasures records every `employees forget` and `retention apply`: when,
-- what kind, the operator's reference (a ticket, never a name), how many
-- calls, the rows each table lost (JSON {"table": rows}) and how many days
-- of aggregates were recomputed. It never holds an employee id, a provider
-- user id or a call id: it says what was erased, not whose data it was.
CREATE TABLE IF NOT EXISTS erasures
(
    org String,
    erasure_id String,
    kind String,
    reference String,
    cutoff DateTime('UTC'),
    calls UInt64,
    rows String,
    days_rebuilt UInt32,
    requested_at DateTime('UTC'),
    finished_at DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY (org, requested_at, erasure_id);

-- The ids one erasure is removing (kind 'user': provider user ids, 'call':
-- call ids), so every mutation reads them from a table the mutations do not
-- change (a subquery on the table being mutated could see it half done).
-- An erasure deletes its rows when it finishes; rows left by an interrupted
-- one are how the next run of the same command finishes it.
CREATE TABLE IF NOT EXISTS erasure_items
(
    org String,
    erasure_id String,
    kind String,
    provider String,
    id String
)
ENGINE = MergeTree
ORDER BY (org, erasure_id, kind, provider, id);

-- cohort_cycle_baselines with the org's privacy floor: a cohort smaller than
-- the org's min_cohort (`phonesignals org privacy --min-cohort N`, stored in
-- orgs.settings; default 3) publishes no median (NULL) and says why. The
-- view an analyst reads; cohort_cycle_baselines keeps the raw numbers.
CREATE VIEW IF NOT EXISTS cohort_cycle_baselines_published AS
SELECT
    org,
    cycle_id,
    cohort,
    cohort_size,
    floor AS min_cohort,
    if(cohort_size < floor, NULL, median_total_calls) AS median_total_calls,
    if(cohort_size < floor,
        concat('cohort of ', toString(cohort_size), ' is below the minimum cohort size of ', toString(floor)),
        '') AS median_na_reason
FROM
(
    SELECT org, cycle_id, cohort, cohort_size, median_total_calls, if(min_cohort = 0, toUInt64(3), min_cohort) AS floor
    FROM
    (
        SELECT org, cycle_id, cohort, cohort_size, median_total_calls
        FROM cohort_cycle_baselines
    ) AS baselines
    ANY LEFT JOIN
    (
        SELECT org, toUInt64OrZero(visitParamExtractString(argMax(settings, version), 'min_cohort')) AS min_cohort
        FROM orgs
        GROUP BY org
    ) AS org_floor USING (org)
) AS floored;
