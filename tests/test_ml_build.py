"""The learned signals as `zhengtai build` leaves them in a real county warehouse (generate → ingest → build)."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.warehouse import published_path
from tests.dashboard_county import county_db  # noqa: F401 (fixture)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dashboard_county")]


@pytest.fixture(scope="module")
def con(county_db):
    c = duckdb.connect(str(published_path(county_db)), read_only=True)
    yield c
    c.close()


def test_every_learned_table_belongs_to_the_build(con):
    build = con.execute("SELECT build_id FROM build_runs ORDER BY built_at DESC LIMIT 1").fetchone()[0]
    for table in ("unit_anomalies", "unit_typologies", "typology_models", "person_clues", "person_clue_records",
                  "indicator_validation", "petition_predictions", "learning_models"):
        ids = {r[0] for r in con.execute(f"SELECT DISTINCT build_id FROM {table}").fetchall()}
        assert ids == {build}, table


def test_anomalies_flag_a_few_unit_periods_and_name_their_indicators(con):
    share, named = con.execute("""SELECT avg(flagged::INT), bool_and(json_array_length(drivers) > 0 AND message LIKE '%异常模式%')
                                  FILTER (WHERE flagged) FROM unit_anomalies WHERE grain = 'quarter'""").fetchone()
    assert 0.02 <= share <= 0.08 and named


def test_predicted_categories_are_only_for_other_or_missing_and_never_overwrite(con):
    # 其他, or unknown: a category the ledger wrote that no value or alias matched is kept as NULL with a note
    recorded = con.execute("SELECT count(*) FROM petitions WHERE category = '其他' OR category IS NULL").fetchone()[0]
    rows = con.execute("SELECT recorded, predicted, probability, review FROM petition_predictions").fetchall()
    assert len(rows) == recorded > 0
    assert all(r[0] in ("其他", None) and (r[1] is None or 0 <= r[2] <= 1) for r in rows)
    assert all(r[3] == (r[1] is None or r[2] < 0.6) for r in rows)
    detail = con.execute("SELECT detail FROM learning_models WHERE model = 'petition_category'").fetchone()[0]
    assert '"macro_f1"' in detail and '"baseline_macro_f1"' in detail


def test_validation_reports_every_indicator_and_the_composite(con):
    n_ind = con.execute("SELECT count(*) FROM indicator_catalogue WHERE NOT coalesce(context, false)").fetchone()[0]
    rows = con.execute("""SELECT count(*) FILTER (WHERE kind = 'indicator'), count(*) FILTER (WHERE predictor = 'index'),
                                 count(*) FILTER (WHERE predictor = 'data_weighted'), sum(data_weight)
                          FROM indicator_validation WHERE grain = 'quarter'""").fetchone()
    assert rows[0] == n_ind and rows[1] == 1 and rows[2] == 1 and abs(rows[3] - 1) < 1e-3


def test_person_clues_are_for_analysts_only_scoped_and_audited(county_db):
    from pipelines.access.store import AccessDenied, User
    from pipelines.board import learning
    from pipelines.board.snapshot import Board
    from tests.dashboard_county import teams

    board = Board(published_path(county_db))
    try:
        leader = User("领导", "leader", None)
        with pytest.raises(AccessDenied):
            learning.person_clues(board, leader)
        with pytest.raises(AccessDenied):
            learning.clue_records(board, leader, "C0", lambda *a: None)
        everyone = learning.person_clues(board, User("分析", "analyst", None))
        assert len(everyone) > 0
        team, own = next(iter(teams(county_db).items()))
        mine = learning.person_clues(board, User("组内分析", "analyst", (team,)))
        assert 0 < len(mine) < len(everyone)
        assert all(set(u) <= set(own) for u in mine.units)
        audited = []
        rec = learning.clue_records(board, User("组内分析", "analyst", (team,)), mine.clue_id.iloc[0],
                                    lambda *a: audited.append(a))
        assert len(rec) > 0 and set(rec.unit_name) <= set(own)
        assert audited and audited[0][0] == "view_records" and audited[0][2]["rows"] == len(rec)
        # aggregates only for leaders: a unit's type and anomaly score, the validation table
        unit = own[0]
        sig = learning.unit_signals(board, leader, unit, "quarter", "2024Q4")
        assert sig.typology and sig.anomaly is not None
        assert set(learning.validation(board).verdict) <= {"有预测力", "未见预测力", "方向相反", "样本不足"}
    finally:
        board.close()


def test_report_has_the_learned_signals_and_the_validation_appendix(county_db, tmp_path):
    from pipelines.reports.report import generate

    out = tmp_path / "report.md"
    generate(county_db, "2024Q4", out)
    text = out.read_text(encoding="utf-8")
    assert "十一、模型信号：单位分型与异常模式" in text and "附录：指标效度检验" in text
    assert "曲线下面积" in text and "数据建议权重" in text
