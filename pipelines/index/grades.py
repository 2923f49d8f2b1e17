"""Grades (红/橙/黄/绿) from scores, by fixed cut points or by quantiles of the scores."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pipelines.errors import UserError

DEFAULT_LABELS = ("红", "橙", "黄", "绿")  # worst first
DEFAULT_QUANTILES = (0.5, 0.8, 0.95)  # top 5 % red, next 15 % orange, next 30 % yellow, rest green


def grade_cuts(scores, thresholds: Sequence[float] | None = None,
               quantiles: Sequence[float] | None = None, n_labels: int = 4) -> np.ndarray:
    """Ascending cut points (n_labels - 1 of them): the given thresholds, or score quantiles."""
    if thresholds is not None and quantiles is not None:
        raise UserError("give grade thresholds or quantiles, not both")
    if thresholds is None:
        q = np.asarray(DEFAULT_QUANTILES if quantiles is None else quantiles, dtype=float)
        if np.any((q < 0) | (q > 1)):
            raise UserError("grade quantiles must lie in [0, 1]")
        s = np.asarray(scores, dtype=float)
        s = s[~np.isnan(s)]
        if s.size == 0:
            raise UserError("no scores to take grade quantiles from")
        cuts = np.quantile(s, q)
    else:
        cuts = np.asarray(thresholds, dtype=float)
    if cuts.ndim != 1 or len(cuts) != n_labels - 1:
        raise UserError(f"need {n_labels - 1} grade cut points for {n_labels} labels, got {len(cuts)}")
    if np.any(np.diff(cuts) < 0):
        raise UserError("grade cut points must be ascending")
    return cuts


def assign_grades(scores, thresholds: Sequence[float] | None = None, quantiles: Sequence[float] | None = None,
                  labels: Sequence[str] = DEFAULT_LABELS, higher_is_worse: bool = True) -> pd.Series:
    """Grade each score. `labels` run from worst to best.

    thresholds  ascending cut points c1 <= c2 <= c3 (for four labels). With higher_is_worse (a risk
                score): score >= c3 -> labels[0] (红), >= c2 -> 橙, >= c1 -> 黄, else 绿. Otherwise
                (a performance score): score < c1 -> labels[0], < c2 -> ..., >= c3 -> labels[-1].
    quantiles   instead of thresholds, cut points at these quantiles of the (non-missing) scores;
                default (0.5, 0.8, 0.95), i.e. with higher_is_worse the top 5 % are 红.
    A missing score gets a missing grade. Returns an ordered categorical Series (worst first).
    """
    labels = list(labels)
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise UserError("grade labels must be at least two distinct names")
    idx = scores.index if isinstance(scores, pd.Series) else None
    s = np.asarray(scores, dtype=float)
    cuts = grade_cuts(s, thresholds, quantiles, len(labels))
    if higher_is_worse:
        pos = np.searchsorted(cuts, s, side="right")  # 0 .. n-1 from low to high
        code = len(labels) - 1 - pos
    else:
        code = np.searchsorted(cuts, s, side="right")
        code = np.asarray(code)
    code = np.where(np.isnan(s), -1, code)
    cat = pd.Categorical.from_codes(code, categories=labels, ordered=True)
    return pd.Series(cat, index=idx, name="grade")
