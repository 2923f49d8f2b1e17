"""方法与权重: the catalogue, the grading rule, the aggregation beside the arithmetic mean, the what-if weight
editor and the sensitivity results.

The what-if re-aggregates the build's normalised indicator values (the severities the build aggregated, 0-100,
100 = riskiest) with the index engine's own aggregation (pipelines.index) and the build's mean, so a re-weighted
score is computed exactly as the build would with those weights; normalisation is not repeated. It regrades with
the build's rule (pipelines.analysis.grading): the bands follow the new weights, and the evidence is the warnings
of the indicators and dimensions still weighted. It runs over all units, so ranks stay county ranks, and only
the user's units are returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.access.store import Scope
from pipelines.analysis import grading
from pipelines.board.snapshot import Board
from pipelines.index import IndexSettings, build_framework
from pipelines.index.aggregation import contributions
from pipelines.index.engine import aggregate_all, rank_desc
from pipelines.index.normalisation import scale_floor

TOP = "index"


def catalogue(board: Board, identity: str | None = None) -> pd.DataFrame:
    return board.q("catalogue", identity=identity)


def aggregation_method(settings: dict) -> tuple[str, float]:
    """The build's mean and its order p: the engine's record first (what it actually ran), else the settings."""
    eng = settings.get("engine") if isinstance(settings.get("engine"), dict) else {}
    idx = settings.get("index") if isinstance(settings.get("index"), dict) else settings
    raw = str(eng.get("aggregate") or idx.get("aggregate") or idx.get("aggregation") or "arith").lower()
    method = "geom" if raw.startswith("geo") else "genmean" if raw.startswith("gen") else "arith"
    return method, float(eng.get("p") or idx.get("p") or 2.0)


def graded_grains(settings: dict) -> set[str]:
    return set(((settings.get("grades") or {}).get("grains")) or [])


def grain_records(board: Board, scope: Scope, identity: str | None = None) -> pd.DataFrame:
    """Per grain: ledger records per unit-period and the share with none, and whether the grain is graded."""
    return board.q("grain_records", scope, identity=identity)


def bands_table(board: Board, identity: str | None = None) -> pd.DataFrame:
    """The score floors of 黄, 橙, 红 for the index and every dimension, as the build derived them."""
    s = board.build(identity)["settings"] or {}
    b = s.get("grade_bands") or {}
    dims = board.q("dimensions", identity=identity).set_index("dimension").dimension_zh
    rows = [("综合指数", *b["index"])] if b.get("index") else []
    rows += [(dims.get(d, d), *v) for d, v in (b.get("dimensions") or {}).items()]
    return pd.DataFrame(rows, columns=["level", "yellow", "orange", "red"])


def rule_lines(board: Board, identity: str | None = None) -> list[str]:
    """The grading rule of the build shown, in the sentences every reader uses (grading.rule_zh)."""
    s = board.build(identity)["settings"] or {}
    return grading.rule_zh(s)


@dataclass
class WhatIf:
    table: pd.DataFrame  # the user's units: published, baseline and re-weighted score/rank/grade
    changed: pd.DataFrame  # rows of `table` whose grade changed
    baseline_gap: float  # max |baseline re-computation − published score|: how faithful the re-aggregation is
    weights: pd.DataFrame  # effective indicator weights used (share of the index)


def default_weights(cat: pd.DataFrame, dims: pd.DataFrame) -> tuple[dict[str, float], dict[str, float]]:
    """The build's weights: indicator weights within their dimension (0 = context, not scored) and
    dimension weights in the index."""
    return dict(zip(cat.indicator_id, cat.weight.astype(float))), dict(zip(dims.dimension, dims.weight.astype(float)))


def _scores(matrix: pd.DataFrame, cat: pd.DataFrame, ind_w: dict, dim_w: dict, aggregate: tuple[str, float]):
    """Index scores of every unit in `matrix` (units × indicators) via the index engine, the effective
    indicator weights within their dimension and each indicator's contribution to the index."""
    keep = cat[cat.indicator_id.map(lambda i: ind_w.get(i, 0.0) > 0) & cat.dimension.map(lambda d: dim_w.get(d, 0.0) > 0)]
    if keep.empty:
        raise ValueError("至少需要一个权重大于0的指标")
    dims = list(dict.fromkeys(keep.dimension))
    meta = pd.concat([
        pd.DataFrame({"Level": 1, "iCode": keep.indicator_id, "Parent": keep.dimension, "Direction": 1,
                      "Weight": keep.indicator_id.map(ind_w).astype(float), "Type": "Indicator"}),
        pd.DataFrame({"Level": 2, "iCode": dims, "Parent": TOP, "Direction": 1,
                      "Weight": [float(dim_w[d]) for d in dims], "Type": "Aggregate"}),
        pd.DataFrame({"Level": [3], "iCode": [TOP], "Parent": [None], "Direction": [1], "Weight": [1.0],
                      "Type": ["Aggregate"]}),
    ], ignore_index=True)
    fw = build_framework(meta)
    settings = IndexSettings(weights="meta", aggregate=aggregate[0], p=aggregate[1])
    norm = matrix.reindex(columns=list(fw.indicators)).to_numpy(dtype=float)
    floor = scale_floor(norm, settings)
    values, renorm, used = aggregate_all(norm, fw, settings, floor)
    top = values[-1][:, 0]
    eff = pd.Series(np.asarray(used[0], dtype=float), index=list(fw.levels[0].children))
    contrib = contributions(values, renorm, [lv.parent_of for lv in fw.levels], settings.aggregate, floor,
                            settings.geom_shift, settings.geom_zero, settings.p)
    return top, eff, pd.DataFrame(contrib, index=matrix.index, columns=list(fw.indicators))


def _bands(cat: pd.DataFrame, ind_w: dict, dim_w: dict, aggregate: tuple[str, float]) -> grading.Bands:
    """The grading bands for these weights (the build's rule: one median-weight indicator at each line)."""
    scored = cat[~cat.context.fillna(False).astype(bool)] if "context" in cat else cat
    iw = {d: [float(ind_w.get(i, 0.0)) for i in part.indicator_id] for d, part in scored.groupby("dimension")}
    dw = {d: float(dim_w.get(d, 0.0)) for d in iw}
    return grading.bands(iw, dw, aggregate[0], aggregate[1])


def _evidence(warnings: pd.DataFrame, cat: pd.DataFrame, ind_w: dict, dim_w: dict, units) -> np.ndarray:
    """Each unit's highest warning level among the indicators (and dimensions) still weighted."""
    level = {"黄": 1, "橙": 2, "红": 3}
    dim = dict(zip(cat.indicator_id, cat.dimension))
    # a boolean mask even when there is no warning (an empty object Series would select columns)
    weighted = warnings.indicator_id.map(lambda i: ind_w.get(i, 0.0) > 0 and dim_w.get(dim.get(i), 0.0) > 0)
    w = warnings.loc[weighted.astype(bool)]
    best = w.assign(lv=w.grade.map(level)).groupby("unit_name")["lv"].max()
    return np.array([int(best.get(u, 0)) for u in units])


@dataclass
class _Period:
    """What re-aggregating one period needs: the catalogue, the build's weights and aggregation, and the
    normalised values of every unit (units × indicators; ranks stay county ranks)."""
    cat: pd.DataFrame
    ind_w: dict[str, float]
    dim_w: dict[str, float]
    aggregate: tuple[str, float]
    matrix: pd.DataFrame
    graded: bool = True


def _period(board: Board, grain: str, period: str, identity: str | None) -> _Period:
    cat = catalogue(board, identity)
    ind_w, dim_w = default_weights(cat, board.q("dimensions", identity=identity))
    long = board.q("whatif_matrix", Scope(None), identity=identity, grain=grain, period=period)
    matrix = long.pivot_table(index="unit_name", columns="indicator_id", values="normalised", aggfunc="first")
    settings = board.build(identity)["settings"] or {}
    graded = grain in graded_grains(settings) if graded_grains(settings) else True
    return _Period(cat, ind_w, dim_w, aggregation_method(settings), matrix, graded)


def recomputed_contributions(board: Board, grain: str, period: str, unit: str,
                             identity: str | None = None) -> pd.DataFrame:
    """One unit's indicator contributions to its index score, re-aggregated from the period's normalised
    values when the build did not store them (index_settings `contributions.grains`: months are left out at
    province scale). Same columns as the stored ones; they add up to the published score."""
    p = _period(board, grain, period, identity)
    if unit not in p.matrix.index:
        return pd.DataFrame(columns=["indicator_id", "name_zh", "dimension", "dimension_zh", "contribution"])
    _, _, contrib = _scores(p.matrix, p.cat, p.ind_w, p.dim_w, p.aggregate)
    row = contrib.loc[unit].dropna()
    info = p.cat.set_index("indicator_id").reindex(row.index)
    out = pd.DataFrame({"indicator_id": row.index, "name_zh": info.name_zh.fillna(pd.Series(row.index, index=row.index)),
                        "dimension": info.dimension, "dimension_zh": info.dimension_zh, "contribution": row.to_numpy()})
    return out.sort_values("contribution", ascending=False, kind="stable").reset_index(drop=True)


def _regrade(p: _Period, score: np.ndarray, ind_w: dict, dim_w: dict, warnings: pd.DataFrame,
             records: np.ndarray, aggregate: tuple[str, float] | None = None) -> np.ndarray:
    agg = aggregate or p.aggregate
    band = _bands(p.cat, ind_w, dim_w, agg).index
    warn = _evidence(warnings, p.cat, ind_w, dim_w, p.matrix.index)
    code, basis = grading.grade(score, band, warn, records, p.graded)
    # no colour reads as every reader says it (不评级 on a grain not graded, 无数据 without a score)
    return np.array([grading.shown(g, grading.BASIS[b]) for g, b in zip(grading.labels(code), basis)], dtype=object)


def whatif(
    board: Board,
    scope: Scope,
    grain: str,
    period: str,
    indicator_weights: dict[str, float],
    dimension_weights: dict[str, float],
    identity: str | None = None,
) -> WhatIf:
    p = _period(board, grain, period, identity)
    matrix = p.matrix
    base, _, _ = _scores(matrix, p.cat, p.ind_w, p.dim_w, p.aggregate)
    new, used, _ = _scores(matrix, p.cat, indicator_weights, dimension_weights, p.aggregate)

    published = board.q("period_scores", Scope(None), identity=identity, grain=grain, period=period)
    published = published[published.level == "index"].set_index("unit_name")
    warnings = board.q("period_warnings", Scope(None), identity=identity, grain=grain, period=period)
    records = published.records.reindex(matrix.index).fillna(0).to_numpy() if "records" in published else \
        np.ones(len(matrix))
    table = pd.DataFrame(
        {
            "unit_name": matrix.index,
            "base_score": base,
            "new_score": new,
            "base_rank": rank_desc(base[:, None])[:, 0],
            "new_rank": rank_desc(new[:, None])[:, 0],
            "base_grade": _regrade(p, base, p.ind_w, p.dim_w, warnings, records),
            "new_grade": _regrade(p, new, indicator_weights, dimension_weights, warnings, records),
        }
    )
    table["published_score"] = table.unit_name.map(published.score)
    table["published_grade"] = table.unit_name.map(published.grade)
    gap = float(np.nanmax(np.abs(table.base_score - table.published_score))) if table.published_score.notna().any() else float("nan")
    visible = set(board.q("visible_units", scope, identity=identity).unit_name)
    table = table[table.unit_name.isin(visible)].copy()
    table["rank_change"] = table.base_rank - table.new_rank  # positive = moved up (riskier)
    table["score_change"] = table.new_score - table.base_score
    table = table.sort_values("new_rank", kind="stable").reset_index(drop=True)
    changed = table[table.base_grade.astype(str) != table.new_grade.astype(str)].reset_index(drop=True)
    weights = pd.DataFrame({"indicator_id": used.index, "weight_within_dimension": used.to_numpy()})
    return WhatIf(table=table, changed=changed, baseline_gap=gap, weights=weights)


def aggregation_comparison(board: Board, scope: Scope, grain: str, period: str,
                           identity: str | None = None) -> pd.DataFrame:
    """The build's mean beside the arithmetic mean on the same severities and weights, each graded by the same
    rule (its bands derived for its own mean): score, rank and grade of every visible unit under both, riskiest
    first by the build's mean. Shows what a non-compensatory mean changes: units severe in one dimension."""
    p = _period(board, grain, period, identity)
    every = board.q("period_scores", Scope(None), identity=identity, grain=grain, period=period)
    published = every[every.level == "index"].set_index("unit_name")
    warnings = board.q("period_warnings", Scope(None), identity=identity, grain=grain, period=period)
    records = published.records.reindex(p.matrix.index).fillna(0).to_numpy()
    arith = ("arith", 1.0)
    own, _, _ = _scores(p.matrix, p.cat, p.ind_w, p.dim_w, p.aggregate)
    flat, _, _ = _scores(p.matrix, p.cat, p.ind_w, p.dim_w, arith)
    table = pd.DataFrame({
        "unit_name": p.matrix.index, "score": own, "rank": rank_desc(own[:, None])[:, 0],
        "grade": _regrade(p, own, p.ind_w, p.dim_w, warnings, records),
        "arith_score": flat, "arith_rank": rank_desc(flat[:, None])[:, 0],
        "arith_grade": _regrade(p, flat, p.ind_w, p.dim_w, warnings, records, arith),
    })
    table["rank_change"] = table.arith_rank - table["rank"]  # positive: the build's mean ranks it riskier
    # the highest dimension score of each unit: what the arithmetic mean averages away
    dims = every[every.level != "index"]
    top_dim = dims.sort_values("score", ascending=False).drop_duplicates("unit_name").set_index("unit_name")
    table["top_dimension"] = table.unit_name.map(top_dim.level)
    table["top_dimension_score"] = table.unit_name.map(top_dim.score)
    visible = set(board.q("visible_units", scope, identity=identity).unit_name)
    table = table[table.unit_name.isin(visible)]
    return table.sort_values(["rank", "unit_name"], kind="stable").reset_index(drop=True)
