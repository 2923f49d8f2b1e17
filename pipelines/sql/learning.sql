-- zhengtai learned signals: what the models of pipelines/ml add to `zhengtai build`. Like every result table they
-- hold the latest build only (staged and swapped with the others) and every row carries its build_id. They are
-- signals to examine, never verdicts, and never replace the rule warnings. Settings: data/learning.yaml.

-- 异常模式: unit-periods an isolation forest finds unusual over their whole indicator vector.
CREATE TABLE IF NOT EXISTS unit_anomalies (
    build_id      VARCHAR NOT NULL,
    grain         VARCHAR NOT NULL,
    period        VARCHAR NOT NULL,
    unit_name     VARCHAR NOT NULL,
    score         DOUBLE NOT NULL,       -- isolation-forest anomaly score, 0-1; above 0.5 = shorter paths than typical
    percentile    DOUBLE NOT NULL,       -- the score's percentile among all unit-periods of the grain (100 = most unusual)
    flagged       BOOLEAN NOT NULL,      -- among the most isolated (settings: anomalies.share) → an 异常模式 signal
    drivers       JSON NOT NULL,         -- indicators that make it unusual: id, name, value, robust z, score drop
    message       VARCHAR                -- Chinese sentence naming them (flagged rows only)
);

-- Typologies: units grouped by dimension profile; the same groups in every period of a grain.
CREATE TABLE IF NOT EXISTS unit_typologies (
    build_id      VARCHAR NOT NULL,
    grain         VARCHAR NOT NULL,
    period        VARCHAR NOT NULL,
    unit_name     VARCHAR NOT NULL,
    cluster       INTEGER NOT NULL,
    type_name     VARCHAR NOT NULL,      -- named from the cluster centre: 信访高发型, 整改滞后型, 作风风险型 …
    distance      DOUBLE NOT NULL,       -- to its centre, in dimension-score points
    margin        DOUBLE NOT NULL        -- how much nearer its centre is than the next one (0 = on the border)
);

-- One row per grain: how the typology was chosen and how well it holds.
CREATE TABLE IF NOT EXISTS typology_models (
    build_id      VARCHAR NOT NULL,
    grain         VARCHAR NOT NULL,
    k             INTEGER NOT NULL,
    criterion     VARCHAR NOT NULL,      -- how k was chosen (Chinese)
    silhouette    DOUBLE,
    stability     DOUBLE,                -- mean adjusted Rand index between seeds at this k
    candidates    JSON NOT NULL,         -- k → silhouette, stability
    centres       JSON NOT NULL          -- cluster → type name, size, dimension scores of its centre
);

-- 人员线索汇聚: one pseudonymised person in several channels or ledgers within a window. Analysts only.
CREATE TABLE IF NOT EXISTS person_clues (
    build_id      VARCHAR NOT NULL,
    clue_id       VARCHAR NOT NULL,      -- stable: hash of person and window end
    person_pid    VARCHAR NOT NULL,
    units         VARCHAR[] NOT NULL,
    is_leader     BOOLEAN,
    window_start  DATE NOT NULL,
    window_end    DATE NOT NULL,
    records       INTEGER NOT NULL,
    sources       VARCHAR[] NOT NULL,    -- distinct channels and ledgers (信访·网络举报, 谈话函询, 执纪审查 …)
    message       VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS person_clue_records (
    build_id      VARCHAR NOT NULL,
    clue_id       VARCHAR NOT NULL,
    source_table  VARCHAR NOT NULL,
    record_key    VARCHAR NOT NULL,
    record_date   DATE,
    source        VARCHAR NOT NULL,
    unit_name     VARCHAR NOT NULL,
    summary       VARCHAR
);

-- Indicators checked against outcomes: does a value this period predict substantiated cases next period?
CREATE TABLE IF NOT EXISTS indicator_validation (
    build_id      VARCHAR NOT NULL,
    grain         VARCHAR NOT NULL,
    predictor     VARCHAR NOT NULL,      -- indicator id, dimension id, 'index' (expert composite) or 'data_weighted'
    kind          VARCHAR NOT NULL,      -- indicator | dimension | composite
    name_zh       VARCHAR NOT NULL,
    n             INTEGER NOT NULL,      -- unit-periods with a value and a next period
    positives     INTEGER NOT NULL,      -- of which followed by an outcome
    auc           DOUBLE,                -- higher value → outcome next period; 0.5 = no better than chance
    auc_low       DOUBLE,                -- 95% interval, units resampled (bootstrap by unit)
    auc_high      DOUBLE,
    test_auc      DOUBLE,                -- on the later periods only (the time split the data weights did not see)
    coef          DOUBLE,                -- logistic slope per standard deviation
    se            DOUBLE,                -- unit-clustered standard error
    p_value       DOUBLE,
    expert_weight DOUBLE,
    data_weight   DOUBLE,                -- data-suggested weight (non-negative, sums to 1 over indicators)
    verdict       VARCHAR NOT NULL       -- predictive | none | reversed | small_sample (words: vocabulary validation_verdict)
);

-- Predicted categories of petitions recorded as 其他 or without one; kept apart from the recorded category.
CREATE TABLE IF NOT EXISTS petition_predictions (
    build_id      VARCHAR NOT NULL,
    petition_no   VARCHAR NOT NULL,
    unit_name     VARCHAR NOT NULL,
    received_date DATE,
    recorded      VARCHAR,               -- the category as recorded (其他 or empty)
    predicted     VARCHAR,               -- NULL when the text has nothing to classify
    probability   DOUBLE,
    review        BOOLEAN NOT NULL,      -- low confidence or no text: listed for review, never taken as a label
    reason        VARCHAR
);

-- The text models a build used, with their quality.
CREATE TABLE IF NOT EXISTS learning_models (
    build_id      VARCHAR NOT NULL,
    model         VARCHAR NOT NULL,      -- petition_category | anomalies | typologies | validation
    detail        JSON NOT NULL
);
