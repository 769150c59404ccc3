-- A comment on every column of the objects an analyst reads (the
-- README's "Querying ClickHouse" table), so system.columns and DESCRIBE
-- say what each number is; docs/schema.md is generated from them
-- (queries/schema_test.go, go test ./queries -run Schema -update).
-- ClickHouse 18.16 and current ClickHouse both take ALTER ... COMMENT
-- COLUMN on a view as on a table. A migration that recreates one of these
-- views must comment its columns again: TestSchemaDoc fails on a column
-- without a comment. Running this file again sets the same comments.
ALTER TABLE call_metrics COMMENT COLUMN org 'the organization (tenant) the call belongs to';
ALTER TABLE call_metrics COMMENT COLUMN provider 'the telephony provider the calls came from (the connector name)';
ALTER TABLE call_metrics COMMENT COLUMN call_id 'the provider call id, unique per org and provider';
ALTER TABLE call_metrics COMMENT COLUMN user_id 'the provider user who handled the call, empty when none';
ALTER TABLE call_metrics COMMENT COLUMN started_at 'when the call started, UTC';
ALTER TABLE call_metrics COMMENT COLUMN day 'the UTC day of started_at';
ALTER TABLE call_metrics COMMENT COLUMN direction 'inbound or outbound';
ALTER TABLE call_metrics COMMENT COLUMN duration_sec 'call duration in seconds';
ALTER TABLE call_metrics COMMENT COLUMN status 'the provider call status, as reported';
ALTER TABLE call_metrics COMMENT COLUMN after_hours '1 when the call started outside the org business hours';
ALTER TABLE call_metrics COMMENT COLUMN escalated '1 when escalated, 0 when not, NULL where the provider does not report escalation (escalation_available = 0)';
ALTER TABLE call_metrics COMMENT COLUMN escalation_available '1 when the provider reports escalation for this call, 0 when n/a';
ALTER TABLE call_metrics COMMENT COLUMN resolved '1 when the call was resolved';
ALTER TABLE call_metrics COMMENT COLUMN answered '1 when connected to a person (no voicemail left)';
ALTER TABLE call_metrics COMMENT COLUMN missed '1 when an inbound call reached the user and was not answered';
ALTER TABLE call_metrics COMMENT COLUMN voicemail '1 when the caller left a voicemail (always also missed)';
ALTER TABLE call_metrics COMMENT COLUMN talk_sec 'seconds from answer to end, 0 when not answered';
ALTER TABLE call_metrics COMMENT COLUMN answer_sec 'seconds from start to answer, NULL where the provider reports no answer time (answer_available = 0)';
ALTER TABLE call_metrics COMMENT COLUMN answer_available '1 when the provider reports the answer time of this call';
ALTER TABLE call_metrics COMMENT COLUMN version 'the version of the call this row is (the newest stored one)';

ALTER TABLE user_day_current COMMENT COLUMN org 'the organization (tenant)';
ALTER TABLE user_day_current COMMENT COLUMN day 'UTC day the calls started';
ALTER TABLE user_day_current COMMENT COLUMN provider 'the telephony provider the calls came from (the connector name)';
ALTER TABLE user_day_current COMMENT COLUMN user_id 'the provider user, empty for calls with no user';
ALTER TABLE user_day_current COMMENT COLUMN calls 'calls that started that day (current versions, deleted calls left out)';
ALTER TABLE user_day_current COMMENT COLUMN inbound_calls 'inbound calls';
ALTER TABLE user_day_current COMMENT COLUMN outbound_calls 'outbound calls';
ALTER TABLE user_day_current COMMENT COLUMN duration_sum 'sum of call durations in seconds';
ALTER TABLE user_day_current COMMENT COLUMN after_hours_calls 'calls that started outside the org business hours';
ALTER TABLE user_day_current COMMENT COLUMN escalated_calls 'escalated calls, NULL where the org calls do not report escalation (escalation_available = 0)';
ALTER TABLE user_day_current COMMENT COLUMN resolved_calls 'resolved calls';
ALTER TABLE user_day_current COMMENT COLUMN escalation_available '1 when the org calls report escalation, 0 when n/a';
ALTER TABLE user_day_current COMMENT COLUMN answered_calls 'calls connected to a person';
ALTER TABLE user_day_current COMMENT COLUMN missed_calls 'inbound calls not answered';
ALTER TABLE user_day_current COMMENT COLUMN voicemail_calls 'inbound calls where the caller left a voicemail';
ALTER TABLE user_day_current COMMENT COLUMN talk_time_sec 'sum of talk time in seconds';
ALTER TABLE user_day_current COMMENT COLUMN answer_calls 'answered inbound calls with an answer time (the count behind avg_answer_sec)';
ALTER TABLE user_day_current COMMENT COLUMN answer_sum 'their summed seconds to answer';

ALTER TABLE employee_cycle_metrics COMMENT COLUMN org 'the organization (tenant)';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN cycle_id 'the review cycle id';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN employee_id 'the employee id of the roster';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN name 'the employee name';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN cohort 'the employee cohort';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN provider_user_id 'the provider user mapped to the employee';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN period_start 'start of the cycle, UTC, inclusive';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN period_end 'end of the cycle, UTC, exclusive';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN total_calls 'calls that started in the cycle';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN inbound_calls 'inbound calls';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN outbound_calls 'outbound calls';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN avg_duration_sec 'mean call duration in seconds, rounded half away from zero, 0 with no call';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN after_hours_calls 'calls that started outside the org business hours';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN escalated_calls 'escalated calls, NULL where the provider does not report escalation (escalation_available = 0)';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN resolved_calls 'resolved calls';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN escalation_available '1 when the org calls report escalation, 0 when n/a';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN answered_calls 'calls connected to a person';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN missed_calls 'inbound calls not answered';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN voicemail_calls 'inbound calls where the caller left a voicemail';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN talk_time_sec 'sum of talk time in seconds';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN avg_talk_sec 'mean talk time of answered calls in seconds, rounded half away from zero, 0 with none';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN avg_answer_sec 'mean seconds to answer of answered inbound calls with an answer time, NULL when there is none';
ALTER TABLE employee_cycle_metrics COMMENT COLUMN answer_time_available '1 when avg_answer_sec has at least one call behind it';

ALTER TABLE cohort_cycle_baselines COMMENT COLUMN org 'the organization (tenant)';
ALTER TABLE cohort_cycle_baselines COMMENT COLUMN cycle_id 'the review cycle id';
ALTER TABLE cohort_cycle_baselines COMMENT COLUMN cohort 'the cohort';
ALTER TABLE cohort_cycle_baselines COMMENT COLUMN cohort_size 'employees of the cohort in the cycle';
ALTER TABLE cohort_cycle_baselines COMMENT COLUMN median_total_calls 'exact median of total_calls over the cohort (zeros included, mean of the middle two when even)';

ALTER TABLE cohort_cycle_baselines_published COMMENT COLUMN org 'the organization (tenant)';
ALTER TABLE cohort_cycle_baselines_published COMMENT COLUMN cycle_id 'the review cycle id';
ALTER TABLE cohort_cycle_baselines_published COMMENT COLUMN cohort 'the cohort';
ALTER TABLE cohort_cycle_baselines_published COMMENT COLUMN cohort_size 'employees of the cohort in the cycle';
ALTER TABLE cohort_cycle_baselines_published COMMENT COLUMN min_cohort 'the org privacy floor: smaller cohorts publish no median (default 3)';
ALTER TABLE cohort_cycle_baselines_published COMMENT COLUMN median_total_calls 'exact median of total_calls, NULL when cohort_size is below min_cohort';
ALTER TABLE cohort_cycle_baselines_published COMMENT COLUMN median_na_reason 'why median_total_calls is NULL, empty when it is published';

ALTER TABLE employees_current COMMENT COLUMN org 'the organization (tenant)';
ALTER TABLE employees_current COMMENT COLUMN employee_id 'the employee id of the roster';
ALTER TABLE employees_current COMMENT COLUMN name 'the employee name';
ALTER TABLE employees_current COMMENT COLUMN email 'the employee email';
ALTER TABLE employees_current COMMENT COLUMN cohort 'the employee cohort';
ALTER TABLE employees_current COMMENT COLUMN provider_user_id 'the provider user mapped to the employee, empty when unmapped';

ALTER TABLE cycles_current COMMENT COLUMN org 'the organization (tenant)';
ALTER TABLE cycles_current COMMENT COLUMN cycle_id 'the review cycle id';
ALTER TABLE cycles_current COMMENT COLUMN period_start 'start of the cycle, UTC, inclusive';
ALTER TABLE cycles_current COMMENT COLUMN period_end 'end of the cycle, UTC, exclusive';
