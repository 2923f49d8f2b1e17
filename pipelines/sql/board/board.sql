-- The dashboard's queries over the published snapshot (read-only). One block per query, introduced by
-- `-- name: NAME`; pipelines/board/queries.py loads them by name.
--
-- Every query that names units is scoped here, in SQL: the CTE `visible` keeps only the units of the
-- user's 派驻组 teams ($all_teams = true for county-wide users) and the unit-level tables are joined to
-- it; a query about one $unit returns nothing unless the unit is visible (`WHERE EXISTS (… visible …)`).
-- So a user of one team never receives another team's rows, whatever the Python around it does.
-- Parameters: $build (the build shown), $teams (VARCHAR[]), $all_teams (BOOLEAN), and the ones each
-- block names.

-- name: latest_build
SELECT build_id, built_at, catalogue_version, settings::VARCHAR AS settings
FROM build_runs
WHERE status = 'complete'
ORDER BY built_at DESC
LIMIT 1;

-- name: periods
SELECT grain, period
FROM unit_scores
WHERE build_id = $build AND level = 'index'
GROUP BY grain, period
ORDER BY grain, period;

-- name: roster_teams
-- The 派驻组 teams of the unit master, with their unit counts: why a team-scoped user sees nothing.
SELECT team, count(*) AS units FROM units GROUP BY team ORDER BY team;

-- name: visible_units
SELECT unit_name, kind, sector, team, headcount
FROM units
WHERE $all_teams OR list_contains($teams, team)
ORDER BY unit_name;

-- name: dimensions
-- Dimensions of the index; `weight` is the dimension's weight in the index (1 when the build did not say).
SELECT dimension, any_value(dimension_zh) AS dimension_zh,
       coalesce(max(dimension_weight) FILTER (WHERE NOT coalesce(context, false)), max(dimension_weight), 1.0) AS weight,
       count(*) AS indicators, bool_and(coalesce(context, false)) AS context_only
FROM indicator_catalogue
WHERE build_id = $build
GROUP BY dimension
ORDER BY dimension;

-- name: period_scores
WITH visible AS (SELECT unit_name, kind, sector, team FROM units WHERE $all_teams OR list_contains($teams, team))
SELECT s.unit_name, v.kind, v.sector, v.team, s.level, s.score, s.grade, s.rank, s.rank_p05, s.rank_p95,
       s.sector_rank, s.change_prev, s.change_yoy, coalesce(s.rising, false) AS rising,
       s.grade_basis, s.warning_level, s.evidence, s.records, coalesce(s.provisional, false) AS provisional,
       s.imputed_share
FROM unit_scores s
JOIN visible v USING (unit_name)
WHERE s.build_id = $build AND s.grain = $grain AND s.period = $period;

-- name: grain_trend
WITH visible AS (SELECT unit_name, kind, sector, team FROM units WHERE $all_teams OR list_contains($teams, team))
SELECT s.period,
       avg(s.score) AS mean_score,
       median(s.score) AS median_score,
       count(*) FILTER (WHERE s.grade = '红') AS red,
       count(*) FILTER (WHERE s.grade = '橙') AS orange,
       count(*) FILTER (WHERE s.grade = '黄') AS yellow,
       count(*) FILTER (WHERE s.grade = '绿') AS green,
       count(*) AS units
FROM unit_scores s
JOIN visible v USING (unit_name)
WHERE s.build_id = $build AND s.grain = $grain AND s.level = 'index'
  AND (len($sectors) = 0 OR list_contains($sectors, v.sector))
  AND (len($kinds) = 0 OR list_contains($kinds, v.kind))
GROUP BY s.period
ORDER BY s.period;

-- name: period_warnings
WITH visible AS (SELECT unit_name, kind, sector, team FROM units WHERE $all_teams OR list_contains($teams, team))
SELECT w.warning_id, w.period, w.unit_name, v.team, v.sector, v.kind, w.indicator_id,
       coalesce(c.name_zh, w.indicator_id) AS indicator_zh, coalesce(c.dimension_zh, '') AS dimension_zh,
       w.grade, w.value, w.threshold, w.rule, w.message, w.status,
       (SELECT count(*) FROM warning_evidence e WHERE e.build_id = w.build_id AND e.warning_id = w.warning_id) AS evidence
FROM warnings w
JOIN visible v USING (unit_name)
LEFT JOIN indicator_catalogue c ON c.build_id = w.build_id AND c.indicator_id = w.indicator_id
WHERE w.build_id = $build AND w.grain = $grain AND w.period = $period
ORDER BY CASE w.grade WHEN '红' THEN 0 WHEN '橙' THEN 1 ELSE 2 END, w.unit_name, w.indicator_id;

-- name: warning_evidence
-- The records behind warnings (pseudonymised, already masked); the warning must belong to a visible unit.
WITH visible AS (SELECT unit_name FROM units WHERE $all_teams OR list_contains($teams, team))
SELECT e.warning_id, w.unit_name, e.source_table, e.record_key, e.record_date, e.summary
FROM warning_evidence e
JOIN warnings w ON w.build_id = e.build_id AND w.warning_id = e.warning_id
JOIN visible v ON v.unit_name = w.unit_name
WHERE e.build_id = $build AND list_contains($warning_ids, e.warning_id)
ORDER BY e.warning_id, e.record_date, e.record_key;

-- name: unit_facts
SELECT unit_name, array_to_string(coalesce(aliases, []), '、') AS aliases, kind, sector, team, headcount,
       budget_yuan, leadership_posts
FROM units
WHERE unit_name = $unit AND ($all_teams OR list_contains($teams, team));

-- name: unit_peers
-- The unit's dimension scores against the county (all units) and its sector peers (others of its sector).
-- Aggregates only; a peer mean resting on fewer than 3 other units is withheld so it cannot reveal one unit.
WITH me AS (SELECT sector FROM units WHERE unit_name = $unit AND ($all_teams OR list_contains($teams, team)))
SELECT s.level,
       any_value(s.score) FILTER (WHERE s.unit_name = $unit) AS unit_score,
       CASE WHEN count(*) FILTER (WHERE u.sector = (SELECT sector FROM me) AND s.unit_name <> $unit) >= 3
            THEN avg(s.score) FILTER (WHERE u.sector = (SELECT sector FROM me) AND s.unit_name <> $unit) END AS sector_mean,
       count(*) FILTER (WHERE u.sector = (SELECT sector FROM me) AND s.unit_name <> $unit) AS sector_peers,
       avg(s.score) AS county_mean,
       count(*) AS county_units
FROM unit_scores s
JOIN units u USING (unit_name)
WHERE s.build_id = $build AND s.grain = $grain AND s.period = $period AND EXISTS (SELECT 1 FROM me)
GROUP BY s.level;

-- name: unit_indicators
SELECT c.indicator_id, c.name_zh, c.dimension, c.dimension_zh, c.direction, c.weight, c.unit,
       iv.value, iv.status, iv.sample, iv.normalised, iv.percentile, iv.sector_percentile, iv.threshold,
       coalesce(iv.flagged, false) AS flagged, h.history
FROM indicator_catalogue c
LEFT JOIN indicator_values iv
       ON iv.build_id = c.build_id AND iv.indicator_id = c.indicator_id AND iv.unit_name = $unit
      AND iv.grain = $grain AND iv.period = $period
LEFT JOIN (
    SELECT indicator_id, list(coalesce(value, 'NaN'::DOUBLE) ORDER BY period) AS history
    FROM indicator_values
    WHERE build_id = $build AND unit_name = $unit AND grain = $grain
    GROUP BY indicator_id
) h ON h.indicator_id = c.indicator_id
WHERE c.build_id = $build
  AND EXISTS (SELECT 1 FROM units WHERE unit_name = $unit AND ($all_teams OR list_contains($teams, team)))
ORDER BY c.dimension, c.indicator_id;

-- name: unit_contributions
SELECT ct.indicator_id, coalesce(c.name_zh, ct.indicator_id) AS name_zh, ct.dimension,
       coalesce(c.dimension_zh, ct.dimension) AS dimension_zh, ct.contribution
FROM contributions ct
LEFT JOIN indicator_catalogue c ON c.build_id = ct.build_id AND c.indicator_id = ct.indicator_id
WHERE ct.build_id = $build AND ct.unit_name = $unit AND ct.grain = $grain AND ct.period = $period
  AND EXISTS (SELECT 1 FROM units WHERE unit_name = $unit AND ($all_teams OR list_contains($teams, team)))
ORDER BY ct.contribution DESC;

-- name: unit_trend
SELECT period, level, score, rank, rank_p05, rank_p95, grade
FROM unit_scores
WHERE build_id = $build AND unit_name = $unit AND grain = $grain
  AND EXISTS (SELECT 1 FROM units WHERE unit_name = $unit AND ($all_teams OR list_contains($teams, team)))
ORDER BY period, level;

-- name: unit_trend_bands
-- Per period of the grain: the unit's index score against the middle half (25th–75th percentile) and median
-- of all units, and of the unit's sector peers (the others of its sector). Aggregates only; a sector band
-- resting on fewer than 3 other units is withheld so it cannot reveal one unit.
WITH me AS (SELECT sector FROM units WHERE unit_name = $unit AND ($all_teams OR list_contains($teams, team))),
s AS (
    SELECT s.period, s.unit_name, s.score, u.sector = (SELECT sector FROM me) AND s.unit_name <> $unit AS peer
    FROM unit_scores s JOIN units u USING (unit_name)
    WHERE s.build_id = $build AND s.grain = $grain AND s.level = 'index' AND s.score IS NOT NULL
      AND EXISTS (SELECT 1 FROM me)
)
SELECT period,
       any_value(score) FILTER (WHERE unit_name = $unit) AS unit_score,
       quantile_cont(score, 0.25) AS county_p25, median(score) AS county_median, quantile_cont(score, 0.75) AS county_p75,
       CASE WHEN count(*) FILTER (WHERE peer) >= 3 THEN quantile_cont(score, 0.25) FILTER (WHERE peer) END AS sector_p25,
       CASE WHEN count(*) FILTER (WHERE peer) >= 3 THEN median(score) FILTER (WHERE peer) END AS sector_median,
       CASE WHEN count(*) FILTER (WHERE peer) >= 3 THEN quantile_cont(score, 0.75) FILTER (WHERE peer) END AS sector_p75
FROM s
GROUP BY period
ORDER BY period;

-- name: unit_portrait
SELECT summary, drivers::VARCHAR AS drivers, peers::VARCHAR AS peers, themes::VARCHAR AS themes
FROM portraits
WHERE build_id = $build AND unit_name = $unit AND grain = $grain AND period = $period
  AND EXISTS (SELECT 1 FROM units WHERE unit_name = $unit AND ($all_teams OR list_contains($teams, team)));

-- name: unit_warnings
SELECT w.warning_id, w.period, w.indicator_id, coalesce(c.name_zh, w.indicator_id) AS indicator_zh, w.grade,
       w.value, w.threshold, w.rule, w.message, w.status,
       (SELECT count(*) FROM warning_evidence e WHERE e.build_id = w.build_id AND e.warning_id = w.warning_id) AS evidence
FROM warnings w
LEFT JOIN indicator_catalogue c ON c.build_id = w.build_id AND c.indicator_id = w.indicator_id
WHERE w.build_id = $build AND w.unit_name = $unit AND w.grain = $grain AND w.period = $period
  AND EXISTS (SELECT 1 FROM units WHERE unit_name = $unit AND ($all_teams OR list_contains($teams, team)))
ORDER BY CASE w.grade WHEN '红' THEN 0 WHEN '橙' THEN 1 ELSE 2 END, w.indicator_id;

-- name: unit_activity_monthly
-- Aggregate timeline (every role): how many records of each kind per month.
SELECT kind, date_trunc('month', d)::DATE AS month, count(*) AS records
FROM (
    SELECT '信访举报' AS kind, received_date AS d FROM petitions WHERE unit_name = $unit
    UNION ALL SELECT '巡察问题', feedback_date FROM inspection_findings WHERE unit_name = $unit
    UNION ALL SELECT '审计问题', report_date FROM audit_findings WHERE unit_name = $unit
    UNION ALL SELECT '执纪处理', closed_date FROM cases WHERE unit_name = $unit
    UNION ALL SELECT '谈话函询', start_date FROM inquiries WHERE unit_name = $unit
) t
WHERE EXISTS (SELECT 1 FROM units WHERE unit_name = $unit AND ($all_teams OR list_contains($teams, team)))
GROUP BY ALL
ORDER BY month, kind;

-- name: unit_records
-- Record-level timeline (analysts and admins only, audited): pseudonymised keys, no clear names.
SELECT * FROM (
    SELECT '信访举报' AS kind, received_date AS date, petition_no AS record_key, reported_pid AS person,
           concat_ws(' · ', channel, CASE WHEN signed THEN '署名' ELSE '匿名' END, category, fourwinds,
                     hidden_variant, disposition, outcome, CASE WHEN is_repeat THEN '重复件' END) AS detail,
           left(coalesce(content, ''), 80) AS summary
    FROM petitions WHERE unit_name = $unit
    UNION ALL
    SELECT '巡察问题', feedback_date, round || '|' || finding_no, NULL,
           concat_ws(' · ', category, status, '时限 ' || deadline::VARCHAR, CASE WHEN is_recurrence THEN '屡查屡犯' END),
           left(finding, 80)
    FROM inspection_findings WHERE unit_name = $unit
    UNION ALL
    SELECT '审计问题', report_date, audit_project || '|' || finding_no, NULL,
           concat_ws(' · ', finding_type, rectification, CASE WHEN amount_yuan IS NOT NULL THEN round(amount_yuan / 10000, 2)::VARCHAR || '万元' END),
           left(coalesce(finding, ''), 80)
    FROM audit_findings WHERE unit_name = $unit
    UNION ALL
    SELECT '执纪处理', closed_date, case_no, person_pid,
           concat_ws(' · ', violation, '第' || form || '种形态', nullif(party_sanction, '无'), nullif(gov_sanction, '无'),
                     fourwinds, hidden_variant, CASE WHEN transferred THEN '移送司法' END),
           coalesce(post, '')
    FROM cases WHERE unit_name = $unit
    UNION ALL
    SELECT '谈话函询', start_date, inquiry_no, person_pid,
           concat_ws(' · ', method, result, CASE WHEN spot_checked THEN '已抽查核实' END,
                     CASE WHEN truthful = false THEN '未如实说明' END),
           coalesce(post, '')
    FROM inquiries WHERE unit_name = $unit
) t
WHERE EXISTS (SELECT 1 FROM units WHERE unit_name = $unit AND ($all_teams OR list_contains($teams, team)))
ORDER BY date DESC, kind, record_key;

-- name: unit_themes
-- Recurring petition themes: categories, 四风 types, hidden variants and special areas seen at least twice.
SELECT theme_kind, theme, count(*) AS petitions, min(received_date) AS first_seen, max(received_date) AS last_seen,
       count(*) FILTER (WHERE is_repeat) AS repeats
FROM (
    SELECT '问题类别' AS theme_kind, category AS theme, received_date, is_repeat FROM petitions WHERE unit_name = $unit
    UNION ALL SELECT '四风', fourwinds, received_date, is_repeat FROM petitions WHERE unit_name = $unit AND fourwinds IS NOT NULL
    UNION ALL SELECT '隐形变异', hidden_variant, received_date, is_repeat FROM petitions WHERE unit_name = $unit AND hidden_variant IS NOT NULL
    UNION ALL SELECT '专项领域', special_area, received_date, is_repeat FROM petitions WHERE unit_name = $unit AND special_area IS NOT NULL
) t
WHERE EXISTS (SELECT 1 FROM units WHERE unit_name = $unit AND ($all_teams OR list_contains($teams, team)))
GROUP BY theme_kind, theme
HAVING count(*) >= 2
ORDER BY petitions DESC, theme_kind, theme;

-- name: catalogue
SELECT indicator_id, name_zh, name_en, dimension, dimension_zh, duty, direction, weight, definition, rationale,
       false_positives, unit, min_sample, missing, threshold_rule, coalesce(context, false) AS context,
       coalesce(definition_zh, '') AS definition_zh
FROM indicator_catalogue
WHERE build_id = $build
ORDER BY dimension, indicator_id;

-- name: sensitivity
SELECT factor, variance_share, detail::VARCHAR AS detail
FROM sensitivity
WHERE build_id = $build AND grain = $grain AND period = $period
ORDER BY variance_share DESC NULLS LAST;

-- name: coherence
SELECT dimension, statistic, value
FROM coherence
WHERE build_id = $build AND grain = $grain AND period = $period
ORDER BY dimension, statistic;

-- name: whatif_matrix
-- Normalised indicator values (the severities the build aggregated) of the visible units, the input the index
-- engine re-aggregates.
WITH visible AS (SELECT unit_name FROM units WHERE $all_teams OR list_contains($teams, team))
SELECT iv.unit_name, iv.indicator_id, iv.normalised
FROM indicator_values iv
JOIN visible v USING (unit_name)
WHERE iv.build_id = $build AND iv.grain = $grain AND iv.period = $period;

-- name: ingest_runs
-- County-wide users only: file paths and run counts cover every team's units.
SELECT run_id, batch_id, path, kind, sheet, rows_read, rows_loaded, rows_updated, rows_unchanged, rows_rejected,
       started_at, finished_at, status, message
FROM ingest_runs
WHERE $all_teams
ORDER BY run_id DESC;

-- name: ingest_summary
-- Per ledger kind, for team-scoped users: the records of their units in the warehouse, how many ingest runs
-- supplied them and when the latest was loaded. No file paths (they can name any unit), and no row counts
-- of runs, which cover every team's units.
WITH visible AS (SELECT unit_name FROM units WHERE $all_teams OR list_contains($teams, team))
SELECT kind, count(DISTINCT run_id) AS files, count(*) AS records, max(loaded_at) AS last_run
FROM (
    SELECT 'units' AS kind, run_id, loaded_at, unit_name FROM units
    UNION ALL SELECT 'petitions', run_id, loaded_at, unit_name FROM petitions
    UNION ALL SELECT 'inspection_findings', run_id, loaded_at, unit_name FROM inspection_findings
    UNION ALL SELECT 'audit_findings', run_id, loaded_at, unit_name FROM audit_findings
    UNION ALL SELECT 'cases', run_id, loaded_at, unit_name FROM cases
    UNION ALL SELECT 'inquiries', run_id, loaded_at, unit_name FROM inquiries
    UNION ALL SELECT 'major_decisions', run_id, loaded_at, unit_name FROM major_decisions
    UNION ALL SELECT 'responsibility_checks', run_id, loaded_at, unit_name FROM responsibility_checks
) t
JOIN visible USING (unit_name)
GROUP BY kind
ORDER BY kind;

-- name: rejected_reasons
-- Reasons read "列：原因：值" or name the unit that did not resolve (and its candidates, which may be other
-- teams' units): keep only the category. A rejected row belongs to the units it names (any value of the
-- row equal to a unit's name or alias, compared as the ingest resolves units: zt_unit_norm). County-wide
-- users see every row; a team-scoped user sees the rows naming one of their units, and the rows naming no
-- unit at all (which could be anyone's) only as one count per ledger kind.
WITH visible AS (SELECT unit_name FROM units WHERE $all_teams OR list_contains($teams, team)),
names AS (
    SELECT alias_norm, unit_name FROM unit_aliases
    UNION SELECT zt_unit_norm(unit_name), unit_name FROM units
),
r AS (SELECT row_number() OVER () AS rid, kind, column_name, reason, raw FROM rejected_rows),
owners AS (
    SELECT DISTINCT v.rid, n.unit_name
    FROM (SELECT rid, raw ->> k AS value FROM (SELECT rid, raw, unnest(json_keys(raw)) AS k FROM r)) v
    JOIN names n ON n.alias_norm = zt_unit_norm(v.value)
),
whose AS (
    SELECT r.*,
           $all_teams OR EXISTS (SELECT 1 FROM owners o JOIN visible USING (unit_name) WHERE o.rid = r.rid) AS own,
           NOT EXISTS (SELECT 1 FROM owners o WHERE o.rid = r.rid) AS nobodys
    FROM r
)
SELECT kind,
       CASE WHEN own THEN column_name ELSE '—' END AS column_name,
       CASE WHEN NOT own THEN '未能确定所属单位（明细仅全县范围可见）'
            WHEN reason LIKE '%单位名册中找不到%' THEN '单位在名册中找不到'
            WHEN reason LIKE '%：%：%' OR reason LIKE '%：%' THEN trim(split_part(reason, '：', 2))
            ELSE '其他（见拒收行明细）' END AS reason,
       count(*) AS rows
FROM whose
WHERE own OR nobodys
GROUP BY ALL
ORDER BY rows DESC, kind, column_name;

-- name: quality_notes_by_unit
-- Records kept with a field stored as unknown, per visible unit, ledger kind and field.
SELECT n.unit_name, n.kind, n.column_name, count(DISTINCT (n.source_file, n.source_sheet, n.source_row)) AS records
FROM data_quality_notes n JOIN units u ON u.unit_name = n.unit_name
WHERE $all_teams OR list_contains($teams, u.team)
GROUP BY ALL
ORDER BY records DESC, n.unit_name, n.kind, n.column_name;

-- name: quality_notes
-- The notes themselves (values masked like all ledger text), for county-wide analysts only: file paths and
-- notes can name any unit.
SELECT n.kind, n.source_file, n.source_sheet, n.source_row, n.record_key, n.unit_name, n.column_name, n.note
FROM data_quality_notes n
WHERE $all_teams
ORDER BY n.source_file, n.source_row, n.column_name
LIMIT $limit;

-- name: rejected_rows
-- County-wide users only: a raw row can name any unit, or none that resolved.
SELECT r.run_id, r.kind, r.source_file, r.source_sheet, r.source_row, r.column_name, r.reason, r.raw::VARCHAR AS raw
FROM rejected_rows r
WHERE $all_teams
ORDER BY r.run_id DESC, r.source_file, r.source_row
LIMIT $limit;

-- name: coverage
-- Records per visible unit and month, over every ledger.
WITH visible AS (SELECT unit_name FROM units WHERE $all_teams OR list_contains($teams, team))
SELECT t.unit_name, strftime(date_trunc('month', t.d), '%Y-%m') AS month, count(*) AS records
FROM (
    SELECT unit_name, received_date AS d FROM petitions
    UNION ALL SELECT unit_name, feedback_date FROM inspection_findings
    UNION ALL SELECT unit_name, report_date FROM audit_findings
    UNION ALL SELECT unit_name, closed_date FROM cases
    UNION ALL SELECT unit_name, start_date FROM inquiries
    UNION ALL SELECT unit_name, decision_date FROM major_decisions
    UNION ALL SELECT unit_name, check_date FROM responsibility_checks
) t
JOIN visible v USING (unit_name)
GROUP BY ALL;

-- name: source_freshness
-- Latest record date and latest load per ledger; the page calls a source stale when its newest record
-- lags the newest record of any ledger by more than the staleness window.
SELECT * FROM (
    SELECT 'petitions' AS kind, '信访举报' AS kind_zh, count(*) AS records, max(received_date) AS last_record, max(loaded_at) AS last_loaded FROM petitions
    UNION ALL SELECT 'inspection_findings', '巡察问题及整改', count(*), max(feedback_date), max(loaded_at) FROM inspection_findings
    UNION ALL SELECT 'audit_findings', '审计发现问题', count(*), max(report_date), max(loaded_at) FROM audit_findings
    UNION ALL SELECT 'cases', '案件及四种形态', count(*), max(closed_date), max(loaded_at) FROM cases
    UNION ALL SELECT 'inquiries', '谈话函询', count(*), max(start_date), max(loaded_at) FROM inquiries
    UNION ALL SELECT 'major_decisions', '三重一大事项报备', count(*), max(filing_date), max(loaded_at) FROM major_decisions
    UNION ALL SELECT 'responsibility_checks', '主体责任检查', count(*), max(check_date), max(loaded_at) FROM responsibility_checks
    UNION ALL SELECT 'units', '单位名册', count(*), NULL, max(loaded_at) FROM units
) t
ORDER BY kind;

-- name: grain_records
-- How sparse each grain is: ledger records per unit-period and the share of unit-periods with none (why months
-- are scored but not graded), over the visible units.
WITH visible AS (SELECT unit_name FROM units WHERE $all_teams OR list_contains($teams, team))
SELECT s.grain, count(*) AS unit_periods, avg(s.records) AS mean_records, median(s.records) AS median_records,
       avg(CASE WHEN s.records = 0 THEN 1.0 ELSE 0.0 END) AS share_without_record,
       bool_or(s.grade IS NOT NULL) AS graded
FROM unit_scores s
JOIN visible v USING (unit_name)
WHERE s.build_id = $build AND s.level = 'index'
GROUP BY s.grain
ORDER BY s.grain;
