"""The grading and ranking rules on a small county written by hand as an office keeps its ledgers (xlsx and csv with
title rows, Chinese headers, 2024年3月5日 dates, amounts in 万元), run through the CLI a user runs: init, ingest,
build, scores, explain. Besides ordinary units it holds one unit of each hard case:

  河口镇人民政府   no record at all in 2024 (it has 2023 records)      → 绿, said to have no record
  县统计局         a single record in 2024, alone in its sector        → never 红/橙; sector figures "—"
  县医疗保障局     severe in one dimension only (audit money misused,   → a unit of concern: 红/橙, ranked first;
                   16 % of its budget, clues transferred), alone too      the arithmetic mean ranks it lower
  城关镇人民政府   many reports, every one proven untrue (诬告, cleared), → not raised: 绿, low rank; 澄清正名 shown
                   and letters of inquiry sent about them
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import duckdb
import pytest

from tests.ledger_files import write_csv, write_xlsx

pytestmark = pytest.mark.xdist_group("office_county")

ROSTER = ["序号", "单位名称", "单位类别", "所属领域", "派驻组", "编制人数", "年度预算（万元）", "主要负责人"]
UNITS = [  # name, kind, sector, headcount, budget (万元)
    ("县教育局", "部门", "教育", 60, 1500), ("县第一中学", "学校", "教育", 120, 2000),
    ("县第二中学", "学校", "教育", 100, 1800), ("县卫生健康局", "部门", "卫生健康", 50, 1200),
    ("县人民医院", "医院", "卫生健康", 400, 9000), ("县中医院", "医院", "卫生健康", 200, 5000),
    ("东关镇人民政府", "乡镇", "乡镇", 90, 1600), ("西山乡人民政府", "乡镇", "乡镇", 70, 1300),
    ("城关镇人民政府", "乡镇", "乡镇", 110, 2200), ("河口镇人民政府", "乡镇", "乡镇", 80, 1400),
    ("县统计局", "部门", "统计", 25, 500), ("县医疗保障局", "部门", "医疗保障", 40, 1000),
]
ORDINARY = [u[0] for u in UNITS[:8]]
NO_RECORD, SINGLE, SEVERE, ACCUSED = "河口镇人民政府", "县统计局", "县医疗保障局", "城关镇人民政府"

PETITIONS = ["信访编号", "受理日期", "来源渠道", "是否署名", "被反映单位", "是否班子成员", "问题类别", "四风类型",
             "反映内容", "处置方式", "办理结果", "是否澄清正名", "办结日期"]
CASES = ["案件编号", "所在单位", "姓名", "立案日期", "处理日期", "违纪类型", "四种形态", "党纪处分", "是否移送司法"]
AUDITS = ["审计项目", "被审计单位", "问题序号", "审计报告日期", "问题类型", "问题描述", "涉及金额（万元）", "整改情况",
          "是否移送问题线索"]
DECISIONS = ["报备单位", "事项名称", "事项类别", "决策日期", "报备日期", "是否集体决策"]
CHECKS = ["被检查单位", "检查期间", "检查日期", "检查得分", "发现问题数"]
INQUIRIES = ["函询编号", "所在单位", "谈话函询对象", "是否班子成员", "方式", "关联信访编号", "谈话函询日期", "回复日期",
             "是否抽查核实", "是否如实说明", "处理结果"]
FINDINGS = ["巡察轮次", "被巡察单位", "问题序号", "反馈日期", "问题类别", "问题描述", "整改时限", "整改状态", "整改完成时间"]


def zh_date(d: dt.date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _petitions(year: int) -> list[list]:
    rows, n = [], 0
    outcomes = ["属实", "不属实", "部分属实", "", "查无实据", "属实"]
    for u, name in enumerate(ORDINARY):
        for k in range(4 + u % 3):  # 4 to 6 a year, a third substantiated, some still open
            n += 1
            d = dt.date(year, 1 + (k * 2 + u) % 12, 3 + (u * 3 + k) % 25)
            out = outcomes[(u + k) % len(outcomes)]
            rows.append([f"XF{year}{n:03d}", zh_date(d), ["来信", "电话", "网络举报"][k % 3], "匿名" if k % 2 else "署名",
                         name, "是" if (u + k) % 5 == 0 else "否", ["工作纪律", "廉洁纪律", "群众纪律"][k % 3],
                         "形式主义" if (u + k) % 4 == 0 else "", "反映工作作风问题", "初步核实" if out else "谈话函询", out,
                         "", zh_date(d + dt.timedelta(days=40)) if out else ""])
    # 城关镇: a flood of reports, every one proven untrue; the accused cadres are cleared (澄清正名)
    for k in range(14):
        n += 1
        d = dt.date(year, 1 + k % 12, 5 + k)
        out = ["不属实", "查无实据", "诬告陷害"][k % 3]
        rows.append([f"XF{year}{n:03d}", zh_date(d), "网络举报", "匿名", ACCUSED, "是" if k % 2 else "否", "廉洁纪律", "",
                     "反映干部收受礼金", "初步核实", out, "是" if out == "诬告陷害" else "否",
                     zh_date(d + dt.timedelta(days=30))])
    if year == 2023:  # 河口镇 has records in 2023, none in 2024
        rows.append([f"XF{year}900", zh_date(dt.date(2023, 6, 2)), "来信", "署名", NO_RECORD, "否", "群众纪律", "",
                     "反映办事拖拉", "予以了结", "部分属实", "", zh_date(dt.date(2023, 7, 2))])
    else:  # 县统计局: a single record in 2024, one substantiated report about a leader
        rows.append([f"XF{year}901", zh_date(dt.date(2024, 5, 20)), "上级转办", "署名", SINGLE, "是", "廉洁纪律", "",
                     "反映违规报销", "初步核实", "属实", "", zh_date(dt.date(2024, 7, 1))])
    return rows


def _cases() -> list[list]:
    rows = []
    for u, name in enumerate(ORDINARY[:6]):
        for year in (2023, 2024):
            closed = dt.date(year, 3 + u, 10 + u)
            rows.append([f"AJ{year}{u:02d}", name, f"干部{u}{year}", "", zh_date(closed), "工作纪律", "1", "无", "否"])
    rows.append(["AJ2024X1", "县人民医院", "干部X1", zh_date(dt.date(2024, 2, 1)), zh_date(dt.date(2024, 6, 1)),
                 "廉洁纪律", "2", "警告", "否"])
    return rows


def _audits() -> list[list]:
    rows = []
    for u, name in enumerate(ORDINARY + [ACCUSED]):
        rows.append(["2023年度预算执行审计", name, "1", zh_date(dt.date(2024, 4, 15)), "管理不规范", "票据不全",
                     round(2 + u * 0.5, 1), "已整改", "否"])
    # 县医疗保障局: 160 万元 of its 1,000 万元 budget misused, clues transferred, nothing rectified
    for k, (amount, when) in enumerate([(50, dt.date(2024, 4, 15)), (40, dt.date(2024, 4, 15)),
                                        (45, dt.date(2024, 9, 10)), (25, dt.date(2024, 9, 10))], start=1):
        rows.append(["2023年度医保基金专项审计" if when.month == 4 else "2024年医保基金专项审计", SEVERE, str(k),
                     zh_date(when), "违规使用资金", "挪用医保基金", amount, "未整改", "是" if k <= 3 else "否"])
    return rows


def _decisions() -> list[list]:
    rows = []
    for u, name in enumerate(ORDINARY + [ACCUSED, SEVERE]):
        for year in (2023, 2024):
            for k in range(3):
                d = dt.date(year, 2 + 3 * k, 8 + u)
                rows.append([name, f"{year}年事项{k + 1}", ["重大决策", "重大项目安排", "大额资金使用"][k], zh_date(d),
                             zh_date(d + dt.timedelta(days=5 + (u + k) % 6)), "是"])
    rows.append([SINGLE, "2023年统计调查项目", "重大项目安排", zh_date(dt.date(2023, 4, 2)),
                 zh_date(dt.date(2023, 4, 9)), "是"])
    return rows


def _checks() -> list[list]:
    rows = []
    for u, name in enumerate(ORDINARY + [ACCUSED, SEVERE]):
        for year in (2023, 2024):
            for half in (1, 2):
                d = dt.date(year, 7 if half == 1 else 12, 10 + u)
                rows.append([name, f"{year}H{half}", zh_date(d), 84 + (u + half) % 8, 2 + (u + year) % 3])
    rows.append([NO_RECORD, "2023H1", zh_date(dt.date(2023, 7, 20)), 88, 2])
    return rows


def _inquiries() -> list[list]:
    rows = []
    for u, name in enumerate(ORDINARY):
        for k in range(3):
            d = dt.date(2024, 2 + 3 * k, 6 + u)
            rows.append([f"HX2024{u:02d}{k}", name, f"对象{u}{k}", "否", "谈话" if k == 0 else "函询", "", zh_date(d),
                         "" if k == 0 else zh_date(d + dt.timedelta(days=15)), "是" if k == 1 else "否", "是", "批评教育"])
    # 城关镇: letters sent about the reports that proved untrue, none spot-checked: they say nothing about the unit
    untrue = [r[0] for r in _petitions(2024) if r[4] == ACCUSED][:5]
    for k, no in enumerate(untrue):
        d = dt.date(2024, 2 + 2 * k, 12)
        rows.append([f"HX2024CG{k}", ACCUSED, f"被诬告干部{k}", "是", "函询", no, zh_date(d),
                     zh_date(d + dt.timedelta(days=10)), "否", "是", "了结澄清"])
    return rows


def _findings() -> list[list]:
    rows = []
    for u, name in enumerate(ORDINARY[:5]):
        for k in range(3):
            rows.append(["2023年第一轮", name, str(k + 1), zh_date(dt.date(2023, 5, 10)), "全面从严治党", "制度执行不到位",
                         zh_date(dt.date(2023, 11, 30)), "已完成", zh_date(dt.date(2023, 10, 20))])
    return rows


def write_county(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_xlsx(folder / "单位名册.xlsx", ROSTER,
               [[i + 1, n, k, s, "第一派驻组", h, b, f"负责人{i}"] for i, (n, k, s, h, b) in enumerate(UNITS)],
               title="2024年驻在单位名册")
    write_csv(folder / "信访举报台账2023.csv", PETITIONS, _petitions(2023), encoding="utf-8-sig",
              title="2023年度信访举报受理登记台账")
    write_xlsx(folder / "信访举报台账2024.xlsx", PETITIONS, _petitions(2024), title="2024年度信访举报受理登记台账")
    write_xlsx(folder / "案件及四种形态台账.xlsx", CASES, _cases(), title="监督执纪“四种形态”处置台账")
    write_xlsx(folder / "审计发现问题整改台账.xlsx", AUDITS, _audits(), title="审计发现问题整改台账")
    write_csv(folder / "三重一大事项报备台账.csv", DECISIONS, _decisions(), encoding="gb18030")
    write_xlsx(folder / "主体责任检查情况.xlsx", CHECKS, _checks(), title="全面从严治党主体责任检查汇总表")
    write_xlsx(folder / "巡察整改台账.xlsx", FINDINGS, _findings(), title="巡察反馈问题整改落实台账")
    write_xlsx(folder / "谈话函询台账.xlsx", INQUIRIES, _inquiries(), title="谈话函询工作台账")
    return folder


FAST = "uncertainty: {draws: 60}\n"


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    from pipelines.cli import main

    root = tmp_path_factory.mktemp("office")
    key, db = root / "keys" / "pseudonym.key", root / "office.duckdb"
    ledgers = write_county(root / "台账")
    settings = root / "fast.yaml"
    settings.write_text(FAST, encoding="utf-8")
    assert main(["init", "--db", str(db), "--key", str(key)]) == 0
    assert main(["ingest", "--quiet", "--db", str(db), "--key", str(key), str(ledgers)]) == 0
    assert main(["build", "--db", str(db), "--settings", str(settings)]) == 0  # published for the board too
    return db


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # rich tables and panels print whole, as on an analyst's wide terminal


def cli(capsys, *args) -> str:
    from pipelines.cli import main

    capsys.readouterr()
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def scores(capsys, db, period) -> dict[str, dict]:
    rows = json.loads(cli(capsys, "scores", "--db", db, "--period", period, "--format", "json"))
    return {r["unit_name"]: r for r in rows}


def sql(db, query, *params):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(query, list(params)).fetchall()
    finally:
        con.close()


def test_every_unit_was_loaded(county):
    db = county
    assert sql(db, "SELECT count(*) FROM units")[0][0] == len(UNITS)
    assert sql(db, "SELECT count(*) FROM rejected_rows")[0][0] == 0


def test_a_unit_without_records_is_green_and_says_so(county, capsys):
    db = county
    for period in ("2024", "2024Q3", "R12-2024-12"):
        row = scores(capsys, db, period)[NO_RECORD]
        assert row["grade"] == "绿" and row["records"] == 0 and row["grade_basis"] == "no_record", period
    assert "本期无台账记录" in cli(capsys, "explain", "--db", db, "--unit", "河口镇", "--period", "2024")
    # every record-less unit-period of the build, at every level, is 绿
    assert sql(db, "SELECT count(*) FROM unit_scores WHERE records = 0 AND grade <> '绿'")[0][0] == 0
    assert sql(db, "SELECT count(*) FROM unit_scores WHERE records = 0 AND grade IS NOT NULL")[0][0] > 0


def test_a_single_record_is_never_red_or_orange(county, capsys):
    db = county
    for period in ("2024", "2024Q2", "2024H1", "R12-2024-12"):
        row = scores(capsys, db, period)[SINGLE]
        assert row["records"] == 1 and row["grade"] in ("黄", "绿"), (period, row["grade"])
    # a warning on one record stays 黄 whatever the value
    assert sql(db, "SELECT count(*) FROM warnings WHERE unit_name = ? AND grade IN ('红', '橙')", SINGLE)[0][0] == 0


def test_one_severe_dimension_makes_a_unit_of_concern(county, capsys):
    from pipelines.access.store import Scope
    from pipelines.board import Board, method
    from pipelines.warehouse import published_path

    db = county
    year = scores(capsys, db, "2024")
    assert year[SEVERE]["rank"] == 1 and year[SEVERE]["grade"] in ("红", "橙")
    rect = sql(db, """SELECT grade, score FROM unit_scores WHERE unit_name = ? AND grain = 'year' AND period = '2024'
                      AND level = 'rectification'""", SEVERE)[0]
    assert rect[0] == "红"
    # the red warning rests on the four audit findings behind it
    red = sql(db, """SELECT records FROM warnings WHERE unit_name = ? AND grain = 'year' AND period = '2024'
                     AND indicator_id = 'audit_amount_ratio'""", SEVERE)
    assert red and red[0][0] == 4
    # the arithmetic mean (the 方法与权重 page's comparison) averages the one severe dimension away
    board = Board(published_path(db))
    try:
        both = method.aggregation_comparison(board, Scope(None), "year", "2024").set_index("unit_name")
    finally:
        board.close()
    assert both.loc[SEVERE, "score"] == pytest.approx(year[SEVERE]["score"], abs=0.05)
    assert both.loc[SEVERE, "arith_score"] < both.loc[SEVERE, "score"] / 2
    assert both.loc[SEVERE, "top_dimension"] == "rectification"
    text = cli(capsys, "explain", "--db", db, "--unit", SEVERE, "--period", "2024")
    assert "审计问题金额占预算比" in text


def test_false_accusations_do_not_raise_a_unit(county, capsys):
    db = county
    year = scores(capsys, db, "2024")
    accused = year[ACCUSED]
    assert accused["grade"] == "绿" and accused["rank"] > len(UNITS) // 2
    density = sql(db, """SELECT value, sample FROM indicator_values WHERE unit_name = ? AND grain = 'year'
                         AND period = '2024' AND indicator_id = 'petition_density'""", ACCUSED)[0]
    assert density == (0.0, 14)  # fourteen reports, none credible
    # nor do the letters of inquiry sent about them: five letters, none spot-checked, all left out
    checked = sql(db, """SELECT value, sample FROM indicator_values WHERE unit_name = ? AND grain = 'year'
                         AND period = '2024' AND indicator_id = 'spot_check_rate'""", ACCUSED)[0]
    assert checked == (None, 0)
    assert sql(db, """SELECT count(*) FROM warnings WHERE unit_name = ? AND indicator_id IN
                      ('spot_check_rate', 'direct_talk_share', 'leader_inquiry_rate')""", ACCUSED)[0][0] == 0
    text = cli(capsys, "explain", "--db", db, "--unit", "城关镇", "--period", "2024")
    assert "澄清正名" in text and "有利因素" in text
    protective = json.loads(sql(db, """SELECT protective FROM portraits WHERE unit_name = ? AND grain = 'year'
                                       AND period = '2024'""", ACCUSED)[0][0])
    assert {p["fact"] for p in protective} >= {"澄清正名"} and protective[0]["count"] >= 4


def test_a_unit_alone_in_its_sector_has_no_sector_figures(county, capsys):
    db = county
    for unit in (SINGLE, SEVERE):
        row = scores(capsys, db, "2024")[unit]
        assert row["sector_rank"] is None
        assert sql(db, """SELECT count(*) FROM indicator_values WHERE unit_name = ? AND sector_percentile IS NOT NULL""",
                   unit)[0][0] == 0
        peers = json.loads(sql(db, """SELECT peers FROM portraits WHERE unit_name = ? AND grain = 'year'
                                      AND period = '2024'""", unit)[0][0])
        assert all(v["sector"] is None for v in peers.values())
        assert "同领域没有其他单位可比" in cli(capsys, "explain", "--db", db, "--unit", unit, "--period", "2024")
    # in the table the sector averages read —
    assert "—" in cli(capsys, "explain", "--db", db, "--unit", SEVERE, "--period", "2024")


def test_months_are_scored_not_graded_and_early_windows_are_provisional(county, capsys):
    db = county
    month = scores(capsys, db, "2024-05")
    assert all(r["score"] is not None and r["grade"] is None and r["grade_basis"] == "ungraded" for r in month.values())
    assert "不评级" in cli(capsys, "scores", "--db", db, "--period", "2024-05")
    # the ledgers start in January 2023 and windows of 12 months need a year of them
    early = scores(capsys, db, "2023Q2")
    assert all(r["provisional"] for r in early.values()) and all(r["change_prev"] is None for r in early.values())
    assert "待定" in cli(capsys, "scores", "--db", db, "--period", "2023Q2")
    assert not any(r["provisional"] for r in scores(capsys, db, "2024Q2").values())
    assert all(r["change_yoy"] is None for r in scores(capsys, db, "2024Q2").values())  # 2023Q2 was provisional


def test_narratives_read_right(county, capsys):
    db = county
    summaries = [s for (s,) in sql(db, "SELECT summary FROM portraits")]
    assert not [s for s in summaries if re.search(r"\d\.00(件|个|条|次)", s)]  # counts are whole numbers
    assert not [s for s in summaries if re.search(r"多渠道被反映（1个渠道）", s)]
    drivers = [d for (js,) in sql(db, "SELECT drivers FROM portraits") for d in json.loads(js)]
    assert drivers and all(d["status"] == "ok" for d in drivers)  # an imputed value is never a driver
    # the main sources of risk are the first three drivers, a protective one described by what is low
    named = 0
    for summary, js in sql(db, "SELECT summary, drivers FROM portraits"):
        for d in json.loads(js)[:3]:
            label = d["name_zh"] + ("偏低" if d["low_is_risk"] else "") + "（" + d["shown"] + "）"
            assert label in summary, (label, summary)
            named += 1
    assert named
    # a rank interval is given for the latest period, and a sentence says why it is missing elsewhere
    latest = sql(db, "SELECT summary FROM portraits WHERE grain = 'year' AND period = '2024' LIMIT 1")[0][0]
    assert "方法不确定性区间" in latest
    periods = json.loads(sql(db, "SELECT settings::VARCHAR FROM build_runs")[0][0])["uncertainty"]["periods"]
    older = [s for (s,) in sql(db, """SELECT p.summary FROM portraits AS p JOIN unit_scores AS s USING (grain, period,
                                      unit_name) WHERE s.level = 'index' AND s.score IS NOT NULL AND s.rank_p05 IS NULL""")]
    assert older and all(f"名次区间只对各粒度最近{periods}期估计" in s or "无法估计名次区间" in s for s in older)
    alpha = sql(db, "SELECT max(value) FROM coherence WHERE statistic = 'cronbach_alpha'")[0][0]
    assert alpha is None or alpha <= 1.0


def test_imputation_is_visible_and_adds_no_risk(county):
    db = county
    rows = sql(db, """SELECT iv.normalised FROM indicator_values AS iv
                      WHERE iv.status = 'imputed' AND iv.grain = 'year' AND iv.period = '2024'""")
    assert rows and all(n == 0 for (n,) in rows)
    shares = sql(db, """SELECT unit_name, imputed_share FROM unit_scores WHERE grain = 'year' AND period = '2024'
                        AND level = 'index'""")
    assert all(s is None or 0 <= s <= 1 for _, s in shares) and any(s and s > 0 for _, s in shares)


def test_grades_and_their_rule_read_the_same_everywhere(county, capsys, tmp_path):
    """One rule, stated in the same sentences by the CLI ranking, the 方法与权重 page, the report and the Excel
    export; one grade per unit-period, shown in the same words (无数据, 不评级, 待定) by the CLI and the board."""
    from openpyxl import load_workbook

    from pipelines.access.store import Scope, User
    from pipelines.analysis import grading
    from pipelines.analysis.terminal import grain_of
    from pipelines.board import Board, alerts, method, overview
    from pipelines.warehouse import published_path

    db = county
    settings = json.loads(sql(db, "SELECT settings::VARCHAR FROM build_runs ORDER BY built_at DESC LIMIT 1")[0][0])
    rule = grading.rule_zh(settings)
    assert any("至少1、2、3条不同的台账记录" in line for line in rule)  # warnings.min_records of the settings
    ranking = cli(capsys, "scores", "--db", db, "--period", "2024")
    assert all(line in ranking for line in rule)
    report = tmp_path / "report.md"
    cli(capsys, "report", "--db", db, "--period", "2024", "--format", "md", "--out", report, "--no-figures")
    text = report.read_text(encoding="utf-8")
    assert all(line in text for line in rule[1:]) and rule[0].rstrip("。") in text
    board = Board(published_path(db))
    try:
        assert method.rule_lines(board) == rule
        analyst = User("ana", "analyst", None)  # county-wide
        frame = alerts.period_warnings(board, analyst, "year", "2024")
        _, data = alerts.export_xlsx(board, analyst, frame, grain="year", period="2024", filters={},
                                     audit=lambda *a: None)
        notes = list(load_workbook(io.BytesIO(data))["说明"].iter_rows(values_only=True))
        assert [v for k, v in notes if k == "等级规则"] == rule
        for period in ("2024", "2024-05", "2023Q2"):
            board_rows = overview.period_scores(board, Scope(None), grain_of(period), period)
            shown = board_rows[board_rows.level == "index"].set_index("unit_name").grade_shown
            printed = cli(capsys, "scores", "--db", db, "--period", period).splitlines()
            for unit, r in scores(capsys, db, period).items():
                assert shown[unit] == grading.shown(r["grade"], r["grade_basis"], r["provisional"]), (period, unit)
                line = next(x for x in printed if f"  {unit}  " in x)
                assert f"  {shown[unit]}  " in line, (period, unit, line)
    finally:
        board.close()
