-- Warnings of one grain, written straight into the staged `warnings` table. Inputs: flags(pid, uid, ind, level,
-- threshold, value, records) = the grain's values that reach a warning level with the records it needs (numpy:
-- indicators.compute_values, lowered to build.supported_levels of the records catalogue.evidence_count_query counts),
-- periods, unit_dim, ind_dim, ind_levels, ind_text, and the macros of text.sql. Tokens: build_id, staged.
-- `flagged` stays behind for the grain's evidence queries (catalogue.evidence_queries).

-- warning_id is stable across builds: a hash of grain, period, unit and indicator.
CREATE OR REPLACE TEMP TABLE flagged AS
SELECT substr(md5(concat_ws('|', p.grain, p.period, u.unit_name, d.indicator_id)), 1, 16) AS warning_id,
       f.pid, f.uid, f.ind, f.level, f.threshold, f.value, f.records, u.unit_name, p.period_start, p.period_end,
       p.years
FROM flags AS f
JOIN periods AS p USING (pid) JOIN unit_dim AS u USING (uid) JOIN ind_dim AS d USING (ind);

INSERT INTO warnings$staged BY NAME
SELECT '$build_id' AS build_id, w.warning_id, p.grain, p.period, u.unit_name, d.indicator_id,
       CASE w.level WHEN 3 THEN '红' WHEN 2 THEN '橙' ELSE '黄' END AS grade,
       w.value, w.threshold, l.rule_zh AS rule, w.records,
       u.unit_name || period_zh(p.period) || c.name_zh || '为' || show_value(w.value, c.unit)
           || CASE WHEN d.direction > 0 THEN '，达到' ELSE '，低于' END
           || CASE w.level WHEN 3 THEN '红' WHEN 2 THEN '橙' ELSE '黄' END || '色预警阈值'
           || show_value(w.threshold, c.unit) || '（' || l.rule_zh || '），依据' || w.records || '条台账记录。' AS message,
       -- 持续: the same unit and indicator was flagged in the period before (same grain)
       CASE WHEN prev.warning_id IS NOT NULL THEN '持续' ELSE '新增' END AS status
FROM flagged AS w
JOIN periods AS p USING (pid) JOIN unit_dim AS u USING (uid) JOIN ind_dim AS d USING (ind)
JOIN ind_text AS c USING (ind)
JOIN ind_levels AS l ON l.ind = w.ind AND l.level = w.level
LEFT JOIN periods AS pp ON pp.grain = p.grain AND pp.seq = p.seq - 1
LEFT JOIN flagged AS prev ON prev.pid = pp.pid AND prev.uid = w.uid AND prev.ind = w.ind;
