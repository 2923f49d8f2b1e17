"""The text classifier where users meet it: `zhengtai classify` on hand-written petitions, saved models, bad input."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.ml import classifier

HANDWRITTEN = Path(__file__).parent / "data" / "petitions_handwritten.csv"
MARGIN = 0.3  # held-out macro-F1 must beat the majority baseline by this much


@pytest.fixture(scope="module")
def handwritten() -> pd.DataFrame:
    return pd.read_csv(HANDWRITTEN)


def test_beats_majority_baseline_on_held_out_folds(handwritten):
    ev = classifier.evaluate(handwritten["反映内容"].tolist(), handwritten["问题类别"].tolist(), folds=3,
                             reference=False)
    assert ev["n_texts"] == 280 and set(ev["per_class"]) == set(handwritten["问题类别"])
    assert ev["macro_f1"] >= ev["baseline_macro_f1"] + MARGIN
    assert 0 <= ev["expected_calibration_error"] < 0.2


def test_training_is_deterministic_and_saved_models_predict_the_same(handwritten, tmp_path):
    texts, labels = handwritten["反映内容"].tolist()[:140], handwritten["问题类别"].tolist()[:140]
    a, _ = classifier.train(texts, labels)
    b, _ = classifier.train(texts, labels)
    np.testing.assert_array_equal(a.coef, b.coef)
    assert a.temperature == b.temperature and a.meta["data_sha256"] == b.meta["data_sha256"]
    path = a.save(tmp_path / "m.npz")
    loaded = classifier.Model.load(path)
    probe = handwritten["反映内容"].tolist()[140:160]
    np.testing.assert_allclose(loaded.predict_proba(probe)[0], a.predict_proba(probe)[0])
    assert loaded.meta["zhengtai_version"] and loaded.meta["sklearn_version"]
    assert loaded.settings == classifier.Settings() and loaded.meta["n_texts"] == 140
    # the data hash changes with one label
    assert classifier.data_hash(texts, labels[:-1] + ["其他"]) != a.meta["data_sha256"]


def test_identifiers_never_become_features():
    texts = ["张三反映局长收受红包，电话13912345678，身份证110101199001011234"] * 3 + ["群众反映村干部优亲厚友，电话13800001111"] * 3
    model, _ = classifier.train(texts, ["廉洁纪律"] * 3 + ["群众纪律"] * 3, classifier.Settings(calibration_folds=3))
    names = model.features.chars.names + model.features.words.names
    assert not any("139" in n or "1101" in n or "138" in n for n in names)


def _csv(tmp_path: Path, rows: list[tuple[str, str]], name: str = "labelled.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame(rows, columns=["反映内容", "问题类别"]).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def test_cli_train_evaluate_apply(zt, tmp_path, handwritten):
    data = tmp_path / "h.csv"
    handwritten.iloc[::2].to_csv(data, index=False)
    model = tmp_path / "topic.npz"
    res = zt("classify", "train", "--data", data, "--text", "反映内容", "--label", "问题类别", "--model", model, "--folds", "0")
    assert res.code == 0, res.err
    assert model.exists() and "7 classes" in res.out
    res = zt("classify", "evaluate", "--data", data, "--text", "反映内容", "--label", "问题类别", "--folds", "3",
             "--format", "json", "--no-reference")
    assert res.code == 0, res.err
    ev = json.loads(res.out)
    assert {"macro_f1", "per_class", "baseline_macro_f1"} <= set(ev) and ev["time_split"]["n_test"] > 0
    held_out = tmp_path / "new.csv"
    handwritten.iloc[1::2].assign(问题类别=lambda d: d["问题类别"].replace({"其他": "违法犯罪"})).to_csv(held_out, index=False)
    res = zt("classify", "apply", "--data", held_out, "--text", "反映内容", "--label", "问题类别", "--model", model,
             "--format", "csv")
    assert res.code == 0, res.err
    assert "违法犯罪" in res.err  # a label the model never saw is named
    out = pd.read_csv(pd.io.common.StringIO(res.out))
    assert len(out) == 140 and out["预测概率"].between(0, 1).all()
    assert (out["预测类别"] == out["登记类别"]).mean() > 0.3
    # --out: owner-only, even over a file left world-readable; the same rows as the CSV on stdout
    for name, read in (("pred.csv", pd.read_csv), ("pred.xlsx", lambda p: pd.read_excel(p, engine="openpyxl"))):
        written = tmp_path / name
        written.write_bytes(b"")
        os.chmod(written, 0o644)
        res = zt("classify", "apply", "--data", held_out, "--text", "反映内容", "--model", model, "--out", written)
        assert res.code == 0, res.err
        assert stat.S_IMODE(written.stat().st_mode) == 0o600
        assert read(written)["预测类别"].tolist() == out["预测类别"].tolist()
    res = zt("classify", "apply", "--data", held_out, "--text", "反映内容", "--model", model,
             "--out", tmp_path / "no" / "pred.csv")
    assert res.code == 2 and len(res.err.strip().splitlines()) == 1 and "cannot write" in res.err


def test_bad_input_is_one_clear_line(zt, tmp_path):
    rows = [("领导收受红包", "廉洁纪律"), ("局长收受购物卡", "廉洁纪律"), ("科长收受礼金", "廉洁纪律"),
            ("村干部优亲厚友", "群众纪律"), ("低保评定优亲厚友", "群众纪律"), ("截留补贴资金", "群众纪律"),
            ("", "工作纪律"), ("？！。。……", "工作纪律"), ("婚外情", "生活纪律")]
    data = _csv(tmp_path, rows)
    model = tmp_path / "m.npz"
    res = zt("classify", "train", "--data", data, "--text", "反映内容", "--label", "问题类别", "--model", model, "--folds", "0")
    assert res.code == 0, res.err
    assert "空或只有标点" in res.err and "生活纪律(1)" in res.err
    assert classifier.Model.load(model).classes == ["廉洁纪律", "群众纪律"]
    # one class left to learn: refused in one line
    one = _csv(tmp_path, rows[:3] + rows[6:], "one_class.csv")
    res = zt("classify", "train", "--data", one, "--text", "反映内容", "--label", "问题类别", "--model", model)
    assert res.code == 2 and len(res.err.strip().splitlines()) == 1 and "two classes" in res.err
    for args, words in ((["--text", "内容"], "内容"), (["--text", "反映内容", "--label", "类别"], "类别")):
        res = zt("classify", "evaluate", "--data", data, *(args if "--label" in args else [*args, "--label", "问题类别"]))
        assert res.code == 2 and words in res.err and "--text / --label" in res.err and "Traceback" not in res.err
    res = zt("classify", "apply", "--data", data, "--text", "反映内容", "--model", tmp_path / "none.npz")
    assert res.code == 2 and "not found" in res.err
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model", encoding="utf-8")
    res = zt("classify", "apply", "--data", data, "--text", "反映内容", "--model", notes)
    assert res.code == 2 and "not a zhengtai text model" in res.err
    # empty and punctuation-only texts get no prediction and are listed for review
    res = zt("classify", "apply", "--data", data, "--text", "反映内容", "--model", model, "--format", "json")
    out = json.loads(res.out)
    assert out[6]["预测类别"] is None and out[6]["需复核"] and out[7]["需复核"]
