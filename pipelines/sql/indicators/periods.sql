-- The calendar of a build: every period of every grain that the ledgers cover, month-aligned.
-- Temp tables (per connection): periods, period_months (which periods each month falls in), unit_dim, grid
-- (unit × period). The caller first creates build_grains(grain): the grains this build computes.
-- The covered span runs from the first to the last month that holds an event date in any ledger;
-- deadlines and other future-facing dates do not extend it.

CREATE OR REPLACE TEMP TABLE data_span AS
WITH events AS (
    SELECT received_date AS d FROM petitions
    UNION ALL SELECT closed_date FROM cases
    UNION ALL SELECT filed_date FROM cases
    UNION ALL SELECT start_date FROM inquiries
    UNION ALL SELECT feedback_date FROM inspection_findings
    UNION ALL SELECT report_date FROM audit_findings
    UNION ALL SELECT decision_date FROM major_decisions
    UNION ALL SELECT check_date FROM responsibility_checks
)
SELECT date_trunc('month', min(d))::DATE AS lo, date_trunc('month', max(d))::DATE AS hi FROM events;

CREATE OR REPLACE TEMP TABLE period_months AS
WITH months AS (
    SELECT r::DATE AS month
    FROM data_span, range(lo::TIMESTAMP, (hi + INTERVAL 1 MONTH)::TIMESTAMP, INTERVAL 1 MONTH) AS t(r)
),
windows AS (  -- rolling 12-month windows ending at e: full windows only, or the latest when data is shorter
    SELECT m.month AS e
    FROM months AS m, data_span AS s
    WHERE m.month - INTERVAL 11 MONTH >= s.lo
       OR (s.hi - INTERVAL 11 MONTH < s.lo AND m.month = s.hi)
)
SELECT 'month' AS grain, strftime(month, '%Y-%m') AS period, month AS period_start,
       (month + INTERVAL 1 MONTH)::DATE AS period_end, month
FROM months
UNION ALL
SELECT 'quarter', year(month) || 'Q' || quarter(month), date_trunc('quarter', month)::DATE,
       (date_trunc('quarter', month) + INTERVAL 3 MONTH)::DATE, month
FROM months
UNION ALL
SELECT 'half', year(month) || 'H' || CASE WHEN month(month) <= 6 THEN 1 ELSE 2 END,
       make_date(year(month), CASE WHEN month(month) <= 6 THEN 1 ELSE 7 END, 1),
       (make_date(year(month), CASE WHEN month(month) <= 6 THEN 1 ELSE 7 END, 1) + INTERVAL 6 MONTH)::DATE, month
FROM months
UNION ALL
SELECT 'year', year(month)::VARCHAR, make_date(year(month), 1, 1), make_date(year(month) + 1, 1, 1), month
FROM months
UNION ALL
SELECT 'rolling12', 'R12-' || strftime(w.e, '%Y-%m'), (w.e - INTERVAL 11 MONTH)::DATE,
       (w.e + INTERVAL 1 MONTH)::DATE, m.month
FROM windows AS w JOIN months AS m ON m.month BETWEEN w.e - INTERVAL 11 MONTH AND w.e;

DELETE FROM period_months WHERE grain NOT IN (SELECT grain FROM build_grains);

-- One row per period. years = covered length in years (partial edge periods count only their covered
-- months, so annualised rates stay comparable); prev_* is the preceding window of equal length, when
-- the data covers it; seq orders periods within a grain; yoy_seq is the same period a year before.
CREATE OR REPLACE TEMP TABLE periods AS
WITH p AS (
    SELECT grain, period, period_start, period_end, count(*) AS months
    FROM period_months WHERE grain IN (SELECT grain FROM build_grains) GROUP BY ALL
),
q AS (
    SELECT p.*, date_diff('month', period_start, period_end) AS length_months,
           row_number() OVER (PARTITION BY grain ORDER BY period_start)::INTEGER AS seq
    FROM p
)
SELECT row_number() OVER (ORDER BY q.grain, q.seq)::INTEGER AS pid,
       q.grain, q.period, q.period_start, q.period_end, q.months, q.months / 12.0 AS years,
       q.length_months / 12.0 AS length_years,
       q.months = q.length_months AS complete, q.seq,
       CASE WHEN q.period_start - to_months(q.length_months) >= s.lo
            THEN (q.period_start - to_months(q.length_months))::DATE END AS prev_start,
       CASE WHEN q.period_start - to_months(q.length_months) >= s.lo THEN q.period_start END AS prev_end,
       q.seq - CASE q.grain WHEN 'month' THEN 12 WHEN 'quarter' THEN 4 WHEN 'half' THEN 2
                            WHEN 'year' THEN 1 ELSE 12 END AS yoy_seq
FROM q, data_span AS s;

-- Each month's periods carry their integer code too (structured definitions aggregate by it).
CREATE OR REPLACE TEMP TABLE period_months AS
SELECT pm.*, p.pid FROM period_months AS pm JOIN periods AS p USING (grain, period);

-- Units with a dense integer code (uid), so results travel to numpy as small integer arrays.
CREATE OR REPLACE TEMP TABLE unit_dim AS
SELECT (row_number() OVER (ORDER BY unit_name) - 1)::INTEGER AS uid, unit_name, kind, sector, team,
       headcount, budget_yuan, leadership_posts, top_leader_pid
FROM units;

CREATE OR REPLACE TEMP TABLE grid AS
SELECT p.pid, u.uid, p.grain, p.period, p.period_start, p.period_end, p.prev_start, p.prev_end, p.years,
       p.length_years, p.months, u.unit_name, u.kind, u.sector, u.team, u.headcount, u.budget_yuan,
       u.leadership_posts, u.top_leader_pid
FROM periods AS p CROSS JOIN unit_dim AS u;
