-- What `retention apply` removes from one org (@org) for a cutoff
-- (@cutoff, the start of a UTC day), counted without changing anything
-- (--dry-run prints it; the run records it in erasures): the calls whose
-- current version started before the cutoff (every version of each goes,
-- and every older version started before it), their transcripts, delivery
-- and window records, dead letters recorded before the cutoff, and the
-- per-day aggregates and marks of the days before it.
-- Each count is a scalar subquery: assumeNotNull keeps its type as 18.16
-- gives it (current ClickHouse makes scalar subqueries Nullable).
SELECT
    assumeNotNull((
        SELECT count()
        FROM
        (
            {expired_calls}
        ) AS expired_calls
    )) AS calls,
    assumeNotNull((
        SELECT count()
        FROM raw_signals
        WHERE org = @org AND (started_at < @cutoff OR (provider, call_id) IN
        (
            {expired_calls}
        ))
    )) AS raw_signals_rows,
    assumeNotNull((
        SELECT count()
        FROM user_day_metrics
        WHERE org = @org AND day < toDate(@cutoff)
    )) AS user_day_metrics_rows,
    assumeNotNull((
        SELECT count()
        FROM user_day_dirty
        WHERE org = @org AND day < toDate(@cutoff)
    )) AS user_day_dirty_rows,
    {expired_call_rows table="call_transcripts"},
    {expired_call_rows table="transcript_events"},
    {expired_call_rows table="sync_window_calls"},
    {expired_call_rows table="dead_letter_replays"},
    {expired_call_rows table="dead_letters" or="at < @cutoff OR "}
