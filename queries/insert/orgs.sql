-- Batch insert into orgs; rows are appended with clickhouse-go. The column
-- list is required: ClickHouse 18.16 sends no header without it.
INSERT INTO orgs (org, provider, api_url, credentials, account_id, webhook_token, transcripts, settings, version)
