"""Inside `zhengtai build`: a predicted category for every petition recorded as 其他 or without one.

The model is the team's own: a model saved by `zhengtai classify train` (learning.yaml: petition_categories.model)
or, by default, one learned in the build from the petitions whose category was recorded. Predictions go to
petition_predictions with their probability; below `review_below` they are listed for review. The recorded
category is never overwritten, so indicators count recorded categories only and predictions stay apart.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from pipelines.ml import classifier


def _sample(labels: np.ndarray, cap: int, seed: int) -> np.ndarray:
    """Row indices: everything up to `cap`, else a stratified sample (each class keeps its share, at least 5)."""
    idx = np.arange(len(labels))
    if len(idx) <= cap:
        return idx
    rng = np.random.default_rng(seed)
    out = []
    for c in np.unique(labels):
        rows = idx[labels == c]
        k = max(5, int(round(cap * len(rows) / len(idx))))
        out.append(rng.choice(rows, size=min(k, len(rows)), replace=False))
    return np.sort(np.concatenate(out))


def predict(con: duckdb.DuckDBPyConnection, cfg: dict, random_state: int = 0) -> tuple[pd.DataFrame, dict]:
    """(predictions, detail: model source, classes, evaluation or why there is no model)."""
    col = cfg.get("column", "category")
    df = con.execute(f"""SELECT petition_no, unit_name, received_date, {col} AS recorded, content
                         FROM petitions ORDER BY petition_no""").df()
    fill_values = [str(v) for v in cfg.get("fill", ["其他"])]
    rec = df["recorded"].astype(object)
    to_fill = (rec.isna() | rec.astype(str).str.strip().eq("") | rec.isin(fill_values)).to_numpy()
    empty = pd.DataFrame(columns=["petition_no", "unit_name", "received_date", "recorded", "predicted",
                                  "probability", "review", "reason"])
    if not to_fill.any():
        return empty, {"status": "nothing to fill", "to_fill": 0}
    settings = classifier.Settings(review_below=float(cfg.get("review_below", 0.6)), random_state=random_state)
    if cfg.get("model"):
        model = classifier.Model.load(Path(cfg["model"]))
        detail = {"status": "saved model", "path": str(cfg["model"]), "classes": model.classes,
                  "data_sha256": model.meta.get("data_sha256"), "evaluation": model.meta.get("evaluation")}
    else:
        labelled = ~to_fill & df["content"].fillna("").str.strip().ne("").to_numpy()
        if labelled.sum() < int(cfg.get("min_labelled", 60)):
            return empty, {"status": "too few labelled petitions", "labelled": int(labelled.sum()),
                           "min_labelled": int(cfg.get("min_labelled", 60)), "to_fill": int(to_fill.sum())}
        lab_idx = np.flatnonzero(labelled)
        labels = df["recorded"].to_numpy()[lab_idx].astype(str)
        take = lab_idx[_sample(labels, int(cfg.get("max_training", 20000)), random_state)]
        texts, y = df["content"].to_numpy()[take].tolist(), df["recorded"].to_numpy()[take].tolist()
        model, notes = classifier.train(texts, y, settings, source={"origin": "petitions", "label": col})
        # the quality estimate needs fewer texts than the model: a stratified sample bounds a province's build
        ev_rows = _sample(np.asarray(y, dtype=str), int(cfg.get("max_evaluation", 5000)), random_state)
        ev = classifier.evaluate([texts[i] for i in ev_rows], [y[i] for i in ev_rows], folds=int(cfg.get("folds", 5)),
                                 settings=settings, reference=False)
        detail = {"status": "learned in build", "classes": model.classes, "n_texts": model.meta["n_texts"],
                  "data_sha256": model.meta["data_sha256"], "notes": notes,
                  "evaluation": {k: ev[k] for k in ("folds", "macro_f1", "accuracy", "baseline_macro_f1",
                                                    "expected_calibration_error", "review_share", "per_class")}}
    rows = np.flatnonzero(to_fill)
    pred = classifier.apply(model, df["content"].to_numpy()[rows].tolist())
    out = df.iloc[rows][["petition_no", "unit_name", "received_date", "recorded"]].reset_index(drop=True)
    out["predicted"] = pred.label
    out["probability"] = np.round(pred.probability, 4)
    out["review"] = pred.review
    out["reason"] = pred.reason
    detail.update({"to_fill": int(len(rows)), "review": int(pred.review.sum()), "review_below": settings.review_below})
    return out, detail
