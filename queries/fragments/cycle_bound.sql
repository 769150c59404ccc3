-- Fragment {cycle_bound bound="period_start"} (or period_end): one bound
-- of cycle @cycle of @org, its newest version, as a scalar subquery. The
-- one place the single-cycle reads take a cycle's bounds from.
(SELECT argMax({?bound}, version) FROM cycles WHERE org = @org AND cycle_id = @cycle)
