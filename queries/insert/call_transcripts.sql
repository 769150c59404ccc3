-- Batch insert into call_transcripts; rows are appended with clickhouse-go. The column
-- list is required: ClickHouse 18.16 sends no header without it.
INSERT INTO call_transcripts (org, call_id, idx, start_time, end_time, speaker, text, language, fetched_at)
