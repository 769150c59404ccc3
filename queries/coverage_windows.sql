-- The finished sync windows of one org (@org) that overlap a cycle
-- [@from, @to), whatever job finished them, each with how many of the calls
-- it published are neither in raw_signals nor dead-lettered (0: every call
-- of the window reached ClickHouse). The review's coverage (store.Coverage)
-- takes the cycle as complete through the end of the windows that cover it
-- from its start without a gap and with no call missing.
SELECT window_from, window_to, done_at, missing
FROM
(
    SELECT window_from, window_to, max(done_at) AS done_at
    FROM sync_windows
    WHERE org = @org AND window_to > @from AND window_from < @to
    GROUP BY window_from, window_to
) AS finished
ANY LEFT JOIN
(
    SELECT window_from, window_to, uniqExact(call_id) AS missing
    FROM sync_window_calls
    WHERE org = @org AND window_to > @from AND window_from < @to
        AND call_id NOT IN
        (
            -- Only the windows' own calls, so the set stays the cycle's size.
            SELECT call_id
            FROM raw_signals
            WHERE org = @org AND call_id IN
            (
                SELECT call_id
                FROM sync_window_calls
                WHERE org = @org AND window_to > @from AND window_from < @to
            )
        )
        AND call_id NOT IN (SELECT call_id FROM dead_letters WHERE org = @org)
    GROUP BY window_from, window_to
) AS unloaded USING (window_from, window_to)
ORDER BY window_from, window_to
