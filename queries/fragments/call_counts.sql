-- Fragment {call_counts}: one current call as the counts it adds
-- (calls, inbound, outbound, duration, after_hours, escalated, resolved,
-- and the talk-time ones of migration 013: n_answered, n_missed,
-- n_voicemail, talk, n_timed and answer_wait, an answered inbound call's
-- time to answer where the provider reports it), summed per user or per
-- day by the statements that name it.
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
