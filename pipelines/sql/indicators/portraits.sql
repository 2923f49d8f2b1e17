-- Unit portraits (画像) per period of the portrait grains, written straight into the (staged, $staged)
-- `portraits` table: a
-- Chinese summary paragraph and its structured parts. Token: $build_id, $themes_min.
-- Inputs (temp tables, small: one row per unit-period, or a few), from numpy (build.py):
--   portrait_idx(pid, uid, score, grade_code, rank, rank_p05, rank_p95, sector_rank, change_prev, change_yoy,
--                rising, n_units, n_sector)               the index line and how many units were ranked
--   portrait_levels(pid, uid, level_code, score, sector_avg, all_avg)   every level, against its averages
--   driver_long(pid, uid, ind, pos, excess, value, contribution, percentile, flagged)   the indicators whose
--                contribution most exceeds the period's average for that indicator, ranked (pos 1 = most)
--   portrait_context(pid, uid, clearances)                   false accusations cleared (context indicator)
-- and flagged (warnings.sql), periods, period_months, unit_dim, ind_dim, ind_text, dim_text, level_dim,
-- grade_dim, portrait_grains, petitions.

CREATE OR REPLACE TEMP TABLE portrait_drivers AS
WITH v AS (
    SELECT d.*, i.indicator_id, i.dimension, t.name_zh, show_value(d.value, t.unit) AS shown
    FROM driver_long AS d JOIN ind_dim AS i USING (ind) JOIN ind_text AS t USING (ind)
), d AS (
    SELECT pid, uid, pos, value IS NOT NULL AS ok, name_zh || '（' || shown || '）' AS label,
           json_object('indicator_id', indicator_id, 'name_zh', name_zh, 'dimension', dimension,
                       'value', value, 'shown', shown, 'status', CASE WHEN value IS NULL THEN 'imputed' ELSE 'ok' END,
                       'percentile', round(percentile, 1), 'contribution', round(contribution, 3),
                       'excess', round(excess, 3), 'flagged', flagged)::VARCHAR AS js
    FROM v
), g AS (  -- an unordered list sorted afterwards: cheaper than an ordered aggregate
    SELECT pid, uid, list_sort(list(struct_pack(pos := pos, ok := ok, label := label, js := js))) AS xs
    FROM d GROUP BY pid, uid
)
SELECT pid, uid, '[' || array_to_string(list_transform(xs, lambda x: x.js), ',') || ']' AS drivers,
       list_transform(list_filter(xs, lambda x: x.ok)[1:3], lambda x: x.label) AS top_ok
FROM g;

CREATE OR REPLACE TEMP TABLE portrait_peers AS
WITH s AS (
    SELECT s.pid, s.uid, s.level_code,
           to_json(l.level)::VARCHAR || ':' || json_object('name_zh', d.name_zh, 'unit', round(s.score, 1),
                                                   'sector', round(s.sector_avg, 1), 'all', round(s.all_avg, 1))::VARCHAR AS js
    FROM portrait_levels AS s JOIN level_dim AS l ON l.code = s.level_code JOIN dim_text AS d USING (level)
)
SELECT pid, uid,
       '{' || array_to_string(list_transform(list_sort(list(struct_pack(c := level_code, js := js))), lambda x: x.js), ',')
       || '}' AS peers
FROM s GROUP BY pid, uid;

-- Recurring petition themes: counted per unit and month once, then summed into the periods.
CREATE OR REPLACE TEMP TABLE portrait_themes AS
WITH t AS (
    SELECT r.unit_name, date_trunc('month', r.received_date)::DATE AS month, x.kind, x.theme, count(*) AS n
    FROM petitions AS r,
         LATERAL (VALUES ('问题类别', r.category), ('四风', r.fourwinds), ('隐形变异', r.hidden_variant),
                         ('专项领域', r.special_area)) AS x(kind, theme)
    WHERE x.theme IS NOT NULL AND x.theme NOT IN ('其他')
    GROUP BY ALL
), c AS (
    SELECT pm.pid, u.uid, t.kind, t.theme, sum(t.n)::BIGINT AS n
    FROM t
    JOIN period_months AS pm ON pm.month = t.month
    JOIN unit_dim AS u ON u.unit_name = t.unit_name
    WHERE pm.grain IN (SELECT grain FROM portrait_grains)
    GROUP BY ALL
    HAVING sum(t.n) >= $themes_min
)
SELECT pid, uid, list(struct_pack(kind := kind, theme := theme, n := n) ORDER BY n DESC, kind, theme) AS themes
FROM c GROUP BY pid, uid;

CREATE OR REPLACE TEMP TABLE portrait_warnings AS
SELECT pid, uid, count(*) AS n, count(*) FILTER (WHERE level = 3) AS red,
       count(*) FILTER (WHERE level = 2) AS orange, count(*) FILTER (WHERE level = 1) AS yellow
FROM flagged GROUP BY pid, uid;

INSERT INTO portraits$staged BY NAME
WITH idx AS (
    SELECT i.*, p.grain, p.period, u.unit_name, u.sector, g.grade
    FROM portrait_idx AS i
    JOIN periods AS p USING (pid) JOIN unit_dim AS u USING (uid)
    LEFT JOIN grade_dim AS g ON g.code = i.grade_code
)
SELECT '$build_id' AS build_id, i.grain, i.period, i.unit_name,
       i.unit_name || '（' || i.sector || '领域）' || period_zh(i.period) || '政治生态风险指数'
       || CASE WHEN i.score IS NULL THEN '无法计算（数据不足）。'
          ELSE printf('%.1f', i.score) || '分，评定为' || i.grade || '色，在' || i.n_units || '个单位中列第'
               || i.rank::INTEGER || '位'
               || CASE WHEN i.rank_p05 IS NOT NULL
                       THEN printf('（方法不确定性区间第%d–%d位）', round(i.rank_p05)::INTEGER, round(i.rank_p95)::INTEGER)
                       ELSE '' END
               || '，在同领域' || i.n_sector || '个单位中列第' || i.sector_rank::INTEGER || '位。' END
       || CASE WHEN len(coalesce(d.top_ok, [])) > 0
               THEN '主要风险来源：' || array_to_string(d.top_ok, '、') || '。' ELSE '' END
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
       coalesce(d.drivers, '[]') AS drivers,
       coalesce(pe.peers, '{}') AS peers,
       to_json(coalesce(th.themes, [])) AS themes
FROM idx AS i
LEFT JOIN portrait_drivers AS d ON d.pid = i.pid AND d.uid = i.uid
LEFT JOIN portrait_peers AS pe ON pe.pid = i.pid AND pe.uid = i.uid
LEFT JOIN portrait_themes AS th ON th.pid = i.pid AND th.uid = i.uid
LEFT JOIN portrait_warnings AS w ON w.pid = i.pid AND w.uid = i.uid
LEFT JOIN portrait_context AS cx ON cx.pid = i.pid AND cx.uid = i.uid;
