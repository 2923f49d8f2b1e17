"""A small, hand-made results warehouse for the dashboard and access tests.

It fills schema.sql + results.sql with 12 units in two 派驻组 teams, quarterly and yearly scores over
two years, indicator values, contributions that add up to the score, warnings with evidence pointing to
real ledger rows, and some ingest bookkeeping — enough for every page to have something to show, small
enough to build in well under a second. Names the team-scoping tests look for are exported as constants.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipelines.warehouse import apply_schema, publish

BUILD = "fixture-build-1"
TEAM_A = "第一派驻组"
TEAM_B = "第二派驻组"
# (name, kind, sector, team, headcount)
UNITS = [
    ("县教育局", "部门", "教育", TEAM_A, 80),
    ("县第一中学", "学校", "教育", TEAM_A, 150),
    ("县实验小学", "学校", "教育", TEAM_A, 90),
    ("县卫生健康局", "部门", "卫生健康", TEAM_A, 60),
    ("县人民医院", "医院", "卫生健康", TEAM_A, 600),
    ("县中医院", "医院", "卫生健康", TEAM_A, 300),
    ("县农业农村局", "部门", "农业农村", TEAM_B, 70),
    ("青山镇人民政府", "乡镇", "农业农村", TEAM_B, 110),
    ("绿水镇人民政府", "乡镇", "农业农村", TEAM_B, 95),
    ("县市场监管局", "部门", "市场监管", TEAM_B, 75),
    ("县城投公司", "国有企业", "国有资产", TEAM_B, 120),
    ("县水务集团", "国有企业", "国有资产", TEAM_B, 140),
]
TEAM_A_UNITS = [u[0] for u in UNITS if u[3] == TEAM_A]
TEAM_B_UNITS = [u[0] for u in UNITS if u[3] == TEAM_B]
# (id, name_zh, dimension, dimension_zh, direction, weight, has_threshold)
INDICATORS = [
    ("petition_density", "每百人信访举报量", "petitions", "信访举报", 1, 1.0, True),
    ("leader_petition_share", "反映班子成员占比", "petitions", "信访举报", 1, 1.0, True),
    ("first_form_share", "第一种形态占比", "discipline", "执纪问责", -1, 1.0, False),
    ("case_rate", "每百人立案数", "discipline", "执纪问责", 1, 1.0, True),
    ("rectification_overdue", "巡察整改逾期率", "rectification", "整改落实", 1, 1.0, True),
    ("recurring_findings", "屡查屡犯问题数", "rectification", "整改落实", 1, 1.0, False),
    ("talk_share", "谈话方式占比", "inquiries", "谈话函询", -1, 1.0, False),
    ("untruthful_rate", "未如实说明率", "inquiries", "谈话函询", 1, 1.0, True),
    ("filing_late_share", "三重一大逾期报备率", "governance", "权力运行", 1, 1.0, True),
    ("audit_amount_ratio", "审计问题金额占预算比", "governance", "权力运行", 1, 1.0, False),
]
DIMENSIONS = list(dict.fromkeys(i[2] for i in INDICATORS))
QUARTERS = [f"{y}Q{q}" for y in (2023, 2024) for q in (1, 2, 3, 4)]
YEARS = ["2023", "2024"]
# Grades follow the build's evidence rule (pipelines/analysis/grading.py): the lower of the score band (equal
# weights, arithmetic mean) and the highest warning; every unit-period has records.
# A warning message and a unit alias that begin like spreadsheet formulas, for the export test.
FORMULA_MESSAGE = '=HYPERLINK("http://example.invalid","点击")'


def _bands():
    from pipelines.analysis import grading

    return grading.bands({d: [1.0 for i in INDICATORS if i[2] == d] for d in DIMENSIONS},
                         {d: 1.0 for d in DIMENSIONS}, "arith", 1.0)


def _grade(score: np.ndarray, warning: np.ndarray, band) -> np.ndarray:
    from pipelines.analysis import grading

    code, _ = grading.grade(score, band, warning, np.ones(score.shape))
    return grading.labels(code)


def _periods() -> list[tuple[str, str, int]]:
    """(grain, period, ordinal) in time order per grain."""
    return [("quarter", p, i) for i, p in enumerate(QUARTERS)] + [("year", p, i) for i, p in enumerate(YEARS)]


def build_fixture(db: str | Path, *, seed: int = 7, publish_snapshot: bool = True) -> Path:
    """Write the fixture warehouse at `db` (and its published snapshot); returns the snapshot path."""
    db = Path(db)
    if db.exists():
        db.unlink()
    rng = np.random.default_rng(seed)
    con = duckdb.connect(str(db))
    apply_schema(con, ("schema.sql", "results.sql", "learning.sql"))
    now = datetime(2025, 1, 10, 9, 0, 0)

    # DataFrames are named *_df: DuckDB resolves a table of the same name before a Python variable.
    units_df = pd.DataFrame(UNITS, columns=["unit_name", "kind", "sector", "team", "headcount"])
    units_df["aliases"] = [[n.replace("县", "")] for n in units_df.unit_name]
    units_df["budget_yuan"] = units_df.headcount * 150_000.0
    units_df["leadership_posts"] = 5
    units_df["top_leader_pid"] = [f"P{i:04d}" for i in range(len(units_df))]
    units_df["source_file"], units_df["source_sheet"] = "单位名册.xlsx", "Sheet1"
    units_df["source_row"] = range(2, 2 + len(units_df))
    units_df["run_id"], units_df["row_hash"], units_df["loaded_at"] = 1, "h", now
    con.execute("INSERT INTO units BY NAME SELECT * FROM units_df")

    bands = _bands()
    settings = {
        "missing": "leave_out",
        "normalisation": "minmax",
        "weights": "equal",
        "aggregation": "arithmetic",
        "engine": {"aggregate": "arith", "p": 1.0},
        "grades": {"grains": ["quarter", "year"]},
        "grade_bands": {"index": list(bands.index), "dimensions": {d: list(v) for d, v in bands.dimensions.items()}},
    }
    con.execute(
        "INSERT INTO build_runs VALUES (?, ?, 'fixture-1', 'abc123', ?, 'complete', 1.5)",
        [BUILD, now, json.dumps(settings, ensure_ascii=False)],
    )
    cat_df = pd.DataFrame(
        [
            dict(
                build_id=BUILD, indicator_id=i, name_zh=zh, name_en=i.replace("_", " "), dimension=d,
                dimension_zh=dzh, duty="日常监督", direction=dr, weight=w, definition=f"{zh}的计算口径",
                rationale="工作计划要求", false_positives="样本少时波动大", dimension_weight=1.0, context=False,
            )
            for i, zh, d, dzh, dr, w, _ in INDICATORS
        ]
    )
    con.execute("INSERT INTO indicator_catalogue BY NAME SELECT * FROM cat_df")

    # Normalised indicator values: a unit-level risk propensity + drift + noise, kept in 0-100.
    n_u, n_i = len(UNITS), len(INDICATORS)
    propensity = rng.uniform(20, 70, n_u)
    propensity[0] = 80  # 县教育局: the riskiest unit of team A
    propensity[7] = 78  # 青山镇人民政府: the riskiest unit of team B
    iv_rows, score_rows, contrib_rows, warn_rows, ev_rows = [], [], [], [], []
    dim_of = np.array([DIMENSIONS.index(i[2]) for i in INDICATORS])
    prev_index: dict[tuple[str, str], float] = {}
    for grain, period, k in _periods():
        drift = k * (3.0 if grain == "quarter" else 6.0)
        norm = np.clip(
            propensity[:, None] + rng.normal(0, 12, (n_u, n_i)) + np.where(np.arange(n_u) < 2, drift, 0)[:, None],
            0, 100,
        )
        raw = np.round(norm / 100.0 * 5.0, 3)
        pct = (norm.argsort(0).argsort(0) + 1) / n_u * 100
        thresholds = np.array([3.5 if i[6] else np.nan for i in INDICATORS])
        flagged = raw >= np.nan_to_num(thresholds, nan=np.inf)
        dim_scores = np.stack([norm[:, dim_of == d].mean(1) for d in range(len(DIMENSIONS))], 1)
        index = dim_scores.mean(1)
        contrib = norm / n_i  # equal weights: contributions add up to the index
        rank = (-index).argsort().argsort() + 1
        level = np.where(raw >= 4.5, 3, np.where(raw >= 4.0, 2, 1)) * flagged  # the warnings' grades below
        grade = _grade(index, level.max(1), bands.index)
        for u, (name, kind, sector, team, hc) in enumerate(UNITS):
            for i, ind in enumerate(INDICATORS):
                iv_rows.append(
                    (BUILD, grain, period, name, ind[0], raw[u, i] * hc, hc, raw[u, i], int(hc / 10), "ok",
                     norm[u, i], pct[u, i], pct[u, i], None if np.isnan(thresholds[i]) else thresholds[i],
                     bool(flagged[u, i]))
                )
                contrib_rows.append((BUILD, grain, period, name, ind[0], ind[2], contrib[u, i]))
                if flagged[u, i]:
                    wid = f"W-{grain}-{period}-{u}-{i}"
                    g = "红" if raw[u, i] >= 4.5 else ("橙" if raw[u, i] >= 4.0 else "黄")
                    msg = (FORMULA_MESSAGE if (u == 0 and i == 0) else
                           f"{name}{ind[1]}为{raw[u, i]:.2f}，超过阈值{thresholds[i]:.2f}")
                    warn_rows.append((BUILD, wid, grain, period, name, ind[0], g, raw[u, i], thresholds[i],
                                      "固定阈值：达到3.5及以上", msg, "新增" if k == 0 else "持续"))
                    for e in range(2):
                        ev_rows.append((BUILD, wid, "petitions", f"XF{u:02d}{e:03d}",
                                        date(2023, 1, 1) + timedelta(days=30 * e + u),
                                        f"反映{name}某干部违规收受礼金（记录{e + 1}）"))
            prev = prev_index.get((grain, name))
            score_rows.append(
                (BUILD, grain, period, name, "index", index[u], int(rank[u]), max(1.0, rank[u] - 1.5),
                 min(n_u, rank[u] + 1.5), grade[u], 1, None if prev is None else index[u] - prev, None,
                 bool(prev is not None and index[u] - prev > 5), int(level[u].max()), int(hc / 10))
            )
            prev_index[(grain, name)] = index[u]
            for d, dim in enumerate(DIMENSIONS):
                drank = (-dim_scores[:, d]).argsort().argsort() + 1
                dlevel = int(level[u, dim_of == d].max())
                score_rows.append(
                    (BUILD, grain, period, name, dim, dim_scores[u, d], int(drank[u]), None, None,
                     _grade(dim_scores[u : u + 1, d], np.array([dlevel]), bands.of(dim))[0], 1, None, None, None,
                     dlevel, int(hc / 10))
                )
    # executemany is slow in DuckDB: insert through DataFrames.
    # Named columns (BY NAME): the results contract may grow columns the fixture does not fill.
    columns = {
        "indicator_values": "build_id grain period unit_name indicator_id numerator denominator value sample status "
                            "normalised percentile sector_percentile threshold flagged",
        "unit_scores": "build_id grain period unit_name level score rank rank_p05 rank_p95 grade sector_rank "
                       "change_prev change_yoy rising warning_level records",
        "contributions": "build_id grain period unit_name indicator_id dimension contribution",
        "warnings": "build_id warning_id grain period unit_name indicator_id grade value threshold rule message status",
        "warning_evidence": "build_id warning_id source_table record_key record_date summary",
    }
    for table, rows in (("indicator_values", iv_rows), ("unit_scores", score_rows), ("contributions", contrib_rows),
                        ("warnings", warn_rows), ("warning_evidence", ev_rows)):
        frame_df = pd.DataFrame(rows, columns=columns[table].split())  # noqa: F841 (DuckDB replacement scan)
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame_df")

    for grain, period, _ in _periods():
        con.execute(
            "INSERT INTO sensitivity VALUES (?, ?, ?, 'weights', 0.42, '{}'), (?, ?, ?, 'normalisation', 0.31, '{}'),"
            " (?, ?, ?, 'aggregation', 0.12, '{}'), (?, ?, ?, 'leave-one-out:case_rate', 0.15, '{}')",
            [BUILD, grain, period] * 4,
        )
        for dim in DIMENSIONS:
            con.execute("INSERT INTO coherence VALUES (?, ?, ?, ?, 'cronbach_alpha', 0.71)", [BUILD, grain, period, dim])
        for name in [u[0] for u in UNITS]:
            con.execute(
                "INSERT INTO portraits BY NAME SELECT ? AS build_id, ? AS grain, ? AS period, ? AS unit_name, "
                "? AS summary, '[]' AS drivers, '{}' AS peers, ? AS themes",
                [BUILD, grain, period, name, f"{name}本期政治生态风险处于可控水平，需关注信访举报维度。",
                 json.dumps([{"theme": "违规收受礼金", "count": 3}], ensure_ascii=False)],
            )

    # Ledger rows behind the evidence and the timelines.
    pet = []
    for u, (name, *_rest) in enumerate(UNITS):
        for e in range(4):
            pet.append(dict(
                petition_no=f"XF{u:02d}{e:03d}", received_date=date(2023, 1, 1) + timedelta(days=30 * e + u),
                channel=["来信", "电话", "网络举报", "来访"][e], signed=e % 2 == 0, unit_name=name,
                reported_pid=f"P{u:04d}", reported_post="副局长", is_leader=e < 2, category="廉洁纪律",
                fourwinds="奢靡之风" if e % 2 else None, hidden_variant="电子红包" if e == 1 else None,
                content=f"反映{name}某干部违规收受礼金（记录{e + 1}）", disposition="初步核实",
                outcome="部分属实" if e == 0 else None, is_repeat=e == 3, source_file="信访台账.xlsx",
                source_sheet="2023", source_row=e + 3, run_id=2, row_hash="h", loaded_at=now,
            ))
    petitions_df = pd.DataFrame(pet)
    con.execute("INSERT INTO petitions BY NAME SELECT * FROM petitions_df")
    cases_df = pd.DataFrame([dict(
        case_no=f"AJ{u:02d}", unit_name=n, person_pid=f"P{u:04d}", post="股长", is_leader=False,
        closed_date=date(2024, 3, 1) + timedelta(days=u), violation="廉洁纪律", form="2",
        party_sanction="警告", gov_sanction="无", source_file="案件台账.csv", source_row=u + 2, run_id=3,
        row_hash="h", loaded_at=now) for u, (n, *_r) in enumerate(UNITS)])
    con.execute("INSERT INTO cases BY NAME SELECT * FROM cases_df")
    inq_df = pd.DataFrame([dict(
        inquiry_no=f"HX{u:02d}", unit_name=n, person_pid=f"P{u:04d}", method="函询",
        start_date=date(2024, 5, 1) + timedelta(days=u), truthful=True, result="了结澄清",
        source_file="谈话函询.xlsx", source_row=u + 2, run_id=4, row_hash="h", loaded_at=now)
        for u, (n, *_r) in enumerate(UNITS)])
    con.execute("INSERT INTO inquiries BY NAME SELECT * FROM inq_df")
    fnd_df = pd.DataFrame([dict(
        round="2024年第一轮", unit_name=n, finding_no="1", feedback_date=date(2024, 4, 1), category="全面从严治党",
        finding="落实主体责任不到位", deadline=date(2024, 7, 1), status="整改中", is_recurrence=u == 0,
        source_file="巡察整改.xlsx", source_row=u + 2, run_id=5, row_hash="h", loaded_at=now)
        for u, (n, *_r) in enumerate(UNITS)])
    con.execute("INSERT INTO inspection_findings BY NAME SELECT * FROM fnd_df")

    runs = [
        (1, "B1", "/data/单位名册.xlsx", "s1", "units", "Sheet1", 12, 12, 0, 0, 0, now, now, "loaded", None),
        (2, "B1", "/data/信访台账.xlsx", "s2", "petitions", "2023", 50, 48, 0, 0, 2, now, now, "loaded", None),
        (3, "B1", "/data/案件台账.csv", "s3", "cases", None, 12, 12, 0, 0, 0, now, now, "loaded", None),
        (4, "B1", "/data/谈话函询.xlsx", "s4", "inquiries", None, 12, 12, 0, 0, 0,
         datetime(2024, 6, 1), datetime(2024, 6, 1), "loaded", None),
        (5, "B1", "/data/巡察整改.xlsx", "s5", "inspection_findings", None, 12, 12, 0, 0, 0, now, now, "loaded", None),
    ]
    con.executemany("INSERT INTO ingest_runs (run_id, batch_id, path, sha256, kind, sheet, rows_read, rows_loaded, rows_updated, "
                    "rows_unchanged, rows_rejected, started_at, finished_at, status, message) VALUES (" + ",".join("?" * 15) + ")", runs)
    con.execute("""INSERT INTO data_quality_notes (run_id, kind, source_file, source_sheet, source_row, record_key, unit_name,
                                                   column_name, note)
                   VALUES (2, 'petitions', '信访台账.xlsx', '2023', 21, 'XF021', '县教育局', '来源渠道',
                           '来源渠道：不在允许值内（来信、来访、电话、网络举报、上级转办）：托人带话'),
                          (2, 'petitions', '信访台账.xlsx', '2023', 22, 'XF022', '县农业农村局', '问题类别', '问题类别：缺少必填项')""")
    con.executemany(
        "INSERT INTO rejected_rows (run_id, kind, source_file, source_sheet, source_row, column_name, reason, raw) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (2, "petitions", "信访台账.xlsx", "2023", 17, "受理日期", "受理日期：无法识别为日期（如 2024-03-05、2024年3月5日）：2023年13月5日",
             json.dumps({"信访编号": "XF999", "被反映单位": "县教育局", "受理日期": "2023年13月5日"}, ensure_ascii=False)),
            (2, "petitions", "信访台账.xlsx", "2023", 18, "被反映单位", "被反映单位“县城投公司分部”在单位名册中找不到；最接近：县城投公司（82）。请核对名称，或在单位名册的简称中补充",
             json.dumps({"信访编号": "XF998", "被反映单位": "县城投公司分部"}, ensure_ascii=False)),
        ],
    )
    con.execute("CHECKPOINT")
    con.close()
    return publish(db) if publish_snapshot else db


# ---- pytest fixtures (import them into a test module to use them) ---------------------------------

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def fixture_db(tmp_path_factory) -> Path:
    """The fixture warehouse (DB path); its published snapshot sits beside it."""
    db = tmp_path_factory.mktemp("board") / "fixture.duckdb"
    build_fixture(db)
    return db


@pytest.fixture(scope="session")
def fixture_board(fixture_db):
    from pipelines.board import Board
    from pipelines.warehouse import published_path

    board = Board(published_path(fixture_db))
    yield board
    board.close()
