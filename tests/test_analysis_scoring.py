"""The numpy parts of the build: ranks, trends and percentiles, against hand-worked small arrays."""

from __future__ import annotations

import numpy as np

from pipelines.analysis.scoring import percentiles, ranks_and_trends

NAN = np.nan


def test_ranks_ties_sectors_and_trends():
    # 3 years × 3 units × 1 level; unit 2 has no score in the first year
    scores = np.array([[10.0], [30.0], [NAN],
                       [20.0], [20.0], [5.0],
                       [40.0], [20.0], [6.0]])
    sectors = np.array([0, 0, 1])
    rt = ranks_and_trends(scores, 3, 3, sectors, "year", {"rising_delta": 5, "rising_delta_yoy": 15})
    np.testing.assert_array_equal(rt["rank"][:, 0], [2, 1, NAN, 1, 1, 3, 1, 2, 3])  # ties share the best rank
    # unit 2 is alone in its sector: no sector rank (a "1st of 1" compares it with nobody)
    np.testing.assert_array_equal(rt["sector_rank"][:, 0], [2, 1, NAN, 1, 1, NAN, 1, 2, NAN])
    np.testing.assert_array_equal(rt["change_prev"][:, 0], [NAN, NAN, NAN, 10, -10, NAN, 20, 0, 1])
    np.testing.assert_array_equal(rt["change_yoy"][:, 0], rt["change_prev"][:, 0])  # a year's 同比 is its 环比
    # unit 0 rose 10 then 20: rising on both rules in the third year; in the second only by 同比 (10 < 15: no)
    np.testing.assert_array_equal(rt["rising"][:, 0], [False, False, False, False, False, False, True, False, False])


def test_quarter_yoy_is_four_periods_back():
    scores = np.arange(6, dtype=float)[:, None]  # one unit, six quarters: 0..5
    rt = ranks_and_trends(scores, 6, 1, np.array([0]), "quarter", {"rising_delta": 5, "rising_delta_yoy": 4})
    np.testing.assert_array_equal(rt["change_yoy"][:, 0], [NAN, NAN, NAN, NAN, 4, 4])
    np.testing.assert_array_equal(rt["rising"][:, 0], [False, False, False, False, True, True])


def test_provisional_periods_are_not_compared():
    """A period whose windows lack history (or that is not over) shows its score, but no change to or from it."""
    scores = np.array([[10.0], [12.0], [30.0], [31.0]])  # one unit, four quarters, the first provisional
    rt = ranks_and_trends(scores, 4, 1, np.array([0]), "quarter", {"rising_delta": 5, "rising_delta_yoy": 4},
                          provisional=np.array([True, False, False, False]))
    np.testing.assert_array_equal(rt["change_prev"][:, 0], [NAN, NAN, 18, 1])
    np.testing.assert_array_equal(rt["rank"][:, 0], [1, 1, 1, 1])


def test_percentiles_follow_direction_and_sector():
    # 1 period × 4 units × 2 indicators (risky, protective); unit 3 has no value for the first
    v = np.array([[1.0, 0.9], [3.0, 0.5], [2.0, 0.5], [NAN, 0.1]])
    overall, sector = percentiles(v, np.array([1.0, -1.0]), 1, 4, np.array([0, 0, 1, 1]))
    np.testing.assert_allclose(overall[:, 0], [0, 100, 50, NAN])
    np.testing.assert_allclose(overall[:, 1], [0, 100 / 3, 100 / 3, 100])  # low protective value = risky
    np.testing.assert_allclose(sector[:, 0], [0, 100, NAN, NAN])  # alone with a value in its sector: no percentile
    np.testing.assert_allclose(sector[:, 1], [0, 100, 0, 100])


def test_rerank_agrees_with_scipy():
    from scipy.stats import rankdata

    from pipelines.analysis.scoring import rerank

    rng = np.random.default_rng(5)
    # Monte Carlo ranks of 40 units and 2 anchors, re-ranked without the anchors
    runs = rankdata(-np.round(rng.normal(size=(30, 42)), 1), method="min", axis=1).astype(float)
    runs[0, 3] = NAN
    np.testing.assert_array_equal(rerank(runs[:, :40]), rankdata(runs[:, :40], method="min", axis=1, nan_policy="omit"))
