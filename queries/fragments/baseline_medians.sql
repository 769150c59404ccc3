-- Fragment {baseline_medians}: a cohort's baselines, the exact median of
-- each number over the cohort's employees (zeros included), the mean of
-- the two middle values when cohort_size is even, from the sorted arrays
-- of baseline_arrays.
if(cohort_size % 2 = 1,
    toFloat64(sorted[intDiv(cohort_size, 2) + 1]),
    (toFloat64(sorted[intDiv(cohort_size, 2)]) + toFloat64(sorted[intDiv(cohort_size, 2) + 1])) / 2) AS median_total_calls,
if(cohort_size % 2 = 1,
    toFloat64(s_answered[intDiv(cohort_size, 2) + 1]),
    (toFloat64(s_answered[intDiv(cohort_size, 2)]) + toFloat64(s_answered[intDiv(cohort_size, 2) + 1])) / 2) AS median_answered_calls,
if(cohort_size % 2 = 1,
    toFloat64(s_missed[intDiv(cohort_size, 2) + 1]),
    (toFloat64(s_missed[intDiv(cohort_size, 2)]) + toFloat64(s_missed[intDiv(cohort_size, 2) + 1])) / 2) AS median_missed_calls,
if(cohort_size % 2 = 1,
    toFloat64(s_voicemail[intDiv(cohort_size, 2) + 1]),
    (toFloat64(s_voicemail[intDiv(cohort_size, 2)]) + toFloat64(s_voicemail[intDiv(cohort_size, 2) + 1])) / 2) AS median_voicemail_calls,
if(cohort_size % 2 = 1,
    toFloat64(s_talk[intDiv(cohort_size, 2) + 1]),
    (toFloat64(s_talk[intDiv(cohort_size, 2)]) + toFloat64(s_talk[intDiv(cohort_size, 2) + 1])) / 2) AS median_talk_time_sec,
if(cohort_size % 2 = 1,
    toFloat64(s_avg_talk[intDiv(cohort_size, 2) + 1]),
    (toFloat64(s_avg_talk[intDiv(cohort_size, 2)]) + toFloat64(s_avg_talk[intDiv(cohort_size, 2) + 1])) / 2) AS median_avg_talk_sec
