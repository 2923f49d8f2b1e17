"""Bad hierarchies and data raise UserError with one clear line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import UserError
from pipelines.index import IndexSettings, build_framework, compute

META = pd.DataFrame([
    dict(Level=1, iCode="a", Parent="P", Direction=1, Weight=1, Type="Indicator"),
    dict(Level=1, iCode="b", Parent="P", Direction=-1, Weight=1, Type="Indicator"),
    dict(Level=2, iCode="P", Parent="Index", Direction=1, Weight=1, Type="Aggregate"),
    dict(Level=3, iCode="Index", Parent=None, Direction=1, Weight=1, Type="Aggregate"),
    dict(Level=None, iCode="grp", Parent=None, Direction=None, Weight=None, Type="Group"),
])
DATA = pd.DataFrame({"uCode": ["x", "y", "z"], "a": [1.0, 2, 3], "b": [3.0, 1, 2], "grp": ["g", "g", "h"]})


def meta_with(code, col, value):
    m = META.copy().astype({col: object})
    m.loc[m["iCode"] == code, col] = value
    return m


def one_line(exc: pytest.ExceptionInfo) -> str:
    msg = str(exc.value)
    assert "\n" not in msg and msg
    return msg


@pytest.mark.parametrize("meta,needle", [
    (META.drop(columns=["Weight"]), "Weight"),
    (meta_with("a", "Parent", "Nowhere"), "Nowhere"),
    (meta_with("a", "Parent", "Index"), "one level above"),
    (meta_with("b", "Direction", 0), "Direction"),
    (meta_with("a", "Weight", -1), "Weight"),
    (meta_with("a", "Type", "Thing"), "Thing"),
    (meta_with("P", "Parent", None), "exactly one top"),
    (pd.concat([META, META.iloc[[0]]]), "more than once"),
    (META[META["iCode"] != "P"], "Parent"),
    (meta_with("a", "Level", "one"), "numeric"),
])
def test_bad_hierarchy(meta, needle):
    with pytest.raises(UserError) as exc:
        build_framework(meta)
    assert needle in one_line(exc)


def test_aggregate_without_children():
    m = pd.concat([META, pd.DataFrame([dict(Level=2, iCode="Q", Parent="Index", Direction=1, Weight=1,
                                            Type="Aggregate")])], ignore_index=True)
    with pytest.raises(UserError) as exc:
        build_framework(m)
    assert "'Q' has no children" in one_line(exc)


@pytest.mark.parametrize("data,settings,needle", [
    (DATA.drop(columns=["uCode"]), IndexSettings(), "uCode"),
    (DATA.drop(columns=["b"]), IndexSettings(), "b"),
    (pd.concat([DATA, DATA.iloc[[0]]]), IndexSettings(), "more than once"),
    (DATA.assign(a=["1", "x", "3"]), IndexSettings(), "numeric"),
    (DATA, IndexSettings(impute="group-mean", impute_group="nope"), "nope"),
    (DATA, IndexSettings(denominate="pop"), "pop"),
    (DATA, IndexSettings(normalise="target"), "Target"),
    (DATA.iloc[:0], IndexSettings(), "no units"),
])
def test_bad_data(data, settings, needle):
    with pytest.raises(UserError) as exc:
        compute(data, META, settings)
    assert needle in one_line(exc)


def test_good_inputs_with_index_named_ucode_and_extra_columns():
    res = compute(DATA.set_index("uCode").assign(note="x"), META, IndexSettings())
    assert list(res.index.index) == ["x", "y", "z"] and np.isfinite(res.index).all()
