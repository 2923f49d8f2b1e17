-- Assemble the build's results as temp tables res_* shaped like the tables of results.sql (without
-- build_id). Inputs: periods, unit_dim, ind_dim, ind_levels, ivals, thresholds, flags, percentiles (values.sql),
-- norm_long and score_long (the index engine's output, see scoring.register_scores), mc_ranks (Monte Carlo
-- rank intervals), warn_grains(grain). Tokens: $n_units and $n_ind, the sizes behind norm_long's key k.

-- The two largest results are views: the build's INSERT streams them instead of materialising a copy.
CREATE OR REPLACE TEMP VIEW res_indicator_values AS
SELECT p.grain, p.period, u.unit_name, d.indicator_id, v.numerator, v.denominator, v.value, v.sample, v.status,
       n.normalised, n.percentile, n.sector_percentile, t.threshold, f.level IS NOT NULL AS flagged,
       v.index_value, v.below_min_sample, v.pid, v.uid, v.ind
FROM ivals AS v
JOIN periods AS p USING (pid)
JOIN unit_dim AS u USING (uid)
JOIN ind_dim AS d USING (ind)
LEFT JOIN norm_long AS n ON n.k = (v.pid::BIGINT * $n_units + v.uid) * $n_ind + v.ind
LEFT JOIN thresholds AS t ON t.pid = v.pid AND t.ind = v.ind AND t.level = 1
LEFT JOIN flags AS f ON f.pid = v.pid AND f.uid = v.uid AND f.ind = v.ind;

-- Ranks, sector ranks, 环比/同比 and the rising flag were computed in numpy (scoring.ranks_and_trends).
CREATE OR REPLACE TEMP TABLE res_unit_scores AS
SELECT p.grain, p.period, u.unit_name, l.level, s.score, s.rank::INTEGER AS rank, m.rank_p05, m.rank_p95, g.grade,
       s.sector_rank::INTEGER AS sector_rank, s.change_prev, s.change_yoy, s.rising, s.pid, s.uid
FROM score_long AS s
JOIN periods AS p USING (pid)
JOIN unit_dim AS u USING (uid)
JOIN level_dim AS l ON l.code = s.level_code
LEFT JOIN grade_dim AS g ON g.code = s.grade_code
LEFT JOIN mc_ranks AS m ON m.pid = s.pid AND m.uid = s.uid AND l.level = 'index';

CREATE OR REPLACE TEMP VIEW res_contributions AS
WITH n AS (
    SELECT (k // $n_ind // $n_units)::INTEGER AS pid, (k // $n_ind % $n_units)::INTEGER AS uid,
           (k % $n_ind)::INTEGER AS ind, contribution
    FROM norm_long WHERE contribution IS NOT NULL
)
SELECT p.grain, p.period, u.unit_name, d.indicator_id, d.dimension, n.contribution, n.pid, n.uid, n.ind
FROM n JOIN periods AS p USING (pid) JOIN unit_dim AS u USING (uid) JOIN ind_dim AS d USING (ind);

-- How a value is shown in Chinese text: shares as percentages, the rest with their unit.
CREATE OR REPLACE TEMP MACRO show_value(v, unit) AS
    CASE WHEN v IS NULL THEN '—'
         WHEN unit = '比例' THEN printf('%.1f%%', v * 100)
         ELSE printf('%.2f', v) || unit END;

-- A period key in Chinese: 2024-03 → 2024年3月, 2024Q1 → 2024年第1季度, 2024H1 → 2024年上半年, 2024 → 2024年,
-- R12-2024-03 → 截至2024年3月的12个月.
CREATE OR REPLACE TEMP MACRO period_zh(p) AS
    CASE WHEN p LIKE 'R12-%' THEN '截至' || substr(p, 5, 4) || '年' || substr(p, 10, 2)::INTEGER || '月的12个月'
         WHEN p LIKE '%Q%' THEN split_part(p, 'Q', 1) || '年第' || split_part(p, 'Q', 2) || '季度'
         WHEN p LIKE '%H1' THEN substr(p, 1, 4) || '年上半年'
         WHEN p LIKE '%H2' THEN substr(p, 1, 4) || '年下半年'
         WHEN p LIKE '____-__' THEN substr(p, 1, 4) || '年' || substr(p, 6, 2)::INTEGER || '月'
         ELSE p || '年' END;

CREATE OR REPLACE TEMP TABLE flagged AS
SELECT substr(md5(concat_ws('|', p.grain, p.period, u.unit_name, d.indicator_id)), 1, 16) AS warning_id,
       f.pid, f.uid, f.ind, f.level, f.threshold
FROM flags AS f
JOIN periods AS p USING (pid) JOIN unit_dim AS u USING (uid) JOIN ind_dim AS d USING (ind)
WHERE p.grain IN (SELECT grain FROM warn_grains);

CREATE OR REPLACE TEMP TABLE res_warnings AS
SELECT w.warning_id, p.grain, p.period, u.unit_name, d.indicator_id,
       CASE w.level WHEN 3 THEN '红' WHEN 2 THEN '橙' ELSE '黄' END AS grade,
       v.value, w.threshold, l.rule_text AS rule,
       u.unit_name || period_zh(p.period) || c.name_zh || '为' || show_value(v.value, c.unit)
           || CASE WHEN d.direction > 0 THEN '，达到' ELSE '，低于' END
           || CASE w.level WHEN 3 THEN '红' WHEN 2 THEN '橙' ELSE '黄' END || '色预警阈值'
           || show_value(w.threshold, c.unit) || '（' || l.rule_zh || '）。' AS message,
       CASE WHEN prev.warning_id IS NOT NULL THEN '持续' ELSE '新增' END AS status,
       w.pid, w.uid, w.ind
FROM flagged AS w
JOIN periods AS p USING (pid) JOIN unit_dim AS u USING (uid) JOIN ind_dim AS d USING (ind)
JOIN ind_text AS c USING (ind)
JOIN ind_levels AS l ON l.ind = w.ind AND l.level = w.level
JOIN ivals AS v ON v.pid = w.pid AND v.uid = w.uid AND v.ind = w.ind
LEFT JOIN periods AS pp ON pp.grain = p.grain AND pp.seq = p.seq - 1
LEFT JOIN flagged AS prev ON prev.pid = pp.pid AND prev.uid = w.uid AND prev.ind = w.ind;
