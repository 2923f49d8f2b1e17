"""Composite scores per unit and period, through the general index engine (pipelines.index).

Per grain, the units × periods panel goes through pipelines.index.compute in one call: outlier
treatment, normalisation, weights and aggregation run over the whole panel, so a score means the same
in every period of the grain (set index.normalisation_basis: period to normalise period by period).
Missing-data policies were applied before (indicators.compute_values): what reaches the engine as NaN is left
out and the other indicators re-weighted. With `index.normalise: severity` (the default) indicators are put on
one scale here, by how far each stands past its warning lines (`severity`), and the engine aggregates them as
they are; grades follow the evidence rule of grading.py. Uncertainty runs the engine's Monte Carlo on the latest
periods of each grain; coherence statistics come from the engine's helpers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.analysis import grading
from pipelines.analysis.catalogue import Catalogue
from pipelines.analysis.indicators import IMPUTED, Values
from pipelines.index import IndexSettings, compute
from pipelines.index.coherence import cronbach_alpha
from pipelines.index.ranks import rank_scores, rankdata
from pipelines.index.weighting import pairwise_corr

TOP = "index"
GRADE_LABELS = grading.LABELS


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
    grades: np.ndarray            # rows × levels, labels (None: no grade)
    contributions: np.ndarray     # rows × indicators, adding up to the TOP score
    weights: dict[str, float]     # weights used, within parent
    meta: pd.DataFrame = field(repr=False, default=None)
    settings: IndexSettings = field(repr=False, default=None)
    dropped: list[str] = field(default_factory=list)   # constant over the whole panel: no information
    basis: np.ndarray | None = None      # rows × levels, why each grade is what it is (grading.BASIS codes)
    warning: np.ndarray | None = None    # rows × levels, highest record-backed warning level (0-3)
    imputed_share: np.ndarray | None = None  # rows × levels, share of the level's weight filled in (imputed)


def meta_table(cat: Catalogue, weights: dict[str, float] | None = None, directions: bool = True) -> pd.DataFrame:
    """The catalogue's hierarchy in COINr iMeta form: indicators → dimensions → index. directions=False: every
    indicator counts upwards (its values are already risk-oriented, as severities are)."""
    rows = []
    for ind in cat.scored:
        rows.append({"Level": 1, "iCode": ind.id, "Parent": ind.dimension, "Direction": ind.direction if directions else 1,
                     "Weight": weights.get(ind.id, ind.weight) if weights else ind.weight, "Type": "Indicator"})
    for dim in cat.scored_dimensions:
        rows.append({"Level": 2, "iCode": dim.id, "Parent": TOP, "Direction": 1,
                     "Weight": weights.get(dim.id, dim.weight) if weights else dim.weight, "Type": "Aggregate"})
    rows.append({"Level": 3, "iCode": TOP, "Parent": None, "Direction": 1, "Weight": 1.0, "Type": "Aggregate"})
    return pd.DataFrame(rows)


def severity_mode(settings: dict) -> bool:
    return settings["index"]["normalise"] == "severity"


def index_settings(settings: dict, cat: Catalogue) -> IndexSettings:
    idx = settings["index"]
    ahp = {}
    if idx["weights"] == "ahp":
        used = [d.id for d in cat.scored_dimensions]
        spec = idx["ahp"]
        keep = [i for i, d in enumerate(spec["dimensions"]) if d in used]
        matrix = [[spec["matrix"][i][j] for j in keep] for i in keep]
        ahp = {TOP: {"children": [spec["dimensions"][i] for i in keep], "matrix": matrix}}
    # severities are on one scale already: the engine aggregates them as they are
    normalise = "none" if severity_mode(settings) else idx["normalise"]
    return IndexSettings(treat=idx["treat"], normalise=normalise, weights=idx["weights"], ahp=ahp,
                         aggregate=idx["aggregate"], p=float(idx.get("p", 2.0)))


THIRD = 100 / 3  # severity of one warning line


def _segment(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """0 below a, 1 from b, linear between (a step at b where b <= a)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ramp = np.clip((x - a) / (b - a), 0.0, 1.0)
    return np.where(b > a, ramp, (x >= b).astype(float))


def severity(v: Values, cols: np.ndarray, directions: np.ndarray, raw_level: np.ndarray,
             supported: np.ndarray) -> np.ndarray:
    """Each scored indicator on one scale of cause for attention, periods × units × scored (0-100):
    0 at or below the period's typical value (the median of the units with a value of their own), rising
    linearly to 33.3 at the indicator's 黄 warning line, 66.7 at 橙 and 100 at 红 (lines per period from the
    catalogue's threshold rules). An indicator without warning lines reaches at most 33.3, at the period's highest
    value. A value goes no further than its records support (`supported`: the warning level its distinct records
    behind it would allow, warnings.min_records): past the 黄 line only towards a level it has the records for, so
    one record holds a value at the 黄 line whatever it is, and a value without a warning stays below the 黄 line.
    A filled-in (imputed) value scores 0: absence of records is not evidence. NaN stays NaN (left out).
    raw_level: the warning level the values reach before their records are counted; v.level: after.
    Every step is within a period, so the periods are taken a few at a time: the temporaries stay at about
    SEVERITY_CELLS cells each whatever the number of units (at national scale the 36 months × 45,000 units ×
    40 indicators are 0.5 GB a copy, and a dozen copies at once took the build past 14 GB)."""
    n_p, n_u = v.index_value.shape[:2]
    out = np.empty((n_p, n_u, len(cols)))
    step = max(1, SEVERITY_CELLS // max(1, n_u * len(cols)))
    for a in range(0, n_p, step):
        p = slice(a, a + step)
        out[p] = _severity(v.index_value[p][:, :, cols], v.status[p][:, :, cols], v.thresholds[p][:, :, cols],
                           raw_level[p][:, :, cols], v.level[p][:, :, cols], supported[p][:, :, cols],
                           directions[cols])
    return out


SEVERITY_CELLS = 1 << 22  # cells of one period chunk's temporaries (32 MB each)


def _severity(x: np.ndarray, status: np.ndarray, thresholds: np.ndarray, raw_level: np.ndarray, level: np.ndarray,
              supported: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """severity() of some periods, the arrays already narrowed to the scored indicators."""
    d = directions[None, None, :]
    xd = x * d
    observed = ~np.isnan(x) & (status != IMPUTED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(np.where(observed, xd, np.nan), axis=1, keepdims=True)
        top = np.nanmax(np.where(observed, xd, np.nan), axis=1, keepdims=True)
    t = thresholds * directions[None, None, :]  # periods × 3 × k, risk-oriented
    lines = [t[:, k, :][:, None, :] for k in range(3)]
    sev = THIRD * (_segment(xd, med, lines[0]) + _segment(xd, lines[0], lines[1]) + _segment(xd, lines[1], lines[2]))
    no_lines = np.isnan(lines[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        plain = THIRD * np.clip((xd - med) / (top - med), 0.0, 1.0)
    plain = np.where(top > med, plain, 0.0)
    sev = np.where(no_lines, plain, sev)
    flagged = raw_level > 0
    reach = np.minimum(level.astype(float) + 1, supported)
    cap = np.where(flagged, THIRD * reach, THIRD)
    sev = np.minimum(sev, np.where(no_lines, THIRD, cap))
    sev = np.where(status == IMPUTED, 0.0, sev)
    return np.where(np.isnan(x), np.nan, sev)


def score_grain(grain: str, pids: np.ndarray, n_units: int, x: np.ndarray, cat: Catalogue,
                settings: dict) -> GrainScores:
    """Run the engine on one grain's panel `x` (rows × scored indicators, NaN = left out): severities in severity
    mode, else values the engine normalises. Grades are set afterwards (grade_grain)."""
    ids = [i.id for i in cat.scored]
    x = x.copy()
    sev = severity_mode(settings)
    flat = np.zeros(len(ids), dtype=bool)
    if not sev:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-missing columns give NaN, on purpose
            spread = np.nanmax(x, axis=0) - np.nanmin(x, axis=0) if len(x) else np.zeros(len(ids))
        flat = ~(spread > 0)
        x[:, flat] = np.nan  # a constant indicator ranks nobody; the engine would give everyone the midpoint
    meta = meta_table(cat, directions=not sev)
    s = index_settings(settings, cat)
    pos = np.repeat(np.arange(len(pids)), n_units)
    levels = [d.id for d in cat.scored_dimensions] + [TOP]
    basis = settings["index"]["normalisation_basis"]
    chunks = [np.arange(len(pos))] if basis == "panel" or sev else \
        [np.flatnonzero(pos == p) for p in range(len(pids))]
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
    return GrainScores(grain, pids, n_units, ids, levels, norm, treated, scores,
                       np.full(scores.shape, None, dtype=object), contrib, weights, meta, s,
                       [ids[j] for j in np.flatnonzero(flat)])


def grade_bands(cat: Catalogue, s: IndexSettings, weights: dict[str, float] | None = None) -> grading.Bands:
    """The score bands of the grading rule for the catalogue's (or the given) weights and the engine's mean."""
    w = weights or {}
    iw = {d.id: [float(w.get(i.id, i.weight)) for i in cat.scored if i.dimension == d.id] for d in cat.scored_dimensions}
    dw = {d.id: float(w.get(d.id, d.weight)) for d in cat.scored_dimensions}
    return grading.bands(iw, dw, s.aggregate, s.p)


def warning_levels(level: np.ndarray, cols: np.ndarray, cat: Catalogue, levels: list[str]) -> np.ndarray:
    """Highest (record-backed) warning level per row and level: rows × levels, from v.level (periods × units ×
    indicators); a dimension takes its scored indicators', the index all of them."""
    lv = level[:, :, cols].reshape(-1, len(cols)).astype(np.int8)
    dims = [i.dimension for i in cat.scored]
    out = np.zeros((lv.shape[0], len(levels)), dtype=np.int8)
    for k, d in enumerate(levels[:-1]):
        j = [n for n, x in enumerate(dims) if x == d]
        if j:
            out[:, k] = lv[:, j].max(axis=1)
    out[:, -1] = lv.max(axis=1) if lv.shape[1] else 0
    return out


def imputed_shares(status: np.ndarray, cols: np.ndarray, r: GrainScores, cat: Catalogue) -> np.ndarray:
    """Per row and level, the share of the level's weight (of the indicators with a value) that was filled in:
    rows × levels. The index takes each indicator's effective weight (within dimension × dimension's share)."""
    st = status[:, :, cols].reshape(-1, len(cols))
    present = ~np.isnan(r.treated)
    imp = (st == IMPUTED) & present
    w_ind = np.array([r.weights.get(i, 0.0) for i in r.indicators])
    dims = [cat.indicator(i).dimension for i in r.indicators]
    out = np.full((st.shape[0], len(r.levels)), np.nan)
    eff = np.zeros_like(w_ind)
    for k, d in enumerate(r.levels[:-1]):
        j = np.array([n for n, x in enumerate(dims) if x == d])
        if not len(j):
            continue
        tot = (present[:, j] * w_ind[j]).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, k] = np.where(tot > 0, (imp[:, j] * w_ind[j]).sum(axis=1) / tot, np.nan)
        eff[j] = w_ind[j] / max(w_ind[j].sum(), 1e-300) * r.weights.get(d, 0.0)
    tot = (present * eff).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[:, -1] = np.where(tot > 0, (imp * eff).sum(axis=1) / tot, np.nan)
    return out


def grade_grain(r: GrainScores, warning: np.ndarray, records: np.ndarray, bands: grading.Bands,
                graded: bool) -> None:
    """Grades and their basis for every row and level of the grain, by the evidence rule (grading.py), in place.
    warning: rows × levels (warning_levels); records: ledger records of each row (unit-period)."""
    code = np.full(r.scores.shape, -1, dtype=np.int8)
    basis = np.zeros(r.scores.shape, dtype=np.int8)
    for k, level in enumerate(r.levels):
        code[:, k], basis[:, k] = grading.grade(r.scores[:, k], bands.of(level), warning[:, k], records, graded)
    r.grades = grading.labels(code)
    r.basis = basis
    r.warning = warning


def percentiles(v: np.ndarray, directions: np.ndarray, n_periods: int, n_units: int,
                sectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Risk percentiles (0-100, 100 = riskiest, ties share the lowest; SQL percent_rank) of every value among
    all units of its period, and among its sector peers. A value with no other to compare with (a unit alone in
    its sector) has no percentile (NaN, shown as —), not 0. Vectorised over periods and indicators."""
    cube = (v * directions[None, :]).reshape(n_periods, n_units, -1)

    def prank(block: np.ndarray) -> np.ndarray:
        r = rankdata(block, method="min", axis=1)
        n = np.sum(~np.isnan(block), axis=1, keepdims=True)
        with np.errstate(invalid="ignore"):
            out = np.where(n > 1, (r - 1) / np.maximum(n - 1, 1) * 100, np.nan)
        return np.where(np.isnan(block), np.nan, out)

    overall = prank(cube)
    sector = np.full(cube.shape, np.nan)
    for s in np.unique(sectors):  # a loop over sectors (a few dozen), not units
        idx = np.flatnonzero(sectors == s)
        sector[:, idx, :] = prank(cube[:, idx, :])
    return overall.reshape(v.shape), sector.reshape(v.shape)


YOY_OFFSET = {"month": 12, "quarter": 4, "half": 2, "year": 1, "rolling12": 12}


def ranks_and_trends(scores: np.ndarray, n_periods: int, n_units: int, sectors: np.ndarray, grain: str,
                     trends: dict, provisional: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per period and level: rank (1 = riskiest, ties share the best), rank among sector peers (none for a unit
    alone in its sector), 环比 and 同比 changes and the rising-risk flag, as rows × levels arrays. Periods of a
    grain are consecutive. A provisional period (its windows lack history, or it is not over) is not compared
    with another: no change to or from it."""
    cube = scores.reshape(n_periods, n_units, -1)
    if provisional is not None and provisional.any():
        compared = np.where(np.asarray(provisional)[:, None, None], np.nan, cube)
    else:
        compared = cube

    def rank(block):
        return rank_scores(block, axis=1)

    overall = rank(cube)
    sector = np.full(cube.shape, np.nan)
    for s in np.unique(sectors):
        idx = np.flatnonzero(sectors == s)
        if len(idx) > 1:
            sector[:, idx, :] = rank(cube[:, idx, :])

    def lagged(k):
        out = np.full(cube.shape, np.nan)
        if 0 < k < n_periods:
            out[k:] = compared[:-k]
        return out

    prev, prev2, yoy = lagged(1), lagged(2), lagged(YOY_OFFSET[grain])
    change_prev, change_before, change_yoy = compared - prev, prev - prev2, compared - yoy
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
    Returns the 5th and 95th percentile ranks (periods × units, NaN outside the periods run), the
    sensitivity rows, and why a unit-period has no interval (periods × units, INTERVAL_NOTES codes)."""
    from pipelines.analysis.indicators import qtile, sorted_values
    from pipelines.index.uncertainty import uncertainty

    unc = settings["uncertainty"]
    p05 = np.full((len(r.pids), r.n_units), np.nan)
    p95 = np.full((len(r.pids), r.n_units), np.nan)
    note = np.full((len(r.pids), r.n_units), INTERVAL_NOTES.index("not_run"), dtype=np.int8)
    note[np.isnan(r.scores[:, -1].reshape(len(r.pids), r.n_units))] = INTERVAL_NOTES.index("no_score")
    if r.grain not in unc["grains"] or int(unc["draws"]) == 0 or int(unc["periods"]) == 0:
        return p05, p95, [], note
    # severities sit on one fixed scale: nothing to anchor; otherwise the panel's ends anchor min-max
    panel = settings["index"]["normalisation_basis"] == "panel" and not severity_mode(settings)
    directions = np.array([1.0 if d > 0 else -1.0 for d in r.meta.set_index("iCode").loc[r.indicators, "Direction"]])
    meta = meta_table_from(r)
    s = r.settings.replace(treat="none", weights="meta", ahp={})
    sens_rows = []
    for p in range(max(0, len(r.pids) - int(unc["periods"])), len(r.pids)):
        rows = slice(p * r.n_units, (p + 1) * r.n_units)
        x = r.treated[rows].copy()
        present = ~np.isnan(x).all(axis=0)
        if not np.isfinite(r.scores[rows, -1]).any() or present.sum() < 2:
            note[p][note[p] != INTERVAL_NOTES.index("no_score")] = INTERVAL_NOTES.index("too_few_indicators")
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
        note[p] = np.where(np.isnan(p05[p]), note[p], INTERVAL_NOTES.index("ok"))
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
    return p05, p95, sens_rows, note


# Why a unit-period has no Monte Carlo rank interval (portraits say it in a sentence).
INTERVAL_NOTES = ("ok", "not_run", "too_few_indicators", "no_score")


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
