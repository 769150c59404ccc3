-- Fragment {org_dirty_days}: the (org, day) pairs of @org's @dirty days.
SELECT @org AS org, {dirty_days} AS day
