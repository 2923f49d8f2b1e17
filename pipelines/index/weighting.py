"""Weighting schemes (Handbook step 6): given, equal, AHP, entropy and PCA weights.

All data-driven weights work on a (units x children) block of the values about to be aggregated and
return one weight per child, summing to 1.
"""

from __future__ import annotations

import numpy as np

from pipelines.errors import UserError

# Saaty's random consistency index RI(n) (Saaty 1980, as in most AHP textbooks).
SAATY_RI = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41, 9: 1.45, 10: 1.49,
            11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59}


class AHPInconsistencyError(UserError):
    """The expert's pairwise comparisons contradict each other too much (Saaty CR above the limit)."""


def ahp_weights(matrix, cr_max: float = 0.1, name: str = "") -> tuple[np.ndarray, float, float]:
    """Weights from a Saaty pairwise comparison matrix: the principal eigenvector, scaled to sum 1.

    a[i, j] says how much more important criterion i is than j (1..9 scale), a[j, i] = 1 / a[i, j].
    Returns (weights, lambda_max, consistency ratio CR = CI / RI, CI = (lambda_max - n) / (n - 1)).
    Raises AHPInconsistencyError when CR > cr_max (Saaty's rule: 0.1).
    """
    a = np.asarray(matrix, dtype=float)
    label = f" for {name}" if name else ""
    if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape[0] == 0:
        raise UserError(f"AHP matrix{label} must be square, got shape {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise UserError(f"AHP matrix{label} must hold positive numbers only")
    if not np.allclose(np.diag(a), 1.0):
        raise UserError(f"AHP matrix{label} must have 1 on its diagonal")
    if not np.allclose(a * a.T, 1.0, rtol=1e-3):
        raise UserError(f"AHP matrix{label} must be reciprocal: a[j][i] = 1 / a[i][j]")
    n = a.shape[0]
    vals, vecs = np.linalg.eig(a)
    k = int(np.argmax(vals.real))
    lam = float(vals[k].real)
    v = np.abs(vecs[:, k].real)
    w = v / v.sum()
    if n <= 2:
        return w, lam, 0.0
    ri = SAATY_RI.get(n, 1.59)
    ci = (lam - n) / (n - 1)
    cr = max(ci, 0.0) / ri
    if cr > cr_max:
        raise AHPInconsistencyError(
            f"AHP comparisons{label} are inconsistent: consistency ratio {cr:.3f} > {cr_max}; revise the matrix"
        )
    return w, lam, cr


def entropy_weights(x: np.ndarray) -> np.ndarray:
    """Shannon entropy weights per column (criterion), NaN-aware.

    p_ij = x_ij / sum_i x_ij over the units with data (m_j of them); E_j = -sum p ln p / ln m_j with
    0 ln 0 = 0; d_j = 1 - E_j; w = d / sum d. Columns with negative values are first shifted to start
    at 0 (entropy only sees proportions, so this equals min-max rescaling). Equal weights if every
    column is perfectly uniform. pymcdm gives the same numbers on positive matrices; on a column with a
    zero pymcdm sets E_j = 0 instead of using 0 ln 0 = 0.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] == 0:
        raise UserError("entropy weights need a 2-D matrix")
    present = ~np.isnan(x)
    m = present.sum(axis=0)
    colmin = np.where(m > 0, np.nanmin(np.where(present, x, np.inf), axis=0), 0.0)
    shift = np.where(colmin < 0, -colmin, 0.0)
    xs = np.where(present, x + shift, 0.0)
    tot = xs.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = xs / tot
        plogp = np.where(p > 0, p * np.log(p), 0.0)
        e = -plogp.sum(axis=0) / np.log(m)
    e = np.where((m > 1) & (tot > 0), e, 1.0)  # no spread information -> no weight
    d = 1.0 - e
    if d.sum() <= 0:
        return np.full(x.shape[1], 1.0 / x.shape[1])
    return d / d.sum()


def pca_weights(x: np.ndarray) -> np.ndarray:
    """First-principal-component weights: squared loadings of PC1 of the correlation matrix, scaled to
    sum 1 (the Handbook's factor-analysis weighting restricted to the first factor).

    Correlations are pairwise-complete (NaN-aware); a constant column gets zero correlation.
    """
    x = np.asarray(x, dtype=float)
    k = x.shape[1]
    if k == 1:
        return np.ones(1)
    r = pairwise_corr(x)
    r = np.where(np.isfinite(r), r, 0.0)
    np.fill_diagonal(r, 1.0)
    vals, vecs = np.linalg.eigh(r)
    v = vecs[:, -1]
    w = v**2
    return w / w.sum()


def pairwise_corr(x: np.ndarray) -> np.ndarray:
    """Pearson correlations between columns using, for each pair, the rows where both are present."""
    x = np.asarray(x, dtype=float)
    p = (~np.isnan(x)).astype(float)
    x0 = np.where(p > 0, x, 0.0)
    n = p.T @ p
    sx = x0.T @ p  # sum of column i over rows where j present
    sxx = (x0**2).T @ p
    sxy = x0.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = sxy - sx * sx.T / n
        vx = sxx - sx**2 / n
        r = cov / np.sqrt(vx * vx.T)
    r[n < 2] = np.nan
    return np.clip(r, -1.0, 1.0)


def level_weights(method: str, block: np.ndarray, nominal: np.ndarray, children: tuple[str, ...],
                  parent_of: np.ndarray, parents: tuple[str, ...], settings) -> np.ndarray:
    """Weights of one level's children, computed parent by parent.

    Data-driven weights sum to 1 within each parent; "meta" and "ahp" use the given numbers (only the
    ratios within a parent matter, since aggregation renormalises).
    """
    w = np.asarray(nominal, dtype=float).copy()
    if method == "equal":
        w[:] = 1.0
    elif method in ("entropy", "pca"):
        fn = entropy_weights if method == "entropy" else pca_weights
        for k in range(len(parents)):
            idx = np.flatnonzero(parent_of == k)
            w[idx] = fn(block[:, idx])
    elif method == "ahp":
        for k, parent in enumerate(parents):
            spec = settings.ahp.get(parent)
            if spec is None:
                continue
            idx = np.flatnonzero(parent_of == k)
            kids = [children[i] for i in idx]
            order = list(spec.get("children", kids))
            if sorted(order) != sorted(kids):
                raise UserError(f"AHP children for {parent!r} must be exactly {', '.join(kids)}")
            aw, _, _ = ahp_weights(spec["matrix"], settings.ahp_cr_max, parent)
            lookup = dict(zip(order, aw))
            w[idx] = [lookup[c] for c in kids]
    elif method != "meta":
        raise UserError(f"unknown weights method {method!r}")
    for i, c in enumerate(children):
        if c in settings.weight_overrides:
            w[i] = float(settings.weight_overrides[c])
    return w
