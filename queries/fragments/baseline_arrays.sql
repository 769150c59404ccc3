-- Fragment {baseline_arrays}: inside a GROUP BY cohort over
-- cycle_employee_counts, the cohort's size and the sorted values
-- baseline_medians takes its medians from.
count() AS cohort_size,
arraySort(groupArray(total_calls)) AS sorted,
arraySort(groupArray(answered_calls)) AS s_answered,
arraySort(groupArray(missed_calls)) AS s_missed,
arraySort(groupArray(voicemail_calls)) AS s_voicemail,
arraySort(groupArray(talk_sum)) AS s_talk,
arraySort(groupArray(if(answered_calls = 0, toUInt64(0), intDiv(2 * talk_sum + answered_calls, 2 * greatest(answered_calls, toUInt64(1)))))) AS s_avg_talk
