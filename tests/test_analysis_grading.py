"""The grading rule (pipelines/analysis/grading.py) and the severity scale against hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.analysis import grading
from pipelines.analysis.indicators import IMPUTED, OK, Values
from pipelines.analysis.scoring import severity

NAN = np.nan


def test_bands_are_one_median_weight_indicator_at_each_line():
    # arithmetic mean, a dimension of two equal indicators: one at a line, the other quiet → half the line
    b = grading.bands({"d": [1.0, 1.0], "e": [1.0, 1.0, 1.0, 1.0]}, {"d": 1.0, "e": 1.0}, "arith", 1.0)
    assert b.dimensions["d"] == pytest.approx((100 / 6, 100 / 3, 50))
    assert b.dimensions["e"] == pytest.approx((100 / 12, 100 / 6, 25))
    # the index: that dimension score, half-weighted among two dimensions; the median over dimensions
    assert b.index == pytest.approx(np.median([[100 / 12, 100 / 6, 25], [100 / 24, 100 / 12, 12.5]], axis=0))
    # power mean of order 3: (w/W)^(1/3) of the line
    g = grading.bands({"d": [1.0, 1.0]}, {"d": 1.0}, "genmean", 3.0)
    assert g.dimensions["d"][2] == pytest.approx(100 * 0.5 ** (1 / 3))
    assert g.index == pytest.approx(g.dimensions["d"])  # one dimension: the index is it
    # a weight of 0 switches an indicator or a dimension off
    off = grading.bands({"d": [1.0, 0.0], "e": [1.0]}, {"d": 1.0, "e": 0.0}, "arith", 1.0)
    assert off.dimensions["d"] == pytest.approx((100 / 3, 200 / 3, 100)) and "e" not in off.dimensions


@pytest.mark.parametrize("score, warning, records, expected, basis", [
    (90.0, 3, 12, "红", "both"),        # high score and a red warning
    (90.0, 1, 12, "黄", "evidence"),    # high score, only a yellow warning: the evidence decides
    (12.0, 3, 12, "黄", "score"),       # a red warning but a score in the yellow band: the score decides
    (90.0, 0, 12, "绿", "quiet"),       # records but no warning
    (90.0, 3, 0, "绿", "no_record"),    # no record in the period: green whatever the rest
    (0.0, 0, 5, "绿", "quiet"),         # a zero score is never coloured
    (NAN, 0, 5, None, "no_data"),
])
def test_grade_is_the_lower_of_score_band_and_evidence(score, warning, records, expected, basis):
    code, why = grading.grade(np.array([score]), (10.0, 20.0, 30.0), np.array([warning]), np.array([records]))
    assert grading.labels(code)[0] == expected and grading.BASIS[why[0]] == basis


def test_ungraded_grains_keep_scores_without_grades():
    code, why = grading.grade(np.array([50.0, NAN]), (10.0, 20.0, 30.0), np.array([3, 0]), np.array([4, 4]),
                              graded=False)
    assert list(grading.labels(code)) == [None, None]
    assert [grading.BASIS[b] for b in why] == ["ungraded", "no_data"]
    assert grading.shown(None, "ungraded") == "不评级" and grading.shown(None, "no_data") == "无数据"
    assert grading.shown("橙", "both", provisional=True) == "橙（待定）"


def _values(x, status, thresholds, level):
    """One period, units × one indicator."""
    x = np.asarray(x, dtype=float)[None, :, None]
    shape = x.shape
    return Values(x, np.ones(shape), np.ones(shape), x, x, np.asarray(status, dtype=np.int8)[None, :, None],
                  np.asarray(thresholds, dtype=float)[None, :, None], np.asarray(level, dtype=np.int8)[None, :, None],
                  np.zeros(shape, dtype=bool))


def test_severity_reads_the_warning_lines_and_the_records_behind_them():
    # seven observed values and one imputed; the observed median is 3, at the 黄 line; lines 黄 3, 橙 4, 红 5
    x = [0, 1, 2, 3, 3.5, 5, 5, 9]
    status = [OK] * 7 + [IMPUTED]
    level = np.array([0, 0, 0, 1, 1, 3, 3, 3])
    v = _values(x, status, [3, 4, 5], level.copy())
    records = np.array([5, 5, 5, 5, 2, 5, 1, 5])
    supported = (records >= 1).astype(int) + (records >= 2) + (records >= 3)
    v.level = np.minimum(level, supported)[None, :, None].astype(np.int8)
    sev = severity(v, np.array([0]), np.array([1.0]), level[None, :, None], supported[None, :, None])[0, :, 0]
    third = 100 / 3
    assert sev[:3] == pytest.approx([0, 0, 0])            # at or below the typical value
    assert sev[3] == pytest.approx(third)                 # at the yellow line
    assert sev[4] == pytest.approx(third * 1.5)           # between 黄 and 橙, two records support 橙
    assert sev[5] == pytest.approx(100)                   # at the red line on five records
    assert sev[6] == pytest.approx(third)                 # a red value on a single record holds at the yellow line
    assert sev[7] == 0                                     # imputed: no risk


# ---- the what-if regrades by the same rule ------------------------------------------------------------

from tests.board_fixture import fixture_board, fixture_db  # noqa: E402,F401 - pytest fixtures


def test_whatif_regrades_by_the_rule_when_a_dimension_is_switched_off(fixture_board):
    """Setting a dimension's weight to 0 takes its warnings out of the evidence and its weight out of the bands;
    units red on the other dimensions stay red (the build's cut-offs are not kept fixed)."""
    from pipelines.access.store import Scope
    from pipelines.board import method

    cat = method.catalogue(fixture_board)
    ind_w, dim_w = method.default_weights(cat, fixture_board.q("dimensions"))
    base = method.whatif(fixture_board, Scope(None), "quarter", "2024Q4", ind_w, dim_w)
    assert (base.table.base_grade == base.table.published_grade).all()
    warnings = fixture_board.q("period_warnings", Scope(None), grain="quarter", period="2024Q4")
    dim_of = dict(zip(cat.indicator_id, cat.dimension))
    level = {"黄": 1, "橙": 2, "红": 3}
    for off in dim_w:
        moved = method.whatif(fixture_board, Scope(None), "quarter", "2024Q4", ind_w, {**dim_w, off: 0.0})
        rest = warnings[warnings.indicator_id.map(dim_of) != off]
        best = rest.assign(lv=rest.grade.map(level)).groupby("unit_name")["lv"].max()
        for r in moved.table.itertuples():
            got = {"红": 3, "橙": 2, "黄": 1, "绿": 0}[r.new_grade]
            assert got <= best.get(r.unit_name, 0), (off, r.unit_name)  # evidence only from weighted dimensions
        if (best == 3).any():
            assert (moved.table.new_grade == "红").any(), off  # red units elsewhere stay red
    compare = method.aggregation_comparison(fixture_board, Scope(None), "quarter", "2024Q4")
    assert {"score", "arith_score", "grade", "arith_grade", "rank_change"} <= set(compare.columns)
    assert compare["score"].tolist() == pytest.approx(base.table.set_index("unit_name").base_score
                                                      .loc[compare.unit_name].tolist())


def test_a_period_without_warnings_has_no_evidence():
    """The 方法与权重 page's comparison and the what-if on a period with no warning at all (a quiet county, a
    month): every unit's evidence is 0, not an error."""
    import pandas as pd

    from pipelines.board import method

    cat = pd.DataFrame({"indicator_id": ["a", "b"], "dimension": ["d", "e"]})
    none = pd.DataFrame({"indicator_id": pd.Series([], dtype=object), "grade": pd.Series([], dtype=object),
                         "unit_name": pd.Series([], dtype=object)})
    assert method._evidence(none, cat, {"a": 1.0, "b": 1.0}, {"d": 1.0, "e": 1.0}, ["甲", "乙"]).tolist() == [0, 0]
    one = pd.DataFrame({"indicator_id": ["a", "b"], "grade": ["红", "黄"], "unit_name": ["甲", "乙"]})
    assert method._evidence(one, cat, {"a": 1.0, "b": 1.0}, {"d": 0.0, "e": 1.0}, ["甲", "乙"]).tolist() == [0, 1]


def test_severity_period_by_period_is_severity_of_the_whole_panel(monkeypatch):
    """severity() takes the periods a few at a time to bound its temporaries; every step is within a period, so
    the chunks change nothing (random panel: 7 periods × 40 units × 5 indicators, chunks of one period)."""
    from pipelines.analysis import scoring

    rng = np.random.default_rng(3)
    n_p, n_u, n_i = 7, 40, 5
    x = rng.gamma(2.0, 1.0, (n_p, n_u, n_i))
    x[rng.random(x.shape) < 0.1] = np.nan
    status = np.where(rng.random(x.shape) < 0.1, IMPUTED, OK).astype(np.int8)
    th = np.sort(rng.gamma(3.0, 1.0, (n_p, 3, n_i)), axis=1)
    th[:, :, 4] = np.nan  # an indicator without warning lines
    level = rng.integers(0, 4, x.shape).astype(np.int8)
    supported = rng.integers(0, 4, x.shape)
    v = Values(x, np.ones(x.shape), np.ones(x.shape), x, x, status, th, np.minimum(level, supported).astype(np.int8),
               np.zeros(x.shape, dtype=bool))
    cols, directions = np.array([0, 1, 2, 4]), np.array([1.0, -1.0, 1.0, 1.0, 1.0])
    whole = severity(v, cols, directions, level, supported)
    monkeypatch.setattr(scoring, "SEVERITY_CELLS", 1)
    np.testing.assert_array_equal(severity(v, cols, directions, level, supported), whole)
    assert np.isfinite(whole).sum() > 0.5 * whole.size
