-- Fragment {count_sums}: the sums of call_counts' (or day_counts') columns
-- under the names the review numbers read (employee_numbers).
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
