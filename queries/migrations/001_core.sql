-- Core schema: one RawSignal row per observed version of a provider call.
-- A call reaches ClickHouse several times (two polls, webhook plus poll, a
-- later edit); ReplacingMergeTree(version) plus the argMax views below keep
-- exactly one current version per (org, provider, call_id).
CREATE TABLE IF NOT EXISTS raw_signals
(
    org String,
    source String,
    event_type String,
    provider String,
    call_id String,
    user_id String,
    started_at DateTime('UTC'),
    direction String,
    duration_sec UInt32,
    status String,
    after_hours UInt8,
    escalated UInt8,
    escalation_available UInt8,
    resolved UInt8,
    deleted UInt8,
    version UInt64,
    rules_version String,
    ingest_source String,
    event String,
    observed_at DateTime('UTC'),
    loaded_at DateTime('UTC'),
    payload String
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(started_at)
ORDER BY (org, provider, call_id);

-- Orgs: one provider per org; credentials sealed with AES-256-GCM.
CREATE TABLE IF NOT EXISTS orgs
(
    org String,
    provider String,
    api_url String,
    credentials String,
    account_id String,
    webhook_token String,
    transcripts UInt8,
    settings String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY org;

CREATE TABLE IF NOT EXISTS employees
(
    org String,
    employee_id String,
    name String,
    email String,
    cohort String,
    provider_user_id String,
    deleted UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (org, employee_id);

CREATE TABLE IF NOT EXISTS cycles
(
    org String,
    cycle_id String,
    period_start DateTime('UTC'),
    period_end DateTime('UTC'),
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (org, cycle_id);

-- Finished backfill windows, so a killed backfill resumes where it stopped.
CREATE TABLE IF NOT EXISTS sync_windows
(
    org String,
    job String,
    window_from DateTime('UTC'),
    window_to DateTime('UTC'),
    calls UInt32,
    done_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(done_at)
ORDER BY (org, job, window_from, window_to);

-- One row per sync run, for `doctor` and the sync status.
CREATE TABLE IF NOT EXISTS sync_runs
(
    org String,
    run_id String,
    provider String,
    started_at DateTime('UTC'),
    finished_at DateTime('UTC'),
    window_from DateTime('UTC'),
    window_to DateTime('UTC'),
    status String,
    error String,
    calls UInt32,
    requests UInt32
)
ENGINE = MergeTree
ORDER BY (org, started_at, run_id);

-- Records the transform could not use: the reason and where the record is
-- on the dead-letter topic (the body itself stays encrypted in Kafka).
CREATE TABLE IF NOT EXISTS dead_letters
(
    org String,
    provider String,
    call_id String,
    topic String,
    partition UInt32,
    offset UInt64,
    reason String,
    at DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY (org, at);

CREATE TABLE IF NOT EXISTS webhook_deliveries
(
    org String,
    event String,
    status UInt16,
    reason String,
    at DateTime('UTC')
)
ENGINE = MergeTree
ORDER BY (org, at);
