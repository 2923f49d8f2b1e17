"""Each method against pymcdm, scipy or numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pymcdm import normalizations as pn
from pymcdm import weights as pw
from pymcdm.methods import TOPSIS, WSM
from scipy import stats

from pipelines.errors import UserError
from pipelines.index import (AHPInconsistencyError, IndexSettings, ahp_weights, compute, entropy_weights,
                             pca_weights, topsis)
from pipelines.index import normalisation as nz
from pipelines.index.treatment import impute, kurt, log_ct, skew, treat, winsorise

RNG = np.random.default_rng(7)
MATRICES = [RNG.uniform(1, 50, size=(12, 4)), RNG.lognormal(size=(30, 6)), np.array([[3.0, 7, 2], [5, 1, 9], [4, 4, 4]])]
TYPES = [np.array([1, -1, 1, 1]), np.array([1, 1, -1, -1, 1, -1]), np.array([-1, 1, 1])]


def flat(codes, weights, types):
    """A one-level hierarchy: indicators straight into Index."""
    meta = pd.DataFrame({"Level": 1, "iCode": codes, "Parent": "Index", "Direction": types, "Weight": weights,
                         "Type": "Indicator"})
    top = pd.DataFrame([{"Level": 2, "iCode": "Index", "Parent": None, "Direction": 1, "Weight": 1, "Type": "Aggregate"}])
    return pd.concat([meta, top], ignore_index=True)


def frame(x, codes):
    df = pd.DataFrame(x, columns=codes)
    df.insert(0, "uCode", [f"u{i}" for i in range(len(df))])
    return df


# --- pymcdm agreement -------------------------------------------------------------------------------

@pytest.mark.parametrize("x", MATRICES)
def test_entropy_weights_match_pymcdm(x):
    assert np.max(np.abs(entropy_weights(x) - pw.entropy_weights(x))) < 1e-9


@pytest.mark.parametrize("x,types", list(zip(MATRICES, TYPES)))
def test_minmax_matches_pymcdm(x, types):
    ours = nz.minmax(x, types.astype(float), 0.0, 1.0)
    for j, t in enumerate(types):
        assert np.max(np.abs(ours[:, j] - pn.minmax_normalization(x[:, j], cost=t == -1))) < 1e-9


@pytest.mark.parametrize("x,types", list(zip(MATRICES, TYPES)))
def test_topsis_matches_pymcdm(x, types):
    w = np.arange(1, x.shape[1] + 1, dtype=float)
    w /= w.sum()
    ours = topsis(x, w, types)
    assert np.max(np.abs(ours["closeness"] - TOPSIS()(x, w, types))) < 1e-9
    _, _, nis, pis, dm, dp, _ = TOPSIS()._method(x, w, types)
    assert np.max(np.abs(ours["d_ideal"] - dp)) < 1e-9 and np.max(np.abs(ours["d_anti_ideal"] - dm)) < 1e-9


@pytest.mark.parametrize("x,types", list(zip(MATRICES, TYPES)))
def test_weighted_arithmetic_index_matches_pymcdm_wsm(x, types):
    codes = [f"c{j}" for j in range(x.shape[1])]
    w = np.linspace(1, 2, x.shape[1])
    res = compute(frame(x, codes), flat(codes, w, types), IndexSettings(bounds=(0, 1)))
    ref = WSM(normalization_function=pn.minmax_normalization)(x, w / w.sum(), types)
    assert np.max(np.abs(res.index.to_numpy() - ref)) < 1e-9


# --- hand-computed ----------------------------------------------------------------------------------

def test_normalisations_by_hand():
    x = np.array([[2.0, 10.0], [4.0, np.nan], [8.0, 30.0], [4.0, 20.0]])
    d = np.array([1.0, -1.0])
    mm = nz.minmax(x, d)
    assert np.allclose(mm[:, 0], [0, 100 / 3, 100, 100 / 3]) and np.allclose(mm[[0, 2, 3], 1], [100, 0, 50])
    assert np.isnan(mm[1, 1])
    z = nz.zscore(x, d)
    assert np.allclose(z[:, 0], (x[:, 0] - 4.5) / np.std(x[:, 0], ddof=1))
    assert np.allclose(z[[0, 2, 3], 1], [1, -1, 0])
    r = nz.rank(x, d)
    assert np.allclose(r[:, 0], [1, 2.5, 4, 2.5]) and np.allclose(r[[0, 2, 3], 1], [3, 1, 2]) and np.isnan(r[1, 1])
    p = nz.percentile(x, d)
    assert np.allclose(p[:, 0], [0, 100 / 3, 100, 100 / 3]) and np.allclose(p[[0, 2, 3], 1], [100, 0, 50])
    t = nz.target(x, d, np.array([6.0, 15.0]), cap=True)
    # dir 1: (x - 2) / (6 - 2), capped at 1; dir -1: (30 - x) / (30 - 15), capped
    assert np.allclose(t[:, 0], [0, 50, 100, 50]) and np.allclose(t[[0, 2, 3], 1], [100, 0, 200 / 3])
    t2 = nz.target(x, d, np.array([6.0, 15.0]), cap=False)
    assert np.isclose(t2[2, 0], 150)


def test_constant_indicator_sits_mid_scale():
    x = np.array([[5.0], [5.0], [np.nan]])
    assert np.allclose(nz.minmax(x, np.ones(1))[:2, 0], 50) and np.isnan(nz.minmax(x, np.ones(1))[2, 0])


def two_level():
    meta = pd.DataFrame([
        dict(Level=1, iCode="a", Parent="P", Direction=1, Weight=1, Type="Indicator"),
        dict(Level=1, iCode="b", Parent="P", Direction=1, Weight=3, Type="Indicator"),
        dict(Level=1, iCode="c", Parent="Q", Direction=1, Weight=1, Type="Indicator"),
        dict(Level=2, iCode="P", Parent="Index", Direction=1, Weight=2, Type="Aggregate"),
        dict(Level=2, iCode="Q", Parent="Index", Direction=1, Weight=1, Type="Aggregate"),
        dict(Level=3, iCode="Index", Parent=None, Direction=1, Weight=1, Type="Aggregate"),
    ])
    data = pd.DataFrame({"uCode": ["x", "y", "z"], "a": [0.0, 10, 5], "b": [0.0, 5, np.nan], "c": [2.0, 4, 3]})
    return data, meta


def test_missing_child_is_skipped_and_weights_renormalised():
    data, meta = two_level()
    res = compute(data, meta, IndexSettings())
    # normalised: a -> 0, 100, 50; b -> 0, 100, NaN; c -> 0, 100, 50
    assert np.allclose(res.scores.loc["z", "P"], 50)  # only a, its weight renormalised to 1
    assert np.allclose(res.scores.loc["y", "P"], 100)
    assert np.allclose(res.index, [0, 100, (2 * 50 + 1 * 50) / 3])
    assert np.allclose(res.effective_weights[["a", "b", "c", "P", "Q", "Index"]],
                       [2 / 3 * 1 / 4, 2 / 3 * 3 / 4, 1 / 3, 2 / 3, 1 / 3, 1])
    c = res.contributions.loc["z"]
    assert np.allclose(c, [2 / 3 * 50, 0, 1 / 3 * 50])


def test_geometric_mean_by_hand_with_zero_shift():
    data, meta = two_level()
    data.loc[2, "b"] = 2.5  # b -> 0, 100, 50
    res = compute(data, meta, IndexSettings(aggregate="geom"))
    # unit z: P = exp((1 ln 51 + 3 ln 51)/4) - 1 = 50; Index = 50; unit x: all zero -> 0
    assert np.allclose(res.index, [0, 100, 50])
    data.loc[2, ["a", "b", "c"]] = [10, 0, 3]  # a -> 100, b -> 0, c -> 50
    res = compute(data, meta, IndexSettings(aggregate="geom"))
    p = np.exp((np.log(101) + 3 * np.log(1)) / 4) - 1
    idx = np.exp((2 * np.log(p + 1) + np.log(51)) / 3) - 1
    assert np.isclose(res.scores.loc["z", "P"], p) and np.isclose(res.index["z"], idx)
    assert np.allclose(res.contributions.sum(axis=1), res.index, atol=1e-9)
    shares = res.contributions.loc["z"] / idx  # log shares: P gets 2 ln(p+1)/(3 ln(idx+1)), split a:b = 1:0
    assert np.isclose(shares["a"], 2 * np.log(p + 1) / (3 * np.log(idx + 1)))
    assert np.isclose(shares["b"], 0) and np.isclose(shares["c"], np.log(51) / (3 * np.log(idx + 1)))
    with pytest.raises(UserError, match="values > 0"):
        compute(data, meta, IndexSettings(aggregate="geom", geom_zero="error"))


def test_generalised_mean_by_hand():
    """COINr a_genmean on min-max 0-100 (floor 0): (sum w x^p / sum w)^(1/p); one severe child counts for more
    than its weight, and p = 1 is the arithmetic mean."""
    data, meta = two_level()
    data.loc[2, ["a", "b", "c"]] = [10, 0, 3]  # z: a -> 100, b -> 0, c -> 50; weights a 1, b 3 (P), P 2, Q 1
    res = compute(data, meta, IndexSettings(aggregate="genmean", p=2))
    p_z = np.sqrt((1 * 100 ** 2 + 3 * 0) / 4)
    idx = np.sqrt((2 * p_z ** 2 + 1 * 50 ** 2) / 3)
    assert np.isclose(res.scores.loc["z", "P"], p_z) and np.isclose(res.index["z"], idx)
    arith = compute(data, meta, IndexSettings())
    assert res.index["z"] > arith.index["z"]  # 50.0 vs 41.7: the severe child is not averaged away
    assert np.allclose(compute(data, meta, IndexSettings(aggregate="genmean", p=1)).index, arith.index)
    shares = res.contributions.loc["z"] / idx  # split by w x^p: P gets 2 p_z^2 / (3 idx^2), all of it from a
    assert np.isclose(shares["a"], 2 * p_z ** 2 / (3 * idx ** 2)) and shares["b"] == 0
    assert np.allclose(res.contributions.sum(axis=1), res.index, atol=1e-9)
    with pytest.raises(UserError, match="p"):
        IndexSettings(aggregate="genmean", p=0.5)


def test_contributions_sum_to_score_with_missing_data_everywhere():
    data, meta = two_level()
    for agg in ("arith", "geom", "genmean"):
        for nm in ("minmax", "zscore", "rank", "percentile"):
            res = compute(data, meta, IndexSettings(aggregate=agg, normalise=nm))
            assert np.allclose(res.contributions.sum(axis=1), res.index, atol=1e-9), (agg, nm)


def test_ahp_textbook_example():
    # The three-criterion example of many AHP tutorials: w = (0.279, 0.649, 0.072), lambda = 3.065, CR = 0.056.
    w, lam, cr = ahp_weights([[1, 1 / 3, 5], [3, 1, 7], [1 / 5, 1 / 7, 1]])
    assert np.allclose(w, [0.279, 0.649, 0.072], atol=5e-4)
    assert abs(lam - 3.065) < 5e-4 and abs(cr - 0.056) < 5e-4


def test_ahp_consistent_matrix_recovers_weights_and_inconsistent_raises():
    true = np.array([0.5, 0.3, 0.15, 0.05])
    w, lam, cr = ahp_weights(true[:, None] / true[None, :])
    assert np.allclose(w, true) and np.isclose(lam, 4) and cr < 1e-9
    with pytest.raises(AHPInconsistencyError, match="consistency ratio"):
        ahp_weights([[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]])
    with pytest.raises(UserError, match="reciprocal"):
        ahp_weights([[1, 2], [2, 1]])


def test_ahp_weights_flow_into_the_index():
    data, meta = two_level()
    s = IndexSettings(weights="ahp", ahp={"P": {"children": ["b", "a"], "matrix": [[1, 3], [1 / 3, 1]]}})
    res = compute(data, meta, s)
    assert np.isclose(res.weights["b"] / res.weights["a"], 3)
    bad = IndexSettings(weights="ahp", ahp={"P": {"children": ["a", "c"], "matrix": [[1, 3], [1 / 3, 1]]}})
    with pytest.raises(UserError, match="AHP children"):
        compute(data, meta, bad)


def test_entropy_by_hand():
    x = np.array([[1.0, 2.0], [1.0, 4.0], [1.0, 2.0]])
    p = np.array([0.25, 0.5, 0.25])
    e2 = -(p * np.log(p)).sum() / np.log(3)
    assert np.allclose(entropy_weights(x), [0, 1])  # a constant column carries no information
    y = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, np.nan]])
    p1 = np.array([1, 2, 3]) / 6
    d1 = 1 + (p1 * np.log(p1)).sum() / np.log(3)
    d2 = 1 + (np.array([1, 2]) / 3 * np.log(np.array([1, 2]) / 3)).sum() / np.log(2)
    assert np.allclose(entropy_weights(y), [d1 / (d1 + d2), d2 / (d1 + d2)])
    assert e2 < 1


def test_pca_weights_are_squared_first_eigenvector():
    x = RNG.normal(size=(200, 3))
    x[:, 1] += x[:, 0]
    w = pca_weights(x)
    vals, vecs = np.linalg.eigh(np.corrcoef(x.T))
    assert np.allclose(w, vecs[:, -1] ** 2) and np.isclose(w.sum(), 1)


def test_skew_and_kurtosis_are_type2():
    x = RNG.lognormal(size=40)
    x[3] = np.nan
    v = x[~np.isnan(x)]
    assert np.isclose(skew(x), stats.skew(v, bias=False))
    assert np.isclose(kurt(x), stats.kurtosis(v, bias=False))


def test_winsorise_follows_coinr_step_by_step():
    # skew 3.06, kurt 9.74: fails; 100 -> 30 gives skew 1.71: passes after one point.
    x = np.r_[1:11, 30.0, 100.0]
    w, n, mask = winsorise(x, 5, 2, 3.5, "coinr")
    assert n == 1 and np.array_equal(w, np.r_[1:11, 30.0, 30.0]) and mask.sum() == 1 and mask[-1]
    # A tied pair at the top is winsorised together and counts as two points (COINr's count).
    y = np.r_[np.arange(1.0, 40), 500.0, 500.0]
    w, n, mask = winsorise(y, 5, 2, 3.5, "coinr")
    assert n == 2 and np.array_equal(w[-2:], [39, 39])
    # Negative skew: the minimum is lifted to the next value up.
    w, n, _ = winsorise(-x, 5, 2, 3.5, "coinr")
    assert n == 1 and np.array_equal(w, -np.r_[1:11, 30.0, 30.0])


def test_treat_falls_back_to_log_of_original_values():
    z = RNG.normal(size=300)
    x = np.exp(3 * z)[:, None]  # far too heavy a tail for 5 winsorised points
    x[0, 0] = np.nan
    out, log = treat(x, ("v",), IndexSettings(treat="winsorise"))
    assert log.loc["v", "action"] == "log"
    assert np.allclose(out[:, 0], log_ct(x[:, 0]), equal_nan=True)
    ok = np.exp(0.1 * z)[:, None]
    out, log = treat(ok, ("v",), IndexSettings(treat="winsorise"))
    assert log.loc["v", "action"] == "none" and np.array_equal(out, ok)


def test_treat_rule_both_is_stricter():
    x = np.r_[np.arange(1.0, 30), 60.0][:, None]  # skew 1.67 < 2 but kurtosis 5.33 > 3.5
    assert abs(skew(x[:, 0])) < 2 and kurt(x[:, 0]) > 3.5
    out_c, log_c = treat(x, ("v",), IndexSettings(treat="winsorise"))  # COINr: pass if either holds
    out_b, log_b = treat(x, ("v",), IndexSettings(treat="winsorise", treat_rule="both"))
    assert log_c.loc["v", "passes_before"] and log_c.loc["v", "action"] == "none" and np.array_equal(out_c, x)
    assert not log_b.loc["v", "passes_before"] and log_b.loc["v", "action"] in ("winsorise", "log")
    assert out_b[-1, 0] < 60


def test_imputation_methods():
    x = np.array([[1.0, np.nan], [3.0, 4.0], [np.nan, 8.0], [7.0, 6.0]])
    assert np.allclose(impute(x, "mean")[2, 0], 11 / 3) and np.allclose(impute(x, "mean")[0, 1], 6)
    assert np.allclose(impute(x, "median")[2, 0], 3) and impute(x, "zero")[0, 1] == 0
    g = np.array(["A", "A", "B", "B"])
    gm = impute(x, "group-mean", g)
    assert gm[2, 0] == 7 and gm[0, 1] == 4
    assert np.isnan(impute(np.array([[np.nan], [np.nan], [1.0]]), "group-mean", np.array(["A", "A", "B"]))[0, 0])


def test_impute_group_in_compute_and_mask():
    data, meta = two_level()
    data["grp"] = ["g1", "g2", "g2"]
    res = compute(data, meta, IndexSettings(impute="group-mean", impute_group="grp"))
    assert res.treated.loc["z", "b"] == 5 and res.imputed.loc["z", "b"] and res.imputed.to_numpy().sum() == 1


def test_settings_round_trip_and_validation():
    s = IndexSettings(normalise="zscore", aggregate="geom", weights="ahp",
                      ahp={"P": {"children": ["a", "b"], "matrix": [[1, 2], [0.5, 1]]}}, denominate={"a": "pop"})
    assert IndexSettings.from_json(s.to_json()) == s
    data, meta = two_level()
    assert compute(data, meta, IndexSettings()).settings == IndexSettings().to_dict()
    for bad in [dict(normalise="foo"), dict(aggregate="harmonic"), dict(impute="group-mean"), dict(bounds=(1, 0)),
                dict(weights="magic"), dict(treat="clip")]:
        with pytest.raises(UserError):
            IndexSettings(**bad)
    with pytest.raises(UserError, match="unknown index settings"):
        IndexSettings.from_dict({"normalize": "minmax"})


def test_constant_column_with_mean_imputation_stays_flat():
    # the imputed mean of a constant column can differ from it in the last bit; that must not turn
    # into a huge z-score (found by hypothesis)
    x = np.full((10, 2), 292.71232767)
    x[[1, 4, 7], 0] = np.nan
    x[:, 1] = np.arange(10.0)
    codes = ["c0", "c1"]
    meta = flat(codes, [1, 1], [1, 1])
    for nm in ("zscore", "minmax"):
        res = compute(frame(x, codes), meta, IndexSettings(normalise=nm, impute="mean"))
        mid = 0.0 if nm == "zscore" else 50.0
        assert np.allclose(res.normalised["c0"], mid)


def test_cronbach_alpha_stays_within_its_bound():
    """A block of all-but-constant items (float noise) once gave alpha = 4/3: items that do not vary are left out."""
    from pipelines.index.coherence import cronbach_alpha

    rng = np.random.default_rng(4)
    noise = np.full((12, 4), 50.0) + rng.normal(0, 1e-13, (12, 4))
    assert np.isnan(cronbach_alpha(noise))
    x = rng.normal(size=(40, 1))
    block = np.hstack([x + rng.normal(0, 0.3, (40, 3)), np.full((40, 1), 7.0)])  # one constant item
    a = cronbach_alpha(block)
    assert a == pytest.approx(cronbach_alpha(block[:, :3])) and 0 < a <= 1
    # k / (k - 1) (1 - sum var / var of the total) by hand on two items
    two = np.array([[1.0, 2.0], [2.0, 2.5], [3.0, 4.5], [4.0, 5.0]])
    v = two.var(axis=0, ddof=1).sum()
    assert cronbach_alpha(two) == pytest.approx(2 * (1 - v / two.sum(axis=1).var(ddof=1)))
