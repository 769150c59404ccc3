-- The read-only analyst user of a production server (current ClickHouse,
-- SQL-driven access control). Run it once as an admin, with the database
-- and password substituted, e.g.
--   clickhouse-client --config-file admin.xml --multiquery < queries/analyst/production_user.sql
-- `phonesignals migrate` does not run it: ClickHouse 18.16 has no CREATE
-- USER (its users live in users.xml; internal/localserver/chserver writes
-- the analyst user there). The user may SELECT the analyst objects of the
-- README's "Querying ClickHouse" table and nothing else: not orgs (the
-- sealed provider credentials), not the versioned tables, not the
-- operations tables. The views run with their definer's rights
-- (SQL SECURITY DEFINER, the default of current ClickHouse), so the
-- analyst needs no grant on the tables under them.
CREATE USER IF NOT EXISTS analyst IDENTIFIED WITH sha256_password BY 'CHANGE-ME'
    SETTINGS readonly = 1;

GRANT SELECT ON phonesignals.call_metrics TO analyst;
GRANT SELECT ON phonesignals.user_day_current TO analyst;
GRANT SELECT ON phonesignals.employee_cycle_metrics TO analyst;
GRANT SELECT ON phonesignals.cohort_cycle_baselines TO analyst;
GRANT SELECT ON phonesignals.cohort_cycle_baselines_published TO analyst;
GRANT SELECT ON phonesignals.employees_current TO analyst;
GRANT SELECT ON phonesignals.cycles_current TO analyst;
