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
            SELECT provider, call_id
            FROM raw_signals
            WHERE org = @org
            GROUP BY provider, call_id
            HAVING argMax(started_at, version) < @cutoff
        ) AS expired_calls
    )) AS calls,
    assumeNotNull((
        SELECT count()
        FROM raw_signals
        WHERE org = @org AND (started_at < @cutoff OR (provider, call_id) IN
        (
            SELECT provider, call_id
            FROM raw_signals
            WHERE org = @org
            GROUP BY provider, call_id
            HAVING argMax(started_at, version) < @cutoff
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
    assumeNotNull((
        SELECT count()
        FROM call_transcripts
        WHERE org = @org AND (call_id IN
        (
            SELECT call_id
            FROM
            (
                SELECT provider, call_id
                FROM raw_signals
                WHERE org = @org
                GROUP BY provider, call_id
                HAVING argMax(started_at, version) < @cutoff
            ) AS expired_calls
        ))
    )) AS call_transcripts_rows,
    assumeNotNull((
        SELECT count()
        FROM transcript_events
        WHERE org = @org AND (call_id IN
        (
            SELECT call_id
            FROM
            (
                SELECT provider, call_id
                FROM raw_signals
                WHERE org = @org
                GROUP BY provider, call_id
                HAVING argMax(started_at, version) < @cutoff
            ) AS expired_calls
        ))
    )) AS transcript_events_rows,
    assumeNotNull((
        SELECT count()
        FROM sync_window_calls
        WHERE org = @org AND (call_id IN
        (
            SELECT call_id
            FROM
            (
                SELECT provider, call_id
                FROM raw_signals
                WHERE org = @org
                GROUP BY provider, call_id
                HAVING argMax(started_at, version) < @cutoff
            ) AS expired_calls
        ))
    )) AS sync_window_calls_rows,
    assumeNotNull((
        SELECT count()
        FROM dead_letter_replays
        WHERE org = @org AND (call_id IN
        (
            SELECT call_id
            FROM
            (
                SELECT provider, call_id
                FROM raw_signals
                WHERE org = @org
                GROUP BY provider, call_id
                HAVING argMax(started_at, version) < @cutoff
            ) AS expired_calls
        ))
    )) AS dead_letter_replays_rows,
    assumeNotNull((
        SELECT count()
        FROM dead_letters
        WHERE org = @org AND (at < @cutoff OR call_id IN
        (
            SELECT call_id
            FROM
            (
                SELECT provider, call_id
                FROM raw_signals
                WHERE org = @org
                GROUP BY provider, call_id
                HAVING argMax(started_at, version) < @cutoff
            ) AS expired_calls
        ))
    )) AS dead_letters_rows
