"""Composite scores per unit and period, through the general index engine (pipelines.index).

Per grain, the units × periods panel goes through pipelines.index.compute in one call: outlier
treatment, normalisation, weights and aggregation run over the whole panel, so a score means the same
in every period of the grain (set index.normalisation_basis: period to normalise period by period).
Missing-data policies were applied before (indicators.compute_values): what reaches the engine as NaN is left
out and the other indicators re-weighted. Uncertainty runs the engine's Monte Carlo on the latest
periods of each grain; coherence statistics come from the engine's helpers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.analysis.catalogue import Catalogue
from pipelines.index import IndexSettings, compute
from pipelines.index.coherence import cronbach_alpha
from pipelines.index.grades import grade_cuts
from pipelines.index.ranks import rank_scores, rankdata
from pipelines.index.weighting import pairwise_corr

TOP = "index"
GRADE_LABELS = np.array(["红", "橙", "黄", "绿"], dtype=object)


@dataclass
class GrainScores:
    grain: str
    pids: np.ndarray              # periods of the grain, in time order
    n_units: int
    indicators: list[str]         # scored indicator ids (columns of the matrices)
    levels: list[str]             # dimension ids then TOP
    normalised: np.ndarray        # rows × indicators (rows = period position × n_units + uid)
    treated: np.ndarray           # rows × indicators, after outlier treatment (raw scale)
    scores: np.ndarray            # rows × levels
    grades: np.ndarray            # rows × levels, labels
    contributions: np.ndarray     # rows × indicators, adding up to the TOP score
    weights: dict[str, float]     # weights used, within parent
    meta: pd.DataFrame = field(repr=False, default=None)
    settings: IndexSettings = field(repr=False, default=None)
    dropped: list[str] = field(default_factory=list)   # constant over the whole panel: no information


def meta_table(cat: Catalogue, weights: dict[str, float] | None = None) -> pd.DataFrame:
    """The catalogue's hierarchy in COINr iMeta form: indicators → dimensions → index."""
    rows = []
    for ind in cat.scored:
        rows.append({"Level": 1, "iCode": ind.id, "Parent": ind.dimension, "Direction": ind.direction,
                     "Weight": weights.get(ind.id, ind.weight) if weights else ind.weight, "Type": "Indicator"})
    for dim in cat.scored_dimensions:
        rows.append({"Level": 2, "iCode": dim.id, "Parent": TOP, "Direction": 1,
                     "Weight": weights.get(dim.id, dim.weight) if weights else dim.weight, "Type": "Aggregate"})
    rows.append({"Level": 3, "iCode": TOP, "Parent": None, "Direction": 1, "Weight": 1.0, "Type": "Aggregate"})
    return pd.DataFrame(rows)


def index_settings(settings: dict, cat: Catalogue) -> IndexSettings:
    idx = settings["index"]
    ahp = {}
    if idx["weights"] == "ahp":
        used = [d.id for d in cat.scored_dimensions]
        spec = idx["ahp"]
        keep = [i for i, d in enumerate(spec["dimensions"]) if d in used]
        matrix = [[spec["matrix"][i][j] for j in keep] for i in keep]
        ahp = {TOP: {"children": [spec["dimensions"][i] for i in keep], "matrix": matrix}}
    return IndexSettings(treat=idx["treat"], normalise=idx["normalise"], weights=idx["weights"], ahp=ahp,
                         aggregate=idx["aggregate"])


def _grades(scores: np.ndarray, pos: np.ndarray, settings: dict) -> np.ndarray:
    """Grade labels for a rows × levels score matrix; quantile cuts over the panel or per period."""
    gr = settings["grades"]
    out = np.full(scores.shape, None, dtype=object)
    groups = [np.arange(len(pos))] if gr["basis"] == "panel" or gr["method"] == "fixed" else \
        [np.flatnonzero(pos == p) for p in np.unique(pos)]
    for col in range(scores.shape[1]):
        for rows in groups:
            s = scores[rows, col]
            if np.isnan(s).all():
                continue
            if gr["method"] == "fixed":
                cuts = grade_cuts(s, thresholds=gr["fixed"])
            else:
                cuts = grade_cuts(s, quantiles=gr["quantiles"])
            code = 3 - np.searchsorted(cuts, s, side="right")
            lab = GRADE_LABELS[np.clip(code, 0, 3)]
            lab[np.isnan(s)] = None
            out[rows, col] = lab
    return out


def score_grain(grain: str, pids: np.ndarray, n_units: int, x: np.ndarray, cat: Catalogue,
                settings: dict) -> GrainScores:
    """Run the engine on one grain's panel `x` (rows × scored indicators, NaN = left out)."""
    ids = [i.id for i in cat.scored]
    x = x.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns give NaN, on purpose
        spread = np.nanmax(x, axis=0) - np.nanmin(x, axis=0) if len(x) else np.zeros(len(ids))
    flat = ~(spread > 0)
    x[:, flat] = np.nan  # a constant indicator ranks nobody; the engine would give everyone the midpoint
    meta = meta_table(cat)
    s = index_settings(settings, cat)
    pos = np.repeat(np.arange(len(pids)), n_units)
    levels = [d.id for d in cat.scored_dimensions] + [TOP]
    basis = settings["index"]["normalisation_basis"]
    chunks = [np.arange(len(pos))] if basis == "panel" else [np.flatnonzero(pos == p) for p in range(len(pids))]
    norm = np.full(x.shape, np.nan)
    treated = np.full(x.shape, np.nan)
    contrib = np.full(x.shape, np.nan)
    scores = np.full((len(pos), len(levels)), np.nan)
    weights: dict[str, float] = {}
    for rows in chunks:
        data = pd.DataFrame(x[rows], columns=ids)
        data.insert(0, "uCode", rows.astype(str))
        res = compute(data, meta, s)
        norm[rows] = res.normalised.to_numpy()
        treated[rows] = res.treated.to_numpy()
        contrib[rows] = res.contributions.to_numpy()
        scores[rows] = res.scores[levels].to_numpy()
        weights = {k: float(v) for k, v in res.weights.items()}
    return GrainScores(grain, pids, n_units, ids, levels, norm, treated, scores, _grades(scores, pos, settings),
                       contrib, weights, meta, s, [ids[j] for j in np.flatnonzero(flat)])


def percentiles(v: np.ndarray, directions: np.ndarray, n_periods: int, n_units: int,
                sectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Risk percentiles (0-100, 100 = riskiest, ties share the lowest; SQL percent_rank) of every value among
    all units of its period, and among its sector peers. Vectorised over periods and indicators."""
    cube = (v * directions[None, :]).reshape(n_periods, n_units, -1)

    def prank(block: np.ndarray) -> np.ndarray:
        r = rankdata(block, method="min", axis=1)
        n = np.sum(~np.isnan(block), axis=1, keepdims=True)
        with np.errstate(invalid="ignore"):
            out = np.where(n > 1, (r - 1) / np.maximum(n - 1, 1) * 100, 0.0)
        return np.where(np.isnan(block), np.nan, out)

    overall = prank(cube)
    sector = np.full(cube.shape, np.nan)
    for s in np.unique(sectors):  # a loop over sectors (a few dozen), not units
        idx = np.flatnonzero(sectors == s)
        sector[:, idx, :] = prank(cube[:, idx, :])
    return overall.reshape(v.shape), sector.reshape(v.shape)


YOY_OFFSET = {"month": 12, "quarter": 4, "half": 2, "year": 1, "rolling12": 12}


def ranks_and_trends(scores: np.ndarray, n_periods: int, n_units: int, sectors: np.ndarray, grain: str,
                     trends: dict) -> dict[str, np.ndarray]:
    """Per period and level: rank (1 = riskiest, ties share the best), rank among sector peers, 环比 and 同比
    changes and the rising-risk flag, as rows × levels arrays. Periods of a grain are consecutive."""
    cube = scores.reshape(n_periods, n_units, -1)

    def rank(block):
        return rank_scores(block, axis=1)

    overall = rank(cube)
    sector = np.full(cube.shape, np.nan)
    for s in np.unique(sectors):
        idx = np.flatnonzero(sectors == s)
        sector[:, idx, :] = rank(cube[:, idx, :])

    def lagged(k):
        out = np.full(cube.shape, np.nan)
        if 0 < k < n_periods:
            out[k:] = cube[:-k]
        return out

    prev, prev2, yoy = lagged(1), lagged(2), lagged(YOY_OFFSET[grain])
    change_prev, change_before, change_yoy = cube - prev, prev - prev2, cube - yoy
    with np.errstate(invalid="ignore"):
        rising = ((change_prev >= float(trends["rising_delta"])) & (change_before > 0)) | \
            (change_yoy >= float(trends["rising_delta_yoy"]))
    shape = scores.shape
    return {"rank": overall.reshape(shape), "sector_rank": sector.reshape(shape),
            "change_prev": change_prev.reshape(shape), "change_yoy": change_yoy.reshape(shape),
            "rising": rising.reshape(shape)}


def coherence_rows(r: GrainScores, cat: Catalogue, period_names: dict[int, str]) -> list[dict]:
    """Cronbach's alpha, mean inter-item correlation and correlation with the index, per dimension and period;
    each indicator's correlation with its dimension. One correlation matrix per period."""
    out = []
    dims = r.levels[:-1]
    k = len(r.indicators)
    by_dim = {d: [j for j, i in enumerate(r.indicators) if cat.indicator(i).dimension == d] for d in dims}
    for p, pid in enumerate(r.pids):
        rows = slice(p * r.n_units, (p + 1) * r.n_units)
        block = np.hstack([r.normalised[rows], r.scores[rows]])  # indicators, dimensions, index
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            corr = pairwise_corr(block)
        period = period_names[int(pid)]
        for di, d in enumerate(dims):
            cols = by_dim[d]
            stats = {}
            if len(cols) > 1:
                stats["cronbach_alpha"] = cronbach_alpha(r.normalised[rows][:, cols])
                sub = corr[np.ix_(cols, cols)][np.triu_indices(len(cols), 1)]
                stats["mean_inter_item_r"] = float(np.nanmean(sub)) if np.isfinite(sub).any() else np.nan
            stats["corr_with_index"] = corr[k + di, -1]
            for j in cols:
                stats[f"corr_with_dimension:{r.indicators[j]}"] = corr[j, k + di]
            for name, v in stats.items():
                out.append({"grain": r.grain, "period": period, "dimension": d, "statistic": name,
                            "value": float(v) if v is not None and np.isfinite(v) else None})
    return out


def uncertainty_rows(r: GrainScores, settings: dict, period_names: dict[int, str]):
    """Monte Carlo rank intervals for the latest periods of the grain, and the variance shares.

    The engine's Monte Carlo normalises the units it is given; to keep the nominal run identical to the
    panel-normalised build, two anchor rows carrying the panel's least and most risky value of every
    indicator join the period's units (they fix min-max to the panel range and sit at the two ends of
    every ranking), and are taken out before ranks are read.
    Returns the 5th and 95th percentile ranks (periods × units, NaN outside the periods run) and the
    sensitivity rows."""
    from pipelines.analysis.indicators import qtile, sorted_values
    from pipelines.index.uncertainty import uncertainty

    unc = settings["uncertainty"]
    p05 = np.full((len(r.pids), r.n_units), np.nan)
    p95 = np.full((len(r.pids), r.n_units), np.nan)
    if r.grain not in unc["grains"] or int(unc["draws"]) == 0 or int(unc["periods"]) == 0:
        return p05, p95, []
    panel = settings["index"]["normalisation_basis"] == "panel"
    directions = np.array([1.0 if d > 0 else -1.0 for d in r.meta.set_index("iCode").loc[r.indicators, "Direction"]])
    meta = meta_table_from(r)
    s = r.settings.replace(treat="none", weights="meta", ahp={})
    sens_rows = []
    for p in range(max(0, len(r.pids) - int(unc["periods"])), len(r.pids)):
        rows = slice(p * r.n_units, (p + 1) * r.n_units)
        x = r.treated[rows].copy()
        present = ~np.isnan(x).all(axis=0)
        if not np.isfinite(r.scores[rows, -1]).any() or present.sum() < 2:
            continue
        n_anchor = 0
        if panel:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                lo, hi = np.nanmin(r.treated, axis=0), np.nanmax(r.treated, axis=0)
            risky = np.where(directions > 0, hi, lo)
            calm = np.where(directions > 0, lo, hi)
            x = np.vstack([x, risky, calm])
            n_anchor = 2
        data = pd.DataFrame(x, columns=r.indicators)
        data.insert(0, "uCode", np.arange(len(x)).astype(str))
        res = uncertainty(data, meta, s, n_draws=int(unc["draws"]), weight_noise=float(unc["weight_noise"]),
                          normalisations=tuple(unc["normalisations"]), aggregations=tuple(unc["aggregations"]),
                          leave_one_out=bool(unc["leave_one_out"]), seed=int(unc["seed"]) + p)
        ranks = res.rank_draws[:, : r.n_units].astype(float)
        if n_anchor:  # re-rank without the anchors, within each run
            ranks = rerank(ranks)
        xs, n = sorted_values(ranks, axis=0)
        p05[p], p95[p] = qtile(xs, n, 0.05), qtile(xs, n, 0.95)
        period = period_names[int(r.pids[p])]
        for factor, row in res.sensitivity.iterrows():
            sens_rows.append({"grain": r.grain, "period": period, "factor": str(factor),
                              "variance_share": _num(row["first_order"]),
                              "detail": {"first_order": _num(row["first_order"]), "total": _num(row["total"]),
                                         "runs": int(res.n_runs)}})
        if res.loo_summary is not None:
            for ind_id, row in res.loo_summary.iterrows():
                sens_rows.append({"grain": r.grain, "period": period, "factor": f"leave-one-out:{ind_id}",
                                  "variance_share": None,
                                  "detail": {"mean_abs_rank_shift": _num(row["mean_abs_shift"]),
                                             "max_abs_rank_shift": _num(row["max_abs_shift"])}})
    return p05, p95, sens_rows


def rerank(ranks: np.ndarray) -> np.ndarray:
    """Ranks (integers 1..m, ties sharing the best, NaN = unranked) of a subset of each row's units, re-ranked
    among themselves in the same way: 1 + how many of the row's ranks are smaller. Counting, not sorting."""
    n_runs = ranks.shape[0]
    ok = ~np.isnan(ranks)
    r = np.where(ok, ranks, 0).astype(np.int64)
    m = int(r.max()) + 2 if r.size else 2
    counts = np.bincount((r + np.arange(n_runs)[:, None] * m)[ok], minlength=n_runs * m).reshape(n_runs, m)
    below = np.cumsum(counts, axis=1)  # below[i, k] = ranks ≤ k in row i
    out = 1.0 + np.take_along_axis(below, np.maximum(r - 1, 0), axis=1)
    return np.where(ok, out, np.nan)


def meta_table_from(r: GrainScores) -> pd.DataFrame:
    """The nominal build's hierarchy with the weights it actually used (data-driven ones included)."""
    meta = r.meta.copy()
    meta["Weight"] = [r.weights.get(c, w) for c, w in zip(meta["iCode"], meta["Weight"])]
    return meta


def _num(v) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None
