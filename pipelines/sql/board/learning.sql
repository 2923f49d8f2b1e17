-- The dashboard's queries over the learned signals (pipelines/ml, tables of pipelines/sql/learning.sql).
-- Scoped like board.sql: `visible` keeps the units of the user's 派驻组 teams. Record-level rows (person clues,
-- predicted categories of single petitions) are handed out by pipelines/board/learning.py to roles that may
-- see records only, and audited there.

-- name: unit_anomaly
SELECT score, percentile, flagged, drivers::VARCHAR AS drivers, message
FROM unit_anomalies
WHERE build_id = $build AND unit_name = $unit AND grain = $grain AND period = $period
  AND EXISTS (SELECT 1 FROM units WHERE unit_name = $unit AND ($all_teams OR list_contains($teams, team)));

-- name: unit_typology
SELECT t.type_name, t.cluster, t.distance, t.margin, m.k, m.criterion, m.silhouette, m.stability
FROM unit_typologies t
JOIN typology_models m ON m.build_id = t.build_id AND m.grain = t.grain
WHERE t.build_id = $build AND t.unit_name = $unit AND t.grain = $grain AND t.period = $period
  AND EXISTS (SELECT 1 FROM units WHERE unit_name = $unit AND ($all_teams OR list_contains($teams, team)));

-- name: unit_typology_history
SELECT period, type_name FROM unit_typologies
WHERE build_id = $build AND unit_name = $unit AND grain = $grain
  AND EXISTS (SELECT 1 FROM units WHERE unit_name = $unit AND ($all_teams OR list_contains($teams, team)))
ORDER BY period;

-- name: period_anomalies
WITH visible AS (SELECT unit_name, kind, sector, team FROM units WHERE $all_teams OR list_contains($teams, team))
SELECT a.period, a.unit_name, v.team, v.sector, v.kind, a.score, a.percentile, a.message,
       a.drivers::VARCHAR AS drivers
FROM unit_anomalies a
JOIN visible v USING (unit_name)
WHERE a.build_id = $build AND a.grain = $grain AND a.period = $period AND a.flagged
ORDER BY a.score DESC, a.unit_name;

-- name: period_typologies
WITH visible AS (SELECT unit_name, kind, sector, team FROM units WHERE $all_teams OR list_contains($teams, team))
SELECT t.unit_name, v.team, v.sector, v.kind, t.type_name, t.cluster, t.margin
FROM unit_typologies t
JOIN visible v USING (unit_name)
WHERE t.build_id = $build AND t.grain = $grain AND t.period = $period
ORDER BY t.cluster, t.unit_name;

-- name: typology_model
SELECT k, criterion, silhouette, stability, candidates::VARCHAR AS candidates, centres::VARCHAR AS centres
FROM typology_models
WHERE build_id = $build AND grain = $grain;

-- name: indicator_validation
-- Aggregates over all units (no unit is named): every role.
SELECT grain, predictor, kind, name_zh, n, positives, auc, auc_low, auc_high, test_auc, coef, se, p_value,
       expert_weight, data_weight, verdict
FROM indicator_validation
WHERE build_id = $build
ORDER BY grain, CASE kind WHEN 'composite' THEN 0 WHEN 'dimension' THEN 1 ELSE 2 END, auc DESC NULLS LAST;

-- name: learning_models
SELECT model, detail::VARCHAR AS detail FROM learning_models WHERE build_id = $build ORDER BY model;

-- name: person_clues
-- A clue is shown when one of its units is visible; only the visible units' records come with it.
WITH vis AS (SELECT coalesce(list(unit_name), []) AS names FROM units WHERE $all_teams OR list_contains($teams, team))
SELECT c.clue_id, c.person_pid, list_filter(c.units, lambda x: list_contains(vis.names, x)) AS units,
       c.is_leader, c.window_start, c.window_end, c.records, c.sources, c.message
FROM person_clues c, vis
WHERE c.build_id = $build AND list_has_any(c.units, vis.names)
ORDER BY len(c.sources) DESC, c.records DESC, c.window_end DESC;

-- name: person_clue_records
WITH visible AS (SELECT unit_name FROM units WHERE $all_teams OR list_contains($teams, team))
SELECT r.clue_id, r.source, r.source_table, r.record_key, r.record_date, r.unit_name, r.summary
FROM person_clue_records r
JOIN visible v USING (unit_name)
WHERE r.build_id = $build AND r.clue_id = $clue
ORDER BY r.record_date, r.record_key;

-- name: predicted_categories_summary
-- Counts only (every role): predictions of petitions recorded as 其他 or empty, by predicted category.
WITH visible AS (SELECT unit_name FROM units WHERE $all_teams OR list_contains($teams, team))
SELECT coalesce(p.predicted, '无法预测') AS predicted, count(*) AS petitions,
       count(*) FILTER (WHERE p.review) AS for_review, avg(p.probability) AS mean_probability
FROM petition_predictions p
JOIN visible v USING (unit_name)
WHERE p.build_id = $build
GROUP BY ALL
ORDER BY petitions DESC;

-- name: predicted_categories
WITH visible AS (SELECT unit_name FROM units WHERE $all_teams OR list_contains($teams, team))
SELECT p.petition_no, p.unit_name, p.received_date, p.recorded, p.predicted, p.probability, p.review, p.reason
FROM petition_predictions p
JOIN visible v USING (unit_name)
WHERE p.build_id = $build
ORDER BY p.review DESC, p.probability, p.received_date DESC;
