-- Fragment {employee_numbers}: the review's per-employee numbers, in the
-- order review, cycle_metrics, employee_trend and the employee_cycle_metrics
-- view return them, from the counts of cycle_user_totals or
-- cycles_user_totals and the org's escalation availability (org_escalation). Averages are
-- rounded half away from zero; avg_answer_sec is NULL (n/a) with no
-- answered inbound call that has an answer time.
total_calls,
inbound_calls,
outbound_calls,
if(total_calls = 0, toUInt64(0), intDiv(2 * duration_sum + total_calls, 2 * greatest(total_calls, toUInt64(1)))) AS avg_duration_sec,
after_hours_calls,
escalated_calls,
resolved_calls,
escalation_available,
answered_calls,
missed_calls,
voicemail_calls,
talk_sum AS talk_time_sec,
if(answered_calls = 0, toUInt64(0), intDiv(2 * talk_sum + answered_calls, 2 * greatest(answered_calls, toUInt64(1)))) AS avg_talk_sec,
if(answer_calls = 0, NULL, intDiv(2 * answer_sum + answer_calls, 2 * greatest(answer_calls, toUInt64(1)))) AS avg_answer_sec
