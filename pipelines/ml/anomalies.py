"""Unusual units (异常模式): an isolation forest over unit-period indicator vectors.

A rule warning says one indicator passed its threshold; this says a unit's whole pattern is rare — a
combination no single threshold catches (many petitions and no cases, fast rectification and many recurrences).
Per grain, all unit-periods are pooled; each indicator is robust-scaled within its period (median and
interquartile range of that period's units, so a county-wide rise is not "unusual") and missing values sit at
the median (0). The most isolated `share` of unit-periods raise a signal; the indicators named are those whose
reset to the period median lowers the anomaly score most (the model's own reasons, not a side statistic).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines import vocabulary


@dataclass
class Result:
    frame: pd.DataFrame      # grain, period, unit_name, score, percentile, flagged, drivers (list of dicts), message
    detail: dict


def robust_scale(values: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """Per period and column: (x − median) / IQR (scaled to a normal SD), NaN → 0; constant columns stay 0."""
    out = np.zeros_like(values, dtype=float)
    for p in np.unique(periods):
        rows = periods == p
        block = values[rows]
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns: NaN, then 0 below
            med = np.nanmedian(block, axis=0)
            q75, q25 = np.nanpercentile(block, [75, 25], axis=0)
            mad = np.nanmean(np.abs(block - med), axis=0) * 1.2533  # fall-back scale when half the units share a value
        iqr = (q75 - q25) / 1.349
        scale = np.where(iqr > 0, iqr, np.where(mad > 0, mad, np.nan))
        z = (block - med) / scale
        out[rows] = np.where(np.isfinite(z), np.clip(z, -10, 10), 0.0)
    return out


def detect(frame: pd.DataFrame, names: dict[str, str], *, trees: int = 300, share: float = 0.05, drivers: int = 3,
           random_state: int = 0) -> Result | None:
    """frame: one grain's rows (period, unit_name, indicator_id, value). None when too few unit-periods."""
    from sklearn.ensemble import IsolationForest

    wide = frame.pivot_table(index=["period", "unit_name"], columns="indicator_id", values="value", aggfunc="first",
                             dropna=False)
    wide = wide.loc[:, wide.notna().any(axis=0)]
    if len(wide) < 20 or wide.shape[1] < 2:
        return None
    periods = wide.index.get_level_values("period").to_numpy()
    raw = wide.to_numpy(dtype=float)
    z = robust_scale(raw, periods)
    model = IsolationForest(n_estimators=trees, random_state=random_state).fit(z)
    score = -model.score_samples(z)  # the paper's anomaly score s(x) in (0, 1]
    pct = pd.Series(score).rank(pct=True).to_numpy() * 100
    cut = np.quantile(score, 1 - share)
    flagged = score >= cut
    cols = list(wide.columns)
    drv: list[list[dict]] = [[] for _ in range(len(score))]
    messages = np.full(len(score), None, dtype=object)
    idx = np.flatnonzero(flagged)
    if len(idx):
        # Reset one indicator at a time to the period median (0) and rescore: the drop is its part in the anomaly.
        probe = np.repeat(z[idx], len(cols), axis=0)
        k = np.tile(np.arange(len(cols)), len(idx))
        probe[np.arange(len(probe)), k] = 0.0
        drop = (score[idx][:, None] - (-model.score_samples(probe)).reshape(len(idx), len(cols)))
        for r, row in enumerate(idx):
            order = np.argsort(-drop[r], kind="stable")
            top = [j for j in order[:drivers] if drop[r, j] > 0 and z[row, j] != 0]
            drv[row] = [{"indicator_id": cols[j], "name_zh": names.get(cols[j], cols[j]),
                         "value": None if np.isnan(raw[row, j]) else round(float(raw[row, j]), 4),
                         "z": round(float(z[row, j]), 2), "score_drop": round(float(drop[r, j]), 4)} for j in top]
            parts = [vocabulary.template("learning_text", "anomaly_high" if d["z"] > 0 else "anomaly_low",
                                         name=d["name_zh"]) for d in drv[row]]
            messages[row] = vocabulary.template(
                "learning_text", "anomaly", score=f"{score[row]:.2f}",
                drivers="、".join(parts) if parts else vocabulary.word("learning_text", "anomaly_rare"))
    out = pd.DataFrame({"period": periods, "unit_name": wide.index.get_level_values("unit_name").to_numpy(),
                        "score": score.round(4), "percentile": pct.round(1), "flagged": flagged, "drivers": drv,
                        "message": messages})
    return Result(out, {"unit_periods": int(len(score)), "indicators": len(cols), "threshold": round(float(cut), 4),
                        "share": share, "trees": trees})
