-- Every org's serve status in one read (`serve status`): its provider,
-- whether it has credentials, and the latest status row any serve replica
-- wrote for it (run id serve/REPLICA/SESSION; window_to is the start of
-- its last successful round). Empty run_id_ when no replica followed it.
-- The newest row wins across replicas and sessions: a dead replica's last
-- row sorts below its successor's, which writes at least every minute.
SELECT
    org,
    provider_,
    connected_,
    run_id_,
    finished_at_,
    window_to_,
    status_,
    error_
FROM
(
    SELECT
        org,
        argMax(provider, version) AS provider_,
        toUInt8(argMax(credentials, version) != '') AS connected_
    FROM orgs
    GROUP BY org
) AS known
ANY LEFT JOIN
(
    SELECT
        org,
        argMax(run_id, finished_at) AS run_id_,
        max(finished_at) AS finished_at_,
        argMax(window_to, finished_at) AS window_to_,
        argMax(status, finished_at) AS status_,
        argMax(error, finished_at) AS error_
    FROM sync_runs
    WHERE run_id LIKE 'serve/%'
    GROUP BY org
) AS followed USING org
ORDER BY org
