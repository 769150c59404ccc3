-- The latest sync runs of an org, newest first. A run is recorded when it
-- starts ("running") and again when it ends; only its latest record counts.
SELECT
    run_id,
    argMax(provider, finished_at) AS provider_,
    min(started_at) AS started_at_,
    max(finished_at) AS finished_at_,
    argMax(window_from, finished_at) AS window_from_,
    argMax(window_to, finished_at) AS window_to_,
    argMax(status, finished_at) AS status_,
    argMax(error, finished_at) AS error_,
    argMax(calls, finished_at) AS calls_,
    argMax(requests, finished_at) AS requests_
FROM sync_runs
WHERE org = ?
GROUP BY run_id
ORDER BY started_at_ DESC, run_id DESC
LIMIT ?
