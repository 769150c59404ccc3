-- The stored text columns of every table of the current database that has
-- an org column, by table: where `employees forget` looks, once done, for
-- anything still naming the erased provider user or calls.
SELECT table, name
FROM system.columns
WHERE database = currentDatabase()
    AND type IN ('String', 'LowCardinality(String)')
    AND default_kind NOT IN ('ALIAS', 'MATERIALIZED')
    AND table IN
    (
        SELECT name
        FROM system.tables
        WHERE database = currentDatabase() AND engine LIKE '%MergeTree'
    )
    AND table IN
    (
        SELECT table
        FROM system.columns
        WHERE database = currentDatabase() AND name = 'org'
    )
ORDER BY table, name
