-- 人员线索汇聚: every record that names a pseudonymised person, then, per person, the window (ending at one of
-- their records) holding the most distinct sources. $window_days, $min_sources, $min_records come from
-- data/learning.yaml; the result goes to temp tables clue_people and clue_records for pipelines/ml/clues.py.
CREATE OR REPLACE TEMP TABLE person_records AS
SELECT 'petitions' AS source_table, petition_no AS record_key, received_date AS record_date,
       concat_ws('·', '信访', channel) AS source, unit_name, reported_pid AS person_pid, coalesce(is_leader, false) AS is_leader,
       concat_ws('·', channel, category, fourwinds, hidden_variant, outcome) AS summary
FROM petitions WHERE reported_pid IS NOT NULL
UNION ALL
SELECT 'inquiries', inquiry_no, start_date, '谈话函询', unit_name, person_pid, coalesce(is_leader, false),
       concat_ws('·', method, result)
FROM inquiries WHERE person_pid IS NOT NULL
UNION ALL
SELECT 'cases', case_no, coalesce(filed_date, closed_date), '执纪审查', unit_name, person_pid, coalesce(is_leader, false),
       concat_ws('·', violation, '第' || form || '种形态', party_sanction, gov_sanction)
FROM cases WHERE person_pid IS NOT NULL;

-- Only people seen in at least two records can form a clue: the self-join stays small at any scale.
CREATE OR REPLACE TEMP TABLE clue_windows AS
WITH many AS (
    SELECT * FROM person_records
    WHERE person_pid IN (SELECT person_pid FROM person_records GROUP BY 1 HAVING count(*) >= $min_records)
), win AS (
    SELECT e.person_pid, e.record_date AS window_end, count(*) AS records, count(DISTINCT r.source) AS n_sources
    FROM (SELECT DISTINCT person_pid, record_date FROM many) e
    JOIN many r ON r.person_pid = e.person_pid
               AND r.record_date BETWEEN e.record_date - INTERVAL ($window_days) DAY AND e.record_date
    GROUP BY ALL
)
SELECT * FROM win WHERE n_sources >= $min_sources AND records >= $min_records
QUALIFY row_number() OVER (PARTITION BY person_pid ORDER BY n_sources DESC, records DESC, window_end DESC) = 1;

CREATE OR REPLACE TEMP TABLE clue_records AS
SELECT 'C' || substr(sha256(w.person_pid || '|' || CAST(w.window_end AS VARCHAR)), 1, 16) AS clue_id,
       r.source_table, r.record_key, r.record_date, r.source, r.unit_name, r.summary, r.person_pid, r.is_leader,
       w.window_end
FROM clue_windows w
JOIN person_records r ON r.person_pid = w.person_pid
                     AND r.record_date BETWEEN w.window_end - INTERVAL ($window_days) DAY AND w.window_end;

CREATE OR REPLACE TEMP TABLE clue_people AS
SELECT clue_id, person_pid, list_sort(list_distinct(list(unit_name))) AS units, bool_or(is_leader) AS is_leader,
       min(record_date) AS window_start, max(window_end) AS window_end, count(*)::INTEGER AS records,
       list_sort(list_distinct(list(source))) AS sources
FROM clue_records GROUP BY clue_id, person_pid;
