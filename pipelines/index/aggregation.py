"""Aggregation of one hierarchy level into the next, and the decomposition of scores into contributions.

Both means skip missing children and renormalise the others' weights per unit (COINr a_amean /
a_gmean). Everything is matrix algebra over (units x children) so that `uncertainty` can push a stack
of weight draws through the same code.

Geometric mean and zeros: min-max scores are 0 at the worst unit, where log() fails. With
geom_zero="shift" the mean is taken of x' = x - a + c (a = lower end of the normalised scale, see
normalisation.scale_floor; c =
geom_shift, default 1, so x' >= 1) and mapped back: G = exp(sum w log x') + a - c. G stays on the
scale of its inputs, within [min, max] of the children, and is monotone in each child.
"""

from __future__ import annotations

import numpy as np

from pipelines.errors import UserError


def incidence(parent_of: np.ndarray, weights: np.ndarray, n_parents: int) -> np.ndarray:
    """(children x parents) matrix with each child's weight in its parent's column."""
    m = np.zeros((len(parent_of), n_parents))
    m[np.arange(len(parent_of)), parent_of] = weights
    return m


def aggregate_level(
    x: np.ndarray,
    parent_of: np.ndarray,
    weights: np.ndarray,
    n_parents: int,
    method: str,
    floor: float = 0.0,
    shift: float = 1.0,
    geom_zero: str = "shift",
    p: float = 2.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Aggregate children `x` (units x children) into parents.

    Returns (scores: units x parents, renormalised weights per unit: units x children). A parent all
    of whose children are missing (or carry zero weight) is missing.
    """
    present = ~np.isnan(x)
    m = incidence(parent_of, weights, n_parents)
    den = present.astype(float) @ m
    if method == "arith":
        num = np.where(present, x, 0.0) @ m
    elif method == "geom":
        if geom_zero == "error":
            if np.any(x[present] <= 0):
                raise UserError("geometric mean needs values > 0; normalise to a positive scale or use geom_zero='shift'")
            xs = np.where(present, x, 1.0)
        else:
            xs = np.where(present, x - floor + shift, 1.0)
            if np.any(xs <= 0):
                raise UserError("geometric mean: a value lies below the scale floor; raise geom_shift")
        num = np.log(xs) @ m
    elif method == "genmean":
        xs = np.where(present, x - floor, 0.0)
        if np.any(xs < -1e-9 * max(1.0, abs(floor))):
            raise UserError("generalised mean: a value lies below the scale floor")
        num = np.maximum(xs, 0.0) ** p @ m
    else:
        raise UserError(f"unknown aggregate method {method!r}")
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = num / den
    mean[~(den > 0)] = np.nan
    if method == "geom":
        mean = np.exp(mean) + (0.0 if geom_zero == "error" else floor - shift)
    elif method == "genmean":
        mean = mean ** (1.0 / p) + floor
    with np.errstate(invalid="ignore", divide="ignore"):
        rw = np.where(present, weights[None, :] / den[:, parent_of], 0.0)
    rw[~np.isfinite(rw)] = 0.0
    return mean, rw


def contributions(
    values: list[np.ndarray],
    renorm: list[np.ndarray],
    parent_of: list[np.ndarray],
    method: str,
    floor: float = 0.0,
    shift: float = 1.0,
    geom_zero: str = "shift",
    p: float = 2.0,
) -> np.ndarray:
    """Each indicator's contribution to the top score, per unit (units x indicators).

    values[k]   scores of level k+1 (values[0] = normalised indicators, values[-1] = top, 1 column)
    renorm[k]   per-unit renormalised weights used to aggregate level k+1 into level k+2
    parent_of[k] child -> parent index for that step

    Arithmetic: contribution = product of the per-unit renormalised weights along the path from the
    indicator to the top x the indicator's normalised value. These add up to the top score exactly
    (up to float rounding), because the arithmetic mean is linear.

    Geometric: log-share decomposition. Within each parent, child j's share of the parent is
    s_j = w_j log(x'_j) / sum_k w_k log(x'_k) (x' shifted as in the module docstring; shares are >= 0
    when x' >= 1, i.e. geom_shift >= 1, and fall back to w_j when the parent sits at the floor).
    An indicator's contribution is the top score times the product of the shares along its path; the
    shares of each parent sum to 1, so contributions again add up to the top score.

    Generalised mean: the same with shares s_j = w_j (x_j - a)^p / sum_k w_k (x_k - a)^p.
    """
    n_units = values[0].shape[0]
    top = values[-1][:, 0]
    share = np.ones((n_units, 1))
    for k in range(len(renorm) - 1, -1, -1):
        if method == "arith":
            step = renorm[k]
        else:
            child = values[k]
            if method == "genmean":
                lx = np.maximum(np.where(np.isnan(child), 0.0, child - floor), 0.0) ** p
            elif geom_zero == "error":
                lx = np.log(np.where(np.isnan(child), 1.0, child))
            else:
                lx = np.log(np.where(np.isnan(child), 1.0, child - floor + shift))
            wl = renorm[k] * lx
            tot = wl @ incidence(parent_of[k], np.ones(len(parent_of[k])), values[k + 1].shape[1])
            denom = tot[:, parent_of[k]]
            with np.errstate(invalid="ignore", divide="ignore"):
                step = np.where(np.abs(denom) > 1e-300, wl / denom, renorm[k])
        share = share[:, parent_of[k]] * step
    if method == "arith":
        out = share * np.where(np.isnan(values[0]), 0.0, values[0])
    else:
        out = share * top[:, None]
    out[np.isnan(top)] = np.nan
    return out


def effective_weights(levels, weights_by_level: list[np.ndarray]) -> dict[str, float]:
    """Weight of every code in the top score with no missing data: product of the within-parent
    normalised weights along its path to the top."""
    eff: dict[str, float] = {levels[-1].parents[0]: 1.0}
    for lv, w in zip(reversed(levels), reversed(weights_by_level)):
        tot = np.bincount(lv.parent_of, weights=w, minlength=len(lv.parents))
        for c, p, wc in zip(lv.children, lv.parent_of, w):
            eff[c] = eff[lv.parents[p]] * (wc / tot[p] if tot[p] > 0 else 0.0)
    return eff


def topsis(matrix: np.ndarray, weights: np.ndarray, types: np.ndarray) -> dict[str, np.ndarray]:
    """TOPSIS closeness on min-max normalised criteria (as pymcdm's default TOPSIS).

    Returns the weighted normalised matrix, the ideal and anti-ideal points, the distances to them and
    the closeness Dm / (Dm + Dp) in [0, 1] (1 = at the ideal).
    """
    from pipelines.index.normalisation import minmax

    n = minmax(np.asarray(matrix, float), np.asarray(types, float), 0.0, 1.0)
    n[:, ~(np.nanmax(matrix, axis=0) > np.nanmin(matrix, axis=0))] = 1.0  # pymcdm: constant -> 1
    v = n * np.asarray(weights, float)
    pis, nis = v.max(axis=0), v.min(axis=0)
    dp = np.sqrt(((v - pis) ** 2).sum(axis=1))
    dm = np.sqrt(((v - nis) ** 2).sum(axis=1))
    return {"weighted": v, "ideal": pis, "anti_ideal": nis, "d_ideal": dp, "d_anti_ideal": dm,
            "closeness": dm / (dm + dp)}
