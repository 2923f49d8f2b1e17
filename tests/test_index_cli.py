"""`zhengtai index` runs the field's published indices from the command line alone: COINr's full example and its
overview vignette, checked against the results R's COINr computed (tests/reference, with their recipe)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.index_reference import coinr_full_dir, reference

AGGREGATES = ["Index", "Conn", "Sust", "Physical", "ConEcFin", "Political", "Instit", "P2P", "Environ", "Social",
              "SusEcFin"]


def _inputs():
    d = coinr_full_dir()
    return d / "iData.csv", d / "iMeta.csv"


def test_full_example_from_the_cli(zt, tmp_path):
    """Denominate, group-mean imputation, winsorisation, min-max, arithmetic mean: every aggregate to 1e-9."""
    data, meta = _inputs()
    out = tmp_path / "full.csv"
    run = zt("index", "--data", data, "--meta", meta, "--denominate", "--impute", "group-mean:EurAsia_group",
             "--treat", "winsorise", "--out", out)
    assert run.code == 0, run.err
    got = pd.read_csv(out).set_index("uCode")
    ref = reference("coinr_full_aggregates.csv").set_index("uCode")
    assert sorted(got.index) == sorted(ref.index) and len(got) == 51
    diff = np.abs(got.loc[ref.index, AGGREGATES].to_numpy(float) - ref[AGGREGATES].to_numpy(float))
    assert diff.max() < 1e-9
    assert got["Index_rank"].loc[ref["Index"].idxmax()] == 1


def test_overview_vignette_from_the_cli_with_a_title_row(zt, tmp_path):
    """Denominate, screen at 0.9 before any imputation, treat, min-max, arithmetic; scores rounded to two
    decimals and ranked on them: the vignette's printed table, digit for digit. The data file carries a title
    row above its header, as files kept by hand do."""
    data, meta = _inputs()
    titled = tmp_path / "iData_titled.csv"
    titled.write_text("ASEM 可持续互联互通指数 指标数据（2018）\n" + data.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "overview.csv"
    run = zt("index", "--data", titled, "--meta", meta, "--denominate", "--screen", "0.9", "--treat", "winsorise",
             "--round", "2", "--out", out)
    assert run.code == 0, run.err
    screened = sorted(reference("coinr_overview_screened.csv")["uCode"])
    assert "screened out 5: " + ", ".join(screened) in run.out
    got = pd.read_csv(out).set_index("uCode")
    assert len(got) == 46 and not set(screened) & set(got.index)
    head = reference("coinr_overview_head.csv").set_index("uCode")
    top = got.sort_values("Index_rank").head(6)
    assert list(top.index) == list(head.index)
    assert list(top["Index_rank"]) == list(head["Rank"])
    np.testing.assert_array_equal(top[AGGREGATES].to_numpy(float), head[AGGREGATES].to_numpy(float))
    # without screening the five sparse units are scored too
    run = zt("index", "--data", titled, "--meta", meta, "--denominate", "--treat", "winsorise", "--out", out)
    assert run.code == 0 and len(pd.read_csv(out)) == 51


HAND_META = pd.DataFrame([
    dict(Level=1, iCode="a", Parent="Index", Direction=1, Weight=1, Type="Indicator"),
    dict(Level=1, iCode="b", Parent="Index", Direction=-1, Weight=1, Type="Indicator"),
    dict(Level=1, iCode="c", Parent="Index", Direction=1, Weight=2, Type="Indicator"),
    dict(Level=2, iCode="Index", Parent=None, Direction=1, Weight=1, Type="Aggregate"),
])


def test_min_indicators_normalise_none_and_competition_ranks(zt, tmp_path):
    meta = tmp_path / "meta.csv"
    HAND_META.to_csv(meta, index=False)
    data = tmp_path / "data.csv"
    pd.DataFrame({"uCode": ["U1", "U2", "U3", "U4"], "a": [10.0, 20, 30, None], "b": [1.0, 2, 3, None],
                  "c": [5.0, 5, 5.004, 9]}).to_csv(data, index=False)
    out = tmp_path / "out.csv"
    run = zt("index", "--data", data, "--meta", meta, "--normalise", "none", "--min-indicators", "2", "--out", out)
    assert run.code == 0, run.err
    got = pd.read_csv(out).set_index("uCode")
    # none: the values as they are, direction applied (b counts negatively); weights 1, 1, 2
    assert got.loc["U1", "Index"] == pytest.approx((10 - 1 + 2 * 5) / 4, abs=1e-12)
    assert got.loc["U3", "Index"] == pytest.approx((30 - 3 + 2 * 5.004) / 4, abs=1e-12)
    assert np.isnan(got.loc["U4", "Index"]) and pd.isna(got.loc["U4", "Index_rank"])  # one indicator of three
    assert "1 without a score" in run.out
    # scores 1.0, 0.6, 0.55, 0.25: rounded to whole numbers the first three tie, so they share rank 1 and the
    # next is 4th (competition ranking); unrounded they rank 1, 2, 3, 4
    pd.DataFrame({"uCode": ["U1", "U2", "U3", "U4"], "a": [4.0, 2.4, 2.2, 1.0], "b": [0.0, 0, 0, 0],
                  "c": [0.0, 0, 0, 0]}).to_csv(data, index=False)
    run = zt("index", "--data", data, "--meta", meta, "--normalise", "none", "--round", "0", "--out", out)
    assert run.code == 0, run.err
    got = pd.read_csv(out).set_index("uCode")
    assert got["Index"].tolist() == [1.0, 1.0, 1.0, 0.0]
    assert got["Index_rank"].tolist() == [1, 1, 1, 4]
    run = zt("index", "--data", data, "--meta", meta, "--normalise", "none", "--out", out)
    assert pd.read_csv(out)["Index_rank"].tolist() == [1, 2, 3, 4]


def test_bad_new_options_give_one_line(zt, tmp_path):
    data, meta = _inputs()
    for args, needle in ((["--screen", "1.5"], "screen"), (["--min-indicators", "0"], "min_indicators"),
                         (["--round", "-1"], "--round"), (["--aggregate", "genmean", "--p", "0.5"], "p")):
        run = zt("index", "--data", data, "--meta", meta, "--out", tmp_path / "x.csv", *args)
        assert run.code == 2 and needle in run.err and len(run.err.strip().splitlines()) == 1, (args, run.err)
    headless = tmp_path / "headless.csv"
    headless.write_text("a,b\n1,2\n", encoding="utf-8")
    run = zt("index", "--data", headless, "--meta", meta, "--out", tmp_path / "x.csv")
    assert run.code == 2 and "uCode" in run.err
