-- What the portraits of every grain share (run once, before portraits.sql runs grain by grain): the constant
-- JSON heads of the indicators and levels, and the recurring petition themes of every unit and portrait period.
-- Inputs: ind_dim, ind_text, level_dim, dim_text, periods, period_months, unit_dim, portrait_grains, petitions.
-- Token: themes_min (a dollar sign before the name).

-- The constant head of each indicator's and each level's JSON object, keys and names escaped once.
CREATE OR REPLACE TEMP TABLE portrait_ind AS
SELECT i.ind, '{"indicator_id":' || to_json(i.indicator_id) || ',"name_zh":' || to_json(t.name_zh)
              || ',"dimension":' || to_json(i.dimension) || ',"value":' AS head, t.name_zh, t.unit, i.direction
FROM ind_dim AS i JOIN ind_text AS t USING (ind);

CREATE OR REPLACE TEMP TABLE portrait_level AS
SELECT l.code, to_json(l.level) || ':{"name_zh":' || to_json(d.name_zh) || ',"unit":' AS head
FROM level_dim AS l JOIN dim_text AS d USING (level);

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
