"""`zhengtai build` on a small hand-made warehouse: contributions, evidence, determinism, properties, CLI."""

from __future__ import annotations

import datetime as dt
import json
import random

import duckdb
import numpy as np
import pytest

from pipelines.analysis.build import build
from pipelines.cli import main
from pipelines.errors import UserError
from tests.analysis_fixtures import case, insert, petition, unit, warehouse

FAST = """
grains: [quarter, year]
uncertainty: {draws: 40, grains: [year]}
warnings: {grains: [quarter, year]}
"""
SECTORS = ["教育", "卫生", "农业"]


def make_warehouse(path, *, reverse=False, extra_audit=None, seed=3):
    rng = random.Random(seed)
    units = [unit(f"单位{i:02d}", 40 + 15 * i, SECTORS[i % 3], top_leader_pid=f"L{i}") for i in range(12)]
    pets, cases, audits = [], [], []
    for i in range(260):
        u = units[rng.randrange(12)]["unit_name"]
        d = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(730))
        pets.append(petition(u, d.isoformat(), petition_no=f"P{i:04d}",
                             outcome=rng.choice([None, "属实", "部分属实", "不属实", "查无实据"]),
                             is_leader=rng.random() < 0.3, reported_pid=rng.choice(["L1", "L2", "x"]),
                             channel=rng.choice(["来信", "电话", "网络举报", "上级转办"]), is_repeat=rng.random() < 0.2,
                             signed=rng.random() < 0.5, fourwinds=rng.choice([None, None, None, "形式主义"]),
                             hidden_variant=rng.choice([None] * 10 + ["电子红包"])))
    for i in range(70):
        u = units[rng.randrange(12)]["unit_name"]
        d = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(700))
        form = rng.choice("11123")
        cases.append(case(u, d.isoformat(), form, case_no=f"C{i:04d}", is_leader=rng.random() < 0.25,
                          filed=(d - dt.timedelta(days=20)).isoformat() if form != "1" else None))
    for i in range(30):
        u = units[rng.randrange(12)]["unit_name"]
        audits.append({"audit_project": "审计", "unit_name": u, "finding_no": str(i),
                       "report_date": dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(700)),
                       "finding_type": rng.choice(["违规使用资金", "管理不规范"]), "amount_yuan": rng.random() * 1e5,
                       "rectification": rng.choice(["已整改", "未整改"]), "clue_transferred": rng.random() < 0.2})
    if extra_audit:
        audits.append(extra_audit)
    if reverse:
        units, pets, cases, audits = units[::-1], pets[::-1], cases[::-1], audits[::-1]
    con = warehouse(path)
    insert(con, "units", units)
    insert(con, "petitions", pets)
    insert(con, "cases", cases)
    insert(con, "audit_findings", audits)
    con.close()
    return path


@pytest.fixture(scope="module")
def settings_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("settings") / "fast.yaml"
    p.write_text(FAST, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def built(tmp_path_factory, settings_file):
    db = make_warehouse(tmp_path_factory.mktemp("wh") / "w.duckdb")
    summary = build(db, settings_path=settings_file)
    return db, summary


def q(db, sql, params=()):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def scores(db):
    return {(g, p, u, lv): s for g, p, u, lv, s in
            q(db, "SELECT grain, period, unit_name, level, score FROM unit_scores")}


def test_build_fills_every_result_table(built):
    db, s = built
    assert s.units == 12 and s.periods == {"quarter": 8, "year": 2}
    for table in ("indicator_catalogue", "indicator_values", "unit_scores", "contributions", "warnings",
                  "warning_evidence", "sensitivity", "coherence", "portraits"):
        assert q(db, f"SELECT count(*) FROM {table}")[0][0] > 0, table
    (n_builds, status), = q(db, "SELECT count(*), any_value(status) FROM build_runs")
    assert n_builds == 1 and status == "complete"
    stamp = json.loads(q(db, "SELECT settings FROM build_runs")[0][0])
    assert stamp["catalogue_version"] and stamp["index"]["normalise"] == "severity"
    # the engine aggregated the severities as they are: what a reader needs to recompute the scores
    assert stamp["engine"]["normalise"] == "none" and stamp["engine_input"] == "normalised"
    assert len(stamp["grade_bands"]["index"]) == 3
    assert q(db, "SELECT count(DISTINCT build_id) FROM unit_scores")[0][0] == 1


def test_contributions_add_up_to_the_index(built):
    db, _ = built
    rows = q(db, """SELECT s.score, sum(c.contribution) FROM unit_scores AS s
                    JOIN contributions AS c USING (grain, period, unit_name)
                    WHERE s.level = 'index' GROUP BY s.grain, s.period, s.unit_name, s.score""")
    assert len(rows) == 12 * 10
    got = np.array(rows)
    np.testing.assert_allclose(got[:, 0], got[:, 1], atol=1e-9)


def test_scores_bounded_ranked_and_graded(built):
    db, _ = built
    rows = q(db, "SELECT score, rank, grade FROM unit_scores WHERE level = 'index'")
    assert all(0 <= s <= 100 for s, _, _ in rows)
    assert {g for _, _, g in rows} <= {"红", "橙", "黄", "绿"}
    per_period = q(db, """SELECT grain, period, list(rank ORDER BY rank) FROM unit_scores
                          WHERE level = 'index' GROUP BY ALL""")
    for _, _, ranks in per_period:
        assert ranks[0] == 1 and len(ranks) == 12
    lo, hi, rank = q(db, """SELECT rank_p05, rank_p95, rank FROM unit_scores
                            WHERE level = 'index' AND grain = 'year' AND period = '2024' ORDER BY rank LIMIT 1""")[0]
    assert 1 <= lo <= hi <= 12


def test_grades_follow_the_evidence_rule(built):
    """The hard checks of the grading rule on every unit-period of the build."""
    db, _ = built
    # a unit-period with no ledger record is 绿, at every level
    assert q(db, "SELECT count(*) FROM unit_scores WHERE records = 0 AND grade <> '绿'")[0][0] == 0
    # no zero score is coloured, at any level (dimension colours come from the same rule, not from quantiles)
    assert q(db, "SELECT count(*) FROM unit_scores WHERE score = 0 AND grade <> '绿'")[0][0] == 0
    # 红/橙 need a 红/橙 warning on enough records behind them
    assert q(db, """SELECT count(*) FROM unit_scores
                    WHERE (grade = '红' AND warning_level < 3) OR (grade = '橙' AND warning_level < 2)
                       OR (grade = '黄' AND warning_level < 1)""")[0][0] == 0
    assert q(db, "SELECT count(*) FROM warnings WHERE grade = '红' AND records < 3")[0][0] == 0
    assert q(db, "SELECT count(*) FROM warnings WHERE grade = '橙' AND records < 2")[0][0] == 0
    # the grade is explained: every graded row has its basis
    assert q(db, "SELECT count(*) FROM unit_scores WHERE grade IS NOT NULL AND grade_basis IS NULL")[0][0] == 0


def test_warnings_carry_evidence_rows_that_exist(built):
    db, _ = built
    keys = {"petitions": "petition_no", "cases": "case_no",
            "audit_findings": "concat_ws('|', audit_project, unit_name, finding_no)"}
    ev = q(db, """SELECT w.indicator_id, w.unit_name, e.source_table, e.record_key
                  FROM warning_evidence AS e JOIN warnings AS w USING (warning_id)""")
    assert ev
    for table, key in keys.items():
        found = dict(q(db, f"SELECT {key}, unit_name FROM {table}"))
        for ind, unit_name, src, rk in ev:
            if src == table:
                assert found.get(rk) == unit_name, (ind, rk)
    msgs = q(db, "SELECT message, rule, threshold, value FROM warnings LIMIT 20")
    assert all(m.endswith("。") and "阈值" in m for m, *_ in msgs)
    # a warning with no records behind it would be unexplainable
    orphan = q(db, """SELECT count(*) FROM warnings AS w JOIN indicator_catalogue USING (indicator_id)
                      WHERE NOT EXISTS (SELECT 1 FROM warning_evidence AS e WHERE e.warning_id = w.warning_id)
                        AND w.indicator_id NOT IN ('petition_density', 'petition_change')""")[0][0]
    assert orphan == 0


def test_portraits_say_something_about_every_unit(built):
    db, _ = built
    rows = q(db, "SELECT unit_name, summary, drivers, peers FROM portraits WHERE grain = 'year' AND period = '2024'")
    assert len(rows) == 12
    for u, summary, drivers, peers in rows:
        assert summary.startswith(u) and "政治生态风险指数" in summary
        assert "index" in json.loads(peers)


def test_deterministic(built, tmp_path, settings_file):
    db, _ = built
    again = make_warehouse(tmp_path / "again.duckdb")
    build(again, settings_path=settings_file, publish=False)
    assert scores(again) == scores(db)
    assert q(again, "SELECT warning_id, grade FROM warnings ORDER BY 1") == q(db, "SELECT warning_id, grade FROM warnings ORDER BY 1")
    assert q(again, "SELECT rank_p05, rank_p95 FROM unit_scores WHERE rank_p05 IS NOT NULL ORDER BY unit_name, period") == \
        q(db, "SELECT rank_p05, rank_p95 FROM unit_scores WHERE rank_p05 IS NOT NULL ORDER BY unit_name, period")


def test_invariant_to_unit_and_row_order(built, tmp_path, settings_file):
    db, _ = built
    rev = make_warehouse(tmp_path / "rev.duckdb", reverse=True)
    build(rev, settings_path=settings_file, publish=False)
    a, b = scores(db), scores(rev)
    assert a.keys() == b.keys()
    for k in a:
        assert a[k] == pytest.approx(b[k], abs=1e-9)


def test_monotone_in_a_riskier_indicator(built, tmp_path, settings_file):
    """One more audit clue transferred (recent, so no other indicator moves) cannot lower the unit's risk."""
    db, _ = built
    extra = {"audit_project": "专项审计", "unit_name": "单位05", "finding_no": "99", "report_date": dt.date(2024, 12, 1),
             "finding_type": "管理不规范", "amount_yuan": None, "rectification": "已整改", "clue_transferred": True}
    more = make_warehouse(tmp_path / "more.duckdb", extra_audit=extra)
    build(more, settings_path=settings_file, publish=False)
    key = ("year", "2024", "单位05", "index")
    assert scores(more)[key] >= scores(db)[key]
    before = q(db, "SELECT rank FROM unit_scores WHERE grain='year' AND period='2024' AND unit_name='单位05' AND level='index'")
    after = q(more, "SELECT rank FROM unit_scores WHERE grain='year' AND period='2024' AND unit_name='单位05' AND level='index'")
    assert after[0][0] <= before[0][0]


def test_failed_build_leaves_the_previous_results(built, tmp_path, settings_file):
    db, s = built
    bad = tmp_path / "bad.yaml"
    bad.write_text((FAST + "index: {normalise: nonsense}\n"), encoding="utf-8")
    with pytest.raises(UserError, match="index.normalise"):
        build(db, settings_path=bad)
    assert q(db, "SELECT DISTINCT build_id FROM unit_scores") == [(s.build_id,)]


def test_build_failing_midway_leaves_the_previous_results_and_no_staged_tables(built, monkeypatch, settings_file):
    """Results are written into staged tables by background writers: an error there must fail the build, keep
    the previous build's results in place and leave no staged copies behind."""
    from pipelines.analysis import results

    db, s = built

    def disk_full(*args):
        raise OSError("disk full")

    monkeypatch.setattr(results, "contributions", disk_full)
    with pytest.raises(OSError, match="disk full"):
        build(db, settings_path=settings_file, publish=False)
    assert q(db, "SELECT DISTINCT build_id FROM unit_scores") == [(s.build_id,)]
    assert q(db, "SELECT count(*) FROM contributions")[0][0] > 0
    assert q(db, "SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '%\\_\\_build' ESCAPE '\\'") == []


def test_published_snapshot_holds_the_build(built):
    db, s = built
    assert s.published and s.published.exists()
    assert q(s.published, "SELECT build_id FROM build_runs") == [(s.build_id,)]


def test_cli_scores_explain_and_errors(built, capsys):
    db, _ = built
    assert main(["scores", "--db", str(db), "--period", "2024", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out) == 12 and out[0]["rank"] == 1 and out[0]["grade"] in ("红", "橙", "黄", "绿")
    assert out[0]["grade_basis"] and out[0]["records"] >= 1
    assert {"rank_p05", "rank_p95", "top_drivers"} <= out[0].keys()
    assert main(["scores", "--db", str(db), "--period", "2024Q4", "--format", "csv", "--top", "3"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 4
    assert main(["explain", "--db", str(db), "--unit", "单位05", "--period", "2024"]) == 0
    assert "单位05" in capsys.readouterr().out
    assert main(["explain", "--db", str(db), "--unit", "单位5号", "--period", "2024"]) == 2
    assert "单位05" in capsys.readouterr().err  # the close matches are listed
    assert main(["scores", "--db", str(db), "--period", "2025Q1"]) == 2
    assert "2024Q1" in capsys.readouterr().err


def test_scores_stay_readable_at_80_columns_on_a_terminal_and_when_piped(built, capsys):
    """Nothing a reader needs is cut: at 80 columns every score, grade and driver is whole (drivers under the
    unit's name); piped, plain aligned columns carry every field."""
    from rich.cells import cell_len
    from rich.console import Console

    from pipelines.analysis import terminal
    from tests import user_text

    db, _ = built
    df = terminal.ranking(db, "2024Q4")
    console = Console(width=80, force_terminal=True, color_system=None, record=True)
    console.begin_capture()
    terminal.print_ranking(df, "2024Q4", console=console)
    text = console.end_capture()
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    assert "…" not in text and "2024年第4季度" in text
    flat = text.replace("│", "").replace(" ", "").replace("\n", "")
    for r in df.itertuples():
        assert f"{r.score:.1f}" in text and (r.grade or "—") in text
        assert r.top_drivers.replace("、", "") in flat.replace("、", "")  # wrapped, not dropped

    assert main(["scores", "--db", str(db), "--period", "2024Q4"]) == 0  # captured: not a terminal
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "政治生态风险排名 · 2024年第4季度（12个单位）"
    header = lines[1].split()
    assert header == ["名次", "单位", "领域", "指数", "等级", "名次区间", "领域内名次", "环比", "同比", "风险上升",
                      "预警数", "台账记录", "插补", "主要风险来源"]
    start = cell_len(lines[1][:lines[1].index("指数")])  # columns line up under their headers
    for line, r in zip(lines[2:], df.itertuples()):
        assert line.split()[0] == str(r.rank) and line.endswith(r.top_drivers or "—")
        i = line.index(f"{r.score:.1f}")
        assert cell_len(line[:i]) == start
    assert "…" not in out and user_text.problems(out) == []
    assert main(["scores", "--db", str(db), "--period", "2024Q4", "--format", "csv"]) == 0
    csv = capsys.readouterr().out
    assert csv.startswith("\ufeff期间,名次,单位,领域,指数,等级") and "2024年第4季度" in csv and "2024Q4" not in csv


def test_build_counts_warnings_for_the_periods_a_user_looks_at(built, capsys):
    db, s = built
    rows = dict(((g, p), n) for g, p, n in q(db, """
        SELECT grain, period, count(*) FROM warnings
        WHERE (grain, period) IN (SELECT (grain, max(period)) FROM unit_scores GROUP BY grain) GROUP BY ALL"""))
    from pipelines.analysis.commands import _latest_warnings

    latest = _latest_warnings(db)
    assert {(g, p): n for g, p, n in latest} == rows and ("quarter", "2024Q4") in rows
    assert sum(rows.values()) < s.warnings  # not the sum over every grain and period


def test_cli_evaluate(built, tmp_path, capsys):
    db, _ = built
    top = q(db, "SELECT unit_name FROM unit_scores WHERE grain='year' AND period='2024' AND level='index' ORDER BY rank")
    truth = {"stories": [{"id": "S1", "type": "deteriorating", "unit_name": top[0][0]},
                         {"id": "S2", "type": "hidden_fourwinds", "unit_name": top[5][0]},
                         {"id": "S6", "type": "decoy", "unit_name": top[-1][0]}],
             "risky_units": [top[0][0], top[5][0]], "decoy_units": [top[-1][0]]}
    path = tmp_path / "truth.json"
    path.write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    assert main(["evaluate", "--db", str(db), "--truth", str(path), "--period", "2024", "--format", "json"]) == 0
    res = json.loads(capsys.readouterr().out)["periods"][0]
    assert res["precision_at_k"] == 0.5 and res["decoy_ranks"] == [12]
    assert [s["rank"] for s in res["stories"]] == [1, 6, 12]
    assert main(["evaluate", "--db", str(db), "--truth", str(path), "--period", "2024"]) == 0
    text = "".join(capsys.readouterr().out.split())
    assert "合成县检验·年度2024年" in text and "政治生态持续恶化" in text and "干扰项" in text
    assert "deteriorating" not in text and "precision" not in text
