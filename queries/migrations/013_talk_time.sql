-- Talk-time metrics beside the seed's seven (issue 20, section 4; the
-- README's definitions table says each in words).
--
-- raw_signals gains one column per talk-time fact the transform computes
-- (transform/rules.go, Talk; the providers' decoders set the neutral
-- fields it reads): answered (connected to a person, no voicemail left),
-- missed (reached the user and not answered, by the provider's states),
-- voicemail (the caller left one; always also missed), talk_sec (answered
-- to ended, or a connected call's duration where the provider reports no
-- answer time), answer_sec (answered minus started) and answer_available
-- (the provider reports answer times: time to answer is n/a, never 0,
-- where it does not).
--
-- Rows stored before this migration get what their stored columns tell
-- (a DEFAULT is computed for old parts when read, and written by their
-- next merge): answered, missed and voicemail from the seed's status
-- (Aircall done/answered, missed, voicemail; RingCentral's result), and a
-- RingCentral call's talk time from its duration. An Aircall row stored
-- before knows neither its answer nor its end time (migration 007 dropped
-- the payload that held them): its talk_sec is 0 and answer_available 0,
-- so it adds nothing to avg_answer_sec, until `phonesignals sync` reads
-- the call again (a newer version, rules 2026.12-1). The loader always
-- writes every column, so the defaults serve old rows only.
--
-- ClickHouse 18.16 has no ADD COLUMN IF NOT EXISTS: the migration runner
-- (internal/store, Migrate) skips an `ALTER TABLE t ADD COLUMN c` whose
-- column exists (queries.AddColumn reads the statement), so running this
-- file again changes nothing. One column per statement.
ALTER TABLE raw_signals ADD COLUMN answered UInt8 DEFAULT toUInt8(if(provider = 'ringcentral', status = 'Call connected' OR status = 'Accepted', status = 'done' OR status = 'answered'));

ALTER TABLE raw_signals ADD COLUMN missed UInt8 DEFAULT toUInt8(direction = 'inbound' AND if(provider = 'ringcentral', status = 'Missed' OR status = 'Voicemail' OR status = 'Rejected' OR status = 'Declined' OR status = 'No Answer' OR status = 'Busy', status = 'missed' OR status = 'voicemail'));

ALTER TABLE raw_signals ADD COLUMN voicemail UInt8 DEFAULT toUInt8(direction = 'inbound' AND lower(status) = 'voicemail');

ALTER TABLE raw_signals ADD COLUMN talk_sec UInt32 DEFAULT if(provider = 'ringcentral' AND (status = 'Call connected' OR status = 'Accepted'), duration_sec, toUInt32(0));

ALTER TABLE raw_signals ADD COLUMN answer_sec UInt32 DEFAULT toUInt32(0);

ALTER TABLE raw_signals ADD COLUMN answer_available UInt8 DEFAULT toUInt8(0);

-- The per-day sums of those facts, kept by the refresh like the others
-- (queries/fragments: call_counts, current_version, refresh_head,
-- refresh_tail): answered_calls, missed_calls, voicemail_calls, talk_sum
-- (seconds), answer_calls (answered inbound calls with an answer time) and
-- answer_sum (their seconds to answer). Rows written before hold zeros.
ALTER TABLE user_day_metrics ADD COLUMN answered_calls UInt64;

ALTER TABLE user_day_metrics ADD COLUMN missed_calls UInt64;

ALTER TABLE user_day_metrics ADD COLUMN voicemail_calls UInt64;

ALTER TABLE user_day_metrics ADD COLUMN talk_sum UInt64;

ALTER TABLE user_day_metrics ADD COLUMN answer_calls UInt64;

ALTER TABLE user_day_metrics ADD COLUMN answer_sum UInt64;

-- So the zeros of the aggregates written before are never read: every day
-- they hold is marked loaded, above every mark (the store orders versions,
-- queries/aggregate/next_version.sql). Reads take those days from
-- raw_signals until the refresher (`run`) or `phonesignals aggregates
-- rebuild` recomputes them with the new columns. Running it again marks
-- them again, which changes no number. Stop `run` while migrating.
INSERT INTO user_day_dirty (org, day, kind, value)
SELECT org, day, 'loaded', (SELECT max(value) FROM user_day_dirty) + 1
FROM user_day_metrics
GROUP BY org, day;

-- employee_cycle_metrics with the talk-time columns after the seed's:
-- answered_calls, missed_calls, voicemail_calls, talk_time_sec,
-- avg_talk_sec (rounded half away from zero, 0 with no answered call),
-- avg_answer_sec (over answered inbound calls with an answer time; NULL,
-- n/a, when there is none: always for RingCentral) and
-- answer_time_available. Otherwise as migration 009 made it.
DROP TABLE IF EXISTS employee_cycle_metrics;

CREATE VIEW IF NOT EXISTS employee_cycle_metrics AS
SELECT
    org,
    cycle_id,
    employee_id,
    name,
    cohort,
    provider_user_id,
    period_start,
    period_end,
    total_calls,
    inbound_calls,
    outbound_calls,
    if(total_calls = 0, toUInt64(0), intDiv(2 * duration_sum + total_calls, 2 * greatest(total_calls, toUInt64(1)))) AS avg_duration_sec,
    after_hours_calls,
    escalated_calls,
    resolved_calls,
    if(provider = 'ringcentral', toUInt8(0), toUInt8(1)) AS escalation_available,
    answered_calls,
    missed_calls,
    voicemail_calls,
    talk_sum AS talk_time_sec,
    if(answered_calls = 0, toUInt64(0), intDiv(2 * talk_sum + answered_calls, 2 * greatest(answered_calls, toUInt64(1)))) AS avg_talk_sec,
    if(answer_calls = 0, NULL, intDiv(2 * answer_sum + answer_calls, 2 * greatest(answer_calls, toUInt64(1)))) AS avg_answer_sec,
    toUInt8(answer_calls > 0) AS answer_time_available
FROM
(
    SELECT *
    FROM
    (
        SELECT org, cycle_id, period_start, period_end, employee_id, name, cohort, provider_user_id
        FROM
        (
            SELECT org, employee_id, name, cohort, provider_user_id
            FROM employees_current
        ) AS roster
        ALL INNER JOIN
        (
            SELECT org, cycle_id, period_start, period_end
            FROM cycles_current
        ) AS roster_cycles USING (org)
    ) AS employee_cycles
    ALL LEFT JOIN
    (
        SELECT
            org,
            cycle_id,
            user_id AS provider_user_id,
            total_calls,
            inbound_calls,
            outbound_calls,
            duration_sum,
            after_hours_calls,
            escalated_calls,
            resolved_calls,
            answered_calls,
            missed_calls,
            voicemail_calls,
            talk_sum,
            answer_calls,
            answer_sum
        FROM
        (
            SELECT
                org,
                cycle_id,
                user_id,
                sum(calls) AS total_calls,
                sum(inbound) AS inbound_calls,
                sum(outbound) AS outbound_calls,
                sum(duration) AS duration_sum,
                sum(after_hours) AS after_hours_calls,
                sum(escalated) AS escalated_calls,
                sum(resolved) AS resolved_calls,
                sum(n_answered) AS answered_calls,
                sum(n_missed) AS missed_calls,
                sum(n_voicemail) AS voicemail_calls,
                sum(talk) AS talk_sum,
                sum(n_timed) AS answer_calls,
                sum(answer_wait) AS answer_sum
            FROM
            (
                SELECT org, cycle_id, user_id, calls, inbound, outbound, duration, after_hours, escalated, resolved,
                    n_answered, n_missed, n_voicemail, talk, n_timed, answer_wait
                FROM
                (
                    SELECT
                        org,
                        day,
                        user_id,
                        argMax(calls, version) AS calls,
                    argMax(inbound_calls, version) AS inbound,
                    argMax(outbound_calls, version) AS outbound,
                    argMax(duration_sum, version) AS duration,
                    argMax(after_hours_calls, version) AS after_hours,
                    argMax(escalated_calls, version) AS escalated,
                    argMax(resolved_calls, version) AS resolved,
                    argMax(answered_calls, version) AS n_answered,
                    argMax(missed_calls, version) AS n_missed,
                    argMax(voicemail_calls, version) AS n_voicemail,
                    argMax(talk_sum, version) AS talk,
                    argMax(answer_calls, version) AS n_timed,
                    argMax(answer_sum, version) AS answer_wait
                    FROM user_day_metrics
                    WHERE user_id != ''
                        AND (org, day) NOT IN (
                            SELECT org, day
                            FROM user_day_dirty
                            GROUP BY org, day
                            HAVING maxIf(value, kind = 'loaded') > maxIf(value, kind = 'refreshed')
                        )
                    GROUP BY org, day, provider, user_id
                ) AS days
                ALL INNER JOIN
                (
                    SELECT org, cycle_id, argMax(period_start, version) AS period_start, argMax(period_end, version) AS period_end
                    FROM cycles
                    GROUP BY org, cycle_id
                ) AS day_cycles USING (org)
                WHERE day >= toDate(period_start + 86399) AND day < toDate(period_end)
                UNION ALL
                SELECT
                    org,
                    cycle_id,
                    user_id,
                    toUInt64(1) AS calls,
                    toUInt64(direction = 'inbound') AS inbound,
                    toUInt64(direction = 'outbound') AS outbound,
                    toUInt64(duration_sec) AS duration,
                    toUInt64(after_hours = 1) AS after_hours,
                    toUInt64(escalated = 1) AS escalated,
                    toUInt64(resolved = 1) AS resolved,
                    toUInt64(answered = 1) AS n_answered,
                    toUInt64(missed = 1) AS n_missed,
                    toUInt64(voicemail = 1) AS n_voicemail,
                    toUInt64(talk_sec) AS talk,
                    toUInt64(answered = 1 AND answer_available = 1 AND direction = 'inbound') AS n_timed,
                    if(answered = 1 AND answer_available = 1 AND direction = 'inbound', toUInt64(answer_sec), toUInt64(0)) AS answer_wait
                FROM
                (
                    SELECT
                        org,
                        argMax(user_id, version) AS user_id,
                        argMax(started_at, version) AS started_at,
                        argMax(direction, version) AS direction,
                        argMax(duration_sec, version) AS duration_sec,
                        argMax(after_hours, version) AS after_hours,
                        argMax(escalated, version) AS escalated,
                        argMax(resolved, version) AS resolved,
                        argMax(answered, version) AS answered,
                        argMax(missed, version) AS missed,
                        argMax(voicemail, version) AS voicemail,
                        argMax(talk_sec, version) AS talk_sec,
                        argMax(answer_sec, version) AS answer_sec,
                        argMax(answer_available, version) AS answer_available,
                        argMax(deleted, version) AS is_deleted
                    FROM raw_signals
                    WHERE (org, provider, call_id) IN
                    (
                        SELECT org, provider, call_id
                        FROM raw_signals
                        WHERE (org, toDate(started_at)) IN
                        (
                            SELECT org, toDate(period_start) FROM (SELECT org, cycle_id, argMax(period_start, version) AS period_start, argMax(period_end, version) AS period_end
                    FROM cycles
                    GROUP BY org, cycle_id) AS starts WHERE toStartOfDay(period_start) != period_start
                            UNION ALL
                            SELECT org, toDate(period_end) FROM (SELECT org, cycle_id, argMax(period_start, version) AS period_start, argMax(period_end, version) AS period_end
                    FROM cycles
                    GROUP BY org, cycle_id) AS ends WHERE toStartOfDay(period_end) != period_end
                            UNION ALL
                            SELECT org, day FROM (
                                SELECT org, day
                                FROM user_day_dirty
                                GROUP BY org, day
                                HAVING maxIf(value, kind = 'loaded') > maxIf(value, kind = 'refreshed')
                            ) AS dirty
                        )
                    )
                    GROUP BY org, provider, call_id
                ) AS boundary_calls
                ALL INNER JOIN
                (
                    SELECT org, cycle_id, argMax(period_start, version) AS period_start, argMax(period_end, version) AS period_end
                    FROM cycles
                    GROUP BY org, cycle_id
                ) AS boundary_cycles USING (org)
                WHERE is_deleted = 0 AND user_id != ''
                    AND started_at >= period_start AND started_at < period_end
                    AND (started_at < toStartOfDay(period_start + 86399) OR started_at >= toStartOfDay(period_end)
                        OR (org, toDate(started_at)) IN (
                            SELECT org, day
                            FROM user_day_dirty
                            GROUP BY org, day
                            HAVING maxIf(value, kind = 'loaded') > maxIf(value, kind = 'refreshed')
                        ))
            ) AS cycle_parts
            GROUP BY org, cycle_id, user_id
        ) AS user_totals
    ) AS call_counts USING (org, cycle_id, provider_user_id)
) AS employee_counts
ANY LEFT JOIN
(
    SELECT org, provider
    FROM orgs_current
) AS org_providers USING (org);
