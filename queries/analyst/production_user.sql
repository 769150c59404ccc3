-- The read-only analyst user of a production server (current ClickHouse,
-- SQL-driven access control), run by `phonesignals migrate
-- --analyst-password-file FILE` (or PHONESIGNALS_ANALYST_PASSWORD) as a
-- user allowed to manage access. {database} is the phonesignals database
-- and {password_sha256} the SHA-256 of the password, filled by
-- RenderAnalystUser: the password itself never travels in SQL, so it is
-- in no query_log. ClickHouse 18.16 has no CREATE USER (its users live in
-- users.xml; internal/localserver/chserver writes the analyst user there).
-- The user may SELECT the analyst objects of the README's "Querying
-- ClickHouse" table and nothing else: not orgs (the sealed provider
-- credentials), not the versioned tables, not the operations tables.
-- A plain view is SQL SECURITY INVOKER by default on current ClickHouse
-- (default_normal_view_sql_security): it checks the reader's grants on
-- every table under it, so SELECT on the view alone would be refused, and
-- granting those tables would open orgs. So each analyst view is switched
-- to SQL SECURITY DEFINER (the definer is the user running migrate) and
-- reads its tables with the definer's rights. The migrations cannot say
-- it (18.16 rejects the clause), and a migration that replaces a view
-- resets it to INVOKER: migrate runs this script after every migration
-- when it is given the password, so give it on every migrate. Re-running
-- it also sets the password again.
CREATE USER IF NOT EXISTS analyst IDENTIFIED WITH sha256_hash BY '{password_sha256}'
    SETTINGS readonly = 1;

ALTER USER analyst IDENTIFIED WITH sha256_hash BY '{password_sha256}';

GRANT SELECT ON {database}.call_metrics TO analyst;
GRANT SELECT ON {database}.user_day_current TO analyst;
GRANT SELECT ON {database}.employee_cycle_metrics TO analyst;
GRANT SELECT ON {database}.cohort_cycle_baselines TO analyst;
GRANT SELECT ON {database}.cohort_cycle_baselines_published TO analyst;
GRANT SELECT ON {database}.employees_current TO analyst;
GRANT SELECT ON {database}.cycles_current TO analyst;

ALTER TABLE {database}.call_metrics MODIFY SQL SECURITY DEFINER;
ALTER TABLE {database}.user_day_current MODIFY SQL SECURITY DEFINER;
ALTER TABLE {database}.employee_cycle_metrics MODIFY SQL SECURITY DEFINER;
ALTER TABLE {database}.cohort_cycle_baselines MODIFY SQL SECURITY DEFINER;
ALTER TABLE {database}.cohort_cycle_baselines_published MODIFY SQL SECURITY DEFINER;
ALTER TABLE {database}.employees_current MODIFY SQL SECURITY DEFINER;
ALTER TABLE {database}.cycles_current MODIFY SQL SECURITY DEFINER;
