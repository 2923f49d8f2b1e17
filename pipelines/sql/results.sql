-- zhengtai results: what `zhengtai build` computes from the ledgers. Every row is stamped with the
-- build that produced it; build_runs records the catalogue version and the method settings, so a past
-- result can be reproduced. The result tables hold the latest complete build only (a build replaces them
-- in one transaction); build_runs keeps a row for every build. The dashboard, reports and notebooks read only these tables (and, for
-- record-level drill-down, the ledger tables through warning_evidence).
--
-- Periods: grain is month | quarter | half | year | rolling12; period keys are
--   month '2024-03', quarter '2024Q1', half '2024H1', year '2024', rolling12 'R12-2024-03' (12 months to March 2024).
--
-- What each grain stores (defaults of data/index_settings.yaml; build_runs.settings says what a build used):
--   every grain         indicator_values (every unit × period × indicator), unit_scores (every unit × period ×
--                       level), coherence
--   quarter, half, year, rolling12 (warnings.grains, portraits.grains, contributions.grains)
--                       warnings and warning_evidence, portraits, contributions
--   month               no warnings (one rare event makes a small unit's month an outlier), no portraits
--                       (too noisy to read as a story), no contributions (at province scale they were 7.6M of
--                       17M rows; the dashboard re-aggregates one month's from indicator_values on demand,
--                       pipelines/board/method.py): add month to contributions.grains to store them
--   rank_p05/rank_p95 and sensitivity: the latest period(s) of each grain in uncertainty.grains
--   grades: the grains of grades.grains (months are scored, not graded)
-- A build writes staged copies (<table>__build) and swaps them in with one transaction.

CREATE TABLE IF NOT EXISTS build_runs (
    build_id          VARCHAR PRIMARY KEY,
    built_at          TIMESTAMP NOT NULL,
    catalogue_version VARCHAR NOT NULL,
    catalogue_sha256  VARCHAR NOT NULL,
    settings          JSON NOT NULL,     -- every method choice: missing data, outliers, normalisation, weights, aggregation, grades
    status            VARCHAR NOT NULL,  -- complete
    seconds           DOUBLE
);

-- Builds asked to be published for the dashboard (`zhengtai build` without --no-publish), recorded in the
-- build's own transaction: a build whose publish was cut short is published by the next writer.
CREATE TABLE IF NOT EXISTS publications (
    build_id          VARCHAR PRIMARY KEY,
    requested_at      TIMESTAMP NOT NULL,  -- when the build committed and asked to be published
    published_at      TIMESTAMP            -- when the snapshot was replaced (NULL: not yet)
);

-- The catalogue as it was for that build, for readers that do not parse YAML.
CREATE TABLE IF NOT EXISTS indicator_catalogue (
    build_id      VARCHAR NOT NULL,
    indicator_id  VARCHAR NOT NULL,
    name_zh       VARCHAR NOT NULL,
    name_en       VARCHAR NOT NULL,
    dimension     VARCHAR NOT NULL,
    dimension_zh  VARCHAR NOT NULL,
    duty          VARCHAR NOT NULL,      -- the work-plan duty it monitors
    direction     INTEGER NOT NULL,      -- 1 higher = riskier, -1 protective
    weight        DOUBLE NOT NULL,
    definition    VARCHAR NOT NULL,      -- the catalogue's definition (structured keys or SQL), for engineers
    rationale     VARCHAR NOT NULL,
    false_positives VARCHAR NOT NULL,
    unit          VARCHAR,               -- display unit of the value: 比例 (a share, shown as %), 件/百人·年 …
    min_sample    INTEGER,               -- records needed before the value counts
    missing       VARCHAR,               -- missing-data policy: impute | zero | drop
    threshold_rule VARCHAR,              -- every level's warning rule in one sentence (… 依次为黄色、橙色、红色预警), NULL when it never warns
    dimension_weight DOUBLE,             -- weight of the indicator's dimension in the index
    context       BOOLEAN,               -- shown in portraits, not part of the index (weight 0)
    definition_zh VARCHAR                -- the definition in words, the 口径 pages and reports show
);

-- One value per unit, period and indicator.
CREATE TABLE IF NOT EXISTS indicator_values (
    build_id          VARCHAR NOT NULL,
    grain             VARCHAR NOT NULL,
    period            VARCHAR NOT NULL,
    unit_name         VARCHAR NOT NULL,
    indicator_id      VARCHAR NOT NULL,
    numerator         DOUBLE,
    denominator       DOUBLE,
    value             DOUBLE,            -- raw value (NULL when missing or below the minimum sample)
    sample            INTEGER,           -- records it rests on
    status            VARCHAR NOT NULL,  -- ok | small_sample | missing | imputed | zero
    normalised        DOUBLE,            -- what entered the aggregation, 0-100, 100 = riskiest: the severity (0 at the
                                         -- period's typical value, 33.3 at the 黄 line, 66.7 橙, 100 红) by default
    percentile        DOUBLE,            -- among all units in the period, 0-100, direction applied (100 = riskiest)
    sector_percentile DOUBLE,            -- among the unit's sector peers, same orientation
    threshold         DOUBLE,            -- yellow-level warning threshold on the raw value, if the indicator has one
    flagged           BOOLEAN NOT NULL,
    index_value       DOUBLE,            -- the value after the missing policy (imputed/zero filled) and, for `shrink`
                                         -- indicators, the empirical-Bayes estimate: what was scored
    below_min_sample  BOOLEAN            -- the value was withheld because sample < min_sample
);

-- Scores per unit and period: the overall index (level = 'index') and each dimension (level = dimension id).
CREATE TABLE IF NOT EXISTS unit_scores (
    build_id      VARCHAR NOT NULL,
    grain         VARCHAR NOT NULL,
    period        VARCHAR NOT NULL,
    unit_name     VARCHAR NOT NULL,
    level         VARCHAR NOT NULL,
    score         DOUBLE,                -- 0-100, higher = riskier
    rank          INTEGER,               -- 1 = riskiest in the period
    rank_p05      DOUBLE,                -- uncertainty: 5th-95th percentile of the rank over Monte Carlo draws
    rank_p95      DOUBLE,
    grade         VARCHAR,               -- 红 | 橙 | 黄 | 绿 by the evidence rule (pipelines/analysis/grading.py), for the
                                         -- index and every dimension; NULL: not graded (months) or no score (无数据)
    sector_rank   INTEGER,               -- rank among the unit's sector peers (NULL for a unit alone in its sector)
    change_prev   DOUBLE,                -- 环比: score minus previous period's (NULL if either period is provisional)
    change_yoy    DOUBLE,                -- 同比: score minus the same period a year before (same)
    rising        BOOLEAN,               -- rising-risk flag
    grade_basis   VARCHAR,               -- why the grade: no_record | quiet | score | evidence | both | ungraded | no_data
    warning_level TINYINT,               -- highest warning at this level (0 none, 1 黄, 2 橙, 3 红), on enough records
    evidence      INTEGER,               -- distinct ledger records behind this level's warnings
    records       INTEGER,               -- ledger records of the unit dated in the period (any ledger)
    provisional   BOOLEAN,               -- the period is not over, or its windows lack the history an indicator needs (待定)
    imputed_share DOUBLE                 -- share of the level's weight that was filled in (imputed), 0-1
);

-- How each indicator adds to the index: contributions of a unit-period add up to its index score.
CREATE TABLE IF NOT EXISTS contributions (
    build_id      VARCHAR NOT NULL,
    grain         VARCHAR NOT NULL,
    period        VARCHAR NOT NULL,
    unit_name     VARCHAR NOT NULL,
    indicator_id  VARCHAR NOT NULL,
    dimension     VARCHAR NOT NULL,
    contribution  DOUBLE NOT NULL
);

-- Warnings: an indicator past its threshold for a unit and period, with the records behind it.
CREATE TABLE IF NOT EXISTS warnings (
    build_id      VARCHAR NOT NULL,
    warning_id    VARCHAR NOT NULL,      -- stable across builds: hash of grain, period, unit, indicator
    grain         VARCHAR NOT NULL,
    period        VARCHAR NOT NULL,
    unit_name     VARCHAR NOT NULL,
    indicator_id  VARCHAR NOT NULL,
    grade         VARCHAR NOT NULL,      -- 红 | 橙 | 黄
    value         DOUBLE NOT NULL,
    threshold     DOUBLE NOT NULL,
    rule          VARCHAR NOT NULL,      -- how the threshold was set, in words (data/vocabulary.yaml threshold_rule), e.g. '固定阈值：达到3及以上'
    message       VARCHAR NOT NULL,      -- Chinese, one sentence
    status        VARCHAR NOT NULL,      -- 新增 | 持续 (also flagged the period before)
    records       INTEGER                -- distinct ledger records behind it (a level needs warnings.min_records)
);

-- The ledger records behind each warning (pseudonymised rows, by table and natural key).
CREATE TABLE IF NOT EXISTS warning_evidence (
    build_id      VARCHAR NOT NULL,
    warning_id    VARCHAR NOT NULL,
    source_table  VARCHAR NOT NULL,
    record_key    VARCHAR NOT NULL,      -- natural key values joined by '|'
    record_date   DATE,
    summary       VARCHAR                -- short, already-masked description
);

-- Rank uncertainty and sensitivity, per period: the share of rank variance each method choice explains.
CREATE TABLE IF NOT EXISTS sensitivity (
    build_id      VARCHAR NOT NULL,
    grain         VARCHAR NOT NULL,
    period        VARCHAR NOT NULL,
    factor        VARCHAR NOT NULL,      -- weights | normalisation | aggregation | leave-one-out:<indicator> …
    variance_share DOUBLE,
    detail        JSON
);

-- Coherence checks of the index structure (correlations, Cronbach's alpha per dimension), reported not hidden.
CREATE TABLE IF NOT EXISTS coherence (
    build_id      VARCHAR NOT NULL,
    grain         VARCHAR NOT NULL,
    period        VARCHAR NOT NULL,
    dimension     VARCHAR NOT NULL,
    statistic     VARCHAR NOT NULL,      -- cronbach_alpha | mean_inter_item_r | corr_with_index …
    value         DOUBLE
);

-- A unit's portrait per period: the headline text and structured parts the dashboard and reports show.
CREATE TABLE IF NOT EXISTS portraits (
    build_id      VARCHAR NOT NULL,
    grain         VARCHAR NOT NULL,
    period        VARCHAR NOT NULL,
    unit_name     VARCHAR NOT NULL,
    summary       VARCHAR NOT NULL,      -- Chinese paragraph: level, drivers, peers, trend
    drivers       JSON NOT NULL,         -- top contributing indicators with value, percentile, contribution
    peers         JSON NOT NULL,         -- dimension scores of the unit, its sector and the county
    themes        JSON NOT NULL,         -- recurring petition themes (categories, 四风 types, hidden variants)
    protective    JSON                   -- facts that speak for the unit: cadres cleared of false accusations (澄清正名) …
);

-- Columns added after the first release, for warehouses created before them.
ALTER TABLE indicator_catalogue ADD COLUMN IF NOT EXISTS unit VARCHAR;
ALTER TABLE indicator_catalogue ADD COLUMN IF NOT EXISTS min_sample INTEGER;
ALTER TABLE indicator_catalogue ADD COLUMN IF NOT EXISTS missing VARCHAR;
ALTER TABLE indicator_catalogue ADD COLUMN IF NOT EXISTS threshold_rule VARCHAR;
ALTER TABLE indicator_catalogue ADD COLUMN IF NOT EXISTS dimension_weight DOUBLE;
ALTER TABLE indicator_catalogue ADD COLUMN IF NOT EXISTS context BOOLEAN;
ALTER TABLE indicator_catalogue ADD COLUMN IF NOT EXISTS definition_zh VARCHAR;  -- the definition in words (口径)
ALTER TABLE indicator_values ADD COLUMN IF NOT EXISTS index_value DOUBLE;
ALTER TABLE indicator_values ADD COLUMN IF NOT EXISTS below_min_sample BOOLEAN;
ALTER TABLE unit_scores ADD COLUMN IF NOT EXISTS grade_basis VARCHAR;
ALTER TABLE unit_scores ADD COLUMN IF NOT EXISTS warning_level TINYINT;
ALTER TABLE unit_scores ADD COLUMN IF NOT EXISTS evidence INTEGER;
ALTER TABLE unit_scores ADD COLUMN IF NOT EXISTS records INTEGER;
ALTER TABLE unit_scores ADD COLUMN IF NOT EXISTS provisional BOOLEAN;
ALTER TABLE unit_scores ADD COLUMN IF NOT EXISTS imputed_share DOUBLE;
ALTER TABLE warnings ADD COLUMN IF NOT EXISTS records INTEGER;
ALTER TABLE portraits ADD COLUMN IF NOT EXISTS protective JSON;
