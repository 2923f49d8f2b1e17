"""The dashboard's data layer on the fixture warehouse: scoping, roles, audit, export, what-if, swaps."""

from __future__ import annotations

import io
import re
import os
import shutil

import duckdb
import openpyxl
import pandas as pd
import pytest

from pipelines.access.store import AccessDenied, Scope, User
from pipelines.board import Board, alerts, method, overview, portrait, quality, queries
from pipelines.board.export import neutralise
from pipelines.warehouse import published_path
from tests import user_text
from tests.board_fixture import (  # noqa: F401 (fixtures)
    BUILD,
    FORMULA_MESSAGE,
    TEAM_A,
    TEAM_A_UNITS,
    TEAM_B,
    TEAM_B_UNITS,
    build_fixture,
    fixture_board,
    fixture_db,
)

LEADER_A = User("lead_a", "leader", (TEAM_A,))
ANALYST_A = User("ana_a", "analyst", (TEAM_A,))
ADMIN = User("root", "admin", None)


class AuditLog(list):
    def __call__(self, action, target, detail):
        self.append((action, target, detail))


def _frames_text(obj) -> str:
    """Every value of every DataFrame reachable from obj, as one string."""
    if isinstance(obj, pd.DataFrame):
        return obj.astype(str).to_csv() + " ".join(map(str, obj.index))
    if hasattr(obj, "__dict__"):
        return " ".join(_frames_text(v) for v in vars(obj).values())
    if isinstance(obj, (list, tuple)):
        return " ".join(_frames_text(v) for v in obj)
    if isinstance(obj, dict):
        return " ".join(_frames_text(v) for v in obj.values())
    return str(obj)


def test_every_scoped_query_keeps_to_the_users_team(fixture_board):
    """No query that takes a scope returns a unit of another team."""
    scope = Scope((TEAM_A,))
    params = dict(grain="quarter", period="2024Q4", sectors=[], kinds=[], limit=1000, clue="C0",
                  warning_ids=list(fixture_board.q("period_warnings", Scope(None), grain="quarter",
                                                   period="2024Q4").warning_id))
    scoped = [n for n, (_, p) in queries.catalogue().items() if "teams" in p]
    assert len(scoped) >= 8
    for name in scoped:
        extra = {"unit": TEAM_B_UNITS[0]} if "unit" in queries.get(name)[1] else {}
        text = _frames_text(fixture_board.q(name, scope, **params, **extra))
        leaked = [u for u in TEAM_B_UNITS if u in text]
        assert not leaked, f"{name} leaked {leaked}"
    # and the same queries do return team A's units
    grid = fixture_board.q("period_scores", scope, grain="quarter", period="2024Q4")
    assert set(grid.unit_name) == set(TEAM_A_UNITS)


def test_every_query_about_one_unit_checks_the_scope_in_sql(fixture_board):
    """A query about one $unit is scoped in its SQL: asked by a team-A user about a team-B unit it
    returns no row at all, whatever the Python calling it checks first."""
    about_unit = [n for n, (_, p) in queries.catalogue().items() if "unit" in p]
    assert len(about_unit) >= 10
    unscoped = [n for n in about_unit if not {"teams", "all_teams"} <= queries.get(n)[1]]
    assert not unscoped, f"queries about a unit without the user's scope: {unscoped}"
    params = dict(grain="quarter", period="2024Q4")
    answered = set()
    for name in about_unit:
        wanted = queries.get(name)[1]
        args = {k: v for k, v in params.items() if k in wanted}
        if len(fixture_board.q(name, Scope(None), unit=TEAM_B_UNITS[0], **args)):
            answered.add(name)
        other = fixture_board.q(name, Scope((TEAM_A,)), unit=TEAM_B_UNITS[0], **args)
        assert other.empty, f"{name} answered about another team's unit"
    # the same queries do answer a user who may see the unit (the fixture has no learned signals)
    assert {"unit_facts", "unit_peers", "unit_indicators", "unit_trend", "unit_portrait", "unit_records",
            "unit_activity_monthly"} <= answered


def test_quality_summaries_keep_to_the_team(fixture_board):
    """Rejection reasons: a team sees the rows naming its units, and rows naming no unit only as a count;
    the ingest summary counts only the team's records; runs and raw rows are county-wide only, in SQL."""
    team_a = fixture_board.q("rejected_reasons", Scope((TEAM_A,)))
    assert sorted(zip(team_a.reason, team_a.rows)) == [
        ("无法识别为日期（如 2024-03-05、2024年3月5日）", 1), ("未能确定所属单位（明细仅全县范围可见）", 1)]
    team_b = fixture_board.q("rejected_reasons", Scope((TEAM_B,)))
    assert list(zip(team_b.reason, team_b.column_name, team_b.rows)) == [("未能确定所属单位（明细仅全县范围可见）", "—", 1)]
    county = fixture_board.q("rejected_reasons", Scope(None))
    assert county.rows.sum() == 2 and "未能确定所属单位（明细仅全县范围可见）" not in set(county.reason)

    summary = fixture_board.q("ingest_summary", Scope((TEAM_A,))).set_index("kind")
    con = duckdb.connect(str(fixture_board.path), read_only=True)
    try:
        expected = con.execute("SELECT count(*) FROM petitions JOIN units USING (unit_name) WHERE team = ?",
                               [TEAM_A]).fetchone()[0]
        assert summary.loc["units", "records"] == len(TEAM_A_UNITS)
        assert summary.loc["petitions", "records"] == expected > 0
    finally:
        con.close()
    for name in ("ingest_runs", "rejected_rows"):
        assert fixture_board.q(name, Scope((TEAM_A,)), limit=100).empty, name
        assert len(fixture_board.q(name, Scope(None), limit=100)) > 0, name


def test_scoped_query_without_scope_is_refused(fixture_board):
    with pytest.raises(ValueError, match="scoped"):
        fixture_board.q("period_scores", None, grain="quarter", period="2024Q4")


def test_overview_grid_filters_sorts_and_cuts(fixture_board):
    opts = overview.options(fixture_board, Scope(None))
    assert opts.grains == ["quarter", "year"] and opts.periods["quarter"][-1] == "2024Q4"
    frame = overview.period_scores(fixture_board, Scope(None), "quarter", "2024Q4")
    cells = overview.grid(frame, opts.dimensions, top_n=5)
    assert cells.unit_name.nunique() == 5 and cells.col.nunique() == 1 + len(opts.dimensions)
    idx = cells[cells.level == "index"].sort_values("row")
    assert idx.score.is_monotonic_decreasing
    edu = overview.grid(frame, opts.dimensions, sectors=["教育"], sort_by="petitions", top_n=None)
    assert set(edu.sector) == {"教育"}
    pet = edu[edu.level == "petitions"].sort_values("row")
    assert pet.score.is_monotonic_decreasing
    head = overview.headline(frame)
    assert head["units"] == 12 and sum(head["grades"].values()) == 12
    rise = overview.risers(frame, n=3)
    assert len(rise) <= 3 and (rise.change_prev > 0).all()
    assert rise.change_prev.is_monotonic_decreasing
    tr = overview.trend(fixture_board, Scope(None), "quarter", kinds=["学校"])
    assert (tr.units == 2).all() and len(tr) == 8


def test_portrait_of_another_teams_unit_is_denied(fixture_board):
    with pytest.raises(AccessDenied):
        portrait.portrait(fixture_board, LEADER_A, TEAM_B_UNITS[0], "quarter", "2024Q4")
    with pytest.raises(AccessDenied):
        portrait.portrait(fixture_board, LEADER_A, "不存在的单位", "quarter", "2024Q4")
    p = portrait.portrait(fixture_board, LEADER_A, "县教育局", "quarter", "2024Q4")
    assert p.facts["team"] == TEAM_A and p.index_row["rank"] >= 1
    assert len(p.indicators) == 10 and all(len(h) == 8 for h in p.indicators.history)
    assert p.contributions.contribution.sum() == pytest.approx(p.index_row["score"])
    assert set(p.peers.level) == {"petitions", "discipline", "rectification", "inquiries", "governance"}
    assert p.peers.sector_mean.isna().all()  # only 2 other education units: withheld
    assert p.peers.county_mean.notna().all()
    assert {"信访举报", "执纪处理"} <= set(p.activity.kind)
    assert "廉洁纪律" in set(p.themes.theme)


def test_record_level_data_needs_the_role_and_is_audited(fixture_board):
    log = AuditLog()
    with pytest.raises(AccessDenied):
        portrait.unit_records(fixture_board, LEADER_A, "县教育局", log)
    wids = list(fixture_board.q("period_warnings", Scope((TEAM_A,)), grain="quarter", period="2024Q4").warning_id)
    with pytest.raises(AccessDenied):
        portrait.evidence(fixture_board, LEADER_A, wids, log)
    assert log == []
    records = portrait.unit_records(fixture_board, ANALYST_A, "县教育局", log)
    assert len(records) == 7 and records.person.dropna().str.startswith("P").all()
    with pytest.raises(AccessDenied):  # an analyst of team A cannot read team B's records either
        portrait.unit_records(fixture_board, ANALYST_A, TEAM_B_UNITS[0], log)
    ev = portrait.evidence(fixture_board, ANALYST_A, wids, log)
    assert len(ev) == 2 * len(wids) and set(ev.unit_name) <= set(TEAM_A_UNITS)
    assert [a for a, *_ in log] == ["view_records", "view_records"]
    assert log[0][1] == "县教育局" and log[1][2]["rows"] == len(ev)


def test_evidence_of_another_teams_warning_is_empty(fixture_board):
    b_ids = list(fixture_board.q("period_warnings", Scope(None), grain="quarter", period="2024Q4")
                 .query("unit_name in @TEAM_B_UNITS").warning_id)
    assert b_ids
    assert portrait.evidence(fixture_board, ANALYST_A, b_ids, AuditLog()).empty


def test_neutralise():
    assert neutralise("=1+1") == "'=1+1"
    for s in ("+86", "-x", "@SUM(A1)", "\t=1", "\r=1"):
        assert neutralise(s) == "'" + s
    assert neutralise("县教育局") == "县教育局" and neutralise(-3.5) == -3.5 and neutralise(None) is None


def test_export_is_formula_safe_scoped_and_audited(fixture_board):
    log = AuditLog()
    frame = alerts.period_warnings(fixture_board, ANALYST_A, "quarter", "2024Q1")
    assert FORMULA_MESSAGE in set(frame.message)
    with pytest.raises(AccessDenied):
        alerts.export_xlsx(fixture_board, LEADER_A, frame, grain="quarter", period="2024Q1", filters={},
                           audit=log, with_evidence=True)
    name, data = alerts.export_xlsx(fixture_board, ANALYST_A, frame, grain="quarter", period="2024Q1",
                                    filters={"等级": ["红"]}, audit=log, with_evidence=True)
    assert name.endswith(".xlsx") and log[-1][0] == "export" and log[-1][2]["rows"] == len(frame)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["预警清单", "依据记录", "指标口径", "说明"]
    defs = wb["指标口径"]
    assert [c.value for c in defs[1]][:2] == ["指标", "口径"]
    # one row per indicator that warned, by name (the catalogue of the fixture has no definitions in words)
    assert sorted(r[0].value for r in defs.iter_rows(min_row=2)) == sorted(set(frame.indicator_zh))
    cells = [c for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    assert not any(c.data_type == "f" for c in cells)  # no formula anywhere
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert "'" + FORMULA_MESSAGE in texts and FORMULA_MESSAGE not in texts
    assert not [t for t in texts if t[:1] in "=+-@"]
    assert not any(u in " ".join(texts) for u in TEAM_B_UNITS)
    ws = wb["预警清单"]
    head = {c.value: c.column_letter for c in ws[1]}
    column = lambda name: [c.value for c in ws[head[name]][1:]]  # noqa: E731
    shown, full = column("指标值"), column("指标值（完整精度）")
    assert all(isinstance(v, (int, float)) for v in shown)  # numbers stay numbers, rounded for reading
    assert all(round(v, 2) == v for v in shown) and any(round(v, 2) != v for v in full)
    assert {ws.column_dimensions[head[h]].hidden for h in ("指标值（完整精度）", "阈值（完整精度）", "内部编号")} == {True}
    assert not ws.column_dimensions[head["指标值"]].hidden
    assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
    assert set(column("期间")) == {"2024年第1季度"}
    numbers = column("预警编号")
    assert len(set(numbers)) == len(numbers) and all(re.fullmatch(r"[红橙黄]\d{3}", n) for n in numbers)
    ev = wb["依据记录"]
    ev_head = [c.value for c in ev[1]]
    assert ev_head[0] == "预警编号" and "来源台账" in ev_head and "内部编号" not in ev_head
    assert {r[0].value for r in ev.iter_rows(min_row=2)} <= set(numbers)
    dates = [r[ev_head.index("记录日期")] for r in ev.iter_rows(min_row=2)]
    assert all(c.is_date and c.number_format == "yyyy-mm-dd" for c in dates)
    visible = [f"{c.value:%Y-%m-%d}" if c.is_date else str(c.value)  # a date cell shows its yyyy-mm-dd format
               for sheet in wb for row in sheet.iter_rows() for c in row
               if c.value is not None and not sheet.column_dimensions[c.column_letter].hidden]
    assert user_text.problems("\n".join(visible).replace(ANALYST_A.name, "")) == []


def test_whatif_reproduces_the_build_and_moves_with_weights(fixture_board):
    cat = method.catalogue(fixture_board)
    dims = fixture_board.q("dimensions")
    ind_w, dim_w = method.default_weights(cat, dims)
    base = method.whatif(fixture_board, Scope(None), "quarter", "2024Q4", ind_w, dim_w)
    assert base.baseline_gap < 1e-9  # the engine's aggregation reproduces the published index
    assert base.changed.empty and (base.table.rank_change == 0).all()
    assert (base.table.base_grade == base.table.published_grade).all()
    # All weight on one dimension: the index becomes that dimension's score.
    only = {d: (1.0 if d == "petitions" else 0.0) for d in dim_w}
    moved = method.whatif(fixture_board, Scope(None), "quarter", "2024Q4", ind_w, only)
    pet = fixture_board.q("period_scores", Scope(None), grain="quarter", period="2024Q4").query("level == 'petitions'")
    got = moved.table.set_index("unit_name").new_score
    assert got.sort_index().to_numpy() == pytest.approx(pet.set_index("unit_name").score.sort_index().to_numpy())
    assert len(moved.changed) > 0 and (moved.changed.base_grade != moved.changed.new_grade).all()
    scoped = method.whatif(fixture_board, Scope((TEAM_A,)), "quarter", "2024Q4", ind_w, only)
    assert set(scoped.table.unit_name) == set(TEAM_A_UNITS)  # ranks stay county ranks
    assert scoped.table.set_index("unit_name").new_rank.to_dict() == \
        moved.table.set_index("unit_name").new_rank.loc[TEAM_A_UNITS].to_dict()
    with pytest.raises(ValueError):
        method.whatif(fixture_board, Scope(None), "quarter", "2024Q4", {k: 0.0 for k in ind_w}, dim_w)


def test_quality_hides_paths_and_raw_rows_from_team_users(fixture_board):
    log = AuditLog()
    q_team = quality.quality(fixture_board, ANALYST_A)
    assert not q_team.runs_detailed and "path" not in q_team.runs.columns and not q_team.may_see_rejected
    assert set(q_team.coverage.index) == set(TEAM_A_UNITS)
    assert not any(u in _frames_text(q_team) for u in TEAM_B_UNITS)
    with pytest.raises(AccessDenied):
        quality.rejected_rows(fixture_board, ANALYST_A, log)
    assert log == []
    q_all = quality.quality(fixture_board, ADMIN)
    assert q_all.runs_detailed and q_all.may_see_rejected and log == []  # the page alone is no view of records
    rows = quality.rejected_rows(fixture_board, ADMIN, log)
    assert len(rows) == 2 and log[0][0] == "view_records" and log[0][2]["rows"] == 2
    assert "原始内容（已脱敏）" in rows.columns and not rows["原始内容（已脱敏）"].str.contains('{"', regex=False).any()
    runs = quality.runs_table(q_all)
    assert "文件" in runs.columns and not runs["文件"].str.contains("/").any()  # file names, not machine paths
    fresh = q_all.freshness.set_index("kind")
    assert fresh.loc["audit_findings", "stale"] and not fresh.loc["inquiries", "stale"]
    assert set(q_all.reasons.reason) == {"无法识别为日期（如 2024-03-05、2024年3月5日）", "单位在名册中找不到"}


def test_board_reopens_when_the_snapshot_is_swapped(tmp_path):
    db = tmp_path / "w.duckdb"
    snap = build_fixture(db)
    board = Board(snap)
    first = board.identity()
    assert board.build(first)["build_id"] == BUILD
    before = board.q("period_scores", Scope(None), first, grain="quarter", period="2024Q4")
    # A rebuild: new results in the warehouse, then an atomic publish.
    con = duckdb.connect(str(db))
    con.execute("UPDATE build_runs SET build_id = 'second'")
    for t in ("unit_scores", "indicator_catalogue", "warnings"):
        con.execute(f"UPDATE {t} SET build_id = 'second'")
    con.execute("UPDATE unit_scores SET score = score / 2")
    con.close()
    from pipelines.warehouse import publish

    publish(db)
    second = board.identity()
    assert second != first
    assert board.build()["build_id"] == "second"
    after = board.q("period_scores", Scope(None), grain="quarter", period="2024Q4")
    assert after.score.sum() == pytest.approx(before.score.sum() / 2)
    # A page pinned to the old identity still reads the old snapshot consistently.
    pinned = board.q("period_scores", Scope(None), first, grain="quarter", period="2024Q4")
    assert pinned.score.sum() == pytest.approx(before.score.sum())
    board.close()


def test_the_snapshot_is_opened_read_only(fixture_board):
    cur = fixture_board._get(None).con.cursor()
    cur.execute("USE snap")
    with pytest.raises(duckdb.Error, match="read-only"):
        cur.execute("DELETE FROM units")


def test_missing_snapshot_is_a_user_error(tmp_path):
    from pipelines.errors import UserError

    with pytest.raises(UserError, match="zhengtai build"):
        Board(tmp_path / "none.published.duckdb")


class _Rows:
    """A board answering the two robustness queries from hand-made rows."""

    def __init__(self, **frames):
        self.frames = frames

    def q(self, name, identity=None, **params):
        return self.frames[name]


def test_sensitivity_and_coherence_in_words():
    from pipelines.board import robustness

    board = _Rows(
        sensitivity=pd.DataFrame({
            "factor": ["weights", "normalisation", "leave-one-out:case_rate", "leave-one-out:repeat_share",
                       "leave-one-out:never_moved"],
            "variance_share": [0.42, 0.31, 0.15, 0.05, 0.0],
            "detail": ['{"total": 0.5}', "", '{"mean_abs_rank_shift": 1.25, "max_abs_rank_shift": 4}',
                       '{"mean_abs_rank_shift": 2.5, "max_abs_rank_shift": 6}', "{}"]}),
        coherence=pd.DataFrame({
            "dimension": ["petitions", "petitions", "discipline", "discipline"],
            "statistic": ["cronbach_alpha", "corr_with_index", "cronbach_alpha", "corr_with_dimension:case_rate"],
            "value": [0.7123, 0.5, None, 0.333]}))
    names = {"case_rate": "立案率", "repeat_share": "重复件占比"}
    s = robustness.sensitivity(board, "quarter", "2024Q4", names)
    assert robustness.sources_table(s).to_dict("list") == {
        "不确定性来源": ["权重扰动", "标准化方法"], "一阶效应占比": ["42%", "31%"], "总效应占比": ["50%", "—"]}
    # Most influential first; an indicator without a measured shift is left out rather than shown as nan.
    assert robustness.leave_one_out_table(s).to_dict("list") == {
        "剔除的指标": ["重复件占比", "立案率"], "名次平均变动（位）": ["2.5", "1.2"], "名次最大变动（位）": ["6", "4"]}
    c = robustness.coherence(board, "quarter", "2024Q4", {"petitions": "信访举报", "discipline": "执纪问责"}, names)
    assert c.dimensions.to_dict("list") == {
        "维度": ["信访举报", "执纪问责"], "内部一致性系数α": ["0.71", "—"], "指标间平均相关系数": ["—", "—"],
        "与综合指数的相关系数": ["0.50", "—"]}
    assert c.indicators.to_dict("list") == {"维度": ["执纪问责"], "指标": ["立案率"], "与所属维度的相关系数": ["0.33"]}


def test_fields_stored_as_unknown_are_counted_per_visible_unit(fixture_board):
    log = AuditLog()
    q_team = quality.quality(fixture_board, ANALYST_A)
    assert list(q_team.notes_by_unit.unit_name) == ["县教育局"] and not q_team.may_see_rejected
    with pytest.raises(AccessDenied):
        quality.quality_notes(fixture_board, ANALYST_A, log)
    q_all = quality.quality(fixture_board, ADMIN)
    assert set(q_all.notes_by_unit.unit_name) == {"县教育局", "县农业农村局"}
    assert list(log) == []  # opening the page shows no record
    notes = quality.quality_notes(fixture_board, ADMIN, log)
    assert len(notes) == 2 and {"单位", "字段", "说明"} <= set(notes.columns)
    assert ("view_records", "data_quality_notes") in [(a, t) for a, t, _ in log]


def test_an_empty_scope_says_why(fixture_board):
    stranger = User("x", "analyst", ("第一派组",))
    reason = quality.empty_scope_reason(fixture_board, stranger)
    assert "第一派组" in reason and "第一派驻组（6个单位）" in reason and "第二派驻组" in reason
    assert quality.empty_scope_reason(fixture_board, ANALYST_A) is None
    assert quality.empty_scope_reason(fixture_board, ADMIN) is None


def test_anomaly_drivers_read_with_their_units():
    drivers = pd.DataFrame({"indicator_id": ["leader_top_petitions", "leader_discipline_share", "x"],
                            "name_zh": ["反映一把手信访", "受处理人员中班子成员占比", "某指标"],
                            "value": [16.0, 0.4, None], "z": [10.04, -2.66, float("nan")]})
    t = portrait.anomaly_drivers_table(drivers, {"leader_top_petitions": "件/年", "leader_discipline_share": "比例"})
    assert t.to_dict("list") == {"使该单位异常的指标": ["反映一把手信访", "受处理人员中班子成员占比", "某指标"],
                                 "指标值": ["16件/年", "40.0%", "—"],
                                 "偏离同期中位数（稳健标准差）": ["+10.0", "-2.7", "—"]}
