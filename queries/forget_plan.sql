-- What `employees forget` removes for one provider user (@user) of one org
-- (@org), counted without changing anything (--dry-run prints it; forget
-- records it in erasures): the user's calls (those whose current version is
-- the user's: every version of each goes), the rows of every table that
-- name the user or one of those calls, and the UTC days [first_day,
-- last_day] whose aggregates are recomputed (1970-01-01 when none). A call
-- the user had once and another user has now keeps its current version;
-- only its versions naming the user go.
-- Each count is a scalar subquery: assumeNotNull keeps its type as 18.16
-- gives it (current ClickHouse makes scalar subqueries Nullable).
SELECT
    assumeNotNull((
        SELECT count()
        FROM
        (
            {user_calls}
        ) AS user_calls
    )) AS calls,
    assumeNotNull((
        SELECT count()
        FROM raw_signals
        WHERE org = @org AND
        {user_rows}
    )) AS raw_signals_rows,
    assumeNotNull((
        SELECT count()
        FROM user_day_metrics
        WHERE org = @org AND user_id = @user
    )) AS user_day_metrics_rows,
    {user_call_rows table="call_transcripts"},
    {user_call_rows table="transcript_events"},
    {user_call_rows table="sync_window_calls"},
    {user_call_rows table="dead_letters"},
    {user_call_rows table="dead_letter_replays"},
    assumeNotNull((
        SELECT min(day)
        FROM
        (
            SELECT toDate(started_at) AS day
            FROM raw_signals
            WHERE org = @org AND
        {user_rows}
            UNION ALL
            SELECT day
            FROM user_day_metrics
            WHERE org = @org AND user_id = @user
        ) AS days
    )) AS first_day,
    assumeNotNull((
        SELECT max(day)
        FROM
        (
            SELECT toDate(started_at) AS day
            FROM raw_signals
            WHERE org = @org AND
        {user_rows}
            UNION ALL
            SELECT day
            FROM user_day_metrics
            WHERE org = @org AND user_id = @user
        ) AS days
    )) AS last_day
