"""Uncertainty/sensitivity analysis, coherence and grades."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import UserError
from pipelines.index import IndexSettings, compute
from pipelines.index.coherence import coherence, cronbach_alpha
from pipelines.index.grades import assign_grades
from pipelines.index.uncertainty import uncertainty
from tests.index_reference import asem


@pytest.fixture(scope="module")
def asem_data():
    return asem()


@pytest.mark.parametrize("agg", ["arith", "geom"])
@pytest.mark.parametrize("norm", ["minmax", "zscore", "rank"])
def test_fixed_inputs_reproduce_the_nominal_build(asem_data, agg, norm):
    data, meta = asem_data
    s = IndexSettings(aggregate=agg, normalise=norm)
    u = uncertainty(data, meta, s, n_draws=5, weight_noise=0.0, normalisations=(norm,), aggregations=(agg,),
                    leave_one_out=False)
    nominal = compute(data, meta, s).ranks["Index"]
    assert (u.rank_draws == nominal.to_numpy()[None, :]).all()
    assert (u.ranks["p05"] == nominal).all() and (u.ranks["p95"] == nominal).all()


def test_leave_one_out_equals_a_build_without_the_indicator(asem_data):
    data, meta = asem_data
    s = IndexSettings()
    u = uncertainty(data, meta, s, n_draws=30)
    nominal = compute(data, meta, s).ranks["Index"]
    for code in ("LPI", "CO2", "NEET"):
        without = compute(data, meta, s.replace(weight_overrides={code: 0.0})).ranks["Index"]
        assert (u.loo_shift[code] == without - nominal).all()
    assert u.loo_summary.loc[["LPI", "CO2"], "max_abs_shift"].ge(0).all()


def test_uncertainty_outputs_are_coherent(asem_data):
    data, meta = asem_data
    u = uncertainty(data, meta, IndexSettings(), n_draws=600, seed=1)
    r = u.ranks
    assert u.n_runs == u.n_base * 6 and abs(u.n_runs - 600) < 6
    assert ((r["p05"] <= r["p50"]) & (r["p50"] <= r["p95"])).all()
    assert r["mean"].between(1, 51).all() and (r["p95"] - r["p05"]).max() > 0
    assert list(u.sensitivity.index) == ["weights", "normalisation", "aggregation", "exclusion"]
    assert (u.sensitivity["total"] >= 0).all()
    # first-order shares are at most the total shares (up to sampling noise) and sum to at most ~1
    assert (u.sensitivity["first_order"] <= u.sensitivity["total"] + 0.1).all()
    assert u.sensitivity["first_order"].sum() < 1.15
    assert set(u.draws["block"]) == {"A", "B", "AB:weights", "AB:normalisation", "AB:aggregation", "AB:exclusion"}
    # same seed, same numbers
    again = uncertainty(data, meta, IndexSettings(), n_draws=600, seed=1)
    assert np.array_equal(u.rank_draws, again.rank_draws)


def test_a_single_uncertain_input_explains_all_the_variance(asem_data):
    data, meta = asem_data
    u = uncertainty(data, meta, IndexSettings(), n_draws=900, weight_noise=0.0, normalisations=("minmax",),
                    aggregations=("arith", "geom"), leave_one_out=False, seed=2)
    s = u.sensitivity.loc["aggregation"]
    assert abs(s["first_order"] - 1) < 0.15 and abs(s["total"] - 1) < 0.15


def test_weight_noise_moves_ranks_and_zero_noise_does_not(asem_data):
    data, meta = asem_data
    base = dict(normalisations=("minmax",), aggregations=("arith",), leave_one_out=False, n_draws=60)
    quiet = uncertainty(data, meta, IndexSettings(), weight_noise=0.0, **base)
    noisy = uncertainty(data, meta, IndexSettings(), weight_noise=0.5, **base)
    assert (quiet.ranks["p95"] - quiet.ranks["p05"]).max() == 0
    assert (noisy.ranks["p95"] - noisy.ranks["p05"]).max() > 0
    assert list(noisy.sensitivity.index) == ["weights"]


def test_uncertainty_rejects_bad_options(asem_data):
    data, meta = asem_data
    with pytest.raises(UserError, match="normalisation"):
        uncertainty(data, meta, normalisations=("minmax", "sigmoid"))
    with pytest.raises(UserError, match="aggregation"):
        uncertainty(data, meta, aggregations=("median",))
    with pytest.raises(UserError, match="weight_noise"):
        uncertainty(data, meta, weight_noise=1.5)


def test_coherence_against_pandas(asem_data):
    data, meta = asem_data
    res = compute(data, meta, IndexSettings())
    c = coherence(res)
    agg = res.aggregated
    assert set(c.within) == set(res.scores.columns)
    kids = list(res.framework.children_of("Physical"))
    assert np.allclose(c.within["Physical"].to_numpy(), agg[kids].corr().to_numpy(), equal_nan=True)
    assert np.isclose(c.with_parent["LPI"], agg["LPI"].corr(agg["Physical"]))
    assert np.isclose(c.with_parent["Conn"], agg["Conn"].corr(agg["Index"]))
    assert np.isclose(c.with_index["CO2"], agg["CO2"].corr(agg["Index"]))
    block = agg[kids].dropna().to_numpy()
    k = block.shape[1]
    alpha = k / (k - 1) * (1 - block.var(axis=0, ddof=1).sum() / block.sum(axis=1).var(ddof=1))
    assert np.isclose(c.cronbach_alpha["Physical"], alpha)


def test_cronbach_alpha_by_hand():
    x = np.array([[1.0, 2, 3], [2, 3, 4], [3, 5, 4], [4, 4, 6]])
    # item variances 20/12, 20/12, 19/12; totals 6, 9, 12, 14 -> variance 12.25
    assert np.isclose(cronbach_alpha(x), 1.5 * (1 - (59 / 12) / 12.25))
    assert np.isnan(cronbach_alpha(x[:, :1]))


def test_grades_fixed_thresholds_and_quantiles():
    s = pd.Series([10.0, 40, 60, 80, np.nan], index=list("abcde"))
    g = assign_grades(s, thresholds=[30, 60, 75])
    assert list(g.iloc[:4]) == ["绿", "黄", "橙", "红"] and pd.isna(g["e"])
    g2 = assign_grades(s, thresholds=[30, 60, 75], higher_is_worse=False)
    assert list(g2.iloc[:4]) == ["红", "橙", "黄", "绿"]  # low is bad: < 30 red, [30, 60) orange ...
    many = pd.Series(np.arange(100.0))
    q = assign_grades(many)  # default (0.5, 0.8, 0.95)
    assert q.value_counts()[["红", "橙", "黄", "绿"]].tolist() == [5, 15, 30, 50]
    q2 = assign_grades(many, quantiles=[0.25, 0.5, 0.75], labels=["D", "C", "B", "A"])
    assert q2.value_counts().tolist() == [25, 25, 25, 25] and q2.iloc[99] == "D"
    with pytest.raises(UserError):
        assign_grades(s, thresholds=[60, 30, 75])
    with pytest.raises(UserError):
        assign_grades(s, thresholds=[30, 60])
