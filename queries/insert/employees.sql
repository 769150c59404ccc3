-- Batch insert into employees; rows are appended with clickhouse-go. The column
-- list is required: ClickHouse 18.16 sends no header without it.
INSERT INTO employees (org, employee_id, name, email, cohort, provider_user_id, deleted, version)
