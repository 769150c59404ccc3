-- Fragment {dirty_days}: each day of @dirty ('YYYY-MM-DD,...', '' for
-- none; queries/aggregate/dirty_days_of_org.sql) as a Date, one per row
-- under arrayJoin: the days of @org the reads take from raw_signals.
toDate(arrayJoin(arrayFilter(x -> x != '', splitByChar(',', @dirty))))
