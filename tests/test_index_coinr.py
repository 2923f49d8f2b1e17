"""The engine reproduces COINr's own outputs on its ASEM example (to 1e-9, joined on uCode)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.index import IndexSettings, compute
from tests.index_reference import asem, asem_dir, asem_ref

TOL = 1e-9


def assert_frame_close(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert set(ref.index) == set(got.index)
    got = got.loc[ref.index, ref.columns]  # join on uCode, never row order
    g, r = got.to_numpy(float), ref.to_numpy(float)
    assert np.array_equal(np.isnan(g), np.isnan(r)), "missing values differ"
    ok = ~np.isnan(r)
    assert np.max(np.abs(g[ok] - r[ok])) < TOL


@pytest.fixture(scope="module")
def default_result():
    data, meta = asem()
    return compute(data, meta, IndexSettings())


def test_minmax_normalisation_matches_coinr(default_result):
    ref = asem_ref("ref_A_normalised_minmax.csv")
    assert list(ref.columns) == list(default_result.normalised.columns)
    assert_frame_close(default_result.normalised, ref)


def test_arithmetic_aggregation_matches_coinr_every_column(default_result):
    ref = asem_ref("ref_A_aggregated_amean.csv")
    assert {"Index", "Conn", "Sust", "Physical"} <= set(ref.columns)
    assert_frame_close(default_result.aggregated, ref)


def test_row_order_does_not_matter():
    data, meta = asem()
    shuffled = data.sample(frac=1.0, random_state=3)
    res = compute(shuffled, meta, IndexSettings())
    assert list(res.scores.index) == list(shuffled["uCode"])
    assert_frame_close(res.aggregated, asem_ref("ref_A_aggregated_amean.csv"))


def test_denominators_are_not_applied_by_default_but_can_be():
    """COINr's reference used raw indicators: iMeta's Denominator column only names what Denominate()
    would divide by; it is not applied unless asked for."""
    data, meta = asem()
    plain = compute(data, meta, IndexSettings())
    denom = compute(data, meta, IndexSettings(denominate="meta"))
    fw = plain.framework
    assert fw.denominators["Flights"] == "Population" and "LPI" not in fw.denominators
    d = data.set_index("uCode")
    assert np.allclose(denom.treated["Flights"], d["Flights"] / d["Population"], equal_nan=True)
    assert np.allclose(denom.treated["LPI"], d["LPI"], equal_nan=True)
    assert not np.allclose(denom.index, plain.index)


def test_contributions_add_up_to_the_index(default_result):
    total = default_result.contributions.sum(axis=1)
    assert np.max(np.abs(total - default_result.index)) < 1e-9


def test_ranks_follow_scores(default_result):
    s, r = default_result.index, default_result.ranks["Index"]
    assert r[s.idxmax()] == 1 and r[s.idxmin()] == s.notna().sum()
    assert (np.sign(np.subtract.outer(s.values, s.values)) == -np.sign(np.subtract.outer(r.values, r.values))).all()


def test_cli_end_to_end_matches_coinr(zt, tmp_path):
    d = asem_dir()
    out = tmp_path / "results.csv"
    run = zt("index", "--data", d / "ASEM_iData.csv", "--meta", d / "ASEM_iMeta.csv", "--out", out)
    assert run.code == 0, run.err
    got = pd.read_csv(out)
    assert got.columns[0] == "uCode"
    ref = asem_ref("ref_A_aggregated_amean.csv")
    aggregates = ["Index", "Conn", "Sust", "ConEcFin", "Environ", "Instit", "P2P", "Physical", "Political",
                  "Social", "SusEcFin"]
    assert {f"{a}_rank" for a in aggregates} <= set(got.columns)
    assert_frame_close(got.set_index("uCode")[aggregates], ref[aggregates])
    top = got.set_index("uCode")
    assert top.loc[ref["Index"].idxmax(), "Index_rank"] == 1


def test_cli_other_methods_run(zt, tmp_path):
    d = asem_dir()
    out = tmp_path / "r.csv"
    run = zt("index", "--data", d / "ASEM_iData.csv", "--meta", d / "ASEM_iMeta.csv", "--out", out,
             "--normalise", "zscore", "--aggregate", "arith", "--treat", "winsorise",
             "--impute", "group-mean:GDP_group", "--weights", "entropy")
    assert run.code == 0, run.err
    got = pd.read_csv(out)
    assert len(got) == 51 and got["Index"].notna().all()
    assert sorted(got["Index_rank"]) == list(range(1, 52))


@pytest.mark.parametrize("args,needle", [
    (["--normalise", "foo"], "normalise"),
    (["--aggregate", "harmonic"], "aggregate"),
    (["--impute", "group-mean"], "group"),
    (["--impute", "group-mean:NOPE"], "NOPE"),
    (["--weights", "magic"], "weights"),
    (["--treat", "clip"], "treat"),
])
def test_cli_bad_options_give_one_line(zt, tmp_path, args, needle):
    d = asem_dir()
    run = zt("index", "--data", d / "ASEM_iData.csv", "--meta", d / "ASEM_iMeta.csv", "--out", tmp_path / "x.csv",
             *args)
    assert run.code == 2
    assert needle in run.err and len(run.err.strip().splitlines()) == 1


def test_cli_bad_files_give_one_line(zt, tmp_path):
    d = asem_dir()
    bad_meta = tmp_path / "meta.csv"
    meta = pd.read_csv(d / "ASEM_iMeta.csv")
    meta.loc[meta["iCode"] == "LPI", "Parent"] = "Nowhere"
    meta.to_csv(bad_meta, index=False)
    run = zt("index", "--data", d / "ASEM_iData.csv", "--meta", bad_meta, "--out", tmp_path / "x.csv")
    assert run.code == 2 and "Nowhere" in run.err and len(run.err.strip().splitlines()) == 1
    run = zt("index", "--data", tmp_path / "missing.csv", "--meta", d / "ASEM_iMeta.csv", "--out", tmp_path / "x.csv")
    assert run.code == 2 and "not found" in run.err
    no_col = tmp_path / "data.csv"
    pd.read_csv(d / "ASEM_iData.csv").drop(columns=["LPI"]).to_csv(no_col, index=False)
    run = zt("index", "--data", no_col, "--meta", d / "ASEM_iMeta.csv", "--out", tmp_path / "x.csv")
    assert run.code == 2 and "LPI" in run.err


def _coinr_mean(values: pd.DataFrame, meta: pd.DataFrame, geometric: bool) -> pd.DataFrame:
    """COINr's a_amean / a_gmean applied level by level, written out independently with pandas."""
    out = values.copy()
    tree = meta[meta["Type"].isin(["Indicator", "Aggregate"])]
    for level in sorted(tree["Level"].unique())[1:]:
        for code in tree.loc[tree["Level"] == level, "iCode"]:
            kids = tree[tree["Parent"] == code]
            x = out[list(kids["iCode"])]
            w = pd.DataFrame(np.broadcast_to(kids["Weight"].to_numpy(float), x.shape), index=x.index,
                             columns=x.columns).where(x.notna())
            if geometric:
                out[code] = np.exp((w * np.log(x)).sum(axis=1) / w.sum(axis=1))
            else:
                out[code] = (w * x).sum(axis=1) / w.sum(axis=1)
    return out


def test_geometric_mean_matches_coinr_a_gmean_on_a_positive_scale():
    """On a strictly positive scale (min-max to [1, 100]) and geom_zero='error' the engine is COINr's
    a_gmean exactly; the default shift only matters where zeros would make COINr stop."""
    data, meta = asem()
    res = compute(data, meta, IndexSettings(bounds=(1, 100), aggregate="geom", geom_zero="error"))
    ref = _coinr_mean(res.normalised, meta, geometric=True)
    assert_frame_close(res.aggregated, ref)
    arith = compute(data, meta, IndexSettings(bounds=(1, 100)))
    assert_frame_close(arith.aggregated, _coinr_mean(arith.normalised, meta, geometric=False))
