"""Indicators checked against outcomes, in the manner of the Corruption Risk Index's validation.

Question: does a unit's value this period say anything about substantiated cases (sanctions: the 四种形态 in
`outcome_forms`) next period? For every indicator (direction applied: higher = riskier), every dimension and the
composite:
  - AUC over all unit-periods that have a next period, with a 95% interval from resampling units (bootstrap by
    unit: a unit's periods are not independent observations);
  - a logistic slope per standard deviation with unit-clustered (sandwich) standard errors;
  - a time split: data-suggested weights are learned on the earlier periods only (L2 logistic on standardised
    indicators, negative slopes set to 0, normalised to sum 1) and every predictor, the expert composite and
    the data-weighted composite are scored by AUC on the later periods.
Verdicts (codes; words in data/vocabulary.yaml): predictive when the interval lies above 0.5, reversed below,
small_sample under 30 unit-periods or 5 outcomes. An indicator whose interval contains 0.5 is reported as
predicting nothing (none); it may still serve a duty
the outcome does not measure (cases follow detection effort as much as risk), which is why this informs and
does not replace the expert weights.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines import vocabulary


@dataclass
class Predictor:
    id: str
    kind: str            # indicator | dimension | composite
    name_zh: str
    expert_weight: float | None = None


def period_of(dates: pd.Series, grain: str) -> pd.Series:
    d = pd.to_datetime(dates)
    y = d.dt.year.astype("Int64").astype(str)
    if grain == "quarter":
        return y + "Q" + d.dt.quarter.astype(str)
    if grain == "half":
        return y + "H" + np.where(d.dt.month <= 6, "1", "2")
    if grain == "year":
        return y
    raise ValueError(grain)


def weighted_auc(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """AUC of score x for binary y under each row of weights w (B × n), ties counted half; NaN when a class is empty."""
    _, g = np.unique(x, return_inverse=True)
    G = int(g.max()) + 1
    B = w.shape[0]
    # weight per (draw, distinct value) by one flat bincount: memory B × G, never n × G
    idx = (np.arange(B)[:, None] * G + g[None, :]).ravel()
    pos = np.bincount(idx, weights=(w * (y == 1)).ravel(), minlength=B * G).reshape(B, G)
    neg = np.bincount(idx, weights=(w * (y == 0)).ravel(), minlength=B * G).reshape(B, G)
    below = np.cumsum(neg, axis=1) - neg
    num = (pos * (below + 0.5 * neg)).sum(axis=1)
    den = pos.sum(axis=1) * neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


def clustered_logit(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[float, float, float]:
    """Slope of y on standardised x by maximum likelihood (Newton), its unit-clustered SE and two-sided p."""
    from scipy.stats import norm

    sd = x.std()
    if sd == 0 or y.min() == y.max():
        return np.nan, np.nan, np.nan
    X = np.column_stack([np.ones(len(x)), (x - x.mean()) / sd])
    beta = np.zeros(2)
    for _ in range(50):
        p = 1 / (1 + np.exp(-np.clip(X @ beta, -30, 30)))
        H = X.T @ (X * (p * (1 - p))[:, None]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(H, X.T @ (y - p))
        beta += step
        if np.abs(step).max() < 1e-8:
            break
    p = 1 / (1 + np.exp(-np.clip(X @ beta, -30, 30)))
    bread = np.linalg.inv(X.T @ (X * (p * (1 - p))[:, None]) + 1e-9 * np.eye(2))
    scores = X * (y - p)[:, None]
    _, gi = np.unique(groups, return_inverse=True)
    S = np.zeros((gi.max() + 1, 2))
    np.add.at(S, gi, scores)
    G = len(S)
    V = bread @ (S.T @ S) @ bread * (G / max(G - 1, 1))
    se = float(np.sqrt(max(V[1, 1], 0)))
    z = beta[1] / se if se > 0 else np.nan
    return float(beta[1]), se, float(2 * (1 - norm.cdf(abs(z)))) if np.isfinite(z) else np.nan


def validate(values: pd.DataFrame, scores: pd.DataFrame, outcome_dates: pd.DataFrame, predictors: list[Predictor],
             directions: dict[str, int], grain: str, *, bootstrap: int = 200, test_share: float = 0.4,
             random_state: int = 0) -> tuple[pd.DataFrame, dict] | None:
    """values: indicator rows (period, unit_name, indicator_id, value); scores: (period, unit_name, level, score);
    outcome_dates: (unit_name, date) of each outcome case. One row per predictor."""
    from sklearn.linear_model import LogisticRegression

    periods = sorted(scores["period"].unique())
    if len(periods) < 3:
        return None
    nxt = dict(zip(periods[:-1], periods[1:]))
    units = sorted(scores["unit_name"].unique())
    oc = outcome_dates.assign(period=period_of(outcome_dates["date"], grain)).groupby(["unit_name", "period"]).size()
    panel = pd.MultiIndex.from_product([periods[:-1], units], names=["period", "unit_name"]).to_frame(index=False)
    panel["y"] = [int(oc.get((u, nxt[p]), 0) > 0) for p, u in zip(panel.period, panel.unit_name)]
    wide_v = values.pivot_table(index=["period", "unit_name"], columns="indicator_id", values="value", aggfunc="first")
    wide_s = scores.pivot_table(index=["period", "unit_name"], columns="level", values="score", aggfunc="first")
    wide_s.columns = [c + "__score" if c in wide_v.columns else c for c in wide_s.columns]
    X = panel.join(wide_v, on=["period", "unit_name"]).join(wide_s, on=["period", "unit_name"])
    y = X["y"].to_numpy()
    unit_codes = pd.Categorical(X["unit_name"], categories=units).codes
    rng = np.random.default_rng(random_state)
    # bootstrap weights by unit: a unit drawn k times counts k times with all its periods
    draws = rng.multinomial(len(units), np.full(len(units), 1 / len(units)), size=bootstrap)
    W = draws[:, unit_codes].astype(float)
    n_train = max(1, int(round(len(periods[:-1]) * (1 - test_share))))
    train_p = set(periods[:-1][:n_train])
    is_train = X["period"].isin(train_p).to_numpy()

    def column(pr: Predictor) -> np.ndarray | None:
        key = pr.id if pr.kind == "indicator" else pr.id + ("__score" if pr.id in wide_v.columns else "")
        if key not in X.columns:
            return None
        col = X[key].to_numpy(dtype=float)
        return col * directions.get(pr.id, 1) if pr.kind == "indicator" else col

    rows = []
    ind = [pr for pr in predictors if pr.kind == "indicator"]
    # data-suggested weights: standardised indicators, NaN → mean (0), learned on the earlier periods only
    Z = np.column_stack([c if (c := column(pr)) is not None else np.full(len(X), np.nan) for pr in ind]) if ind else None
    data_w = np.zeros(len(ind))
    data_score = None
    if Z is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an indicator without values in the training periods
            mu, sd = np.nanmean(Z[is_train], axis=0), np.nanstd(Z[is_train], axis=0)
        mu, sd = np.nan_to_num(mu), np.nan_to_num(sd)
        Zs = np.where(np.isfinite(Z), (Z - mu) / np.where(sd > 0, sd, 1), 0.0)
        if len(np.unique(y[is_train])) == 2:
            lr = LogisticRegression(C=1.0, max_iter=2000, random_state=random_state).fit(Zs[is_train], y[is_train])
            coef = np.clip(lr.coef_[0], 0, None)
            if coef.sum() > 0:
                data_w = coef / coef.sum()
                data_score = Zs @ data_w
    extra = [Predictor("data_weighted", "composite", vocabulary.word("learning_text", "composite_data"))]
    for pr in predictors + extra:
        x = data_score if pr.id == "data_weighted" else column(pr)
        if x is None:
            continue
        ok = np.isfinite(x)
        n, pos = int(ok.sum()), int(y[ok].sum())
        auc = lo = hi = test = coef = se = pv = np.nan
        if n >= 10 and 0 < pos < n:
            auc = float(weighted_auc(x[ok], y[ok], np.ones((1, n)))[0])
            boots = weighted_auc(x[ok], y[ok], W[:, ok])
            lo, hi = np.nanpercentile(boots, [2.5, 97.5])
            coef, se, pv = clustered_logit(x[ok], y[ok].astype(float), unit_codes[ok])
            te = ok & ~is_train
            if 0 < y[te].sum() < te.sum():
                test = float(weighted_auc(x[te], y[te], np.ones((1, int(te.sum()))))[0])
        if n < 30 or pos < 5 or not np.isfinite(auc):
            verdict = "small_sample"
        elif lo > 0.5:
            verdict = "predictive"
        elif hi < 0.5:
            verdict = "reversed"
        else:
            verdict = "none"
        dw = float(data_w[ind.index(pr)]) if pr in ind else None
        rows.append({"predictor": pr.id, "kind": pr.kind, "name_zh": pr.name_zh, "n": n, "positives": pos,
                     "auc": _r(auc), "auc_low": _r(lo), "auc_high": _r(hi), "test_auc": _r(test), "coef": _r(coef),
                     "se": _r(se), "p_value": _r(pv), "expert_weight": pr.expert_weight, "data_weight": _r(dw),
                     "verdict": verdict})
    detail = {"periods": len(periods), "train_periods": sorted(train_p), "test_periods": sorted(set(periods[:-1]) - train_p),
              "outcome_rate": round(float(y.mean()), 4), "unit_periods": int(len(y)), "bootstrap": bootstrap}
    return pd.DataFrame(rows), detail


def _r(v, nd: int = 4):
    return None if v is None or not np.isfinite(v) else round(float(v), nd)
