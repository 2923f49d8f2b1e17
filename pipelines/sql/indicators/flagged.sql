-- The grain's flagged values (flags: pid, uid, ind, level, threshold, value, records from numpy) with their
-- period and unit, as the evidence queries join them to the ledgers (catalogue.evidence_count_query).
-- A warning's level first needs to know how many records stand behind it, so this runs before warnings.sql.
CREATE OR REPLACE TEMP TABLE flagged AS
SELECT f.pid, f.uid, f.ind, f.level, u.unit_name, p.period_start, p.period_end, p.years
FROM flags AS f
JOIN periods AS p USING (pid) JOIN unit_dim AS u USING (uid);
