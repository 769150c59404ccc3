-- Fragment {current_version}: the columns of a call's current version,
-- argMax over its versions, inside a GROUP BY of the call. Every count of
-- a call (the reads' boundary days, the per-day refresh) takes its
-- version from here, so they cannot disagree on which version counts.
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
