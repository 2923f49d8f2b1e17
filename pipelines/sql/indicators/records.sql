-- Ledger records of every unit and period: the rows of any ledger dated in the period, each by the date that
-- places it in time (a case by its filing and by its closing: counted once in a period that holds both).
-- A unit-period with none is graded 绿 whatever its score (grading.py). Inputs: the ledger tables,
-- period_months, unit_dim. Output columns: pid, uid, records.
WITH dated AS (
    SELECT 'p' AS src, rowid AS rid, unit_name, received_date AS d FROM petitions
    UNION ALL SELECT 'c', rowid, unit_name, filed_date FROM cases
    UNION ALL SELECT 'c', rowid, unit_name, closed_date FROM cases
    UNION ALL SELECT 'i', rowid, unit_name, start_date FROM inquiries
    UNION ALL SELECT 'f', rowid, unit_name, feedback_date FROM inspection_findings
    UNION ALL SELECT 'a', rowid, unit_name, report_date FROM audit_findings
    UNION ALL SELECT 'm', rowid, unit_name, decision_date FROM major_decisions
    UNION ALL SELECT 'r', rowid, unit_name, check_date FROM responsibility_checks
), placed AS (
    SELECT DISTINCT pm.pid, u.uid, d.src, d.rid
    FROM dated AS d
    JOIN period_months AS pm ON pm.month = date_trunc('month', d.d)::DATE
    JOIN unit_dim AS u ON u.unit_name = d.unit_name
    WHERE d.d IS NOT NULL
)
SELECT pid, uid, count(*)::INTEGER AS records FROM placed GROUP BY pid, uid
