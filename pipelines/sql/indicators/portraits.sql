-- Unit portraits (画像) per period: a Chinese summary paragraph and its structured parts.
-- Inputs: res_unit_scores, res_warnings (assemble.sql), driver_long, norm_long, ivals, flags, ind_dim,
-- ind_text, dim_text, periods, period_months, unit_dim, petitions. Token: $themes_min.

-- driver_long holds, per unit and period, the indicators whose contribution most exceeds the period's
-- average for that indicator (what sets the unit apart), already ranked in numpy.
CREATE OR REPLACE TEMP TABLE portrait_drivers AS
SELECT d.pid, d.uid,
       list(struct_pack(indicator_id := i.indicator_id, name_zh := t.name_zh, dimension := i.dimension,
                        value := d.value, shown := show_value(d.value, t.unit),
                        status := CASE WHEN d.value IS NULL THEN 'imputed' ELSE 'ok' END,
                        percentile := round(d.percentile, 1), contribution := round(d.contribution, 3),
                        excess := round(d.excess, 3), flagged := f.level IS NOT NULL)
            ORDER BY d.pos) AS drivers
FROM driver_long AS d
JOIN periods AS p ON p.pid = d.pid AND p.grain IN (SELECT grain FROM portrait_grains)
JOIN ind_dim AS i USING (ind)
JOIN ind_text AS t USING (ind)
LEFT JOIN flags AS f ON f.pid = d.pid AND f.uid = d.uid AND f.ind = d.ind
GROUP BY d.pid, d.uid;

CREATE OR REPLACE TEMP TABLE portrait_peers AS
WITH s AS (
    SELECT s.pid, s.uid, s.level, s.score,
           avg(s.score) OVER (PARTITION BY s.pid, s.level, u.sector) AS sector_avg,
           avg(s.score) OVER (PARTITION BY s.pid, s.level) AS all_avg
    FROM res_unit_scores AS s JOIN unit_dim AS u USING (uid)
    WHERE s.grain IN (SELECT grain FROM portrait_grains)
)
SELECT s.pid, s.uid,
       json_group_object(s.level, json_object('name_zh', d.name_zh, 'unit', round(s.score, 1),
                                              'sector', round(s.sector_avg, 1), 'all', round(s.all_avg, 1))) AS peers
FROM s JOIN dim_text AS d USING (level)
GROUP BY s.pid, s.uid;

CREATE OR REPLACE TEMP TABLE portrait_themes AS
WITH t AS (
    SELECT r.unit_name, r.received_date, kind, theme
    FROM petitions AS r,
         LATERAL (VALUES ('问题类别', r.category), ('四风', r.fourwinds), ('隐形变异', r.hidden_variant),
                         ('专项领域', r.special_area)) AS x(kind, theme)
    WHERE theme IS NOT NULL AND theme NOT IN ('其他')
), c AS (
    SELECT p.pid, u.uid, t.kind, t.theme, count(*) AS n
    FROM t
    JOIN period_months AS pm ON pm.month = date_trunc('month', t.received_date)::DATE
    JOIN periods AS p ON p.grain = pm.grain AND p.period = pm.period
    JOIN unit_dim AS u ON u.unit_name = t.unit_name
    WHERE p.grain IN (SELECT grain FROM portrait_grains)
    GROUP BY p.pid, u.uid, t.kind, t.theme
    HAVING count(*) >= $themes_min
)
SELECT pid, uid, list(struct_pack(kind := kind, theme := theme, n := n) ORDER BY n DESC, kind, theme) AS themes
FROM c GROUP BY pid, uid;

CREATE OR REPLACE TEMP TABLE portrait_warnings AS
SELECT pid, uid, count(*) AS n, count(*) FILTER (WHERE grade = '红') AS red,
       count(*) FILTER (WHERE grade = '橙') AS orange, count(*) FILTER (WHERE grade = '黄') AS yellow
FROM res_warnings GROUP BY pid, uid;

CREATE OR REPLACE TEMP TABLE portrait_context AS
SELECT v.pid, v.uid, v.numerator AS clearances
FROM ivals AS v JOIN ind_dim AS d USING (ind) WHERE d.indicator_id = 'clearances' AND v.numerator > 0;

CREATE OR REPLACE TEMP TABLE res_portraits AS
WITH idx AS (
    SELECT s.*, u.sector,
           count(s.score) OVER (PARTITION BY s.pid) AS n_units,
           count(s.score) OVER (PARTITION BY s.pid, u.sector) AS n_sector
    FROM res_unit_scores AS s JOIN unit_dim AS u USING (uid)
    WHERE s.level = 'index' AND s.grain IN (SELECT grain FROM portrait_grains)
)
SELECT i.grain, i.period, i.unit_name,
       i.unit_name || '（' || i.sector || '领域）' || period_zh(i.period) || '政治生态风险指数'
       || CASE WHEN i.score IS NULL THEN '无法计算（数据不足）。'
          ELSE printf('%.1f', i.score) || '分，评定为' || i.grade || '色，在' || i.n_units || '个单位中列第'
               || i.rank || '位'
               || CASE WHEN i.rank_p05 IS NOT NULL
                       THEN printf('（方法不确定性区间第%d–%d位）', round(i.rank_p05)::INTEGER, round(i.rank_p95)::INTEGER)
                       ELSE '' END
               || '，在同领域' || i.n_sector || '个单位中列第' || i.sector_rank || '位。' END
       || CASE WHEN len(list_filter(coalesce(d.drivers, []), lambda x: x.status = 'ok')) > 0
               THEN '主要风险来源：' || array_to_string(list_transform(
                        list_filter(d.drivers, lambda x: x.status = 'ok')[1:3],
                        lambda x: x.name_zh || '（' || x.shown || '）'), '、') || '。'
               ELSE '' END
       || CASE WHEN i.change_prev IS NOT NULL
               THEN '较上期' || CASE WHEN i.change_prev >= 0 THEN '上升' ELSE '下降' END
                    || printf('%.1f', abs(i.change_prev)) || '分'
                    || CASE WHEN i.change_yoy IS NOT NULL
                            THEN '，同比' || CASE WHEN i.change_yoy >= 0 THEN '上升' ELSE '下降' END
                                 || printf('%.1f', abs(i.change_yoy)) || '分' ELSE '' END
                    || CASE WHEN i.rising THEN '，风险呈上升趋势，需重点关注。' ELSE '。' END
               ELSE '' END
       || CASE WHEN w.n > 0
               THEN '本期触发预警' || w.n || '项（红' || w.red || '、橙' || w.orange || '、黄' || w.yellow || '）。'
               ELSE '本期未触发指标预警。' END
       || CASE WHEN len(coalesce(th.themes, [])) > 0
               THEN '信访反映集中在' || array_to_string(list_transform(th.themes[1:3],
                        lambda x: x.theme || '（' || x.n || '件）'), '、') || '。'
               ELSE '' END
       || CASE WHEN cx.clearances > 0
               THEN '本期有' || cx.clearances::INTEGER || '件诬告错告已查清并澄清正名，研判时应扣除不实信访的影响。'
               ELSE '' END AS summary,
       to_json(coalesce(d.drivers, [])) AS drivers,
       coalesce(pe.peers, '{}'::JSON) AS peers,
       to_json(coalesce(th.themes, [])) AS themes,
       i.pid, i.uid
FROM idx AS i
LEFT JOIN portrait_drivers AS d ON d.pid = i.pid AND d.uid = i.uid
LEFT JOIN portrait_peers AS pe ON pe.pid = i.pid AND pe.uid = i.uid
LEFT JOIN portrait_themes AS th ON th.pid = i.pid AND th.uid = i.uid
LEFT JOIN portrait_warnings AS w ON w.pid = i.pid AND w.uid = i.uid
LEFT JOIN portrait_context AS cx ON cx.pid = i.pid AND cx.uid = i.uid;
