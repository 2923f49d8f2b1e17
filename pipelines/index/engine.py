"""`compute`: one composite-indicator build, every Handbook step explicit, results as DataFrames."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from .ranks import rank_scores

from pipelines.errors import UserError
from pipelines.index import aggregation, normalisation, treatment, weighting
from pipelines.index.framework import Framework, build_framework, unit_matrix
from pipelines.index.settings import IndexSettings


@dataclass
class IndexResult:
    """Everything one build produced. All frames are indexed by uCode (the order of the input data).

    settings           the IndexSettings as a dict (stamp it next to published scores)
    treated            indicators after denomination, imputation and outlier treatment (raw scale)
    normalised         indicators after normalisation (direction applied: higher = more)
    scores             every aggregate, level by level, ending with the top code
    ranks              rank of every aggregate, 1 = highest score, ties share the best rank, NaN stays
    weights            weight used for every indicator and aggregate (within its parent; only ratios
                       within a parent matter)
    effective_weights  share of each code in the top score when no data is missing (product of the
                       within-parent normalised weights along the path)
    contributions      units x indicators, each indicator's part of the top score; rows add up to it
    treatment          per-indicator log of the outlier treatment (action, points winsorised, skew and
                       kurtosis before/after)
    imputed            units x indicators, True where a value was filled in
    screened_out       units dropped by screening (settings.screen), in input order
    """

    settings: dict
    framework: Framework = field(repr=False)
    treated: pd.DataFrame
    normalised: pd.DataFrame
    scores: pd.DataFrame
    ranks: pd.DataFrame
    weights: pd.Series
    effective_weights: pd.Series
    contributions: pd.DataFrame
    treatment: pd.DataFrame
    imputed: pd.DataFrame
    screened_out: list[str] = field(default_factory=list)

    @property
    def top(self) -> str:
        return self.framework.top

    @property
    def index(self) -> pd.Series:
        """Scores of the top-level code."""
        return self.scores[self.framework.top]

    @property
    def aggregated(self) -> pd.DataFrame:
        """Normalised indicators followed by every aggregate (COINr's "Aggregated" data set)."""
        return pd.concat([self.normalised, self.scores], axis=1)

    def table(self, digits: int | None = None) -> pd.DataFrame:
        """uCode first, then, for every aggregate from the top down, its score and its rank. With `digits`,
        scores are rounded to that many decimals and ranked on the rounded value, ties sharing the best rank
        (competition ranking, 1-2-2-4), as published tables and COINr's get_results do."""
        cols = {}
        for code in reversed(self.scores.columns):
            if digits is None:
                cols[code] = self.scores[code]
                cols[f"{code}_rank"] = self.ranks[code].astype("Int64")
            else:
                shown = self.scores[code].round(digits)
                cols[code] = shown
                cols[f"{code}_rank"] = pd.Series(rank_desc(shown.to_numpy()[:, None])[:, 0],
                                                 index=shown.index).astype("Int64")
        out = pd.DataFrame(cols, index=self.scores.index)
        return out.reset_index()


@dataclass
class Prepared:
    """Data after the steps that do not depend on normalisation/weights: reused by `uncertainty`."""

    framework: Framework
    units: pd.Index
    raw: np.ndarray
    treated: np.ndarray
    imputed: np.ndarray
    treatment: pd.DataFrame
    screened_out: list[str] = field(default_factory=list)
    unscored: np.ndarray | None = None  # units with fewer indicators observed than settings.min_indicators


def prepare(data: pd.DataFrame, meta: pd.DataFrame, settings: IndexSettings) -> Prepared:
    """Validate inputs, then denominate, screen units, impute and treat outliers."""
    if not isinstance(settings, IndexSettings):
        raise UserError("settings must be an IndexSettings")
    settings.validate()
    fw = build_framework(meta)
    units, x = unit_matrix(data, fw)
    if len(units) == 0:
        raise UserError("data has no units")
    if "uCode" not in data.columns:
        data = data.reset_index()
    x = treatment.denominate(data, x, fw.indicators, settings.denominate, fw.denominators)
    screened_out: list[str] = []
    if settings.screen is not None:
        keep = np.mean(~np.isnan(x), axis=1) >= float(settings.screen) - 1e-12
        if not keep.any():
            raise UserError(f"screening at {settings.screen:g} leaves no unit: every unit has less data than that")
        screened_out = [str(u) for u in units[~keep]]
        units, x, data = units[keep], x[keep], data.iloc[np.flatnonzero(keep)].reset_index(drop=True)
    groups = None
    if settings.impute.startswith("group"):
        if settings.impute_group not in data.columns:
            raise UserError(f"impute group column {settings.impute_group!r} is not in the data")
        groups = data[settings.impute_group].to_numpy()
    missing = np.isnan(x)
    xi = treatment.impute(x, settings.impute, groups)
    imputed = missing & ~np.isnan(xi)
    if settings.treat != "none":
        xt, log = treatment.treat(xi, fw.indicators, settings)
    else:
        xt = xi
        log = pd.DataFrame({"action": "none"}, index=pd.Index(fw.indicators, name="iCode"))
    unscored = None
    if settings.min_indicators is not None:
        unscored = np.sum(~missing, axis=1) < int(settings.min_indicators)
    return Prepared(fw, units, x, xt, imputed, log, screened_out, unscored)


def rank_desc(scores: np.ndarray) -> np.ndarray:
    """Ranks down each column: 1 = highest, ties share the best (minimum) rank, NaN stays NaN."""
    return rank_scores(scores, axis=0)


def aggregate_all(norm: np.ndarray, fw: Framework, settings: IndexSettings, floor: float):
    """Level-by-level aggregation; returns (values per level, per-unit renormalised weights per step,
    weights used per step)."""
    values = [norm]
    renorm, used = [], []
    for lv in fw.levels:
        w = weighting.level_weights(settings.weights, values[-1], lv.weights, lv.children, lv.parent_of,
                                    lv.parents, settings)
        s, rw = aggregation.aggregate_level(values[-1], lv.parent_of, w, len(lv.parents), settings.aggregate,
                                            floor, settings.geom_shift, settings.geom_zero, settings.p)
        values.append(s)
        renorm.append(rw)
        used.append(w)
    return values, renorm, used


def compute(data: pd.DataFrame, meta: pd.DataFrame, settings: IndexSettings | None = None) -> IndexResult:
    """Build the composite indicator: data in COINr iData form, hierarchy in iMeta form."""
    settings = settings or IndexSettings()
    return compute_prepared(prepare(data, meta, settings), settings)


def compute_prepared(prep: Prepared, settings: IndexSettings) -> IndexResult:
    """Normalise, weight and aggregate data that `prepare` has already made ready."""
    fw = prep.framework
    norm = normalisation.normalise(prep.treated, fw.directions, fw.targets, settings)
    floor = normalisation.scale_floor(norm, settings)
    values, renorm, used = aggregate_all(norm, fw, settings, floor)
    if prep.unscored is not None and prep.unscored.any():
        for v in values[1:]:
            v[prep.unscored] = np.nan
    contrib = aggregation.contributions(values, renorm, [lv.parent_of for lv in fw.levels], settings.aggregate,
                                        floor, settings.geom_shift, settings.geom_zero, settings.p)
    units = prep.units
    agg_codes = [c for lv in fw.levels for c in lv.parents]
    scores = pd.DataFrame(np.hstack(values[1:]), index=units, columns=agg_codes)
    ranks = pd.DataFrame(rank_desc(scores.to_numpy()), index=units, columns=agg_codes)
    wts = {c: float(w) for lv, ws in zip(fw.levels, used) for c, w in zip(lv.children, ws)}
    wts[fw.top] = 1.0
    eff = aggregation.effective_weights(fw.levels, used)
    order = list(fw.indicators) + agg_codes
    return IndexResult(
        settings=settings.to_dict(),
        framework=fw,
        treated=pd.DataFrame(prep.treated, index=units, columns=list(fw.indicators)),
        normalised=pd.DataFrame(norm, index=units, columns=list(fw.indicators)),
        scores=scores,
        ranks=ranks,
        weights=pd.Series(wts).reindex(order).rename("weight"),
        effective_weights=pd.Series(eff).reindex(order).rename("effective_weight"),
        contributions=pd.DataFrame(contrib, index=units, columns=list(fw.indicators)),
        treatment=prep.treatment,
        imputed=pd.DataFrame(prep.imputed, index=units, columns=list(fw.indicators)),
        screened_out=list(prep.screened_out),
    )
