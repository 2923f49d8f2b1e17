"""Uncertainty and sensitivity analysis of unit ranks (Handbook step 7; COINr get_sensitivity).

Uncertain inputs ("factors"), each sampled independently:
  weights        every weight of the hierarchy (indicator and aggregate levels) multiplied by its own
                 U(1 - weight_noise, 1 + weight_noise) factor (COINr's "noise" on weights); nominal
                 weights are those of the nominal build (data-driven weights are not re-estimated);
  normalisation  one of `normalisations`, uniformly;
  aggregation    one of `aggregations`, uniformly;
  exclusion      no indicator or one of the p indicators left out, uniformly among these p + 1 options
                 (leaving out = weight 0, so the siblings' weights are renormalised).
Data preparation (denomination, imputation, treatment) follows the nominal settings and is not varied.

Design: Saltelli's pick-freeze scheme with N base rows, matrices A, B and, for each factor i, A_B^i
(A with factor i taken from B): N (k + 2) runs in all, N = n_draws // (k + 2) so that about n_draws
model runs are made. Every run is a valid draw from the input distribution, so rank quantiles use all
of them. For each unit's rank y:
  first order  S_i  = mean(y_B (y_ABi - y_A)) / V          (Saltelli et al. 2010)
  total        ST_i = mean((y_A - y_ABi)^2) / 2 / V          (Jansen 1999)
with V the variance of y over A and B. The overall share of a factor is the same ratio summed over
units (numerators and variances added up), i.e. its share of the total rank variance. With N around
150 single-unit indices are noisy (they can come out slightly negative); the overall shares are
stable.

Everything is vectorised: runs are evaluated in chunks as stacked matrix products (runs x units).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from .ranks import rank_scores

from pipelines.errors import UserError
from pipelines.index import normalisation
from pipelines.index.engine import compute_prepared, prepare
from pipelines.index.settings import AGGREGATIONS, NORMALISATIONS, IndexSettings

_CHUNK_CELLS = 6_000_000  # runs x units x parents per chunk: ~50 MB per temporary array


@dataclass
class UncertaintyResult:
    """ranks               per unit: nominal, mean, p05, p50, p95 of its rank (1 = best score) over runs
    sensitivity          per factor: first_order and total share of the (summed) rank variance
    sensitivity_by_unit  units x factors: first-order index of each unit's rank (NaN if rank fixed)
    loo_shift            units x indicators: rank with the indicator left out minus nominal rank
                         (positive = falls down the ranking); nominal normalisation/aggregation/weights
    loo_summary          per indicator: mean and max absolute rank shift
    draws                one row per run: design block, normalisation, aggregation, excluded indicator
    rank_draws           runs x units array of ranks (float32)
    """

    ranks: pd.DataFrame
    sensitivity: pd.DataFrame
    sensitivity_by_unit: pd.DataFrame
    loo_shift: pd.DataFrame | None
    loo_summary: pd.DataFrame | None
    draws: pd.DataFrame
    n_runs: int
    n_base: int
    settings: dict = field(default_factory=dict)
    rank_draws: np.ndarray | None = field(default=None, repr=False)


class _Model:
    """Top-level scores for stacks of runs; all inputs fixed except the sampled factors.

    Every mean is a weighted arithmetic mean of transformed values, mapped back: arith (identity), geom
    (log of the shifted value, exp back), genmean ((x - floor)^p, p-th root back)."""

    def __init__(self, fw, norms: dict[str, tuple[np.ndarray, float]], base_w: list[np.ndarray], settings):
        self.fw = fw
        self.norms = norms
        self.base_w = base_w
        self.shift = settings.geom_shift
        self.p = float(settings.p)
        self.splits = np.cumsum([len(w) for w in base_w])[:-1]
        self.groups = [[np.flatnonzero(lv.parent_of == k) for k in range(len(lv.parents))] for lv in fw.levels]
        self._inputs: dict[tuple[str, str], tuple] = {}

    def _forward(self, x: np.ndarray, aname: str, floor: float) -> np.ndarray:
        if aname == "geom":
            return np.log(x - floor + self.shift)
        if aname == "genmean":
            return np.maximum(x - floor, 0.0) ** self.p
        return x

    def _level1_inputs(self, nname: str, aname: str, floor: float):
        """Indicator values (children x units, contiguous) with missing as 0, transformed for the mean; cached."""
        key = (nname, aname)
        if key not in self._inputs:
            x = self.norms[nname][0]
            present = ~np.isnan(x)
            xv = np.where(present, self._forward(np.where(present, x, floor), aname, floor), 0.0)
            full = [bool(present[:, g].all()) for g in self.groups[0]]
            self._inputs[key] = (np.ascontiguousarray(xv.T), np.ascontiguousarray(present.T, dtype=float), full)
        return self._inputs[key]

    def top_scores(self, mult: np.ndarray, norm: np.ndarray, agg: np.ndarray, excl: np.ndarray,
                   norm_names, agg_names) -> np.ndarray:
        n_runs = len(norm)
        n_units = next(iter(self.norms.values()))[0].shape[0]
        out = np.full((n_runs, n_units), np.nan)
        widest = max(len(lv.parents) for lv in self.fw.levels)
        chunk = max(1, _CHUNK_CELLS // max(1, n_units * widest))
        for ni, nname in enumerate(norm_names):
            for ai, aname in enumerate(agg_names):
                rows = np.flatnonzero((norm == ni) & (agg == ai))
                for s in range(0, len(rows), chunk):
                    r = rows[s:s + chunk]
                    out[r] = self._block(mult[r], excl[r], nname, aname)
        return out

    def _block(self, mult: np.ndarray, excl: np.ndarray, nname: str, aname: str) -> np.ndarray:
        """Top scores of a chunk of runs. Arrays are laid out (codes, runs, units) so that every
        per-code slice is contiguous; a missing-free block skips the weight-renormalisation product."""
        floor = self.norms[nname][1]
        ws = np.split(mult, self.splits, axis=1)
        ws = [w * b[None, :] for w, b in zip(ws, self.base_w)]
        has = excl >= 0
        ws[0][np.flatnonzero(has), excl[has]] = 0.0
        xv_t, pres_t, full = self._level1_inputs(nname, aname, floor)
        w = ws[0]
        groups = self.groups[0]
        vals = np.empty((len(groups), w.shape[0], xv_t.shape[1]))
        for k, g in enumerate(groups):
            wg = np.ascontiguousarray(w[:, g])
            np.matmul(wg, xv_t[g], out=vals[k])
            den = wg.sum(axis=1)[:, None] if full[k] else wg @ pres_t[g]
            self._finish(vals[k], den, aname, floor)
        for lvl, w in zip(range(1, len(self.groups)), ws[1:]):
            groups = self.groups[lvl]
            nxt = np.empty((len(groups), w.shape[0], vals.shape[2]))
            for k, g in enumerate(groups):
                acc = nxt[k]
                acc[:] = 0.0
                den = np.zeros((w.shape[0], 1))
                den_full = True
                for c in g:
                    v = vals[c]
                    miss = np.isnan(v)
                    if aname != "arith":
                        v = self._forward(np.where(miss, floor, v), aname, floor)
                    if miss.any():
                        v = np.where(miss, 0.0, v)
                        if den_full:
                            den = np.broadcast_to(den, v.shape).copy()
                            den_full = False
                        den += w[:, c, None] * ~miss
                    else:
                        den += w[:, c, None]
                    acc += w[:, c, None] * v
                self._finish(acc, den, aname, floor)
            vals = nxt
        return vals[0]

    def _finish(self, num, den, aname, floor):
        """In place: num / den, missing where no weight, mapped back from the mean's transform."""
        with np.errstate(invalid="ignore", divide="ignore"):
            np.divide(num, den, out=num)
        bad = ~(den > 0)
        if bad.any():
            num[np.broadcast_to(bad, num.shape)] = np.nan
        if aname == "geom":
            np.exp(num, out=num)
            num += floor - self.shift
        elif aname == "genmean":
            np.power(np.maximum(num, 0.0, where=~np.isnan(num), out=num), 1.0 / self.p, out=num)
            num += floor
        return num


def _rank_rows(scores: np.ndarray) -> np.ndarray:
    """Rank units within each run (row): 1 = highest, ties share the best rank, NaN stays NaN."""
    return rank_scores(scores, axis=1)


def _quantiles(ranks: np.ndarray, qs) -> np.ndarray:
    """Quantiles down each column; the NaN-aware (slow, per column) path only where NaN occur."""
    out = np.full((len(qs), ranks.shape[1]), np.nan)
    holes = np.isnan(ranks).any(axis=0)
    if (~holes).any():
        out[:, ~holes] = np.quantile(ranks[:, ~holes], qs, axis=0)
    some = holes & ~np.isnan(ranks).all(axis=0)
    if some.any():
        out[:, some] = np.nanquantile(ranks[:, some], qs, axis=0)
    return out


def uncertainty(
    data: pd.DataFrame,
    meta: pd.DataFrame,
    settings: IndexSettings | None = None,
    n_draws: int = 1000,
    weight_noise: float = 0.25,
    normalisations=("minmax", "zscore"),
    aggregations=("arith", "geom"),
    leave_one_out: bool = True,
    seed: int = 0,
    keep_draws: bool = True,
) -> UncertaintyResult:
    """Rank uncertainty and variance-based sensitivity of the index; see the module docstring."""
    settings = settings or IndexSettings()
    normalisations = tuple(normalisations)
    aggregations = tuple(aggregations)
    for n in normalisations:
        if n not in NORMALISATIONS:
            raise UserError(f"unknown normalisation {n!r}; choose from {', '.join(NORMALISATIONS)}")
    for a in aggregations:
        if a not in AGGREGATIONS:
            raise UserError(f"unknown aggregation {a!r}; choose from {', '.join(AGGREGATIONS)}")
    if not normalisations or not aggregations:
        raise UserError("give at least one normalisation and one aggregation")
    if not 0 <= weight_noise < 1:
        raise UserError("weight_noise must be in [0, 1)")
    if n_draws < 1:
        raise UserError("n_draws must be >= 1")

    prep = prepare(data, meta, settings)
    nominal = compute_prepared(prep, settings)
    fw = prep.framework
    units = nominal.scores.index
    norm_names = tuple(dict.fromkeys(normalisations + (settings.normalise,)))
    norms = {}
    for name in norm_names:
        s = settings.replace(normalise=name)
        x = normalisation.normalise(prep.treated, fw.directions, fw.targets, s)
        norms[name] = (x, normalisation.scale_floor(x, s))
    agg_names = tuple(dict.fromkeys(aggregations + (settings.aggregate,)))
    base_w = [nominal.weights.loc[list(lv.children)].to_numpy(float) for lv in fw.levels]
    model = _Model(fw, norms, base_w, settings)
    n_w = sum(len(w) for w in base_w)
    p = len(fw.indicators)

    factors = []
    if weight_noise > 0:
        factors.append("weights")
    if len(normalisations) > 1:
        factors.append("normalisation")
    if len(aggregations) > 1:
        factors.append("aggregation")
    if leave_one_out:
        factors.append("exclusion")
    k = len(factors)
    n_base = max(2, n_draws // (k + 2)) if k else n_draws

    rng = np.random.default_rng(seed)
    nidx = {n: norm_names.index(n) for n in normalisations}
    aidx = {a: agg_names.index(a) for a in aggregations}

    def sample(n):
        mult = rng.uniform(1 - weight_noise, 1 + weight_noise, size=(n, n_w)) if "weights" in factors else np.ones((n, n_w))
        if "normalisation" in factors:
            norm = np.array([nidx[normalisations[i]] for i in rng.integers(0, len(normalisations), n)])
        else:
            norm = np.full(n, nidx[normalisations[0]])
        if "aggregation" in factors:
            agg = np.array([aidx[aggregations[i]] for i in rng.integers(0, len(aggregations), n)])
        else:
            agg = np.full(n, aidx[aggregations[0]])
        excl = rng.integers(-1, p, n) if "exclusion" in factors else np.full(n, -1)
        return {"weights": mult, "normalisation": norm, "aggregation": agg, "exclusion": excl}

    a = sample(n_base)
    blocks = [("A", a)]
    if k:
        b = sample(n_base)
        blocks.append(("B", b))
        for f in factors:
            ab = {key: val.copy() for key, val in a.items()}
            ab[f] = b[f].copy()
            blocks.append((f"AB:{f}", ab))
    design = {key: np.concatenate([blk[key] for _, blk in blocks]) for key in a}
    scores = model.top_scores(design["weights"], design["normalisation"], design["aggregation"],
                              design["exclusion"], norm_names, agg_names)
    if prep.unscored is not None:
        scores[:, prep.unscored] = np.nan  # too few indicators observed: never ranked
    ranks = _rank_rows(scores)
    n_runs = ranks.shape[0]

    with np.errstate(invalid="ignore"):
        q = _quantiles(ranks, [0.05, 0.5, 0.95])
        mean = np.nanmean(ranks, axis=0)
    rank_table = pd.DataFrame({
        "nominal": nominal.ranks[fw.top].to_numpy(), "mean": mean, "p05": q[0], "p50": q[1], "p95": q[2],
    }, index=units)

    first_u, sens_rows = {}, {}
    if k:
        y = {name: ranks[i * n_base:(i + 1) * n_base] for i, (name, _) in enumerate(blocks)}
        ya, yb = y["A"], y["B"]
        var = np.nanvar(np.vstack([ya, yb]), axis=0)
        for f in factors:
            yab = y[f"AB:{f}"]
            s_num = np.nanmean(yb * (yab - ya), axis=0)
            t_num = np.nanmean((ya - yab) ** 2, axis=0) / 2
            with np.errstate(invalid="ignore", divide="ignore"):
                first_u[f] = np.where(var > 0, s_num / var, np.nan)
            ok = var > 0
            vtot = var[ok].sum()
            sens_rows[f] = {
                "first_order": float(s_num[ok].sum() / vtot) if vtot > 0 else float("nan"),
                "total": float(t_num[ok].sum() / vtot) if vtot > 0 else float("nan"),
            }
    sensitivity = pd.DataFrame.from_dict(sens_rows, orient="index", columns=["first_order", "total"])
    sensitivity.index.name = "factor"
    sens_unit = pd.DataFrame(first_u, index=units, columns=factors)

    loo_shift = loo_summary = None
    if leave_one_out:
        n_ = np.full(p, norm_names.index(settings.normalise))
        a_ = np.full(p, agg_names.index(settings.aggregate))
        s_loo = model.top_scores(np.ones((p, n_w)), n_, a_, np.arange(p), norm_names, agg_names)
        if prep.unscored is not None:
            s_loo[:, prep.unscored] = np.nan
        shift = _rank_rows(s_loo).T - nominal.ranks[fw.top].to_numpy()[:, None]
        loo_shift = pd.DataFrame(shift, index=units, columns=list(fw.indicators))
        loo_summary = pd.DataFrame({"mean_abs_shift": np.nanmean(np.abs(shift), axis=0),
                                    "max_abs_shift": np.nanmax(np.abs(shift), axis=0)},
                                   index=pd.Index(fw.indicators, name="iCode"))

    draws = pd.DataFrame({
        "block": np.repeat([name for name, _ in blocks], n_base),
        "normalisation": np.array(norm_names)[design["normalisation"]],
        "aggregation": np.array(agg_names)[design["aggregation"]],
        "excluded": np.where(design["exclusion"] >= 0, np.array(fw.indicators + ("",))[design["exclusion"]], ""),
    })
    return UncertaintyResult(
        ranks=rank_table, sensitivity=sensitivity, sensitivity_by_unit=sens_unit, loo_shift=loo_shift,
        loo_summary=loo_summary, draws=draws, n_runs=n_runs, n_base=n_base,
        settings={"index": settings.to_dict(), "n_draws": n_draws, "weight_noise": weight_noise,
                  "normalisations": list(normalisations), "aggregations": list(aggregations),
                  "leave_one_out": leave_one_out, "seed": seed, "factors": factors},
        rank_draws=ranks.astype(np.float32) if keep_draws else None,
    )
