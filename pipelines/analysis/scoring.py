"""Composite scores per unit and period, through the general index engine (pipelines.index).

Per grain, the units × periods panel goes through pipelines.index.compute in one call: outlier
treatment, normalisation, weights and aggregation run over the whole panel, so a score means the same
in every period of the grain (set index.normalisation_basis: period to normalise period by period).
Missing-data policies were applied in SQL before (values.sql): what reaches the engine as NaN is left
out and the other indicators re-weighted. Uncertainty runs the engine's Monte Carlo on the latest
periods of each grain; coherence statistics come from the engine's helpers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import rankdata

import duckdb

from pipelines.analysis.catalogue import Catalogue
from pipelines.index import IndexSettings, compute
from pipelines.index.coherence import cronbach_alpha
from pipelines.index.grades import grade_cuts
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


def load_matrix(con: duckdb.DuckDBPyConnection, cat: Catalogue, grain: str):
    """Periods of a grain, unit count, the rows × scored-indicators matrix of index inputs (after the
    missing policy) and the rows × all-indicators matrix of values that count (status ok)."""
    pids = con.execute("SELECT pid FROM periods WHERE grain = ? ORDER BY seq", [grain]).fetchnumpy()["pid"]
    n_units = con.execute("SELECT count(*) FROM unit_dim").fetchall()[0][0]
    scored = {ind.code: j for j, ind in enumerate(cat.scored)}
    x = np.full((len(pids) * n_units, len(scored)), np.nan)
    v = np.full((len(pids) * n_units, len(cat.indicators)), np.nan)
    if len(pids) == 0:
        return pids, n_units, x, v
    got = con.execute(
        """SELECT v.pid, v.uid, v.ind, v.index_value, v.value FROM ivals AS v JOIN periods AS p USING (pid)
           WHERE p.grain = ? AND (v.index_value IS NOT NULL OR v.value IS NOT NULL)""", [grain]).fetchnumpy()
    row = np.searchsorted(pids, got["pid"]) * n_units + got["uid"]  # pids of a grain are consecutive
    ind = np.asarray(got["ind"])
    v[row, ind] = _floats(got["value"])  # indicator codes are positions in the catalogue
    lookup = np.full(len(cat.indicators), -1)
    for code, j in scored.items():
        lookup[code] = j
    col = lookup[ind]
    keep = col >= 0
    x[row[keep], col[keep]] = _floats(got["index_value"])[keep]
    return pids, n_units, x, v


def _floats(a) -> np.ndarray:
    """A fetched column as float64 with NaN for NULL (DuckDB hands nullable columns over as masked arrays)."""
    if isinstance(a, np.ma.MaskedArray):
        return a.astype(float).filled(np.nan)
    return np.asarray(a, dtype=float)


def percentiles(v: np.ndarray, directions: np.ndarray, n_periods: int, n_units: int,
                sectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Risk percentiles (0-100, 100 = riskiest, ties share the lowest; SQL percent_rank) of every value among
    all units of its period, and among its sector peers. Vectorised over periods and indicators."""
    cube = (v * directions[None, :]).reshape(n_periods, n_units, -1)

    def prank(block: np.ndarray) -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            r = rankdata(block, method="min", axis=1, nan_policy="omit")
            n = np.sum(~np.isnan(block), axis=1, keepdims=True)
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
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return rankdata(-block, method="min", axis=1, nan_policy="omit")

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


def register_scores(con: duckdb.DuckDBPyConnection, results: list[GrainScores], cat: Catalogue,
                    extras: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]], n_drivers: int,
                    sectors: np.ndarray, trends: dict) -> None:
    """Long temp tables for SQL, built from numpy arrays through Arrow (integer codes, no Python objects):
    norm_long(k, normalised, contribution, percentile, sector_percentile) for every indicator, keyed by
    k = (pid · n_units + uid) · n_indicators + ind (one integer: the cheapest join at millions of rows);
    score_long(pid, uid, level_code, score, grade_code, rank, sector_rank, change_prev, change_yoy, rising);
    driver_long(pid, uid, ind, pos, excess, value, contribution, percentile): per unit and period the
    indicators whose contribution most exceeds the period's average for that indicator, most first."""
    import pyarrow as pa

    n_all = len(cat.indicators)
    code = {i.id: i.code for i in cat.indicators}
    levels = [d.id for d in cat.scored_dimensions] + [TOP]
    level_code = {lv: k for k, lv in enumerate(levels)}
    grade_code = {g: k for k, g in enumerate(GRADE_LABELS)}
    norm_parts, score_parts, drv_parts = [], [], []
    f = lambda a: pa.array(np.asarray(a, dtype=float).ravel(), from_pandas=True)  # noqa: E731 - NaN → NULL
    for r in results:
        rows = len(r.pids) * r.n_units
        if rows == 0:
            continue
        pid = np.repeat(r.pids.astype(np.int32), r.n_units)
        uid = np.tile(np.arange(r.n_units, dtype=np.int32), len(r.pids))
        cols = np.array([code[i] for i in r.indicators])
        norm = np.full((rows, n_all), np.nan)
        contrib = np.full((rows, n_all), np.nan)
        norm[:, cols] = r.normalised
        contrib[:, cols] = r.contributions
        values, pct, spct = extras[r.grain]
        base = (pid.astype(np.int64) * r.n_units + uid) * n_all
        norm_parts.append(pa.table({
            "k": (base[:, None] + np.arange(n_all)[None, :]).ravel(),
            "normalised": f(norm), "contribution": f(contrib), "percentile": f(pct), "sector_percentile": f(spct),
        }))
        m = len(r.levels)
        gcodes = np.full(r.grades.shape, -1, dtype=np.int8)
        for g, k in grade_code.items():
            gcodes[r.grades == g] = k
        rt = ranks_and_trends(r.scores, len(r.pids), r.n_units, sectors, r.grain, trends)
        score_parts.append(pa.table({
            "pid": np.repeat(pid, m), "uid": np.repeat(uid, m),
            "level_code": np.tile(np.array([level_code[lv] for lv in r.levels], dtype=np.int8), rows),
            "score": f(r.scores), "grade_code": pa.array(gcodes.ravel(), mask=(gcodes.ravel() < 0)),
            "rank": f(rt["rank"]), "sector_rank": f(rt["sector_rank"]), "change_prev": f(rt["change_prev"]),
            "change_yoy": f(rt["change_yoy"]), "rising": rt["rising"].ravel(),
        }))
        # drivers: excess over the period mean of each indicator's contribution, top n per unit-period
        c3 = r.contributions.reshape(len(r.pids), r.n_units, -1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            excess = (c3 - np.nanmean(c3, axis=1, keepdims=True)).reshape(rows, -1)
        excess = np.where(np.isnan(excess), -np.inf, excess)
        n = min(n_drivers, excess.shape[1])
        top = np.argsort(-excess, axis=1, kind="stable")[:, :n]
        top_ex = np.take_along_axis(excess, top, axis=1)
        ok = top_ex > 0
        rr, pos = np.nonzero(ok)
        ind = cols[top[ok]]
        drv_parts.append(pa.table({
            "pid": pid[rr], "uid": uid[rr], "ind": ind.astype(np.int32), "pos": (pos + 1).astype(np.int32),
            "excess": top_ex[ok], "value": f(values[rr, ind]), "contribution": f(contrib[rr, ind]),
            "percentile": f(pct[rr, ind]),
        }))
    if not norm_parts:
        raise ValueError("no periods to score")  # check_data guarantees at least one dated row
    tables = {"norm_long": pa.concat_tables(norm_parts), "score_long": pa.concat_tables(score_parts),
              "driver_long": pa.concat_tables(drv_parts)}
    for name, tbl in tables.items():
        con.register(f"{name}_arrow", tbl)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
        con.unregister(f"{name}_arrow")
    con.execute("CREATE OR REPLACE TEMP TABLE level_dim (code TINYINT, level VARCHAR)")
    con.executemany("INSERT INTO level_dim VALUES (?, ?)", [[k, lv] for lv, k in level_code.items()])
    con.execute("CREATE OR REPLACE TEMP TABLE grade_dim (code TINYINT, grade VARCHAR)")
    con.executemany("INSERT INTO grade_dim VALUES (?, ?)", [[k, g] for g, k in grade_code.items()])


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
    Returns (rank rows: pid, uid, p05, p95), (sensitivity rows)."""
    from pipelines.index.uncertainty import uncertainty

    unc = settings["uncertainty"]
    if r.grain not in unc["grains"] or int(unc["draws"]) == 0 or int(unc["periods"]) == 0:
        return [], []
    panel = settings["index"]["normalisation_basis"] == "panel"
    directions = np.array([1.0 if d > 0 else -1.0 for d in r.meta.set_index("iCode").loc[r.indicators, "Direction"]])
    meta = meta_table_from(r)
    s = r.settings.replace(treat="none", weights="meta", ahp={})
    rank_rows, sens_rows = [], []
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
            ranks = rankdata(ranks, method="min", axis=1, nan_policy="omit")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            q = np.nanquantile(ranks, [0.05, 0.95], axis=0)
        pid = int(r.pids[p])
        rank_rows.append(pd.DataFrame({"pid": pid, "uid": np.arange(r.n_units), "rank_p05": q[0], "rank_p95": q[1]}))
        period = period_names[pid]
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
    return rank_rows, sens_rows


def meta_table_from(r: GrainScores) -> pd.DataFrame:
    """The nominal build's hierarchy with the weights it actually used (data-driven ones included)."""
    meta = r.meta.copy()
    meta["Weight"] = [r.weights.get(c, w) for c, w in zip(meta["iCode"], meta["Weight"])]
    return meta


def _num(v) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None
