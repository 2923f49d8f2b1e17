"""Ranks along one axis with NaN left unranked: scipy's rankdata(method="min"|"average", nan_policy="omit")
in plain numpy. Importing scipy.stats costs 1.3-1.6 s of start-up on this machine, more than a county build's
whole computation, and ranking is all the index needs from it (tests check the two agree)."""

from __future__ import annotations

import numpy as np


def rankdata(a: np.ndarray, method: str = "average", axis: int = 0, rtol: float = 0.0) -> np.ndarray:
    """Ranks (1 = smallest) along `axis`; ties share the lowest rank ("min") or their mean ("average"); NaN
    values are left out of the ranking and stay NaN. Always float64.

    rtol > 0: values closer than rtol × (largest magnitude in their row) to the next smaller one tie with it,
    so float noise (a mean of equal values that differs from them in the last bit, depending on the order
    it was summed in) cannot decide a rank."""
    if method not in ("min", "average"):
        raise ValueError(f"rank method must be 'min' or 'average', not {method!r}")
    a = np.asarray(a, dtype=float)
    if a.size == 0:
        return a.copy()
    moved = np.ascontiguousarray(np.moveaxis(a, axis, -1))  # contiguous rows sort a third faster
    n = moved.shape[-1]
    order = np.argsort(moved, axis=-1, kind="stable")  # NaN sort last, so they do not shift the others' ranks
    s = np.take_along_axis(moved, order, axis=-1)
    pos = np.arange(n)
    new = np.ones(s.shape, dtype=bool)  # position starts a run of equal values
    if rtol > 0:
        with np.errstate(invalid="ignore"):
            scale = np.nanmax(np.abs(np.where(np.isnan(s), 0.0, s)), axis=-1, keepdims=True)
            new[..., 1:] = ~(s[..., 1:] - s[..., :-1] <= rtol * scale)
    else:
        new[..., 1:] = s[..., 1:] != s[..., :-1]
    first = np.maximum.accumulate(np.where(new, pos, 0), axis=-1)
    if method == "min":
        sorted_ranks = first + 1.0
    else:
        ends = np.ones(s.shape, dtype=bool)  # position ends a run
        ends[..., :-1] = new[..., 1:]
        last = np.minimum.accumulate(np.where(ends, pos, n - 1)[..., ::-1], axis=-1)[..., ::-1]
        sorted_ranks = (first + last) / 2.0 + 1.0
    out = np.empty(moved.shape)
    np.put_along_axis(out, order, sorted_ranks, axis=-1)
    out[np.isnan(moved)] = np.nan
    return np.moveaxis(out, -1, axis)


TIE_DECIMALS = 9  # scores that agree to 1e-9 points are a tie: summation order must not decide a rank


def rank_scores(scores: np.ndarray, axis: int = 0) -> np.ndarray:
    """Ranks of scores along `axis`, 1 = highest; ties (to TIE_DECIMALS) share the best rank; NaN stays NaN.
    Without the rounding, the same data in another unit order could rank two equal units apart by 1e-17."""
    return rankdata(-np.round(scores, TIE_DECIMALS), "min", axis=axis)
