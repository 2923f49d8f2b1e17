"""Normalisation of a units x indicators matrix, column by column, NaN-aware (Handbook step 5).

Each function takes raw values `x` (NaN = missing) and per-column `directions` (1 / -1) and returns a
matrix of the same shape where higher is always "more" of the concept being measured. Missing stays
missing. Formulas follow COINr's n_* functions.
"""

from __future__ import annotations

import warnings

import numpy as np
from .ranks import rankdata

from pipelines.errors import UserError


# A column whose spread is below this fraction of its magnitude is constant up to float rounding (for
# example the mean imputed into a constant column can differ from it in the last bit): treat it as flat.
_FLAT = 1e-12


def _colstats(x: np.ndarray, fn) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN, on purpose
        return fn(x, axis=0)


def minmax(x: np.ndarray, directions: np.ndarray, lower: float = 0.0, upper: float = 100.0) -> np.ndarray:
    """COINr n_minmax after x * direction: (x - min) / (max - min) * (u - l) + l.

    A constant column (max == min, up to float rounding) has no information: COINr returns NaN there;
    we return the midpoint (l + u) / 2 so the unit keeps its other indicators' scores and bounds hold.
    """
    xd = x * directions
    lo = _colstats(xd, np.nanmin)
    hi = _colstats(xd, np.nanmax)
    rng = hi - lo
    flat = ~(rng > _FLAT * np.maximum(np.abs(hi), np.abs(lo)))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (xd - lo) / np.where(flat, 1.0, rng) * (upper - lower) + lower
    out[:, flat] = np.where(np.isnan(xd[:, flat]), np.nan, (lower + upper) / 2)
    return out


def excess(x: np.ndarray, directions: np.ndarray, lower: float = 0.0, upper: float = 100.0) -> np.ndarray:
    """Excess over the typical value (after x * direction): (x - median) / (max - median) mapped onto [lower, upper],
    values at or below the median at `lower`. For risk, where what is normal carries no cause for attention:
    the median unit, and every unit below it, score the floor, so a value filled in with the median (imputation)
    adds no risk, and only the excess over the norm ranks units (the centre line of a funnel plot, Spiegelhalter
    2005). A column with nothing above its median is flat: every unit at `lower`."""
    xd = x * directions
    med = _colstats(xd, np.nanmedian)
    hi = _colstats(xd, np.nanmax)
    rng = hi - med
    flat = ~(rng > _FLAT * np.maximum(np.abs(hi), np.abs(med)))
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.clip((xd - med) / np.where(flat, 1.0, rng), 0.0, 1.0) * (upper - lower) + lower
    out[:, flat] = np.where(np.isnan(xd[:, flat]), np.nan, lower)
    return out


def zscore(x: np.ndarray, directions: np.ndarray, mean: float = 0.0, sd: float = 1.0) -> np.ndarray:
    """COINr n_zscore after x * direction: (x - mean) / sd * s + m, sd with n - 1 (R's sd)."""
    xd = x * directions
    mu = _colstats(xd, np.nanmean)
    n = np.sum(~np.isnan(xd), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = np.nansum((xd - mu) ** 2, axis=0) / (n - 1)
        s = np.sqrt(var)
        flat = ~(s > _FLAT * np.abs(mu))
        out = (xd - mu) / np.where(flat, 1.0, s) * sd + mean
    out[:, flat] = np.where(np.isnan(xd[:, flat]), np.nan, mean)
    return out


def rank(x: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """COINr n_rank: average ranks among the units with data, 1 = lowest (after direction)."""
    xd = x * directions
    return rankdata(xd, method="average", axis=0, rtol=_FLAT)


def percentile(x: np.ndarray, directions: np.ndarray, lower: float = 0.0, upper: float = 100.0) -> np.ndarray:
    """COINr n_prank ((min-rank - 1) / (n - 1), in [0, 1]) mapped onto [lower, upper]."""
    xd = x * directions
    r = rankdata(xd, method="min", axis=0, rtol=_FLAT)
    n = np.sum(~np.isnan(xd), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = (r - 1) / (n - 1)
    p[:, n == 1] = np.where(np.isnan(xd[:, n == 1]), np.nan, 0.5)
    return p * (upper - lower) + lower


def target(
    x: np.ndarray,
    directions: np.ndarray,
    targets: np.ndarray,
    lower: float = 0.0,
    upper: float = 100.0,
    cap: bool = True,
) -> np.ndarray:
    """COINr n_dist2targ mapped onto [lower, upper].

    Direction 1: (x - min) / (target - min); direction -1: (max - x) / (max - target). With `cap`,
    values beyond the target score 1 (the upper bound).
    """
    if np.isnan(targets).any():
        raise UserError("normalise='target' needs a Target in iMeta for every indicator")
    lo = _colstats(x, np.nanmin)
    hi = _colstats(x, np.nanmax)
    pos = directions > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.where(pos, (x - lo) / (targets - lo), (hi - x) / (hi - targets))
    if cap:
        y = np.minimum(y, 1.0)
    return y * (upper - lower) + lower


def normalise(x: np.ndarray, directions: np.ndarray, targets: np.ndarray, settings) -> np.ndarray:
    """Dispatch on settings.normalise."""
    method = settings.normalise
    lo, hi = settings.bounds
    if method == "minmax":
        return minmax(x, directions, lo, hi)
    if method == "zscore":
        return zscore(x, directions, *settings.zscore)
    if method == "excess":
        return excess(x, directions, lo, hi)
    if method == "rank":
        return rank(x, directions)
    if method == "percentile":
        return percentile(x, directions, lo, hi)
    if method == "target":
        return target(x, directions, targets, lo, hi, settings.target_cap)
    if method == "none":
        return x * directions
    raise UserError(f"unknown normalise method {method!r}")


def scale_floor(normalised: np.ndarray, settings) -> float:
    """Lower reference `a` of the normalised scale, used to shift values for the geometric mean.

    It must not move with any single unit's value, or the geometric mean would stop being monotone:
    minmax/percentile/target use the lower bound (an uncapped target can go below it: then the observed
    minimum), rank uses 1, and zscore uses the lowest value a sample z-score can take among n units,
    mean - sd (n - 1) / sqrt(n) (Shiffler 1988), with n the number of units.
    """
    if settings.normalise in ("minmax", "percentile", "target", "excess"):
        lo = settings.bounds[0]
        obs = np.nanmin(normalised) if np.isfinite(normalised).any() else lo
        return float(min(lo, obs))
    if settings.normalise == "rank":
        return 1.0
    if settings.normalise == "none":  # no scale of its own: the observed minimum
        return float(np.nanmin(normalised)) if np.isfinite(normalised).any() else 0.0
    n = max(int(normalised.shape[0]), 1)
    m, s = settings.zscore
    return float(m - s * (n - 1) / np.sqrt(n))
