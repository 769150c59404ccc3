-- The sync runs of one org (@org) whose window overlaps a cycle
-- [@from, @to) and that did not end well: 'error' or 'auth_error', or
-- still 'running' (a run records 'running' when it starts and its end when
-- it stops; a killed sync never records its end). Oldest first. The review's
-- coverage names them beside the stretches of the cycle they left missing.
SELECT run_id, started_at_, window_from_, window_to_, status_, error_
FROM
(
    SELECT
        run_id,
        min(started_at) AS started_at_,
        argMax(window_from, finished_at) AS window_from_,
        argMax(window_to, finished_at) AS window_to_,
        argMax(status, finished_at) AS status_,
        argMax(error, finished_at) AS error_
    FROM sync_runs
    WHERE org = @org AND window_to > @from AND window_from < @to
    GROUP BY run_id
) AS runs
WHERE status_ != 'ok'
ORDER BY started_at_, run_id
