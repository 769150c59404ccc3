-- Aircall transcripts, for orgs that opted in: utterances in their own
-- table, linked to raw_signals by (org, call_id), never in raw_signals.
CREATE TABLE IF NOT EXISTS call_transcripts
(
    org String,
    call_id String,
    idx UInt32,
    start_time Float64,
    end_time Float64,
    speaker String,
    text String,
    language String,
    fetched_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(fetched_at)
ORDER BY (org, call_id, idx);

-- Transcript fetches that failed or were given up, with the reason.
CREATE TABLE IF NOT EXISTS transcript_events
(
    org String,
    call_id String,
    status String,
    reason String,
    at DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY (org, at);
