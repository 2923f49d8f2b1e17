-- From raw numerators and denominators to indicator values, statuses, thresholds, flags and percentiles.
-- Inputs (temp tables): raw_values(pid, uid, ind, numerator, denominator, sample), ind_dim (one row per
-- indicator: direction, min_sample, missing policy, scale, threshold rule and levels), unit_dim, periods.
-- $impute_sector: true = impute with the sector median of the period (else the median of all units).

-- q-quantile of a sorted list of n values, linear interpolation (as quantile_cont / numpy's default).
CREATE OR REPLACE TEMP MACRO qtile(xs, n, q) AS
    CASE WHEN n > 0 THEN
        xs[1 + floor(q * (n - 1))::BIGINT]
        + (q * (n - 1) - floor(q * (n - 1)))
          * (xs[1 + ceil(q * (n - 1))::BIGINT] - xs[1 + floor(q * (n - 1))::BIGINT])
    END;

CREATE OR REPLACE TEMP TABLE ivals AS
WITH v AS (
    SELECT r.pid, r.uid, r.ind, r.numerator, r.denominator, r.sample, d.min_sample, d.missing, u.sector,
           CASE WHEN r.denominator IS NULL OR r.denominator = 0 OR r.numerator IS NULL THEN NULL
                ELSE r.numerator / r.denominator * d.scale END AS raw_value
    FROM raw_values AS r JOIN ind_dim AS d USING (ind) JOIN unit_dim AS u USING (uid)
), s AS (
    SELECT *, CASE WHEN raw_value IS NULL OR NOT isfinite(raw_value) THEN 'missing'
                   WHEN sample < min_sample THEN 'small_sample' ELSE 'ok' END AS reason
    FROM v
), m AS (
    SELECT *, CASE WHEN reason = 'ok' THEN raw_value END AS value
    FROM s
), ms AS (  -- medians by GROUP BY, joined back: far cheaper than median() as a window function
    SELECT pid, ind, sector, median(value) AS med FROM m WHERE value IS NOT NULL GROUP BY pid, ind, sector
), ma AS (
    SELECT pid, ind, median(value) AS med FROM m WHERE value IS NOT NULL GROUP BY pid, ind
), f AS (
    SELECT m.*,
           CASE WHEN m.missing = 'impute' THEN coalesce(CASE WHEN $impute_sector THEN ms.med END, ma.med) END AS fill
    FROM m
    LEFT JOIN ms ON ms.pid = m.pid AND ms.ind = m.ind AND ms.sector = m.sector
    LEFT JOIN ma ON ma.pid = m.pid AND ma.ind = m.ind
)
SELECT pid, uid, ind, numerator, denominator, sample, value, reason = 'small_sample' AS below_min_sample,
       CASE WHEN reason = 'ok' THEN value WHEN missing = 'zero' THEN 0.0 WHEN missing = 'impute' THEN fill END
           AS index_value,
       CASE WHEN reason = 'ok' THEN 'ok' WHEN missing = 'zero' THEN 'zero'
            WHEN missing = 'impute' AND fill IS NOT NULL THEN 'imputed' ELSE reason END AS status
FROM f;

-- Threshold of each warning level per indicator and period, from the values that count (status ok).
CREATE OR REPLACE TEMP TABLE thresholds AS
WITH g AS (
    SELECT pid, ind, list_sort(list(value)) AS xs, count(value) AS n
    FROM ivals WHERE status = 'ok' GROUP BY pid, ind
), lv AS (
    SELECT g.pid, g.ind, d.direction, d.rule, d.floor, d.ceiling, l.level, l.param, g.xs, g.n
    FROM g JOIN ind_dim AS d USING (ind) JOIN ind_levels AS l USING (ind)
), t AS (
    SELECT pid, ind, level, direction, rule,
           CASE rule
               WHEN 'fixed' THEN param
               WHEN 'iqr' THEN CASE WHEN direction > 0
                   THEN qtile(xs, n, 0.75) + param * (qtile(xs, n, 0.75) - qtile(xs, n, 0.25))
                   ELSE qtile(xs, n, 0.25) - param * (qtile(xs, n, 0.75) - qtile(xs, n, 0.25)) END
               WHEN 'quantile' THEN qtile(xs, n, CASE WHEN direction > 0 THEN param ELSE 1 - param END)
           END AS t0, floor, ceiling
    FROM lv
)
SELECT pid, ind, level, direction, rule,
       CASE WHEN direction > 0 AND floor IS NOT NULL THEN greatest(t0, floor)
            WHEN direction < 0 AND ceiling IS NOT NULL THEN least(t0, ceiling)
            ELSE t0 END AS threshold
FROM t;

-- The level each value reaches (0 = none): fixed rules include the threshold, data-driven fences exceed it.
CREATE OR REPLACE TEMP TABLE flags AS
SELECT v.pid, v.uid, v.ind, max(t.level) AS level, arg_max(t.threshold, t.level) AS threshold
FROM ivals AS v JOIN thresholds AS t ON t.pid = v.pid AND t.ind = v.ind
WHERE v.status = 'ok' AND CASE
    WHEN t.direction > 0 AND t.rule = 'fixed' THEN v.value >= t.threshold
    WHEN t.direction > 0 THEN v.value > t.threshold
    WHEN t.rule = 'fixed' THEN v.value <= t.threshold
    ELSE v.value < t.threshold END
GROUP BY v.pid, v.uid, v.ind;

-- Percentiles (direction applied, 100 = riskiest) are computed in numpy per grain (scoring.percentiles):
-- window functions over every unit, period and indicator are the slowest part of DuckDB here.
