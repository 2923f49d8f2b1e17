-- zhengtai warehouse schema: one table per ledger kind (see data/dictionary.yaml for every column's meaning),
-- plus the ingest bookkeeping. Record tables carry where each row came from, so every warning can be
-- traced to the ledger line behind it. Natural keys are enforced by the loader (staging → merge), not by
-- indexes, which would slow bulk loads; tests check that no key is ever duplicated.

CREATE SEQUENCE IF NOT EXISTS ingest_run_seq START 1;

-- 单位名册: The supervised units (驻在单位). Loaded before every other ledger; every other row resolves its unit here.  Natural key: unit_name.
CREATE TABLE IF NOT EXISTS units (
    unit_name              VARCHAR NOT NULL,
    aliases                VARCHAR[],
    kind                   VARCHAR NOT NULL,
    sector                 VARCHAR NOT NULL,
    team                   VARCHAR NOT NULL,
    headcount              INTEGER NOT NULL,
    budget_yuan            DOUBLE,
    leadership_posts       INTEGER,
    top_leader_pid         VARCHAR,
    source_file            VARCHAR NOT NULL,
    source_sheet           VARCHAR,
    source_row             INTEGER NOT NULL,
    run_id                 INTEGER NOT NULL,
    row_hash               VARCHAR NOT NULL,
    date_precision         VARCHAR,            -- NULL when every date is to the day; else e.g. received_date=month
    loaded_at              TIMESTAMP NOT NULL
);

-- 信访举报: Petitions, reports and problem clues received (信访举报及问题线索).  Natural key: petition_no.
CREATE TABLE IF NOT EXISTS petitions (
    petition_no            VARCHAR NOT NULL,
    received_date          DATE NOT NULL,
    channel                VARCHAR,
    signed                 BOOLEAN,
    petitioner_pid         VARCHAR,
    petitioner_phone_pid   VARCHAR,
    unit_name              VARCHAR NOT NULL,
    reported_pid           VARCHAR,
    reported_post          VARCHAR,
    reported_rank          VARCHAR,
    is_leader              BOOLEAN,
    category               VARCHAR,
    fourwinds              VARCHAR,
    hidden_variant         VARCHAR,
    special_area           VARCHAR,
    content                VARCHAR,
    disposition            VARCHAR,
    outcome                VARCHAR,
    cleared                BOOLEAN,
    closed_date            DATE,
    is_repeat              BOOLEAN,
    source_file            VARCHAR NOT NULL,
    source_sheet           VARCHAR,
    source_row             INTEGER NOT NULL,
    run_id                 INTEGER NOT NULL,
    row_hash               VARCHAR NOT NULL,
    date_precision         VARCHAR,            -- NULL when every date is to the day; else e.g. received_date=month
    loaded_at              TIMESTAMP NOT NULL
);

-- 巡察问题及整改: Findings of the county inspection tours (巡察) and their rectification (整改台账).  Natural key: round, unit_name, finding_no.
CREATE TABLE IF NOT EXISTS inspection_findings (
    round                  VARCHAR NOT NULL,
    unit_name              VARCHAR NOT NULL,
    finding_no             VARCHAR NOT NULL,
    feedback_date          DATE NOT NULL,
    category               VARCHAR,
    finding                VARCHAR,
    deadline               DATE,
    status                 VARCHAR,
    rectified_date         DATE,
    is_recurrence          BOOLEAN,
    source_file            VARCHAR NOT NULL,
    source_sheet           VARCHAR,
    source_row             INTEGER NOT NULL,
    run_id                 INTEGER NOT NULL,
    row_hash               VARCHAR NOT NULL,
    date_precision         VARCHAR,            -- NULL when every date is to the day; else e.g. received_date=month
    loaded_at              TIMESTAMP NOT NULL
);

-- 审计发现问题: Findings of audits (审计) and their rectification.  Natural key: audit_project, unit_name, finding_no.
CREATE TABLE IF NOT EXISTS audit_findings (
    audit_project          VARCHAR NOT NULL,
    unit_name              VARCHAR NOT NULL,
    finding_no             VARCHAR NOT NULL,
    report_date            DATE NOT NULL,
    finding_type           VARCHAR,
    finding                VARCHAR,
    amount_yuan            DOUBLE,
    rectification          VARCHAR,
    rectified_date         DATE,
    clue_transferred       BOOLEAN,
    source_file            VARCHAR NOT NULL,
    source_sheet           VARCHAR,
    source_row             INTEGER NOT NULL,
    run_id                 INTEGER NOT NULL,
    row_hash               VARCHAR NOT NULL,
    date_precision         VARCHAR,            -- NULL when every date is to the day; else e.g. received_date=month
    loaded_at              TIMESTAMP NOT NULL
);

-- 案件及四种形态: Disciplinary handling under the four forms (监督执纪"四种形态"), from talks and criticism to cases filed and sanctions.  Natural key: case_no.
CREATE TABLE IF NOT EXISTS cases (
    case_no                VARCHAR NOT NULL,
    unit_name              VARCHAR NOT NULL,
    person_pid             VARCHAR,
    id_number_pid          VARCHAR,
    post                   VARCHAR,
    rank                   VARCHAR,
    is_leader              BOOLEAN,
    source                 VARCHAR,
    petition_no            VARCHAR,
    filed_date             DATE,
    closed_date            DATE NOT NULL,
    violation              VARCHAR,
    fourwinds              VARCHAR,
    hidden_variant         VARCHAR,
    form                   VARCHAR,
    party_sanction         VARCHAR,
    gov_sanction           VARCHAR,
    transferred            BOOLEAN,
    amount_yuan            DOUBLE,
    followup_date          DATE,
    source_file            VARCHAR NOT NULL,
    source_sheet           VARCHAR,
    source_row             INTEGER NOT NULL,
    run_id                 INTEGER NOT NULL,
    row_hash               VARCHAR NOT NULL,
    date_precision         VARCHAR,            -- NULL when every date is to the day; else e.g. received_date=month
    loaded_at              TIMESTAMP NOT NULL
);

-- 谈话函询: Talks and letter inquiries (谈话函询) on problem clues.  Natural key: inquiry_no.
CREATE TABLE IF NOT EXISTS inquiries (
    inquiry_no             VARCHAR NOT NULL,
    unit_name              VARCHAR NOT NULL,
    person_pid             VARCHAR,
    post                   VARCHAR,
    is_leader              BOOLEAN,
    method                 VARCHAR,
    petition_no            VARCHAR,
    start_date             DATE NOT NULL,
    reply_date             DATE,
    spot_checked           BOOLEAN,
    truthful               BOOLEAN,
    result                 VARCHAR,
    source_file            VARCHAR NOT NULL,
    source_sheet           VARCHAR,
    source_row             INTEGER NOT NULL,
    run_id                 INTEGER NOT NULL,
    row_hash               VARCHAR NOT NULL,
    date_precision         VARCHAR,            -- NULL when every date is to the day; else e.g. received_date=month
    loaded_at              TIMESTAMP NOT NULL
);

-- 三重一大事项报备: Filings of major decisions, appointments, projects and large sums (三重一大) with the team.  Natural key: unit_name, item, decision_date.
CREATE TABLE IF NOT EXISTS major_decisions (
    unit_name              VARCHAR NOT NULL,
    item                   VARCHAR NOT NULL,
    item_type              VARCHAR,
    decision_date          DATE NOT NULL,
    filing_date            DATE,
    amount_yuan            DOUBLE,
    collective             BOOLEAN,
    source_file            VARCHAR NOT NULL,
    source_sheet           VARCHAR,
    source_row             INTEGER NOT NULL,
    run_id                 INTEGER NOT NULL,
    row_hash               VARCHAR NOT NULL,
    date_precision         VARCHAR,            -- NULL when every date is to the day; else e.g. received_date=month
    loaded_at              TIMESTAMP NOT NULL
);

-- 主体责任检查: The half-yearly check of each unit's main responsibility for strict Party governance (主体责任落实情况检查).  Natural key: unit_name, check_period.
CREATE TABLE IF NOT EXISTS responsibility_checks (
    unit_name              VARCHAR NOT NULL,
    check_period           VARCHAR NOT NULL,
    check_date             DATE NOT NULL,
    score                  DOUBLE NOT NULL,
    problems               INTEGER NOT NULL,
    grade                  VARCHAR,
    source_file            VARCHAR NOT NULL,
    source_sheet           VARCHAR,
    source_row             INTEGER NOT NULL,
    run_id                 INTEGER NOT NULL,
    row_hash               VARCHAR NOT NULL,
    date_precision         VARCHAR,            -- NULL when every date is to the day; else e.g. received_date=month
    loaded_at              TIMESTAMP NOT NULL
);

-- One row per file per ingest run: what was read, loaded, updated, left unchanged and rejected.
CREATE TABLE IF NOT EXISTS ingest_runs (
    run_id          INTEGER PRIMARY KEY,
    batch_id        VARCHAR NOT NULL,   -- one `zhengtai ingest` invocation; all its files commit together
    path            VARCHAR NOT NULL,
    sha256          VARCHAR NOT NULL,
    kind            VARCHAR,
    sheet           VARCHAR,
    rows_read       INTEGER NOT NULL DEFAULT 0,
    rows_loaded     INTEGER NOT NULL DEFAULT 0,  -- new natural keys
    rows_updated    INTEGER NOT NULL DEFAULT 0,  -- existing keys whose content changed
    rows_unchanged  INTEGER NOT NULL DEFAULT 0,
    rows_rejected   INTEGER NOT NULL DEFAULT 0,
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    status          VARCHAR NOT NULL,            -- loaded | unchanged (same file seen before)
    message         VARCHAR,
    constants       VARCHAR                      -- columns given a constant with --set 列=值, as JSON {column: value}
);
ALTER TABLE ingest_runs ADD COLUMN IF NOT EXISTS constants VARCHAR;

-- Rows that failed validation, kept with their reason; raw values are pseudonymised like everything else.
CREATE TABLE IF NOT EXISTS rejected_rows (
    run_id          INTEGER NOT NULL,
    kind            VARCHAR NOT NULL,
    source_file     VARCHAR NOT NULL,
    source_sheet    VARCHAR,
    source_row      INTEGER NOT NULL,   -- 1-based line (CSV) or row (Excel) number as the analyst sees it
    column_name     VARCHAR NOT NULL,   -- the failing column(s), by Chinese header, separated by 、
    reason          VARCHAR NOT NULL,
    raw             JSON NOT NULL,      -- the row as read, header → value, identifiers pseudonymised, text masked
    file_sha256     VARCHAR             -- the file's content: the same ledger from another folder replaces, not doubles
);
ALTER TABLE rejected_rows ADD COLUMN IF NOT EXISTS file_sha256 VARCHAR;

-- Records kept with a field that could not be read (keep the record, flag the field): the field is stored
-- as unknown (NULL) and the note says what the ledger held. One row per record and field.
CREATE TABLE IF NOT EXISTS data_quality_notes (
    run_id          INTEGER NOT NULL,
    kind            VARCHAR NOT NULL,
    source_file     VARCHAR NOT NULL,
    source_sheet    VARCHAR,
    source_row      INTEGER NOT NULL,   -- 1-based line (CSV) or row (Excel) number as the analyst sees it
    record_key      VARCHAR NOT NULL,   -- the record's natural key, joined with ' / '
    unit_name       VARCHAR,            -- the record's unit (units.unit_name), for counts per unit
    column_name     VARCHAR NOT NULL,   -- the field, by Chinese header
    note            VARCHAR NOT NULL,   -- what was wrong and what the ledger held (masked like all text)
    file_sha256     VARCHAR             -- the file's content: the same ledger from another folder replaces, not doubles
);

-- Every alias a unit is known by (its name, its listed aliases), normalised; the resolver's first port of call.
CREATE TABLE IF NOT EXISTS unit_aliases (
    alias_norm      VARCHAR NOT NULL,
    unit_name       VARCHAR NOT NULL,
    source          VARCHAR NOT NULL    -- name | alias
);

CREATE TABLE IF NOT EXISTS warehouse_meta (
    key             VARCHAR PRIMARY KEY,
    value           VARCHAR NOT NULL
);
