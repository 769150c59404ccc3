-- Fragment {day_counts}: inside a GROUP BY of user_day_metrics' key, the
-- counts of the key's newest version, under the names call_counts gives a
-- call's, so the days and the raw boundary calls add up in one UNION ALL.
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
