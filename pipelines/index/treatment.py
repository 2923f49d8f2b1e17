"""Data preparation before normalisation (Handbook steps 3-4): denomination, imputation, outliers.

Outlier treatment reproduces COINr's Treat() defaults (COINr 1.1, R/treat.R):
  * check_SkewKurt: pass if |skew| < 2 OR kurtosis < 3.5 (type-2, Excel-style estimators, NaN removed);
  * winsorise: while failing and fewer than winmax (5) points treated, take the end the skew points to
    (skew >= 0: the maximum, else the minimum), set every unit tied at that extreme to the next value
    in; the count of treated points is the number of units currently tied at the winsorised
    extreme(s), exactly as COINr counts it;
  * if the winsorised column still fails, COINr applies log_CT to the ORIGINAL column
    (combine_treat = FALSE): log(x - min + 0.01 (max - min)), and keeps it whether or not it passes.
Fewer than 4 values, or a column whose skew/kurtosis is undefined (constant) before or after a
treatment, is returned untreated, as COINr does when f_pass returns NA.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from pipelines.errors import UserError


def denominate(data: pd.DataFrame, x: np.ndarray, indicators: tuple[str, ...], spec, meta_denoms: dict[str, str]) -> np.ndarray:
    """Divide indicators by denominator columns of the data (COINr Denominate)."""
    if spec is None:
        return x
    if spec == "meta":
        mapping = dict(meta_denoms)
    elif isinstance(spec, str):
        mapping = {i: spec for i in indicators}
    else:
        mapping = dict(spec)
    unknown = [i for i in mapping if i not in indicators]
    if unknown:
        raise UserError(f"denominate names {unknown[0]!r}, which is not an indicator")
    out = x.copy()
    for i, col in mapping.items():
        if col not in data.columns:
            raise UserError(f"denominator column {col!r} (for {i!r}) is not in the data")
        d = pd.to_numeric(data[col], errors="coerce").to_numpy(float)
        j = indicators.index(i)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, j] = np.where(d != 0, x[:, j] / d, np.nan)
    return out


def impute(x: np.ndarray, method: str, groups: np.ndarray | None = None) -> np.ndarray:
    """Fill missing values per indicator (COINr i_mean / i_median / i_mean_grp / i_median_grp / zero)."""
    if method == "none":
        return x
    miss = np.isnan(x)
    if not miss.any():
        return x
    if method == "zero":
        return np.where(miss, 0.0, x)
    if method in ("mean", "median"):
        fn = np.nanmean if method == "mean" else np.nanmedian
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-missing column stays missing
            fill = fn(x, axis=0)
        return np.where(miss, fill[None, :], x)
    if method in ("group-mean", "group-median"):
        if groups is None:
            raise UserError(f"impute={method!r} needs a group column")
        df = pd.DataFrame(x)
        key = pd.Series(groups).astype("string").fillna("<NA>").to_numpy()
        agg = "mean" if method == "group-mean" else "median"
        fill = df.groupby(key).transform(agg).to_numpy(float)
        return np.where(miss, fill, x)
    raise UserError(f"unknown impute method {method!r}")


def skew(v: np.ndarray) -> float:
    """COINr skew(): e1071 type 2 (Excel SKEW), on the non-missing values."""
    v = v[~np.isnan(v)]
    n = v.size
    if n < 3:
        return np.nan
    d = v - v.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.sqrt(n) * np.sum(d**3) / np.sum(d**2) ** 1.5
    return float(y * np.sqrt(n * (n - 1)) / (n - 2))


def kurt(v: np.ndarray) -> float:
    """COINr kurt(): e1071 type 2 (Excel KURT, excess kurtosis), on the non-missing values."""
    v = v[~np.isnan(v)]
    n = v.size
    if n < 4:
        return np.nan
    d = v - v.mean()
    with np.errstate(invalid="ignore", divide="ignore"):
        r = n * np.sum(d**4) / np.sum(d**2) ** 2
    return float(((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3)))


def passes(v: np.ndarray, skew_max: float, kurt_max: float, rule: str) -> bool | None:
    """Skew/kurtosis check; None when undefined (too few points or a constant column)."""
    s, k = skew(v), kurt(v)
    if not (np.isfinite(s) and np.isfinite(k)):
        return None
    if rule == "coinr":
        return bool(abs(s) < skew_max or k < kurt_max)
    return bool(abs(s) <= skew_max and k <= kurt_max)


def log_ct(v: np.ndarray) -> np.ndarray:
    """COINr log_CT: log(x - min + 0.01 (max - min))."""
    lo, hi = np.nanmin(v), np.nanmax(v)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(v - lo + 0.01 * (hi - lo))


def winsorise(v: np.ndarray, winmax: int, skew_max: float, kurt_max: float, rule: str) -> tuple[np.ndarray, int, np.ndarray]:
    """COINr winsorise(); returns (values, points treated, mask of treated points)."""
    v = v.copy()
    imax = np.zeros(v.size, dtype=bool)
    imin = np.zeros(v.size, dtype=bool)
    nwin = 0
    ok = passes(v, skew_max, kurt_max, rule)
    while ok is False and nwin < winmax:
        present = ~np.isnan(v)
        if skew(v) >= 0:
            top = np.nanmax(v)
            imax = present & (v == top)
            rest = v[present & ~imax]
            if rest.size == 0:
                break
            v[imax] = rest.max()
        else:
            bot = np.nanmin(v)
            imin = present & (v == bot)
            rest = v[present & ~imin]
            if rest.size == 0:
                break
            v[imin] = rest.min()
        nwin = int(imax.sum() + imin.sum())  # as COINr: last sets at each end, which hold all ties
        ok = passes(v, skew_max, kurt_max, rule)
    return v, nwin, imax | imin


def treat(x: np.ndarray, indicators: tuple[str, ...], settings) -> tuple[np.ndarray, pd.DataFrame]:
    """Outlier treatment column by column; returns the treated matrix and a per-indicator log."""
    rows = []
    out = x.copy()
    for j, code in enumerate(indicators):
        col = x[:, j]
        s0, k0 = skew(col), kurt(col)
        ok0 = passes(col, settings.skew_max, settings.kurt_max, settings.treat_rule)
        action, nwin = "none", 0
        if settings.treat == "log":
            out[:, j] = log_ct(col)
            action = "log"
        elif settings.treat == "winsorise" and ok0 is False:
            w, nwin, _ = winsorise(col, settings.winsorise_max, settings.skew_max, settings.kurt_max,
                                   settings.treat_rule)
            ok1 = passes(w, settings.skew_max, settings.kurt_max, settings.treat_rule)
            if ok1 is False:
                logged = log_ct(col)
                if passes(logged, settings.skew_max, settings.kurt_max, settings.treat_rule) is not None:
                    out[:, j] = logged
                    action = "log"
            elif ok1 is True:
                out[:, j] = w
                action = "winsorise" if nwin else "none"
            # ok1 None (check undefined after treatment): COINr returns the column untreated
        new = out[:, j]
        rows.append({
            "iCode": code, "action": action, "n_winsorised": nwin if action == "winsorise" else 0,
            "tried_winsorised": nwin, "skew_before": s0, "kurt_before": k0,
            "skew_after": skew(new), "kurt_after": kurt(new),
            "passes_before": ok0,
            "passes_after": passes(new, settings.skew_max, settings.kurt_max, settings.treat_rule),
        })
    return out, pd.DataFrame(rows).set_index("iCode")
